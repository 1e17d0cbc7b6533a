#!/usr/bin/env bash
# bench/run.sh measures the CPU cost per proxied request of Gatehouse next
# to Debian's nginx and HAProxy, on this machine, in one run.
#
# Every proxy is pinned to one core (PROXY_CPU) with one worker/thread
# (GOMAXPROCS=1, worker_processes 1, nbthread 1); wrk and one shared nginx
# backend serving a fixed 1 KiB body share the other core (LOAD_CPU). The
# CPU time of the proxy's processes, read from /proc/PID/stat around each
# measured run, divided by the requests wrk completed, is the cost per
# request. See bench/README.md for how to read the output.
#
# Settings (environment):
#   DURATION=10          seconds of each measured run
#   WARMUP=3             seconds of the warm-up before each measured run
#   CONNECTIONS=50       wrk connections; a list ("50 1000") runs each in turn
#   RUNS=3               rounds; each round runs every proxy once, rotating the order
#   PROXIES="gatehouse nginx haproxy"; add "stdlib" for bench/stdlibproxy,
#                        a bare httputil.ReverseProxy: the net/http floor
#   KEEPALIVE=           idle upstream connections each proxy may keep
#                        (Gatehouse max_idle_conns, nginx keepalive, HAProxy
#                        pool-max-conn). Default: the largest of CONNECTIONS
#                        and 128 (Gatehouse's default), so no proxy opens and
#                        closes backend connections per request; KEEPALIVE=128
#                        shows Gatehouse's defaults at 1000 connections.
#   PROXY_CPU=0 LOAD_CPU=1
#   PORT_BASE=18080      first port tried; busy ports are skipped
#   WAIT_LOAD=           e.g. 0.7: before measuring, wait until the 1-minute
#                        load average is below it (poll every 30 s) ...
#   WAIT_MAX=1500        ... for at most this many seconds, then go on anyway
#   OUT=bench/out/DATE   where raw results go (bench/out/latest links to it)
#   KEEP_TMP=1           keep the temp dir with configs and logs
#
# Run as root on Debian 12 with Go: missing packages are installed with apt.
set -euo pipefail

DURATION=${DURATION:-10}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-3}
WARMUP=${WARMUP%s}
CONNECTIONS=${CONNECTIONS:-50}
RUNS=${RUNS:-3}
PROXIES=${PROXIES:-gatehouse nginx haproxy}
KEEPALIVE=${KEEPALIVE:-}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-18080}
WAIT_LOAD=${WAIT_LOAD:-}
WAIT_MAX=${WAIT_MAX:-1500}
KEEP_TMP=${KEEP_TMP:-}
BODY_BYTES=1024

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/out/$STAMP}
CLK_TCK=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- install

# sbin() finds a daemon whether or not /usr/sbin is on PATH.
sbin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }

# install_packages installs what is missing. Debian's postinst scripts
# would start the system nginx and haproxy on port 80; a policy-rc.d that
# says no (exit 101) stops that. One already in place is left as it is.
install_packages() {
	local need=() want=()
	[ -n "$(sbin nginx)" ] || need+=(nginx)
	command -v wrk >/dev/null || need+=(wrk)
	[ -n "$(sbin haproxy)" ] || want+=(haproxy)
	[ ${#need[@]} -eq 0 ] && [ ${#want[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing ${need[*]} ${want[*]}; run as root or install them"
	local policy=/usr/sbin/policy-rc.d made=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
	export DEBIAN_FRONTEND=noninteractive
	log "installing ${need[*]} ${want[*]}"
	"${apt[@]}" update -qq
	local rc=0
	if [ ${#need[@]} -gt 0 ]; then
		"${apt[@]}" install -y -qq "${need[@]}" >&2 || rc=$?
	fi
	if [ $rc -eq 0 ] && [ ${#want[@]} -gt 0 ]; then
		"${apt[@]}" install -y -qq "${want[@]}" >&2 || log "haproxy did not install; going on without it"
	fi
	if [ -n "$made" ]; then rm -f "$policy"; fi
	[ $rc -eq 0 ] || die "apt-get install ${need[*]} failed"
}

# ---------------------------------------------------------------- processes

PIDS=()    # every process this script started, stopped on exit by PID
WORK=
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		[ -d "$OUT" ] && cp "$WORK"/*.log "$WORK"/*.conf "$WORK"/*.cfg "$WORK"/*.yaml "$OUT/" 2>/dev/null || true
		if [ -n "$KEEP_TMP" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# listening reports whether something accepts connections on 127.0.0.1:$1.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# take_port sets variable $1 to the next port from PORT_BASE on that
# nothing listens on.
NEXT_PORT=$PORT_BASE
take_port() {
	while listening "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
	printf -v "$1" '%s' "$NEXT_PORT"
	NEXT_PORT=$((NEXT_PORT + 1))
}

wait_listening() { # port pid name
	local i
	for i in $(seq 100); do
		kill -0 "$2" 2>/dev/null || die "$3 exited at start; see its log in $WORK"
		if listening "$1"; then
			sleep 0.2 # one that failed to bind some other socket exits now
			kill -0 "$2" 2>/dev/null || die "$3 exited at start; see its log in $WORK"
			return 0
		fi
		sleep 0.1
	done
	die "$3 is not listening on port $1 after 10s"
}

# children lists the PIDs whose parent is $1 (no procps needed).
children() {
	local parent=$1 f line
	local -a st
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		read -ra st <<<"${line##*) }" # st[0] is the state, st[1] the parent
		if [ "${st[1]}" = "$parent" ]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done | sort -n
}

# probe checks that port answers GET / with 200 and the whole 1 KiB body.
probe() {
	local resp status body
	resp=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'
		printf "GET / HTTP/1.1\r\nHost: bench.local\r\nConnection: close\r\n\r\n" >&3
		cat <&3') || { log "probe of port $1 failed"; return 1; }
	status=$(head -1 <<<"$resp" | awk '{print $2}')
	body=${resp#*$'\r\n\r\n'}
	if [ "$status" != 200 ] || [ ${#body} -ne $BODY_BYTES ]; then
		log "probe of port $1: status $status, body ${#body} bytes; want 200 and $BODY_BYTES"
		return 1
	fi
}

# ---------------------------------------------------------------- configs

nginx_common() { # name
	local user=
	if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then user="user www-data;"; fi
	cat <<EOF
$user
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $WORK/$1.pid;
error_log $WORK/$1-error.log warn;
events { worker_connections $WORKER_CONNS; multi_accept on; }
EOF
}

nginx_temp_paths() { # name
	local t
	for t in client_body proxy fastcgi uwsgi scgi; do
		echo "    ${t}_temp_path $WORK/$1-$t;"
	done
}

write_backend_conf() {
	local body
	body=$(printf '%*s' $BODY_BYTES '' | tr ' ' x)
	{
		nginx_common backend
		cat <<EOF
http {
    access_log off;
    default_type text/plain;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
$(nginx_temp_paths backend)
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        location / { return 200 "$body"; }
    }
}
EOF
	} >"$WORK/backend.conf"
}

# The proxies add the same request headers Gatehouse adds by default
# (X-Forwarded-For/-Proto/-Host, X-Real-IP, a generated X-Request-ID, also
# returned to the client), so each does comparable work.
write_nginx_conf() {
	{
		nginx_common nginx
		cat <<EOF
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 100000000;  # nginx closes client connections after 1000 by default; Gatehouse never
$(nginx_temp_paths nginx)
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Request-ID \$request_id;
            add_header X-Request-ID \$request_id;
        }
    }
}
EOF
	} >"$WORK/nginx.conf"
}

write_haproxy_cfg() {
	local maxconn=$(((NOFILE - 100) / 2))
	if [ $maxconn -gt 20000 ]; then maxconn=20000; fi
	cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $maxconn
    pidfile $WORK/haproxy.pid

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
    unique-id-format %[uuid()]

frontend bench
    bind 127.0.0.1:$HAPROXY_PORT
    backlog 4096
    http-request set-header X-Forwarded-For %[src]
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Real-IP %[src]
    http-request set-header X-Request-ID %[unique-id]
    http-response set-header X-Request-ID %[unique-id]
    default_backend backend

backend backend
    server s1 127.0.0.1:$BACKEND_PORT pool-max-conn $KEEPALIVE
EOF
}

# Access log off; no active health checks (none is the default) and
# passive ones off, so nothing but the proxying runs.
write_gatehouse_yaml() {
	cat >"$WORK/gatehouse.yaml" <<EOF
listeners:
  - name: bench
    address: 127.0.0.1:$GATEHOUSE_PORT
log:
  format: text
  level: info
  output: $WORK/gatehouse.log
  access: false
upstreams:
  backend:
    targets: [http://127.0.0.1:$BACKEND_PORT]
    max_idle_conns: $KEEPALIVE
    health:
      passive: {max_fails: 0}
routes:
  - name: all
    match: {path: /}
    upstream: backend
EOF
}

# ---------------------------------------------------------------- start

declare -A PORT MAIN   # by proxy name: listening port, main PID

start_bg() { # name cpu cmd... ; sets STARTED to the PID
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >>"$WORK/$name.log" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}

start_all() {
	local nginx
	nginx=$(sbin nginx)
	start_bg backend "$LOAD_CPU" "$nginx" -p "$WORK" -c "$WORK/backend.conf" -g 'daemon off;'
	wait_listening "$BACKEND_PORT" "$STARTED" "backend nginx"
	probe "$BACKEND_PORT" || die "backend does not serve the 1 KiB body"
	local p
	for p in $PROXIES; do
		case $p in
		gatehouse) start_bg gatehouse "$PROXY_CPU" env GOMAXPROCS=1 "$WORK/gatehouse" run -config "$WORK/gatehouse.yaml" ;;
		nginx) start_bg nginx "$PROXY_CPU" "$nginx" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' ;;
		haproxy) start_bg haproxy "$PROXY_CPU" "$(sbin haproxy)" -db -f "$WORK/haproxy.cfg" ;;
		stdlib) start_bg stdlib "$PROXY_CPU" env GOMAXPROCS=1 "$WORK/stdlibproxy" \
			-listen "127.0.0.1:$STDLIB_PORT" -backend "http://127.0.0.1:$BACKEND_PORT" -keepalive "$KEEPALIVE" ;;
		*) die "unknown proxy '$p' in PROXIES" ;;
		esac
		MAIN[$p]=$STARTED
		wait_listening "${PORT[$p]}" "$STARTED" "$p"
		probe "${PORT[$p]}" || die "$p does not proxy GET / correctly"
	done
}

# proxy_pids lists the processes whose CPU counts for proxy $1: the main
# process and its children (nginx's worker; Gatehouse and HAProxy have none).
proxy_pids() { echo "${MAIN[$1]}" $(children "${MAIN[$1]}"); }

# cpu_ticks sums utime+stime (clock ticks) of the given PIDs.
cpu_ticks() {
	local p line sum=0
	local -a st
	for p in "$@"; do
		read -r line <"/proc/$p/stat" || die "process $p is gone"
		read -ra st <<<"${line##*) }" # fields 3.. of proc(5): utime is 14, stime 15
		sum=$((sum + st[11] + st[12]))
	done
	echo "$sum"
}

# core_ticks prints the busy ticks of CPU core $1 from /proc/stat, then
# those of them spent in interrupts and softirqs (network receive work).
core_ticks() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $7 + $8 }' /proc/stat
}

rss_kib() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# ---------------------------------------------------------------- measure

# parse_wrk prints: requests rps p99_ms non2xx socket_errors
parse_wrk() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000
		if (v ~ /s$/) return v * 1000
		return v + 0
	}
	/ requests in / { req = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/^ +99%/ { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { gsub(/,/, ""); sockerr = $4 + $6 + $8 + $10 }
	END { printf "%d %.0f %.3f %d %d\n", req, rps, p99, non2xx, sockerr }' "$1"
}

wrk_run() { # port seconds conns outfile
	taskset -c "$LOAD_CPU" wrk -t1 -c"$3" -d"$2"s --timeout 10s --latency \
		"http://127.0.0.1:$1/" >"$4" 2>&1 || log "wrk exited $? (see $4)"
}

RESULTS=
HDR='%-6s %-5s %-10s %10s %9s %9s %12s %12s %8s %8s %7s %7s\n'
print_header() {
	printf "$HDR" conns round proxy requests rps p99_ms cpu_us/req core0_us/req proxy% core0-x% non2xx sockerr
}

measure() { # proxy conns round
	local p=$1 c=$2 r=$3 port=${PORT[$1]} raw pids
	raw="$OUT/raw/c$c-r$r-$p.txt"
	wrk_run "$port" "$WARMUP" "$c" "$OUT/raw/c$c-r$r-$p-warmup.txt"
	pids=$(proxy_pids "$p")
	local load t0 t1 cpu0 cpu1 core0 core1
	load=$(cut -d' ' -f1 /proc/loadavg)
	cpu0=$(cpu_ticks $pids)
	core0=$(core_ticks "$PROXY_CPU")
	t0=$(date +%s.%N)
	wrk_run "$port" "$DURATION" "$c" "$raw"
	t1=$(date +%s.%N)
	cpu1=$(cpu_ticks $pids)
	core1=$(core_ticks "$PROXY_CPU")
	[ "$(proxy_pids "$p")" = "$pids" ] || log "warning: $p's processes changed during the run (a worker restarted?)"
	local rss
	rss=$(rss_kib $pids)
	read -r req rps p99 non2xx sockerr < <(parse_wrk "$raw")
	[ "$req" -gt 0 ] || { log "wrk completed no request against $p; see $raw"; req=0; }
	local row
	row=$(awk -v c="$c" -v r="$r" -v p="$p" -v req="$req" -v rps="$rps" -v p99="$p99" \
		-v n2="$non2xx" -v se="$sockerr" -v hz="$CLK_TCK" -v d0="$((cpu1 - cpu0))" \
		-v b0="${core0% *}" -v b1="${core1% *}" -v s0="${core0#* }" -v s1="${core1#* }" -v T0="$t0" -v T1="$t1" -v load="$load" -v rss="$rss" '
		BEGIN {
			el = T1 - T0; busy = b1 - b0; sirq = s1 - s0
			us = req ? d0 / hz * 1e6 / req : 0
			cus = req ? busy / hz * 1e6 / req : 0
			printf "%s\t%s\t%s\t%d\t%s\t%s\t%.2f\t%.2f\t%.1f\t%.1f\t%d\t%d\t%s\t%.1f\t%d\t%.1f\n", c, r, p, req, rps, p99, us, cus,
				d0 / hz / el * 100, (busy - d0) / hz / el * 100, n2, se, load, el, rss / 1024, sirq / hz / el * 100
		}')
	printf '%s\n' "$row" >>"$RESULTS"
	awk -F'\t' -v f="$HDR" '{ printf f, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' <<<"$row"
	if [ "$non2xx" -gt 0 ] || [ "$sockerr" -gt 0 ]; then
		log "WARNING: $p: $non2xx non-2xx responses, $sockerr socket errors (see $raw)"
	fi
}

wait_for_quiet() {
	[ -n "$WAIT_LOAD" ] || return 0
	local waited=0 load
	while :; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		if awk -v l="$load" -v m="$WAIT_LOAD" 'BEGIN { exit !(l < m) }'; then
			log "load average $load < $WAIT_LOAD after ${waited}s; measuring"
			echo "waited ${waited}s for load < $WAIT_LOAD: reached ($load)" >>"$OUT/env.txt"
			return 0
		fi
		if [ $waited -ge "$WAIT_MAX" ]; then
			log "load average still $load after ${waited}s; measuring anyway"
			echo "waited ${waited}s for load < $WAIT_LOAD: NOT reached ($load); measured anyway" >>"$OUT/env.txt"
			return 0
		fi
		log "load average $load >= $WAIT_LOAD; waiting (${waited}s so far)"
		sleep 30
		waited=$((waited + 30))
	done
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# summarize prints, per connection count, the median of each column per
# proxy and Gatehouse's ratios to the others.
summarize() {
	local c p col
	printf '\nMedians of %s run(s) of %ss; proxy on core %s, wrk and backend on core %s.\n' \
		"$RUNS" "$DURATION" "$PROXY_CPU" "$LOAD_CPU"
	for c in $CONNECTIONS; do
		printf '\n%s connections\n' "$c"
		printf '%-10s %10s %9s %11s %13s %7s %7s %8s %8s\n' proxy rps p99_ms cpu_us/req core0_us/req proxy% core0-x% non2xx sockerr
		declare -A med=()
		for p in $PROXIES; do
			for col in 5 6 7 8 9 10; do
				med[$p,$col]=$(awk -F'\t' -v c="$c" -v p="$p" -v k="$col" '$1 == c && $3 == p { print $k }' "$RESULTS" | median)
			done
			local errs
			errs=$(awk -F'\t' -v c="$c" -v p="$p" '$1 == c && $3 == p { n += $11; s += $12 } END { print n + 0, s + 0 }' "$RESULTS")
			printf '%-10s %10.0f %9.3f %11.2f %13.2f %7.1f %7.1f %8s %8s\n' "$p" "${med[$p,5]}" "${med[$p,6]}" "${med[$p,7]}" "${med[$p,8]}" "${med[$p,9]}" "${med[$p,10]}" ${errs}
		done
		if [[ " $PROXIES " == *" gatehouse "* ]]; then
			for p in $PROXIES; do
				[ "$p" = gatehouse ] && continue
				awk -v c="$c" -v p="$p" -v g7="${med[gatehouse,7]}" -v o7="${med[$p,7]}" \
					-v g5="${med[gatehouse,5]}" -v o5="${med[$p,5]}" -v g6="${med[gatehouse,6]}" -v o6="${med[$p,6]}" \
					-v g8="${med[gatehouse,8]}" -v o8="${med[$p,8]}" 'BEGIN {
					printf "gatehouse/%-8s cpu/req %.2fx   core0/req %.2fx   rps %.2fx   p99 %.2fx\n", p,
						o7 ? g7 / o7 : 0, o8 ? g8 / o8 : 0, o5 ? g5 / o5 : 0, o6 ? g6 / o6 : 0
				}'
			done
		fi
		unset med
	done
}

# ---------------------------------------------------------------- main

main() {
	install_packages
	command -v go >/dev/null || die "go is not installed"
	command -v taskset >/dev/null || die "taskset (util-linux) is not installed"
	[ "$(nproc)" -ge 2 ] || log "warning: $(nproc) core(s); proxy and load generator will share one"
	if [[ " $PROXIES " == *" haproxy "* ]] && [ -z "$(sbin haproxy)" ]; then
		log "haproxy is not installed; skipping it"
		PROXIES=$(echo " $PROXIES " | sed 's/ haproxy / /; s/^ *//; s/ *$//')
	fi

	local max=0 c
	for c in $CONNECTIONS; do
		[[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be whole numbers, got '$c'"
		if [ "$c" -gt $max ]; then max=$c; fi
	done
	if [ -z "$KEEPALIVE" ]; then
		KEEPALIVE=128
		if [ $max -gt $KEEPALIVE ]; then KEEPALIVE=$max; fi
	fi
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -n)
	[ "$NOFILE" -ge $((2 * max + 200)) ] || die "ulimit -n is $NOFILE; $max connections need at least $((2 * max + 200))"
	WORKER_CONNS=$(((NOFILE - 100) / 2))
	if [ $WORKER_CONNS -gt 20000 ]; then WORKER_CONNS=20000; fi

	local sys
	sys=$(ls /proc/[0-9]*/comm 2>/dev/null | while read -r f; do cat "$f" 2>/dev/null; done | grep -xE 'nginx|haproxy' | sort | uniq -c | tr '\n' ' ' || true)
	[ -z "$sys" ] || log "note: nginx/haproxy processes not started by this script are running ($sys); they are left alone, and this script uses its own ports"

	WORK=$(mktemp -d /tmp/gatehouse-bench.XXXXXX)
	chmod 755 "$WORK"
	mkdir -p "$OUT/raw"
	ln -sfn "$(basename "$OUT")" "$ROOT/bench/out/latest" 2>/dev/null || true
	RESULTS=$OUT/results.tsv
	printf 'conns\tround\tproxy\trequests\trps\tp99_ms\tcpu_us_per_req\tcore0_us_per_req\tproxy_core_pct\tcore0_other_pct\tnon2xx\tsocket_errors\tload1\telapsed_s\trss_mib\tcore0_softirq_pct\n' >"$RESULTS"

	log "building gatehouse"
	(cd "$ROOT" && go build -trimpath -o "$WORK/gatehouse" ./cmd/gatehouse)
	if [[ " $PROXIES " == *" stdlib "* ]]; then
		(cd "$ROOT" && go build -trimpath -o "$WORK/stdlibproxy" ./bench/stdlibproxy)
	fi

	take_port BACKEND_PORT
	take_port GATEHOUSE_PORT
	take_port NGINX_PORT
	take_port HAPROXY_PORT
	take_port STDLIB_PORT
	PORT=([gatehouse]=$GATEHOUSE_PORT [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [stdlib]=$STDLIB_PORT)
	write_backend_conf
	write_nginx_conf
	write_haproxy_cfg
	write_gatehouse_yaml
	start_all

	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "nproc: $(nproc)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "kernel: $(uname -r)"
		echo "go: $(go version)"
		echo "gatehouse: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' (modified)')"
		echo "nginx: $("$(sbin nginx)" -v 2>&1 | sed 's/.*: //')"
		[ -z "$(sbin haproxy)" ] || echo "haproxy: $("$(sbin haproxy)" -v | head -1)"
		echo "wrk: $(wrk -v 2>&1 | head -1)"
		echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS='$CONNECTIONS' RUNS=$RUNS KEEPALIVE=$KEEPALIVE PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU nofile=$NOFILE"
		echo "proxies: $PROXIES"
		echo "load before: $(cat /proc/loadavg)"
	} >"$OUT/env.txt"
	cat "$OUT/env.txt" >&2

	wait_for_quiet

	local r i n p
	local -a order
	read -ra order <<<"$PROXIES"
	n=${#order[@]}
	for c in $CONNECTIONS; do
		for r in $(seq "$RUNS"); do
			printf '\nround %s of %s, %s connections\n' "$r" "$RUNS" "$c"
			print_header
			for i in $(seq 0 $((n - 1))); do
				p=${order[$(((i + r - 1) % n))]}
				measure "$p" "$c" "$r"
			done
		done
	done
	echo "load after: $(cat /proc/loadavg)" >>"$OUT/env.txt"
	echo "gatehouse log warnings/errors: $(grep -cE 'level=(WARN|ERROR)' "$WORK/gatehouse.log" 2>/dev/null || true)" >>"$OUT/env.txt"

	summarize | tee "$OUT/summary.txt"
	log "raw results in $OUT"
}

main "$@"
