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
	command -v curl >/dev/null || need+=(curl) # the checks before measuring
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

# ---------------------------------------------------------------- build

# resolve_rev turns GATEHOUSE_REV (if set) into a full commit hash, once,
# so that a commit landing during the run changes nothing.
resolve_rev() {
	[ -n "${GATEHOUSE_REV:-}" ] || return 0
	GATEHOUSE_REV=$(cd "$ROOT" && git rev-parse --verify --quiet "$GATEHOUSE_REV^{commit}") ||
		die "GATEHOUSE_REV is not a commit of $ROOT"
}

# gatehouse_src prints the directory Gatehouse is built from: the checkout,
# or with GATEHOUSE_REV a clean export of that commit (git archive) in
# $WORK/src, which leaves out uncommitted changes in the working tree.
gatehouse_src() {
	if [ -z "${GATEHOUSE_REV:-}" ]; then echo "$ROOT"; return; fi
	if [ ! -d "$WORK/src" ]; then
		mkdir "$WORK/src"
		(cd "$ROOT" && git archive "$GATEHOUSE_REV") | tar -x -C "$WORK/src" || die "git archive $GATEHOUSE_REV failed"
	fi
	echo "$WORK/src"
}

# gatehouse_version says what was built, for env.txt.
gatehouse_version() {
	if [ -n "${GATEHOUSE_REV:-}" ]; then
		echo "${GATEHOUSE_REV:0:7} (GATEHOUSE_REV: a clean export of the commit)"
		return
	fi
	echo "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' (modified)')"
}

# ---------------------------------------------------------------- processes

PIDS=() # every process this script started, stopped on exit by PID
WORK=
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		[ -d "$OUT" ] && cp "$WORK"/*.log "$WORK"/*.conf "$WORK"/*.cfg "$WORK"/*.yaml "$WORK"/*.lua "$OUT/" 2>/dev/null || true
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

# start_backend starts the one nginx backend on LOAD_CPU.
start_backend() {
	start_bg backend "$LOAD_CPU" "$(sbin nginx)" -p "$WORK" -c "$WORK/backend.conf" -g 'daemon off;'
	wait_listening "$BACKEND_PORT" "$STARTED" "backend nginx"
	probe "$BACKEND_PORT" || die "backend does not serve the 1 KiB body"
	probe "$BACKEND_PORT" /64k 65536 || die "backend does not serve the 64 KiB body"
}

# start_all starts the backend, Redis (edge) and every proxy a unit uses.
start_all() {
	start_backend
	if has_scenario edge; then start_redis; fi
	local p
	for p in $(used_proxies); do start_proxy "$p"; done
}

# start_proxy starts proxy $1 on PROXY_CPU with one worker and waits until
# it proxies GET /; sets MAIN[$1] (and STARTED) to its main PID. The two
# Gatehouse rows are one binary with two configs, whose listeners say
# engine: gatehouse and engine: stdlib (GATEHOUSE_ENGINE cannot change
# them).
start_proxy() { # name
	local p=$1
	case $p in
	gatehouse | gatehouse-stdlib) start_bg "$p" "$PROXY_CPU" env GOMAXPROCS=1 "$WORK/gatehouse" run -config "$WORK/$p.yaml" ;;
	nginx) start_bg nginx "$PROXY_CPU" "$(sbin nginx)" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' ;;
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
	fi
}

# restart_proxy stops proxy $1 and starts it afresh (for a peak RSS of one
# run, or after a crash); its log goes on in the same file.
restart_proxy() { # name
	stop "${MAIN[$1]}"
	start_proxy "$1"
	sleep 1 # let nginx's worker start and a Go runtime finish its start-up
}

# stop stops process $1 (one this script started), waits for it and
# forgets it, so that cleanup never signals a PID the system has reused.
stop() {
	local pid=$1 i
	if kill -TERM "$pid" 2>/dev/null; then
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "process $pid did not stop in 10 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	local q keep=()
	for q in "${PIDS[@]}"; do [ "$q" = "$pid" ] || keep+=("$q"); done
	PIDS=("${keep[@]}")
}

# tls_proxy reports whether proxy $1 takes part in the TLS scenarios.
tls_proxy() { [[ " $TLS_PROXIES " == *" $1 "* ]]; }

# used_proxies prints the proxies of PROXIES that some unit of SCENARIOS
# runs, in PROXIES' order: the ones start_all starts.
used_proxies() {
	local p u out=()
	for p in $PROXIES; do
		for u in $(all_units); do
			if [[ " $(unit_proxies "$u") " == *" $p "* ]]; then out+=("$p"); break; fi
		done
	done
	echo "${out[*]}"
}
