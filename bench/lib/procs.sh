# bench/lib/procs.sh: installing the tools, starting and probing the
# processes bench/run.sh measures. Sourced by run.sh; uses its settings.

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# has_scenario reports whether SCENARIOS includes $1.
has_scenario() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# tls_scenarios reports whether any scenario terminates TLS.
tls_scenarios() { has_scenario https || has_scenario h2; }

# ---------------------------------------------------------------- install

# sbin() finds a daemon whether or not /usr/sbin is on PATH.
sbin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }

# install_packages installs what is missing. Debian's postinst scripts
# would start the system nginx, haproxy and redis-server on their usual
# ports; a policy-rc.d that says no (exit 101) stops that. One already in place is left as it is.
install_packages() {
	local need=() want=()
	[ -n "$(sbin nginx)" ] || need+=(nginx)
	command -v wrk >/dev/null || need+=(wrk)
	if tls_scenarios; then
		command -v openssl >/dev/null || need+=(openssl)
	fi
	if tls_scenarios || has_scenario cache-hit || has_scenario compress || has_scenario edge; then
		command -v curl >/dev/null || need+=(curl)
	fi
	if has_scenario edge; then
		command -v openssl >/dev/null || need+=(openssl)
		[ -n "$(sbin redis-server)" ] || need+=(redis-server)
		command -v redis-cli >/dev/null || need+=(redis-tools)
	fi
	if has_scenario h2; then
		command -v h2load >/dev/null || need+=(nghttp2-client)
	fi
	[ -n "$(sbin haproxy)" ] || [ -n "${NO_HAPROXY:-}" ] || want+=(haproxy)
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

PIDS=() # every process this script started, stopped on exit by PID
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

# ---------------------------------------------------------------- probes

# probe checks that port answers GET path (default /) with 200 and a body
# of the given bytes (default BODY_BYTES, the 1 KiB body).
probe() { # port [path bytes]
	local resp status body path=${2:-/} want=${3:-$BODY_BYTES}
	resp=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'
		printf "GET '"$path"' HTTP/1.1\r\nHost: bench.local\r\nConnection: close\r\n\r\n" >&3
		cat <&3') || { log "probe of port $1 failed"; return 1; }
	status=$(head -1 <<<"$resp" | awk '{print $2}')
	body=${resp#*$'\r\n\r\n'}
	if [ "$status" != 200 ] || [ ${#body} -ne "$want" ]; then
		log "probe of port $1 ($path): status $status, body ${#body} bytes; want 200 and $want"
		return 1
	fi
}

# probe_tls checks that port answers GET / over TLS with HTTP version $2
# ("1.1" or "2"), status 200 and the whole body.
probe_tls() {
	local flag=--http1.1 got
	[ "$2" = 2 ] && flag=--http2
	got=$(curl -sk "$flag" --max-time 5 -o /dev/null -w '%{http_code} %{http_version} %{size_download}' \
		"https://127.0.0.1:$1/") || { log "HTTPS probe of port $1 failed"; return 1; }
	if [ "$got" != "200 $2 $BODY_BYTES" ]; then
		log "HTTPS probe of port $1: got '$got' (status, HTTP version, bytes); want '200 $2 $BODY_BYTES'"
		return 1
	fi
}

# tls_facts prints what a client without preferences negotiates with
# port: protocol, cipher suite, key exchange group and ALPN.
tls_facts() {
	timeout 5 openssl s_client -connect "127.0.0.1:$1" -alpn h2,http/1.1 -brief </dev/null 2>&1 |
		awk -F': *' '/^(Protocol version|Ciphersuite|Negotiated TLS1.3 group|Server Temp Key|ALPN protocol|Peer signature type)/ {
			printf "%s%s=%s", sep, $1, $2; sep = "; " } END { print "" }'
}

# ---------------------------------------------------------------- start

declare -A PORT TLS_PORT MAIN # by proxy name: listening ports, main PID

start_bg() { # name cpu cmd... ; sets STARTED to the PID
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >>"$WORK/$name.log" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}

# REDIS_PID is the redis-server start_redis started (edge only), "" if none.
REDIS_PID=

# start_redis starts a redis-server for the edge scenario's Redis store on
# LOAD_CPU, beside the load generator and the backend: loopback only, no
# persistence, its directory in the temp dir.
start_redis() {
	mkdir -p "$WORK/redis"
	start_bg redis "$LOAD_CPU" "$(sbin redis-server)" --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
		--save "" --appendonly no --dir "$WORK/redis" --daemonize no --loglevel warning
	REDIS_PID=$STARTED
	wait_listening "$REDIS_PORT" "$STARTED" redis-server
	[ "$(redis-cli -p "$REDIS_PORT" ping)" = PONG ] || die "redis-server on port $REDIS_PORT does not answer PING"
}

# redis_decisions prints how many scripts (EVALSHA and EVAL, the Redis
# store's one command per decision) the harness's redis-server has run.
redis_decisions() {
	redis-cli -p "$REDIS_PORT" info commandstats |
		awk -F'[:=,]' '/^cmdstat_(evalsha|eval):/ { n += $3 } END { print n + 0 }'
}

start_all() {
	local nginx
	nginx=$(sbin nginx)
	start_bg backend "$LOAD_CPU" "$nginx" -p "$WORK" -c "$WORK/backend.conf" -g 'daemon off;'
	wait_listening "$BACKEND_PORT" "$STARTED" "backend nginx"
	probe "$BACKEND_PORT" || die "backend does not serve the 1 KiB body"
	if has_scenario edge; then start_redis; fi
	local p
	for p in $PROXIES; do
		case $p in
		gatehouse) start_bg gatehouse "$PROXY_CPU" env GOMAXPROCS=1 "$WORK/gatehouse" run -config "$WORK/gatehouse.yaml" ;;
		nginx) start_bg nginx "$PROXY_CPU" "$nginx" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' ;;
		haproxy) start_bg haproxy "$PROXY_CPU" "$(sbin haproxy)" -db -f "$WORK/haproxy.cfg" ;;
		stdlib)
			local tlsargs=()
			if tls_scenarios; then
				tlsargs=(-tls-listen "127.0.0.1:$STDLIB_TLS_PORT" -cert "$WORK/bench.pem" -key "$WORK/bench.key")
			fi
			start_bg stdlib "$PROXY_CPU" env GOMAXPROCS=1 "$WORK/stdlibproxy" \
				-listen "127.0.0.1:$STDLIB_PORT" -backend "http://127.0.0.1:$BACKEND_PORT" -keepalive "$KEEPALIVE" "${tlsargs[@]}"
			;;
		*) die "unknown proxy '$p' in PROXIES" ;;
		esac
		MAIN[$p]=$STARTED
		wait_listening "${PORT[$p]}" "$STARTED" "$p"
		probe "${PORT[$p]}" || die "$p does not proxy GET / correctly"
		if tls_proxy "$p" && tls_scenarios; then
			wait_listening "${TLS_PORT[$p]}" "$STARTED" "$p (TLS)"
			probe_tls "${TLS_PORT[$p]}" 1.1 || die "$p does not proxy GET / over HTTPS correctly"
			probe_tls "${TLS_PORT[$p]}" 2 || die "$p does not proxy GET / over HTTP/2 correctly"
		fi
	done
}

# tls_proxy reports whether proxy $1 takes part in the TLS scenarios.
tls_proxy() { [[ " $TLS_PROXIES " == *" $1 "* ]]; }

# scenario_proxies prints the proxies of PROXIES that run scenario $1.
scenario_proxies() {
	local p out=()
	for p in $PROXIES; do
		if [ "$1" = http ] || tls_proxy "$p"; then out+=("$p"); fi
	done
	echo "${out[*]}"
}
