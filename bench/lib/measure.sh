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

# status_kib sums field $1 (VmRSS, VmHWM) of /proc/PID/status over PIDs.
status_kib() {
	local f=$1 p v sum=0
	shift
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# alive reports whether every one of the given PIDs still runs.
alive() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done
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
# bearer token, or for upload-64k its script of POSTs) against port $2.
load_run() { # unit port seconds conns outfile
	local url=https://127.0.0.1:$2/ h args=()
	case $1 in
	https)
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
		[ -z "$h" ] || args=(-H "$h")
		[ "$1" != upload-64k ] || args=(-s "$WORK/upload.lua")
		taskset -c "$LOAD_CPU" wrk -t1 -c"$4" -d"$3"s --timeout 10s --latency "${args[@]}" "http://127.0.0.1:$2$(unit_path "$1")" >"$5" 2>&1 ||
			log "wrk exited $? (see $5)"
		;;
	esac
}

# ---------------------------------------------------------------- measure

RESULTS=
HDR='%-15s %-6s %-5s %-16s %10s %9s %9s %12s %12s %8s %8s %7s %7s\n'
print_header() {
	printf "$HDR" scen conns round proxy requests rps p99_ms cpu_us/req core0_us/req proxy% core0-x% non2xx sockerr
}

# measure runs unit s on proxy p with c connections: a warm-up, then the
# measured run, whose CPU, requests and latency make a row of results.tsv.
# For a fresh unit (http-1000) the proxy is restarted first, and the row
# keeps its RSS at start and its peak (VmHWM) over the two runs. A proxy
# that exits during either run makes a failed row (failures.txt says
# what its log said) and is started again for the next unit.
measure() { # unit proxy conns round
	local s=$1 p=$2 c=$3 r=$4 port raw pids
	port=${PORT[$p]}
	case $s in https | h2) port=${TLS_PORT[$p]} ;; esac
	raw="$OUT/raw/$s-c$c-r$r-$p.txt"
	if [ -n "${FAILED["$s $p"]:-}" ]; then
		record_failed "$s" "$c" "$r" "$p" "not run: ${FAILED["$s $p"]}"
		return 0
	fi
	if fresh_unit "$s"; then restart_proxy "$p"; fi
	pids=$(proxy_pids "$p")
	local start_rss=- peak_rss=-
	if fresh_unit "$s"; then start_rss=$(status_kib VmRSS $pids); fi
	LOG_MARK=$(wc -l <"$WORK/$p.log" 2>/dev/null || echo 0)
	load_run "$s" "$port" "$WARMUP" "$c" "$OUT/raw/$s-c$c-r$r-$p-warmup.txt"
	if ! alive $pids; then crashed "$s" "$c" "$r" "$p" "during the warm-up (see $OUT/raw/$s-c$c-r$r-$p-warmup.txt)"; return 0; fi
	unit_before "$s" "$p"
	local load t0 t1 cpu0 cpu1 core0 core1 aux0=0 aux1=0 calls0=0 calls1=0
	load=$(cut -d' ' -f1 /proc/loadavg)
	if [ -n "$REDIS_PID" ]; then calls0=$(redis_decisions) aux0=$(cpu_ticks "$REDIS_PID"); fi
	cpu0=$(cpu_ticks $pids)
	core0=$(core_ticks "$PROXY_CPU")
	t0=$(date +%s.%N)
	load_run "$s" "$port" "$DURATION" "$c" "$raw"
	t1=$(date +%s.%N)
	if ! alive $pids; then crashed "$s" "$c" "$r" "$p" "during the measured run (see $raw)"; return 0; fi
	cpu1=$(cpu_ticks $pids)
	core1=$(core_ticks "$PROXY_CPU")
	if [ -n "$REDIS_PID" ]; then aux1=$(cpu_ticks "$REDIS_PID") calls1=$(redis_decisions); fi
	[ "$(proxy_pids "$p")" = "$pids" ] || log "warning: $p's processes changed during the run (a worker restarted?)"
	unit_after "$s" "$p" "$r"
	local rss req rps p99 mean non2xx sockerr p50=0 status=ok
	rss=$(status_kib VmRSS $pids)
	if fresh_unit "$s"; then peak_rss=$(status_kib VmHWM $pids); fi
	if [ "$s" = h2 ]; then
		read -r req rps p99 mean non2xx sockerr < <(parse_h2load "$raw")
	else
		read -r req rps p99 mean non2xx sockerr < <(parse_wrk "$raw")
		p50=$(wrk_p50 "$raw")
	fi
	[ "$req" -gt 0 ] || { log "no request completed against $p; see $raw"; req=0; }
	if [ "$non2xx" -gt 0 ] || [ "$sockerr" -gt 0 ] || [ "$req" -eq 0 ]; then
		status=errors
		log "WARNING: $s $p: $req requests, $non2xx non-2xx responses, $sockerr socket errors (see $raw)"
		note_failure "$s" "$c" "$r" "$p" "$req requests, $non2xx non-2xx responses, $sockerr socket errors (see $raw)"
	fi
	local row
	row=$(awk -v s="$s" -v c="$c" -v r="$r" -v p="$p" -v req="$req" -v rps="$rps" -v p99="$p99" -v mean="$mean" \
		-v n2="$non2xx" -v se="$sockerr" -v hz="$CLK_TCK" -v d0="$((cpu1 - cpu0))" \
		-v b0="${core0% *}" -v b1="${core1% *}" -v s0="${core0#* }" -v s1="${core1#* }" -v T0="$t0" -v T1="$t1" -v load="$load" -v rss="$rss" \
		-v p50="$p50" -v da="$((aux1 - aux0))" -v dc="$((calls1 - calls0))" -v sr="$start_rss" -v pr="$peak_rss" -v st="$status" '
		function mib(k) { return k == "-" ? "-" : sprintf("%.1f", k / 1024) }
		BEGIN {
			el = T1 - T0; busy = b1 - b0; sirq = s1 - s0
			us = req ? d0 / hz * 1e6 / req : 0
			cus = req ? busy / hz * 1e6 / req : 0
			printf "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%.2f\t%.1f\t%.1f\t%d\t%d\t%s\t%.1f\t%d\t%.1f\t%s\t%.2f\t%.3f\t%s\t%s\t%s\n", s, c, r, p, req, rps, p99, mean, us, cus,
				d0 / hz / el * 100, (busy - d0) / hz / el * 100, n2, se, load, el, rss / 1024, sirq / hz / el * 100,
				p50, req ? da / hz * 1e6 / req : 0, req ? dc / req : 0, mib(sr), mib(pr), st
		}')
	printf '%s\n' "$row" >>"$RESULTS"
	awk -F'\t' -v f="$HDR" '{ printf f, $1, $2, $3, $4, $5, $6, ($1 == "h2" ? "-" : $7), $9, $10, $11, $12, $13, $14 }' <<<"$row"
}

# record_failed appends a row of a run that did not happen or did not
# finish: zeros, and status failed; the summary counts it apart.
record_failed() { # unit conns round proxy why
	printf '%s\t%s\t%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t%s\t0\t0\t0\t0\t0\t0\t-\t-\tfailed\n' \
		"$1" "$2" "$3" "$4" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
	printf "$HDR" "$1" "$2" "$3" "$4" FAILED - - - - - - - -
	log "$4 $1: $5"
}

# crashed handles proxy p exiting (or losing a process) during a run of
# unit s: the unit is marked failed on p with the end of p's log, the row
# is failed, and p is started again so the other units can run.
crashed() { # unit conns round proxy when
	local s=$1 c=$2 r=$3 p=$4 lines
	lines=$(tail -n +"$((LOG_MARK + 1))" "$WORK/$p.log" 2>/dev/null | tail -n 40)
	fail "$s" "$p" "$p exited $5 in round $r"
	printf '  last lines of %s.log:\n%s\n' "$p" "$(sed 's/^/    /' <<<"$lines")" >>"$OUT/failures.txt"
	record_failed "$s" "$c" "$r" "$p" "exited $5"
	log "restarting $p"
	restart_proxy "$p"
}

# FAILED holds, by "unit proxy", why that unit failed on that proxy (a
# check before measuring, or an exit during a run); it is not measured
# there again, and the summary marks the row FAILED.
declare -A FAILED
LOG_MARK=0

fail() { # unit proxy why
	FAILED["$1 $2"]=$3
	log "FAILED: $1 on $2: $3"
	echo "$(date -u +%H:%M:%S) FAILED $1 on $2: $3" >>"$OUT/failures.txt"
}

# note_failure writes a run that finished with errors to failures.txt,
# with what p's log said meanwhile; the row stays, marked errors.
note_failure() { # unit conns round proxy what
	echo "$(date -u +%H:%M:%S) ERRORS $1 c$2 round $3 on $4: $5" >>"$OUT/failures.txt"
	tail -n +"$((LOG_MARK + 1))" "$WORK/$4.log" 2>/dev/null | grep -E 'level=(WARN|ERROR)|panic|fatal' | head -n 20 |
		sed 's/^/    /' >>"$OUT/failures.txt" || true
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

# summarize prints, per unit and connection count, the median of each
# column per proxy (failed rows left out), its ratio of CPU per request to
# nginx's, whether any row failed or had errors, and Gatehouse's ratios to
# the others; then the peak RSS of the fresh units, and each unit's CPU
# per request round by round. Columns of results.tsv: 6 rps, 7 p99_ms,
# 8 mean_ms, 9 cpu_us/req, 10 core0_us/req, 11 proxy%, 12 core0-x%,
# 22 start_rss_mib, 23 peak_rss_mib, 24 status.
summarize() {
	local s c cc p col ps
	printf '\nMedians of %s run(s) of %ss; proxy on core %s, load generator and backend on core %s.\n' \
		"$RUNS" "$DURATION" "$PROXY_CPU" "$LOAD_CPU"
	for c in $CONNECTIONS; do
		for s in $(all_units); do
			cc=$(unit_conns "$s" "$c")
			[ -n "$cc" ] || continue
			ps=$(unit_proxies "$s")
			printf '\n%s, %s connections%s\n' "$s" "$cc" "$([ "$s" = h2 ] && echo ", $H2_STREAMS streams each")"
			printf '%-16s %10s %9s %9s %11s %8s %13s %7s %7s %8s %8s  %s\n' proxy rps p99_ms mean_ms cpu_us/req x_nginx core0_us/req proxy% core0-x% non2xx sockerr status
			declare -A med=()
			for p in $ps; do
				for col in 6 7 8 9 10 11 12; do
					med[$p,$col]=$(awk -F'\t' -v s="$s" -v c="$cc" -v p="$p" -v k="$col" '$1 == s && $2 == c && $4 == p && $24 != "failed" { print $k }' "$RESULTS" | median)
				done
			done
			for p in $ps; do
				local errs p99 xn=- st
				errs=$(awk -F'\t' -v s="$s" -v c="$cc" -v p="$p" '$1 == s && $2 == c && $4 == p { n += $13; e += $14 } END { print n + 0, e + 0 }' "$RESULTS")
				p99=$(printf '%.3f' "${med[$p,7]}")
				[ "$s" = h2 ] && p99=-
				if [[ " $ps " == *" nginx "* ]]; then xn=$(awk -v a="${med[$p,9]}" -v b="${med[nginx,9]}" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else printf "-" }'); fi
				st=$(unit_status "$s" "$cc" "$p")
				if [ "${med[$p,9]}" = nan ]; then # no run finished
					printf '%-16s %10s %9s %9s %11s %8s %13s %7s %7s %8s %8s  %s\n' "$p" - - - - - - - - ${errs} "$st"
					continue
				fi
				printf '%-16s %10.0f %9s %9.3f %11.2f %8s %13.2f %7.1f %7.1f %8s %8s  %s\n' "$p" "${med[$p,6]}" "$p99" "${med[$p,8]}" \
					"${med[$p,9]}" "$xn" "${med[$p,10]}" "${med[$p,11]}" "${med[$p,12]}" ${errs} "$st"
			done
			if [[ " $ps " == *" gatehouse "* ]]; then
				for p in $ps; do
					[ "$p" = gatehouse ] && continue
					[ "${med[gatehouse,9]}" != nan ] && [ "${med[$p,9]}" != nan ] || continue
					awk -v s="$s" -v p="$p" -v g9="${med[gatehouse,9]}" -v o9="${med[$p,9]}" \
						-v g6="${med[gatehouse,6]}" -v o6="${med[$p,6]}" -v g7="${med[gatehouse,7]}" -v o7="${med[$p,7]}" \
						-v g8="${med[gatehouse,8]}" -v o8="${med[$p,8]}" -v g10="${med[gatehouse,10]}" -v o10="${med[$p,10]}" 'BEGIN {
						printf "gatehouse/%-16s cpu/req %.2fx   core0/req %.2fx   rps %.2fx   mean latency %.2fx", p,
							o9 ? g9 / o9 : 0, o10 ? g10 / o10 : 0, o6 ? g6 / o6 : 0, o8 ? g8 / o8 : 0
						if (s != "h2") printf "   p99 %.2fx", o7 ? g7 / o7 : 0
						print ""
					}'
				done
			fi
			unset med
		done
		summarize_memory "$c"
		summarize_rounds "$c"
		summarize_features "$c"
		summarize_edge "$c"
	done
	if [ -s "$OUT/failures.txt" ]; then
		printf '\nFailures and runs with errors (%s):\n' "$OUT/failures.txt"
		grep -E '^[0-9:]+ (FAILED|ERRORS)' "$OUT/failures.txt" | sed 's/^/  /'
	fi
}

# unit_status prints "ok", "errors in N of M" (runs with non-2xx answers
# or socket errors) or "FAILED in N of M: why" for unit s, conns c, proxy p.
unit_status() { # unit conns proxy
	local why=${FAILED["$1 $3"]:-}
	awk -F'\t' -v s="$1" -v c="$2" -v p="$3" -v why="$why" '$1 == s && $2 == c && $4 == p { n++; if ($24 == "failed") f++; else if ($24 == "errors") e++ }
		END {
			if (f) printf "FAILED in %d of %d%s", f, n, why == "" ? "" : ": " why
			else if (e) printf "errors in %d of %d", e, n
			else printf "ok"
			print ""
		}' "$RESULTS"
}

# summarize_memory prints, for the fresh units (http-1000: every proxy
# restarted before its run), each proxy's RSS at start, its peak (VmHWM
# over the warm-up and the measured run: median and range over the
# rounds) and (peak - start) / connections in KiB.
summarize_memory() { # conns
	local c=$1 s cc p
	for s in $(all_units); do
		fresh_unit "$s" || continue
		cc=$(unit_conns "$s" "$c")
		[ -n "$cc" ] || continue
		printf '\nPeak RSS during %s (%s connections; each proxy started afresh before its run)\n' "$s" "$cc"
		printf '  %-16s %9s %9s %13s %9s\n' proxy start_MiB peak_MiB "peak range" KiB/conn
		for p in $(unit_proxies "$s"); do
			awk -F'\t' -v s="$s" -v c="$cc" -v p="$p" '
			function med(a, n,   i, j, t) {
				for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			}
			$1 == s && $2 == c && $4 == p && $24 != "failed" && $23 != "-" {
				n++; st[n] = $22; pk[n] = $23; per[n] = ($23 - $22) * 1024 / c
				if (n == 1 || $23 < lo) lo = $23; if (n == 1 || $23 > hi) hi = $23
			}
			END {
				if (!n) { printf "  %-16s %9s\n", p, "-"; exit }
				printf "  %-16s %9.1f %9.1f %13s %9.1f\n", p, med(st, n), med(pk, n), sprintf("%.1f-%.1f", lo, hi), med(per, n)
			}' "$RESULTS"
		done
	done
}
