# bench/lib/measure.sh: load runs, CPU accounting and the summary.
# Sourced by run.sh; uses its settings and the processes procs.sh started.

# proxy_pids lists the processes whose CPU counts for proxy $1: the main
# process and its children (nginx's worker, and with proxy_cache its cache
# manager; Gatehouse and HAProxy have none). nginx's cache loader is left
# out: it runs once, a minute after the start, reads the cache directory
# and exits, which would end the count mid-run.
proxy_pids() {
	local c out=${MAIN[$1]}
	for c in $(children "${MAIN[$1]}"); do
		case $(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null) in *"cache loader"*) continue ;; esac
		out+=" $c"
	done
	echo "$out"
}

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

# ---------------------------------------------------------------- load

# parse_wrk prints: requests rps p99_ms mean_ms non2xx socket_errors
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
	/^ +Latency +[0-9]/ { mean = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { gsub(/,/, ""); sockerr = $4 + $6 + $8 + $10 }
	END { printf "%d %.0f %.3f %.3f %d %d\n", req, rps, p99, mean, non2xx, sockerr }' "$1"
}

# wrk_p50 prints the median latency (ms) of wrk's --latency output.
wrk_p50() {
	awk '/^ +50%/ {
		v = $2
		if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000
		p = v }
	END { printf "%.3f\n", p }' "$1"
}

# parse_h2load prints the same fields from h2load's output. h2load reports
# no percentiles: p99_ms is 0 (shown as "-"); mean_ms is its mean time
# for request. Errors are requests that errored or timed out.
parse_h2load() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		return v + 0
	}
	/^finished in / { rps = $4 }
	/^requests: / { req = $6; err = $12 + $14 }
	/^status codes: / { non2xx = $5 + $7 + $9 }
	/^time for request:/ { mean = ms($6) }
	END { printf "%d %.0f %.3f %.3f %d %d\n", req, rps, 0, mean, non2xx, err }' "$1"
}

# load_run runs the load of unit $1 (a scenario, or a unit of cache-hit,
# compress or edge: wrk on the unit's path, with its Accept-Encoding or
# bearer token) against port $2.
load_run() { # unit port seconds conns outfile
	local url=https://127.0.0.1:$2/ h hdr=()
	case $1 in
	http | https)
		[ "$1" = http ] && url=http://127.0.0.1:$2/
		taskset -c "$LOAD_CPU" wrk -t1 -c"$4" -d"$3"s --timeout 10s --latency "$url" >"$5" 2>&1 ||
			log "wrk exited $? (see $5)"
		;;
	h2)
		taskset -c "$LOAD_CPU" h2load -t1 -c"$4" -m"$H2_STREAMS" -D"$3" "$url" >"$5" 2>&1 ||
			log "h2load exited $? (see $5)"
		grep -q '^Application protocol: h2$' "$5" || log "WARNING: h2load did not speak h2 (see $5)"
		;;
	*)
		h=$(unit_header "$1")
		[ -z "$h" ] || hdr=(-H "$h")
		taskset -c "$LOAD_CPU" wrk -t1 -c"$4" -d"$3"s --timeout 10s --latency "${hdr[@]}" "http://127.0.0.1:$2$(unit_path "$1")" >"$5" 2>&1 ||
			log "wrk exited $? (see $5)"
		;;
	esac
}

# ---------------------------------------------------------------- measure

RESULTS=
HDR='%-15s %-6s %-5s %-10s %10s %9s %9s %12s %12s %8s %8s %7s %7s\n'
print_header() {
	printf "$HDR" scen conns round proxy requests rps p99_ms cpu_us/req core0_us/req proxy% core0-x% non2xx sockerr
}

measure() { # unit proxy conns round
	local s=$1 p=$2 c=$3 r=$4 port raw pids
	port=${PORT[$p]}
	case $s in https | h2) port=${TLS_PORT[$p]} ;; esac
	raw="$OUT/raw/$s-c$c-r$r-$p.txt"
	load_run "$s" "$port" "$WARMUP" "$c" "$OUT/raw/$s-c$c-r$r-$p-warmup.txt"
	unit_before "$s" "$p"
	pids=$(proxy_pids "$p")
	local load t0 t1 cpu0 cpu1 core0 core1 aux0=0 aux1=0 calls0=0 calls1=0
	load=$(cut -d' ' -f1 /proc/loadavg)
	if [ -n "$REDIS_PID" ]; then calls0=$(redis_decisions) aux0=$(cpu_ticks "$REDIS_PID"); fi
	cpu0=$(cpu_ticks $pids)
	core0=$(core_ticks "$PROXY_CPU")
	t0=$(date +%s.%N)
	load_run "$s" "$port" "$DURATION" "$c" "$raw"
	t1=$(date +%s.%N)
	cpu1=$(cpu_ticks $pids)
	core1=$(core_ticks "$PROXY_CPU")
	if [ -n "$REDIS_PID" ]; then aux1=$(cpu_ticks "$REDIS_PID") calls1=$(redis_decisions); fi
	[ "$(proxy_pids "$p")" = "$pids" ] || log "warning: $p's processes changed during the run (a worker restarted?)"
	unit_after "$s" "$p" "$r"
	local rss req rps p99 mean non2xx sockerr p50=0
	rss=$(rss_kib $pids)
	if [ "$s" = h2 ]; then
		read -r req rps p99 mean non2xx sockerr < <(parse_h2load "$raw")
	else
		read -r req rps p99 mean non2xx sockerr < <(parse_wrk "$raw")
		p50=$(wrk_p50 "$raw")
	fi
	[ "$req" -gt 0 ] || { log "no request completed against $p; see $raw"; req=0; }
	local row
	row=$(awk -v s="$s" -v c="$c" -v r="$r" -v p="$p" -v req="$req" -v rps="$rps" -v p99="$p99" -v mean="$mean" \
		-v n2="$non2xx" -v se="$sockerr" -v hz="$CLK_TCK" -v d0="$((cpu1 - cpu0))" \
		-v b0="${core0% *}" -v b1="${core1% *}" -v s0="${core0#* }" -v s1="${core1#* }" -v T0="$t0" -v T1="$t1" -v load="$load" -v rss="$rss" \
		-v p50="$p50" -v da="$((aux1 - aux0))" -v dc="$((calls1 - calls0))" '
		BEGIN {
			el = T1 - T0; busy = b1 - b0; sirq = s1 - s0
			us = req ? d0 / hz * 1e6 / req : 0
			cus = req ? busy / hz * 1e6 / req : 0
			printf "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%.2f\t%.1f\t%.1f\t%d\t%d\t%s\t%.1f\t%d\t%.1f\t%s\t%.2f\t%.3f\n", s, c, r, p, req, rps, p99, mean, us, cus,
				d0 / hz / el * 100, (busy - d0) / hz / el * 100, n2, se, load, el, rss / 1024, sirq / hz / el * 100,
				p50, req ? da / hz * 1e6 / req : 0, req ? dc / req : 0
		}')
	printf '%s\n' "$row" >>"$RESULTS"
	awk -F'\t' -v f="$HDR" '{ printf f, $1, $2, $3, $4, $5, $6, ($1 == "h2" ? "-" : $7), $9, $10, $11, $12, $13, $14 }' <<<"$row"
	if [ "$non2xx" -gt 0 ] || [ "$sockerr" -gt 0 ]; then
		log "WARNING: $s $p: $non2xx non-2xx responses, $sockerr socket errors (see $raw)"
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

# ---------------------------------------------------------------- summary

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# summarize prints, per scenario and connection count, the median of each
# column per proxy and Gatehouse's ratios to the others. Columns of
# results.tsv: 6 rps, 7 p99_ms, 8 mean_ms, 9 cpu_us/req, 10 core0_us/req,
# 11 proxy%, 12 core0-x%.
summarize() {
	local s c p col ps
	printf '\nMedians of %s run(s) of %ss; proxy on core %s, load generator and backend on core %s.\n' \
		"$RUNS" "$DURATION" "$PROXY_CPU" "$LOAD_CPU"
	for c in $CONNECTIONS; do
		for s in $(all_units); do
			ps=$(unit_proxies "$s")
			printf '\n%s, %s connections%s\n' "$s" "$c" "$([ "$s" = h2 ] && echo ", $H2_STREAMS streams each")"
			printf '%-10s %10s %9s %9s %11s %13s %7s %7s %8s %8s\n' proxy rps p99_ms mean_ms cpu_us/req core0_us/req proxy% core0-x% non2xx sockerr
			declare -A med=()
			for p in $ps; do
				for col in 6 7 8 9 10 11 12; do
					med[$p,$col]=$(awk -F'\t' -v s="$s" -v c="$c" -v p="$p" -v k="$col" '$1 == s && $2 == c && $4 == p { print $k }' "$RESULTS" | median)
				done
				local errs p99
				errs=$(awk -F'\t' -v s="$s" -v c="$c" -v p="$p" '$1 == s && $2 == c && $4 == p { n += $13; e += $14 } END { print n + 0, e + 0 }' "$RESULTS")
				p99=$(printf '%.3f' "${med[$p,7]}")
				[ "$s" = h2 ] && p99=-
				printf '%-10s %10.0f %9s %9.3f %11.2f %13.2f %7.1f %7.1f %8s %8s\n' "$p" "${med[$p,6]}" "$p99" "${med[$p,8]}" \
					"${med[$p,9]}" "${med[$p,10]}" "${med[$p,11]}" "${med[$p,12]}" ${errs}
			done
			if [[ " $ps " == *" gatehouse "* ]]; then
				for p in $ps; do
					[ "$p" = gatehouse ] && continue
					awk -v s="$s" -v p="$p" -v g9="${med[gatehouse,9]}" -v o9="${med[$p,9]}" \
						-v g6="${med[gatehouse,6]}" -v o6="${med[$p,6]}" -v g7="${med[gatehouse,7]}" -v o7="${med[$p,7]}" \
						-v g8="${med[gatehouse,8]}" -v o8="${med[$p,8]}" -v g10="${med[gatehouse,10]}" -v o10="${med[$p,10]}" 'BEGIN {
						printf "gatehouse/%-8s cpu/req %.2fx   core0/req %.2fx   rps %.2fx   mean latency %.2fx", p,
							o9 ? g9 / o9 : 0, o10 ? g10 / o10 : 0, o6 ? g6 / o6 : 0, o8 ? g8 / o8 : 0
						if (s != "h2") printf "   p99 %.2fx", o7 ? g7 / o7 : 0
						print ""
					}'
				done
			fi
			unset med
		done
		summarize_rounds "$c"
		summarize_features "$c"
		summarize_edge "$c"
	done
}
