#!/usr/bin/env bash
# bench/rss.sh measures the memory per client connection of Gatehouse
# (with each HTTP/1.1 engine) next to bench/stdlibproxy (a bare
# httputil.ReverseProxy) and nginx:
# the peak RSS of the proxy under keep-alive load from many connections,
# its RSS holding many idle keep-alive connections, and (opt-in) holding
# stalled downloads. See bench/README.md and bench/RESULTS.md.
#
# Every measurement starts the proxy afresh (VmHWM is a high-water mark
# since start), pinned to PROXY_CPU with one worker (GOMAXPROCS=1,
# worker_processes 1); the load generator, the idle clients and the one
# nginx backend run on LOAD_CPU. Phases, each run on every proxy in a
# rotated order, RUNS times:
#   load C   wrk -t1 -cC keep-alive GETs of BODY for WARMUP+DURATION s;
#            peak RSS (VmHWM), requests/s, CPU and read/write system
#            calls per request, upstream connections open at once
#   idle N   bench/holdconns opens N connections, sends one GET on each
#            and holds them idle; RSS after SETTLE s
#   stall N  the same with GET /8m (an 8 MiB body) never read: N stalled
#            downloads, each holding whatever the proxy keeps per
#            response in flight (copy buffer, upstream connection). The
#            kernel takes up to 4 MiB (tcp_wmem) of each into the proxy's
#            socket buffer before its writes block: N x 4 MiB of kernel
#            memory, so keep N small (200)
#
# Settings (environment):
#   PROXIES="gatehouse gatehouse-stdlib stdlib stdlib4k nginx"  also:
#                        haproxy; and NAME=PATH, a Gatehouse binary at PATH
#                        reported as NAME (to compare builds in one run).
#                        gatehouse has engine: gatehouse on its listener
#                        (Gatehouse's own HTTP/1.1 server), gatehouse-stdlib
#                        the same binary with engine: stdlib (net/http's);
#                        NAME=PATH builds run engine: gatehouse
#   LOAD="1000"          connection counts of the load phases ("" for none)
#   IDLE="1000 10000"    connection counts of the idle phases ("" for none);
#                        counts over what ulimit -n allows are skipped
#   STALL=               connection counts of the stall phases (opt-in; see
#                        above for the kernel memory they take)
#   BODY=1k              the response of the load phases: 1k, 64k (bodies
#                        of that size) or bighead (1 KiB with a 3 KiB header)
#   REQ_PAD=0            bytes of an extra request header (X-Pad) wrk sends:
#                        a request head as large as one with big cookies
#   DURATION=5 WARMUP=2  seconds of each load phase (both count for the peak)
#   SETTLE=3             seconds between the idle connections being ready
#                        and the sample
#   RUNS=5               rounds
#   KEEPALIVE=           idle backend connections per proxy; default the
#                        largest LOAD and at least 128 (run.sh's default);
#                        KEEPALIVE=128 is Gatehouse's own default
#   GOGC=                passed to the Go proxies when set
#   PPROF=1              build the Go proxies with net/http/pprof (a build
#                        overlay, nothing in the tree) and keep, per phase,
#                        a heap profile, the goroutine count and MemStats
#                        in OUT/raw. For diagnosis: it is not the binary
#                        the numbers should come from
#   PPROF_RATE=4096      runtime.MemProfileRate with PPROF: a heap sample
#                        every 4 KiB (Go's default, 512 KiB, misses most
#                        per-connection buffers)
#   GATEHOUSE_REV=       build Gatehouse from this commit (git archive), as
#                        in run.sh
#   PROXY_CPU=0 LOAD_CPU=1 PORT_BASE=18180 WAIT_LOAD= WAIT_MAX=1500
#   OUT=bench/out/rss-DATE KEEP_TMP=1
#
# Run as root on Debian 12 with Go: missing nginx and wrk are installed.
set -euo pipefail

PROXIES=${PROXIES:-gatehouse gatehouse-stdlib stdlib stdlib4k nginx}
LOAD=${LOAD-1000}
IDLE=${IDLE-1000 10000}
STALL=${STALL:-}
BODY=${BODY:-1k}
REQ_PAD=${REQ_PAD:-0}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
SETTLE=${SETTLE:-3}
RUNS=${RUNS:-5}
KEEPALIVE=${KEEPALIVE:-}
GOGC=${GOGC:-}
PPROF=${PPROF:-}
PPROF_RATE=${PPROF_RATE:-4096}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-18180}
WAIT_LOAD=${WAIT_LOAD:-}
WAIT_MAX=${WAIT_MAX:-1500}
KEEP_TMP=${KEEP_TMP:-}
BODY_BYTES=1024
SCENARIOS=http # for the shared configs: no TLS listeners
[[ " $PROXIES " == *" haproxy "* ]] || NO_HAPROXY=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/out/rss-$STAMP}
CLK_TCK=$(getconf CLK_TCK)

. "$ROOT/bench/lib/procs.sh"
. "$ROOT/bench/lib/configs.sh"
. "$ROOT/bench/lib/measure.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A BIN # Gatehouse builds by proxy name

check_settings() {
	local c max=0
	case $BODY in 1k) URL_PATH=/ ;; 64k) URL_PATH=/64k ;; bighead) URL_PATH=/bighead ;; *) die "BODY must be 1k, 64k or bighead, got '$BODY'" ;; esac
	[[ $REQ_PAD =~ ^[0-9]+$ ]] || die "REQ_PAD must be a number of bytes, got '$REQ_PAD'"
	WRK_ARGS=()
	if [ "$REQ_PAD" -gt 0 ]; then WRK_ARGS=(-H "X-Pad: $(printf '%*s' "$REQ_PAD" '' | tr ' ' p)"); fi
	for c in $LOAD $IDLE $STALL; do
		[[ $c =~ ^[1-9][0-9]*$ ]] || die "LOAD, IDLE and STALL must be whole numbers, got '$c'"
	done
	for c in $LOAD; do if [ "$c" -gt $max ]; then max=$c; fi; done
	if [ -z "$KEEPALIVE" ]; then
		KEEPALIVE=$((max > 128 ? max : 128))
	fi
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -n)
	local keep=()
	for c in $IDLE; do
		if [ $((c + 200)) -le "$NOFILE" ]; then keep+=("$c"); else log "skipping IDLE=$c: ulimit -n is $NOFILE"; fi
	done
	IDLE=${keep[*]:-}
	for c in $STALL; do
		[ $((2 * c + 200)) -le "$NOFILE" ] || die "ulimit -n is $NOFILE; STALL=$c needs $((2 * c + 200))"
	done
	for c in $LOAD; do
		[ $((c + KEEPALIVE + 200)) -le "$NOFILE" ] || die "ulimit -n is $NOFILE; LOAD=$c needs $((c + KEEPALIVE + 200))"
	done
	# One nginx worker holds every client connection of an idle phase.
	WORKER_CONNS=$((NOFILE - 100))
	if [ $WORKER_CONNS -gt 20000 ]; then WORKER_CONNS=20000; fi
	local p
	for p in $PROXIES; do
		case $p in gatehouse | gatehouse-stdlib | stdlib | stdlib4k | nginx | haproxy) ;; *=*) [ -x "${p#*=}" ] || die "no executable ${p#*=} for $p" ;; *) die "unknown proxy '$p'" ;; esac
	done
}

# pprof_overlay writes a build overlay that adds a file to package main
# of dir $1: with BENCH_PPROF=ADDR set, net/http/pprof is served there.
pprof_overlay() {
	local f=$WORK/pprof-$(basename "$1").go
	cat >"$f" <<'EOF'
package main

import (
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strconv"
)

func init() {
	if r, err := strconv.Atoi(os.Getenv("BENCH_MEMPROFILERATE")); err == nil {
		runtime.MemProfileRate = r
	}
	if a := os.Getenv("BENCH_PPROF"); a != "" {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			panic(err)
		}
		go http.Serve(ln, nil)
	}
}
EOF
	printf '{"Replace":{"%s/zz_bench_pprof.go":"%s"}}\n' "$1" "$f" >"$WORK/overlay-$(basename "$1").json"
	echo "-overlay=$WORK/overlay-$(basename "$1").json"
}

build() {
	local p flags=()
	log "building gatehouse, stdlibproxy and holdconns"
	[ -z "$PPROF" ] || flags=("$(pprof_overlay "$(gatehouse_src)/cmd/gatehouse")")
	(cd "$(gatehouse_src)" && go build -trimpath "${flags[@]}" -o "$WORK/gatehouse" ./cmd/gatehouse)
	flags=()
	[ -z "$PPROF" ] || flags=("$(pprof_overlay "$ROOT/bench/stdlibproxy")")
	(cd "$ROOT" && go build -trimpath "${flags[@]}" -o "$WORK/stdlibproxy" ./bench/stdlibproxy)
	(cd "$ROOT" && go build -trimpath -o "$WORK/holdconns" ./bench/holdconns)
	BIN[gatehouse]=$WORK/gatehouse
	BIN[gatehouse-stdlib]=$WORK/gatehouse
	for p in $PROXIES; do
		if [[ $p == *=* ]]; then BIN[${p%%=*}]=${p#*=}; fi
	done
}

# names prints the proxies' names (NAME of NAME=PATH).
names() { local p; for p in $PROXIES; do echo "${p%%=*}"; done | tr '\n' ' '; }

is_gatehouse() { [ -n "${BIN[$1]:-}" ]; }
is_go() { is_gatehouse "$1" || [ "$1" = stdlib ] || [ "$1" = stdlib4k ]; }

configure() {
	take_port BACKEND_PORT
	take_port GATEHOUSE_PORT
	take_port GATEHOUSE_STDLIB_PORT
	take_port NGINX_PORT
	take_port HAPROXY_PORT
	take_port STDLIB_PORT
	take_port STDLIB4K_PORT
	take_port PPROF_PORT
	write_backend_conf
	write_nginx_conf
	write_haproxy_cfg
	write_gatehouse_yaml gatehouse gatehouse "$GATEHOUSE_PORT" ""
	write_gatehouse_yaml gatehouse-stdlib stdlib "$GATEHOUSE_STDLIB_PORT" ""
}

# gatehouse_config names the config Gatehouse build $1 runs.
gatehouse_config() { if [ "$1" = gatehouse-stdlib ]; then echo gatehouse-stdlib; else echo gatehouse; fi; }

port_of() {
	if [ "$1" = gatehouse-stdlib ]; then echo "$GATEHOUSE_STDLIB_PORT"; return; fi
	if is_gatehouse "$1"; then echo "$GATEHOUSE_PORT"; return; fi
	case $1 in nginx) echo "$NGINX_PORT" ;; haproxy) echo "$HAPROXY_PORT" ;; stdlib) echo "$STDLIB_PORT" ;; stdlib4k) echo "$STDLIB4K_PORT" ;; esac
}

# start_fresh starts proxy $1 afresh; sets STARTED to its main PID.
# gatehouse-stdlib is the Gatehouse build with engine: stdlib on its
# listener; NAME=PATH builds run gatehouse.yaml (engine: gatehouse).
start_fresh() {
	local p=$1 goenv=(env GOMAXPROCS=1)
	[ -z "$GOGC" ] || goenv+=("GOGC=$GOGC")
	[ -z "$PPROF" ] || goenv+=("BENCH_PPROF=127.0.0.1:$PPROF_PORT" "BENCH_MEMPROFILERATE=$PPROF_RATE")
	if is_gatehouse "$p"; then
		start_bg "$p" "$PROXY_CPU" "${goenv[@]}" "${BIN[$p]}" run -config "$WORK/$(gatehouse_config "$p").yaml"
	else
		case $p in
		nginx) start_bg nginx "$PROXY_CPU" "$(sbin nginx)" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' ;;
		haproxy) start_bg haproxy "$PROXY_CPU" "$(sbin haproxy)" -db -f "$WORK/haproxy.cfg" ;;
		stdlib) start_bg stdlib "$PROXY_CPU" "${goenv[@]}" "$WORK/stdlibproxy" \
			-listen "127.0.0.1:$STDLIB_PORT" -backend "http://127.0.0.1:$BACKEND_PORT" -keepalive "$KEEPALIVE" ;;
		stdlib4k) start_bg stdlib4k "$PROXY_CPU" "${goenv[@]}" "$WORK/stdlibproxy" -bufsize 4096 \
			-listen "127.0.0.1:$STDLIB4K_PORT" -backend "http://127.0.0.1:$BACKEND_PORT" -keepalive "$KEEPALIVE" ;;
		esac
	fi
	wait_listening "$(port_of "$p")" "$STARTED" "$p"
	probe "$(port_of "$p")" || die "$p does not proxy GET / correctly"
	probe "$(port_of "$p")" /64k 65536 || die "$p does not proxy GET /64k correctly"
	# Let nginx's worker start and a Go runtime finish its start-up.
	sleep 1
}

# pss_kib sums the proportional set size: shared pages (nginx's master
# and worker share the binary and much of the heap) are counted once.
pss_kib() {
	local p v sum=0
	for p in "$@"; do
		v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# core_user prints the user-mode ticks (user + nice) of CPU core $1.
core_user() { awk -v c="cpu$1" '$1 == c { print $2 + $3 }' /proc/stat; }

# user_ticks sums utime (clock ticks) of the given PIDs.
user_ticks() {
	local p line sum=0
	local -a st
	for p in "$@"; do
		read -r line <"/proc/$p/stat" || die "process $p is gone"
		read -ra st <<<"${line##*) }"
		sum=$((sum + st[11]))
	done
	echo "$sum"
}

# syscalls sums the read and write system calls (syscr + syscw of
# /proc/PID/io: read, write, readv, writev, sendfile; not recv or send,
# which nginx uses) of PIDs.
syscalls() {
	local p sum=0
	for p in "$@"; do
		sum=$((sum + $(awk '$1 == "syscr:" || $1 == "syscw:" { n += $2 } END { print n + 0 }' "/proc/$p/io")))
	done
	echo "$sum"
}

threads() { local p n=0; for p in "$@"; do n=$((n + $(awk '$1 == "Threads:" { print $2 }' "/proc/$p/status"))); done; echo $n; }

# tcp_estab counts established TCP sockets whose local (field 2) or remote
# (field 3) port is $2: 2 with the proxy's port counts its client
# connections, 3 with the backend's port the proxy's upstream ones (the
# only proxy running connects to it).
tcp_estab() { # field port
	awk -v f="$1" -v port="$(printf '%04X' "$2")" '$4 == "01" { split($f, a, ":"); if (a[2] == port) n++ } END { print n + 0 }' /proc/net/tcp
}

# sampler records, every half second until stopped, the proxy's VmRSS,
# its upstream connections and its client connections, one line each.
sampler() { # port pids...
	local port=$1
	shift
	while :; do
		echo "$(status_kib VmRSS "$@") $(tcp_estab 3 "$BACKEND_PORT") $(tcp_estab 2 "$port")"
		sleep 0.5
	done
}

# go_stats saves, for a Go proxy built with PPROF, the goroutine count, the
# MemStats, the goroutines' stacks and a heap profile; prints "goroutines heap_inuse_kib
# stack_inuse_kib".
go_stats() { # name tag
	local base=http://127.0.0.1:$PPROF_PORT/debug/pprof raw=$OUT/raw/$2
	if [ -z "$PPROF" ] || ! is_go "$1"; then echo "- - -"; return; fi
	curl -s --max-time 20 "$base/goroutine?debug=1" >"$raw-goroutine.txt" || true
	curl -s --max-time 20 "$base/goroutine?debug=2" >"$raw-goroutine-full.txt" || true
	curl -s --max-time 20 "$base/heap?debug=1" >"$raw-heap.txt" || true
	# gc=1: a collection first, so the profile shows what is live now,
	# not at the last collection (MemStats above are from before it).
	curl -s --max-time 20 -o "$raw-heap.pb.gz" "$base/heap?gc=1" || true
	awk '/^goroutine profile: total/ { g = $4 } $2 == "HeapInuse" { h = $4 } $2 == "Stack" { s = $4 }
		END { printf "%s %d %d\n", g ? g : "-", h / 1024, s / 1024 }' "$raw-goroutine.txt" "$raw-heap.txt"
}

ROW='%-5s %6s %3s %-16s %6s %7s %7s %7s %8s %5s %6s %6s %6s %6s %7s %7s %6s %6s %4s\n'
print_header() {
	printf "$ROW" phase conns rnd proxy start rss hwm pss KiB/conn upstr gorout heap stack rps cpu_us sys/rq proxy% core0x% err
}

# record appends a row to results.tsv and prints it.
record() { # phase conns round proxy base rss hwm pss upstream goroutines heap stack rps cpu_us errors threads syscalls_per_req proxy_pct core0_other_pct
	local row
	row=$(printf '%s\t' "$@")
	row=${row%$'\t'}
	printf '%s\n' "$row" >>"$RESULTS"
	awk -F'\t' -v f="$ROW" '{
		per = (($1 == "load" ? $7 : $6) - $5) / $2
		printf f, $1, $2, $3, $4, sprintf("%.1f", $5 / 1024), sprintf("%.1f", $6 / 1024), sprintf("%.1f", $7 / 1024), sprintf("%.1f", $8 / 1024),
			sprintf("%.1f", per), $9, $10, ($11 == "-" ? "-" : sprintf("%.1f", $11 / 1024)), ($12 == "-" ? "-" : sprintf("%.1f", $12 / 1024)), $13, $14, $17, $18, $19, $15
	}' <<<"$row"
}

# measure_load: a fresh proxy, wrk with c connections for WARMUP then
# DURATION seconds (the second run is the one whose CPU and requests
# count), the peak RSS of both.
measure_load() { # proxy conns round
	local p=$1 c=$2 r=$3 pid pids port raw spid
	start_fresh "$p"
	pid=$STARTED
	pids=$(proxy_pids_of "$pid")
	port=$(port_of "$p")
	local base
	base=$(status_kib VmRSS $pids)
	raw=$OUT/raw/load-$BODY-c$c-r$r-$p
	sampler "$port" $pids >"$raw-samples.txt" &
	spid=$!
	taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"$WARMUP"s --timeout 10s "${WRK_ARGS[@]}" "http://127.0.0.1:$port$URL_PATH" >"$raw-warmup.txt" 2>&1 || log "wrk exited $?"
	local cpu0 cpu1 sys0 sys1 core0 core1 t0 t1 gstats=
	cpu0=$(cpu_ticks $pids)
	sys0=$(syscalls $pids)
	core0="$(core_user "$PROXY_CPU") $(user_ticks $pids)"
	t0=$(date +%s.%N)
	if [ -n "$PPROF" ] && is_go "$p"; then
		# Halfway through the measured run, while all c requests are open.
		(sleep "$(awk -v d="$DURATION" 'BEGIN { print d / 2 }')" && go_stats "$p" "load-$BODY-c$c-r$r-$p" >"$raw-gostats.txt") &
		gstats=$!
	fi
	taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"$DURATION"s --timeout 10s --latency "${WRK_ARGS[@]}" "http://127.0.0.1:$port$URL_PATH" >"$raw.txt" 2>&1 || log "wrk exited $?"
	cpu1=$(cpu_ticks $pids)
	sys1=$(syscalls $pids)
	core1="$(core_user "$PROXY_CPU") $(user_ticks $pids)"
	t1=$(date +%s.%N)
	[ -z "$gstats" ] || wait "$gstats" || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	local hwm rss pss up gs=- heap=- stack=- req rps p99 mean non2xx sockerr thr
	hwm=$(status_kib VmHWM $pids)
	pss=$(pss_kib $pids)
	thr=$(threads $pids)
	read -r rss up _ < <(awk 'BEGIN { r = 0; u = 0 } { if ($1 > r) r = $1; if ($2 > u) u = $2 } END { print r, u }' "$raw-samples.txt")
	[ -z "$gstats" ] || read -r gs heap stack <"$raw-gostats.txt"
	read -r req rps p99 mean non2xx sockerr < <(parse_wrk "$raw.txt")
	local us
	local us sys pct other
	read -r us sys pct other < <(awk -v d="$((cpu1 - cpu0))" -v hz="$CLK_TCK" -v n="$req" -v s="$((sys1 - sys0))" \
		-v b0="${core0% *}" -v b1="${core1% *}" -v u0="${core0#* }" -v u1="${core1#* }" -v T0="$t0" -v T1="$t1" 'BEGIN {
		el = T1 - T0
		# Other work on the core: user time that is not the proxy'"'"'s.
		printf "%.2f %.2f %.1f %.1f\n", n ? d / hz * 1e6 / n : 0, n ? s / n : 0, d / hz / el * 100, (b1 - b0 - (u1 - u0)) / hz / el * 100 }')
	stop "$pid"
	# rss here is the largest VmRSS sampled during the runs; hwm the peak.
	record load "$c" "$r" "$p" "$base" "$rss" "$hwm" "$pss" "$up" "$gs" "$heap" "$stack" "$rps" "$us" "$((non2xx + sockerr))" "$thr" "$sys" "$pct" "$other"
	if [ $((non2xx + sockerr)) -gt 0 ]; then log "WARNING: $p: $non2xx non-2xx responses, $sockerr socket errors (see $raw.txt)"; fi
}

# measure_hold: a fresh proxy, n connections opened by holdconns (one GET
# each, at most 50 at a time) and held; RSS after SETTLE seconds. Phase
# idle reads each answer (idle keep-alive connections), phase stall
# asks for 1 MiB and reads nothing (stalled downloads).
measure_hold() { # phase proxy conns round
	local ph=$1 p=$2 n=$3 r=$4 pid pids port raw hpid args=()
	# A stalled client's small receive buffer stalls the proxy's writes
	# within the first tens of KiB, as a slow one would.
	[ "$ph" = idle ] || args=(-path /8m -read=false -rcvbuf 4096)
	start_fresh "$p"
	pid=$STARTED
	pids=$(proxy_pids_of "$pid")
	port=$(port_of "$p")
	local base
	base=$(status_kib VmRSS $pids)
	raw=$OUT/raw/$ph-c$n-r$r-$p
	taskset -c "$LOAD_CPU" "$WORK/holdconns" -addr "127.0.0.1:$port" -n "$n" "${args[@]}" >"$raw.txt" 2>"$raw-err.txt" &
	hpid=$!
	PIDS+=("$hpid")
	local i trouble=
	for i in $(seq 1200); do
		grep -q '^ready' "$raw.txt" 2>/dev/null && break
		kill -0 "$hpid" 2>/dev/null || { trouble="holdconns exited early; see $raw-err.txt"; break; }
		sleep 0.1
	done
	grep -q '^ready' "$raw.txt" || trouble=${trouble:-"holdconns did not get $n connections answered in 120 s"}
	[ -n "$trouble" ] || sleep "$SETTLE"
	alive $pids || trouble="${trouble:+$trouble; }$p exited (see $p.log)"
	if [ -n "$trouble" ]; then
		# Measured all the same, and the row counts the failed connections.
		log "WARNING: $ph $n on $p: $trouble"
		echo "$(date -u +%H:%M:%S) FAILED $ph $n round $r on $p: $trouble" >>"$OUT/failures.txt"
	fi
	local rss hwm pss up cl gs heap stack thr
	rss=$(status_kib VmRSS $pids)
	hwm=$(status_kib VmHWM $pids)
	pss=$(pss_kib $pids)
	thr=$(threads $pids)
	read -r gs heap stack < <(go_stats "$p" "$ph-c$n-r$r-$p")
	up=$(tcp_estab 3 "$BACKEND_PORT")
	cl=$(tcp_estab 2 "$port")
	stop "$hpid"
	# Failed to open, or closed by the proxy before the end.
	local open errs
	open=$(awk '$1 == "open" { print $2 }' "$raw.txt")
	errs=$((n - ${open:-0}))
	[ "$cl" -eq "$n" ] || log "WARNING: $p held $cl of $n client connections at the sample"
	stop "$pid"
	# rss here is VmRSS holding the n connections; hwm the peak since start.
	record "$ph" "$n" "$r" "$p" "$base" "$rss" "$hwm" "$pss" "$up" "$gs" "$heap" "$stack" - - "$errs" "$thr" - - -
	[ "$errs" -eq 0 ] || log "WARNING: $p: $errs of $n $ph connections failed or were closed (see $raw-err.txt)"
}

proxy_pids_of() { echo "$1" $(children "$1"); }

run_rounds() {
	local r i n p ph c
	local -a order
	read -ra order <<<"$(names)"
	n=${#order[@]}
	for r in $(seq "$RUNS"); do
		printf '\nround %s of %s\n' "$r" "$RUNS"
		print_header
		for c in $LOAD; do
			for i in $(seq 0 $((n - 1))); do measure_load "${order[$(((i + r - 1) % n))]}" "$c" "$r"; done
		done
		for c in $IDLE; do
			for i in $(seq 0 $((n - 1))); do measure_hold idle "${order[$(((i + r - 1) % n))]}" "$c" "$r"; done
		done
		for c in $STALL; do
			for i in $(seq 0 $((n - 1))); do measure_hold stall "${order[$(((i + r - 1) % n))]}" "$c" "$r"; done
		done
	done
}

# summarize prints the medians per phase, connection count and proxy,
# with the range of the headline column (peak RSS under load, RSS held
# idle) to show the noise.
summarize() {
	printf '\nMedians of %s round(s); body %s%s; proxy on core %s, clients and backend on core %s; KEEPALIVE=%s%s.\n' \
		"$RUNS" "$BODY" "$([ "$REQ_PAD" -eq 0 ] || echo ", $REQ_PAD-byte X-Pad request header")" "$PROXY_CPU" "$LOAD_CPU" "$KEEPALIVE" "${GOGC:+, GOGC=$GOGC}"
	printf 'load: MiB is the peak (VmHWM), KiB/conn (peak - start) / connections.\n'
	printf 'idle, stall: MiB is VmRSS holding the connections, KiB/conn (that - start) / connections.\n'
	printf 'sys/req: read+write system calls per request (Go proxies; nginx uses recv/send, not counted).\n'
	printf 'core0x%%: user-mode time on the proxy core that is not the proxy'"'"'s (median): other work; above a few %%, distrust the CPU columns.\n'
	local ph c p
	for ph in load idle stall; do
		local counts=$LOAD
		[ $ph = idle ] && counts=$IDLE
		[ $ph = stall ] && counts=$STALL
		for c in $counts; do
			printf '\n%s, %s connections\n' "$ph" "$c"
			printf '%-16s %6s %6s %11s %8s %6s %8s %6s %6s %7s %13s %7s %7s %5s\n' proxy start MiB "MiB range" KiB/conn pss upstream gorout rps cpu_us "cpu_us range" sys/req core0x% err
			for p in $(names); do
				awk -F'\t' -v ph="$ph" -v c="$c" -v p="$p" '
				function med(a, n,   i, j, t) {
					for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
					return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
				}
				function rng(a, n,   i, lo, hi) {
					lo = hi = a[1]
					for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
					return sprintf("%.1f-%.1f", lo, hi)
				}
				$1 == ph && $2 == c && $4 == p {
					n++; base[n] = $5 / 1024; mib[n] = (ph == "load" ? $7 : $6) / 1024; per[n] = (mib[n] - base[n]) * 1024 / c
					pss[n] = $8 / 1024; up[n] = $9; g[n] = $10; rps[n] = $13; us[n] = $14; errs += $15; sys[n] = $17; oth[n] = $19
				}
				END {
					if (!n) exit
					load = ph == "load"
					printf "%-16s %6.1f %6.1f %11s %8.1f %6.1f %8d %6s %6s %7s %13s %7s %7s %5d\n", p, med(base, n), med(mib, n), rng(mib, n),
						med(per, n), med(pss, n), med(up, n), g[1] == "-" ? "-" : sprintf("%d", med(g, n)),
						load ? sprintf("%.0f", med(rps, n)) : "-", load ? sprintf("%.2f", med(us, n)) : "-", load ? rng(us, n) : "-",
						load ? sprintf("%.2f", med(sys, n)) : "-", load ? sprintf("%.1f", med(oth, n)) : "-", errs
				}' "$RESULTS"
			done
		done
	done
}

write_env() {
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "nproc: $(getconf _NPROCESSORS_ONLN)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "kernel: $(uname -r)"
		echo "go: $(go version)"
		echo "gatehouse: $(gatehouse_version)"
		echo "nginx: $("$(sbin nginx)" -v 2>&1 | sed 's/.*: //')"
		echo "wrk: $(wrk -v 2>&1 | head -1)"
		echo "settings: PROXIES='$PROXIES' LOAD='$LOAD' IDLE='$IDLE' STALL='$STALL' BODY=$BODY REQ_PAD=$REQ_PAD DURATION=$DURATION WARMUP=$WARMUP SETTLE=$SETTLE RUNS=$RUNS KEEPALIVE=$KEEPALIVE GOGC=$GOGC PPROF=$PPROF PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU nofile=$NOFILE"
		echo "load before: $(cat /proc/loadavg)"
	} >"$OUT/env.txt"
	cat "$OUT/env.txt" >&2
}

main() {
	install_packages
	command -v go >/dev/null || die "go is not installed"
	command -v taskset >/dev/null || die "taskset (util-linux) is not installed"
	[ -z "$PPROF" ] || command -v curl >/dev/null || die "PPROF needs curl"
	check_settings
	resolve_rev
	WORK=$(mktemp -d /tmp/gatehouse-rss.XXXXXX)
	chmod 755 "$WORK"
	mkdir -p "$OUT/raw"
	RESULTS=$OUT/results.tsv
	printf 'phase\tconns\tround\tproxy\tstart_rss_kib\trss_kib\thwm_kib\tpss_kib\tupstream_conns\tgoroutines\theap_inuse_kib\tstack_inuse_kib\trps\tcpu_us_per_req\terrors\tthreads\tsyscalls_per_req\tproxy_core_pct\tcore0_other_pct\n' >"$RESULTS"
	build
	# From here on this shell, the samplers and the clients stay off the
	# proxy's core.
	taskset -pc "$LOAD_CPU" $$ >/dev/null
	configure
	start_backend
	write_env
	wait_for_quiet
	run_rounds
	echo "load after: $(cat /proc/loadavg)" >>"$OUT/env.txt"
	{
		summarize
		if [ -s "$OUT/failures.txt" ]; then
			printf '\nFailures (%s):\n' "$OUT/failures.txt"
			sed 's/^/  /' "$OUT/failures.txt"
		fi
	} | tee "$OUT/summary.txt"
	log "raw results in $OUT"
}

main "$@"
