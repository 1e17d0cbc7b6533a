#!/usr/bin/env bash
# bench/run.sh measures the CPU cost per proxied request of Gatehouse,
# with each of its HTTP/1.1 engines, next to Debian's nginx and HAProxy,
# on this machine, in one run.
#
# Every proxy is pinned to one core (PROXY_CPU) with one worker/thread
# (GOMAXPROCS=1, worker_processes 1, nbthread 1); the load generator and
# one shared nginx backend (plain HTTP/1.1) share the other core
# (LOAD_CPU). The CPU time of the proxy's processes, read from
# /proc/PID/stat around each measured run, divided by the requests
# completed, is the cost per request. See bench/README.md.
#
# Proxies (PROXIES): gatehouse (listeners with engine: gatehouse, its own
# HTTP/1.1 server), gatehouse-stdlib (the same binary, listeners with
# engine: stdlib, Go's net/http server), nginx, haproxy; stdlib
# (bench/stdlibproxy, a bare httputil.ReverseProxy) on request.
#
# Scenarios (SCENARIOS):
#   http        HTTP/1.1 keep-alive, wrk, a 1 KiB response; every proxy
#   http-64k    the same with a 64 KiB response (GET /64k)
#   http-1000   the http request with 1,000 connections; each proxy is
#               restarted before its run, and its peak RSS (VmHWM) is kept
#   https  TLS (1.3 negotiated) + HTTP/1.1 keep-alive, wrk with https URLs;
#          the proxies but HAProxy, the same ECDSA P-256 certificate
#   upload-64k  HTTP/1.1 keep-alive POSTs of a 64 KiB body (a wrk Lua
#               script), answered "ok" once the backend has read it all
#   h2     HTTP/2 over TLS, h2load, H2_CONNECTIONS connections of
#          H2_STREAMS streams; gatehouse (not gatehouse-stdlib: HTTP/2 is
#          served the same whatever the HTTP/1.1 engine), nginx, stdlib
#   idle-10k    RSS holding 10,000 idle keep-alive connections after one
#               request each: bench/rss.sh's idle phase, run after the
#               rounds with RUNS rounds; gatehouse, gatehouse-stdlib,
#               nginx (and stdlib)
#   cache-hit  HTTP/1.1 keep-alive, wrk; GETs of 1 KiB and 64 KiB bodies
#          (Cache-Control: max-age=3600) answered from Gatehouse's memory
#          cache and nginx's proxy_cache, checked to be hits that send the
#          backend nothing; and, in the same round, the 1 KiB body proxied
#          without a cache and through the cache with no-store. Gatehouse
#          and nginx
#   compress   HTTP/1.1 keep-alive, wrk; a 100 KiB JSON body (no-store)
#          without compression, with gzip at levels 1 and 5 on both proxies,
#          and with brotli at Gatehouse's default (nginx has no brotli in
#          Debian). Gatehouse and nginx
#   edge   HTTP/1.1 keep-alive, wrk; the 1 KiB GET on the route without
#          auth or limit (plain), with JWT authentication (RS256 and ES256
#          tokens from keys openssl makes at start, signed by bench/mintjwt),
#          with JWT and a memory rate limit, with the limit alone, and with
#          it in Redis (a redis-server started on LOAD_CPU; its CPU is a
#          column of its own, not the proxy's). The limits never refuse;
#          every response must be a 200. nginx runs plain and limit_req
#          (it has no JWT verification); the rest is Gatehouse's
#   The units each of these measures are in bench/lib/units.sh.
#
# Before measuring, every proxy must answer every unit as the load
# generator will ask, and each Gatehouse row must run the engine it is
# named for; a unit that fails a check, or during which a proxy exits, is
# a FAILED row (failures.txt says why, with the proxy's log lines), and
# the rest of the run goes on.
#
# Usage: bench/run.sh [SCENARIO...]   (arguments replace SCENARIOS)
#
# Settings (environment):
#   SCENARIOS="http http-64k http-1000 https upload-64k h2 idle-10k"
#                        also: cache-hit, compress, edge
#   DURATION=10          seconds of each measured run
#   WARMUP=3             seconds of the warm-up before each measured run
#   CONNECTIONS=50       client connections; a list ("50 1000") runs each in
#                        turn (http-1000 and h2 have their own counts and
#                        run in the first pass only)
#   H2_CONNECTIONS=10    connections of the h2 scenario
#   H2_STREAMS=10        concurrent streams per connection in the h2 scenario
#   RUNS=3               rounds; each round runs every scenario and proxy once,
#                        rotating the proxies' order
#   PROXIES="gatehouse gatehouse-stdlib nginx haproxy"; add "stdlib" for
#                        bench/stdlibproxy, a bare httputil.ReverseProxy:
#                        the net/http floor
#   KEEPALIVE=           idle upstream connections each proxy may keep
#                        (Gatehouse max_idle_conns, nginx keepalive, HAProxy
#                        pool-max-conn). Default: the largest number of
#                        requests in flight (CONNECTIONS, 1000 with
#                        http-1000, H2_CONNECTIONS x H2_STREAMS with h2) and
#                        at least 128 (Gatehouse's default), so no proxy
#                        opens and closes backend connections per request;
#                        KEEPALIVE=128 shows Gatehouse's defaults at 1000
#                        connections.
#   NGINX_CACHE_SENDFILE=on   nginx's sendfile for cache hits (cache-hit)
#   PROXY_CPU=0 LOAD_CPU=1
#   PORT_BASE=18080      first port tried; busy ports are skipped
#   WAIT_LOAD=           e.g. 0.7: before measuring, wait until the 1-minute
#                        load average is below it (poll every 30 s) ...
#   WAIT_MAX=1500        ... for at most this many seconds, then go on anyway
#   GATEHOUSE_REV=       build Gatehouse from this commit (e.g. HEAD), a clean
#                        export with git archive, instead of the working tree
#                        with whatever is uncommitted in it
#   OUT=bench/out/DATE   where raw results go (bench/out/latest links to it)
#   KEEP_TMP=1           keep the temp dir with configs and logs
#
# Run as root on Debian 12 with Go: missing packages are installed with apt.
set -euo pipefail

if [ $# -gt 0 ]; then SCENARIOS="$*"; fi
SCENARIOS=${SCENARIOS:-http http-64k http-1000 https upload-64k h2 idle-10k}
DURATION=${DURATION:-10}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-3}
WARMUP=${WARMUP%s}
CONNECTIONS=${CONNECTIONS:-50}
H2_CONNECTIONS=${H2_CONNECTIONS:-10}
H2_STREAMS=${H2_STREAMS:-10}
RUNS=${RUNS:-3}
PROXIES=${PROXIES:-gatehouse gatehouse-stdlib nginx haproxy}
KEEPALIVE=${KEEPALIVE:-}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_BASE=${PORT_BASE:-18080}
WAIT_LOAD=${WAIT_LOAD:-}
WAIT_MAX=${WAIT_MAX:-1500}
KEEP_TMP=${KEEP_TMP:-}
NGINX_CACHE_SENDFILE=${NGINX_CACHE_SENDFILE:-on}
BODY_BYTES=1024
TLS_PROXIES="gatehouse gatehouse-stdlib nginx stdlib" # the proxies this harness configures for TLS
IDLE_PROXIES="gatehouse gatehouse-stdlib nginx stdlib" # the proxies idle-10k holds connections on

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/out/$STAMP}
CLK_TCK=$(getconf CLK_TCK)

. "$ROOT/bench/lib/procs.sh"
. "$ROOT/bench/lib/configs.sh"
. "$ROOT/bench/lib/measure.sh"
. "$ROOT/bench/lib/units.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

# check_settings validates the settings and derives KEEPALIVE, NOFILE and
# WORKER_CONNS from them.
check_settings() {
	local s c p max=0 inflight
	for s in $SCENARIOS; do
		case $s in http | http-64k | http-1000 | https | upload-64k | h2 | idle-10k | cache-hit | compress | edge) ;;
		*) die "unknown scenario '$s' (http, http-64k, http-1000, https, upload-64k, h2, idle-10k, cache-hit, compress, edge)" ;;
		esac
	done
	for p in $PROXIES; do
		case $p in gatehouse | gatehouse-stdlib | nginx | haproxy | stdlib) ;; *) die "unknown proxy '$p' (gatehouse, gatehouse-stdlib, nginx, haproxy, stdlib)" ;; esac
	done
	case $NGINX_CACHE_SENDFILE in on | off) ;; *) die "NGINX_CACHE_SENDFILE must be on or off, got '$NGINX_CACHE_SENDFILE'" ;; esac
	[[ $H2_STREAMS =~ ^[1-9][0-9]*$ ]] || die "H2_STREAMS must be a whole number, got '$H2_STREAMS'"
	[[ $H2_CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "H2_CONNECTIONS must be a whole number, got '$H2_CONNECTIONS'"
	for c in $CONNECTIONS; do
		[[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be whole numbers, got '$c'"
		if [ "$c" -gt $max ]; then max=$c; fi
	done
	if has_scenario http-1000 && [ $max -lt 1000 ]; then max=1000; fi
	if [ -z "$KEEPALIVE" ]; then
		KEEPALIVE=128
		inflight=$max
		if has_scenario h2 && [ $((H2_CONNECTIONS * H2_STREAMS)) -gt "$inflight" ]; then inflight=$((H2_CONNECTIONS * H2_STREAMS)); fi
		if [ "$inflight" -gt $KEEPALIVE ]; then KEEPALIVE=$inflight; fi
	fi
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -n)
	local need=$((2 * max + 200))
	if [ $((max + KEEPALIVE + 200)) -gt $need ]; then need=$((max + KEEPALIVE + 200)); fi
	[ "$NOFILE" -ge $need ] || die "ulimit -n is $NOFILE; $max connections need at least $need"
	# nginx's worker_connections counts client and upstream connections
	# alike, each one descriptor.
	WORKER_CONNS=$((NOFILE - 100))
	if [ $WORKER_CONNS -gt 20000 ]; then WORKER_CONNS=20000; fi
	if [[ " $PROXIES " == *" haproxy "* ]] && [ -z "$(sbin haproxy)" ]; then
		log "haproxy is not installed; skipping it"
		PROXIES=$(echo " $PROXIES " | sed 's/ haproxy / /; s/^ *//; s/ *$//')
	fi
	if tls_scenarios && [ -z "$(unit_proxies https)" ]; then
		log "note: the TLS scenarios run only $TLS_PROXIES, and PROXIES has none of them"
	fi
	if { feature_scenarios || has_scenario edge; } && [ -z "$(unit_proxies hit-1k)" ]; then
		log "note: cache-hit, compress and edge run only $FEATURE_PROXIES, and PROXIES has none of them"
	fi
}

build() {
	log "building gatehouse"
	(cd "$(gatehouse_src)" && go build -trimpath -o "$WORK/gatehouse" ./cmd/gatehouse)
	if [[ " $PROXIES " == *" stdlib "* ]]; then
		(cd "$ROOT" && go build -trimpath -o "$WORK/stdlibproxy" ./bench/stdlibproxy)
	fi
	if has_scenario edge; then
		(cd "$ROOT" && go build -trimpath -o "$WORK/mintjwt" ./bench/mintjwt)
	fi
}

configure() {
	take_port BACKEND_PORT
	take_port GATEHOUSE_PORT
	take_port GATEHOUSE_STDLIB_PORT
	take_port NGINX_PORT
	take_port HAPROXY_PORT
	take_port STDLIB_PORT
	take_port GATEHOUSE_TLS_PORT
	take_port GATEHOUSE_STDLIB_TLS_PORT
	take_port NGINX_TLS_PORT
	take_port STDLIB_TLS_PORT
	take_port REDIS_PORT
	PORT=([gatehouse]=$GATEHOUSE_PORT [gatehouse-stdlib]=$GATEHOUSE_STDLIB_PORT [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [stdlib]=$STDLIB_PORT)
	TLS_PORT=([gatehouse]=$GATEHOUSE_TLS_PORT [gatehouse-stdlib]=$GATEHOUSE_STDLIB_TLS_PORT [nginx]=$NGINX_TLS_PORT [stdlib]=$STDLIB_TLS_PORT)
	if tls_scenarios; then make_cert; fi
	if has_scenario edge; then make_jwt_keys; fi
	write_backend_conf
	write_nginx_conf
	write_haproxy_cfg
	write_upload_lua
	local g
	write_gatehouse_yaml gatehouse gatehouse "$GATEHOUSE_PORT" "$GATEHOUSE_TLS_PORT"
	write_gatehouse_yaml gatehouse-stdlib stdlib "$GATEHOUSE_STDLIB_PORT" "$GATEHOUSE_STDLIB_TLS_PORT"
	for g in gatehouse gatehouse-stdlib; do
		"$WORK/gatehouse" validate -config "$WORK/$g.yaml" >"$WORK/validate-$g.log" 2>&1 ||
			die "gatehouse validate refuses the generated $g.yaml: $(cat "$WORK/validate-$g.log")"
	done
}

write_env() {
	local p
	{
		echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "nproc: $(nproc)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "kernel: $(uname -r)"
		echo "go: $(go version)"
		echo "gatehouse: $(gatehouse_version)"
		echo "nginx: $("$(sbin nginx)" -v 2>&1 | sed 's/.*: //')"
		[ -z "$(sbin haproxy)" ] || echo "haproxy: $("$(sbin haproxy)" -v | head -1)"
		echo "wrk: $(wrk -v 2>&1 | head -1)"
		if has_scenario h2; then echo "h2load: $(h2load --version 2>&1 | head -1)"; fi
		if has_scenario edge; then echo "redis: $("$(sbin redis-server)" --version)"; fi
		if tls_scenarios; then
			echo "openssl: $(openssl version)"
			for p in $(unit_proxies https); do
				echo "tls $p: $(tls_facts "${TLS_PORT[$p]}")"
			done
		fi
		echo "settings: SCENARIOS='$SCENARIOS' DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS='$CONNECTIONS' H2_CONNECTIONS=$H2_CONNECTIONS H2_STREAMS=$H2_STREAMS RUNS=$RUNS KEEPALIVE=$KEEPALIVE PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU nofile=$NOFILE$(has_scenario cache-hit && echo " NGINX_CACHE_SENDFILE=$NGINX_CACHE_SENDFILE")"
		echo "proxies: $(used_proxies) (TLS scenarios: $(unit_proxies https); h2: $(unit_proxies h2))"
		echo "engines: gatehouse: engine: gatehouse; gatehouse-stdlib: engine: stdlib (on every listener of its config); GATEHOUSE_ENGINE=${GATEHOUSE_ENGINE:-unset} in this environment (the configs override it)"
		echo "load before: $(cat /proc/loadavg)"
	} >"$OUT/env.txt"
	cat "$OUT/env.txt" >&2
}

# run_rounds runs RUNS rounds; in each, every unit of every scenario
# runs every one of its proxies once, in an order rotated each round, so
# drift hits all alike.
run_rounds() {
	local c cc r s i n p
	local -a order
	for c in $CONNECTIONS; do
		for r in $(seq "$RUNS"); do
			for s in $(all_units); do
				cc=$(unit_conns "$s" "$c")
				[ -n "$cc" ] || continue
				read -ra order <<<"$(unit_proxies "$s")"
				n=${#order[@]}
				[ "$n" -gt 0 ] || continue
				printf '\nround %s of %s, %s, %s connections\n' "$r" "$RUNS" "$s" "$cc"
				print_header
				for i in $(seq 0 $((n - 1))); do
					p=${order[$(((i + r - 1) % n))]}
					measure "$s" "$p" "$cc" "$r"
				done
			done
		done
	done
}

# measure_idle runs idle-10k: bench/rss.sh's idle phase (each proxy started
# afresh, bench/holdconns opens 10,000 connections with one GET each and
# holds them; VmRSS 3 s later), RUNS rounds, on the proxies of PROXIES it
# knows how to hold them on, into OUT/idle-10k. This script's own proxies
# are stopped first.
measure_idle() {
	local p ps=()
	for p in $PROXIES; do
		if [[ " $IDLE_PROXIES " == *" $p "* ]]; then ps+=("$p"); fi
	done
	[ ${#ps[@]} -gt 0 ] || { log "idle-10k: none of $IDLE_PROXIES is in PROXIES"; return 0; }
	for p in "${PIDS[@]}"; do stop "$p"; done
	REDIS_PID=
	log "idle-10k: bench/rss.sh with ${ps[*]}"
	PROXIES="${ps[*]}" LOAD= IDLE=10000 STALL= RUNS=$RUNS KEEPALIVE=$KEEPALIVE PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU \
		PORT_BASE=$((NEXT_PORT + 10)) WAIT_LOAD= OUT=$OUT/idle-10k KEEP_TMP=$KEEP_TMP GATEHOUSE_REV=${GATEHOUSE_REV:-} "$ROOT/bench/rss.sh" ||
		echo "$(date -u +%H:%M:%S) FAILED idle-10k: bench/rss.sh exited $? (see $OUT/idle-10k)" >>"$OUT/failures.txt"
}

main() {
	install_packages
	command -v go >/dev/null || die "go is not installed"
	command -v taskset >/dev/null || die "taskset (util-linux) is not installed"
	[ "$(nproc)" -ge 2 ] || log "warning: $(nproc) core(s); proxy and load generator will share one"
	check_settings
	resolve_rev

	local sys
	sys=$(ls /proc/[0-9]*/comm 2>/dev/null | while read -r f; do cat "$f" 2>/dev/null; done | grep -xE 'nginx|haproxy' | sort | uniq -c | tr '\n' ' ' || true)
	[ -z "$sys" ] || log "note: nginx/haproxy processes not started by this script are running ($sys); they are left alone, and this script uses its own ports"

	WORK=$(mktemp -d /tmp/gatehouse-bench.XXXXXX)
	chmod 755 "$WORK"
	mkdir -p "$OUT/raw"
	if [ "$(cd "$OUT/.." && pwd)" = "$ROOT/bench/out" ]; then
		ln -sfn "$(basename "$OUT")" "$ROOT/bench/out/latest" 2>/dev/null || true
	fi
	RESULTS=$OUT/results.tsv
	printf 'scenario\tconns\tround\tproxy\trequests\trps\tp99_ms\tmean_ms\tcpu_us_per_req\tcore0_us_per_req\tproxy_core_pct\tcore0_other_pct\tnon2xx\tsocket_errors\tload1\telapsed_s\trss_mib\tcore0_softirq_pct\tp50_ms\tredis_us_per_req\tredis_calls_per_req\tstart_rss_mib\tpeak_rss_mib\tstatus\n' >"$RESULTS"
	: >"$OUT/failures.txt"

	build
	configure
	start_all
	write_env
	check_units
	check_features
	wait_for_quiet
	run_rounds
	echo "load after: $(cat /proc/loadavg)" >>"$OUT/env.txt"
	local g
	for g in gatehouse gatehouse-stdlib; do
		[ -f "$WORK/$g.log" ] || continue
		echo "$g log warnings/errors: $(grep -cE 'level=(WARN|ERROR)|^panic|fatal error' "$WORK/$g.log" 2>/dev/null || true)" >>"$OUT/env.txt"
	done
	if has_scenario idle-10k; then measure_idle; fi

	summarize | tee "$OUT/summary.txt"
	if [ -f "$OUT/idle-10k/summary.txt" ]; then
		printf '\nidle-10k (bench/rss.sh, %s):\n' "$OUT/idle-10k" | tee -a "$OUT/summary.txt"
		tee -a "$OUT/summary.txt" <"$OUT/idle-10k/summary.txt"
	fi
	log "raw results in $OUT"
}

main "$@"
