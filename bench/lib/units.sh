# bench/lib/units.sh: what run.sh measures for each scenario, and the
# checks and summaries of the cache-hit, compress and edge scenarios.
# Sourced by run.sh.
#
# A scenario is one or more units; a unit is one kind of request, measured
# on each of its proxies once per round, and is what results.tsv's
# scenario column names. http, http-64k, http-1000, https, upload-64k and
# h2 are a unit each (idle-10k is none: rss.sh measures it). cache-hit is
#   hit-1k      GET /cache/1k, a 1 KiB body the proxy has cached
#   hit-64k     GET /cache/64k, the same with 64 KiB
#   proxied-1k  GET /, the 1 KiB body proxied on a route without a cache
#               (the http scenario's request), for "is a hit cheaper?"
#   pass-1k     GET /nostore/1k, 1 KiB through the cache, answered with
#               Cache-Control: no-store: what the cache costs a request
#               it cannot answer
# and compress is
#   identity    GET of the 100 KiB JSON, no Accept-Encoding: the baseline
#   gzip-1      Accept-Encoding: gzip, both proxies at gzip level 1
#   gzip-5      the same at level 5
#   br          Accept-Encoding: br, Gatehouse at its default brotli level
#               (Debian's nginx has no brotli module)
# and edge (the API gateway's edge: authentication and rate limits) is
#   plain            GET / on the route without auth or limit (the http
#                    scenario's request); Gatehouse and nginx
#   jwt-rs256        GET /jwt/1k with an RS256 bearer token (Gatehouse)
#   jwt-es256        the same with an ES256 token (Gatehouse)
#   jwt-es256+limit  GET /jwtlimit/1k, ES256 and a memory rate limit
#                    (Gatehouse)
#   limit            GET /limit/1k through a rate limit that never
#                    refuses: Gatehouse's in memory, nginx's limit_req
#   redis-limit      GET /rlimit/1k, the same limit in Redis (Gatehouse;
#                    the harness's redis-server, on LOAD_CPU)
# nginx has no JWT verification (NGINX Plus's auth_jwt is not in Debian),
# so the JWT units are Gatehouse's alone.

FEATURE_PROXIES="gatehouse nginx" # the proxies this harness configures for them
JSON_FILE= # set by check_features

scenario_units() {
	case $1 in
	cache-hit) echo "hit-1k hit-64k proxied-1k pass-1k" ;;
	compress) echo "identity gzip-1 gzip-5 br" ;;
	edge) echo "plain jwt-rs256 jwt-es256 jwt-es256+limit limit redis-limit" ;;
	idle-10k) ;;
	*) echo "$1" ;;
	esac
}

# unit_conns prints the client connections of unit u in the pass of
# CONNECTIONS for c: c itself, except for the units of a fixed count,
# http-1000 (1000) and h2 (H2_CONNECTIONS), which run in the first pass
# only (nothing is printed for the others).
unit_conns() { # unit c
	case $1 in
	http-1000 | h2) [ "$2" = "${CONNECTIONS%% *}" ] || return 0 ;;
	esac
	case $1 in
	http-1000) echo 1000 ;;
	h2) echo "$H2_CONNECTIONS" ;;
	*) echo "$2" ;;
	esac
}

# fresh_unit reports whether each proxy is restarted before its run of
# unit $1, so that VmHWM afterwards is the peak of that run alone.
fresh_unit() { [ "$1" = http-1000 ]; }

# all_units prints the units of every scenario in SCENARIOS, in order.
all_units() {
	local s out=()
	for s in $SCENARIOS; do out+=($(scenario_units "$s")); done
	echo "${out[*]}"
}

unit_path() {
	case $1 in
	http-64k) echo /64k ;;
	upload-64k) echo /upload ;;
	hit-1k) echo /cache/1k ;;
	hit-64k) echo /cache/64k ;;
	pass-1k) echo /nostore/1k ;;
	identity) echo /plain/100k.json ;;
	gzip-1) echo /gz1/100k.json ;;
	gzip-5) echo /gz5/100k.json ;;
	br) echo /br/100k.json ;;
	jwt-rs256 | jwt-es256) echo /jwt/1k ;;
	jwt-es256+limit) echo /jwtlimit/1k ;;
	limit) echo /limit/1k ;;
	redis-limit) echo /rlimit/1k ;;
	*) echo / ;;
	esac
}

# unit_encoding prints the Accept-Encoding the load generator sends, if any.
unit_encoding() {
	case $1 in
	gzip-*) echo gzip ;;
	br) echo br ;;
	esac
}

# unit_header prints the one request header the load generator adds for
# unit $1, if any: the Accept-Encoding, or the bearer token.
unit_header() {
	local enc
	enc=$(unit_encoding "$1")
	if [ -n "$enc" ]; then echo "Accept-Encoding: $enc"; fi
	case $1 in
	jwt-rs256) echo "Authorization: Bearer $TOKEN_RS" ;;
	jwt-es256*) echo "Authorization: Bearer $TOKEN_ES" ;;
	esac
}

# edge_unit reports whether $1 is a unit of the edge scenario.
edge_unit() { [[ " $(scenario_units edge) " == *" $1 "* ]]; }

# unit_proxies prints the proxies of PROXIES that run unit $1. HTTP/2 is
# served the same whatever a listener's HTTP/1.1 engine, so h2 runs
# gatehouse, not gatehouse-stdlib: the two rows would measure one thing.
unit_proxies() {
	local p out=()
	for p in $PROXIES; do
		case $1 in
		http | http-64k | http-1000 | upload-64k) out+=("$p") ;;
		https) if tls_proxy "$p"; then out+=("$p"); fi ;;
		h2) if tls_proxy "$p" && [ "$p" != gatehouse-stdlib ]; then out+=("$p"); fi ;;
		br | jwt-* | redis-limit) if [ "$p" = gatehouse ]; then out+=("$p"); fi ;;
		*) if [[ " $FEATURE_PROXIES " == *" $p "* ]]; then out+=("$p"); fi ;;
		esac
	done
	echo "${out[*]}"
}

# ---------------------------------------------------------------- checks

# fetch GETs path from the proxy's plain port with curl and prints: status,
# bytes received, then [Cache-Status] [Age] [X-Cache-Status]
# [Content-Encoding]. Further arguments go to curl.
fetch() { # port path [curl args...]
	local port=$1 path=$2
	shift 2
	curl -s --max-time 10 "$@" -w '%{http_code} %{size_download} [%header{cache-status}] [%header{age}] [%header{x-cache-status}] [%header{content-encoding}]' \
		"http://127.0.0.1:$port$path"
}

# is_hit reports whether fetch's output $2, from proxy $1, is a cache hit
# of a whole body of $3 bytes: Gatehouse says "Cache-Status: Gatehouse;
# hit; ttl=..." and sends Age, nginx (configured to) "X-Cache-Status: HIT".
is_hit() { # proxy fetch-output bytes
	local re="^200 $3 \\[Gatehouse; *hit(;[^]]*)?\\] \\[[0-9]+\\] "
	case $1 in
	gatehouse) [[ $2 =~ $re ]] ;;
	nginx) [[ $2 == "200 $3 "*"[HIT]"* ]] ;;
	*) return 1 ;;
	esac
}

unit_bytes() {
	case $1 in
	hit-64k | http-64k) echo 65536 ;;
	upload-64k) echo ${#UPLOAD_REPLY} ;;
	identity | gzip-* | br) wc -c <"$JSON_FILE" ;;
	*) echo "$BODY_BYTES" ;;
	esac
}

# backend_cached_requests counts the requests for /cache/* that reached the
# backend so far (its access log for those paths only).
backend_cached_requests() { wc -l <"$WORK/backend-cache.log"; }

# check_features runs once before measuring. cache-hit: each proxy must
# store /cache/1k and /cache/64k (the second GET a hit) and must not
# store /nostore/1k. compress: each proxy must answer each unit with the
# right Content-Encoding and a body that decodes to the JSON file; the
# compressed sizes go to sizes.tsv. edge: check_edge. What each answered
# goes to env.txt.
check_features() {
	local p u got i
	JSON_FILE=$WORK/www/100k.json
	if has_scenario cache-hit; then
		for p in $(unit_proxies hit-1k); do
			for u in hit-1k hit-64k pass-1k; do
				fetch "${PORT[$p]}" "$(unit_path "$u")" -o /dev/null >/dev/null || true
				for i in 1 2 3 4 5; do # a store may commit just after the answer
					got=$(fetch "${PORT[$p]}" "$(unit_path "$u")" -o /dev/null) || die "$p: GET $(unit_path "$u") failed"
					if [ "$u" = pass-1k ] || is_hit "$p" "$got" "$(unit_bytes "$u")"; then break; fi
					sleep 0.2
				done
				echo "cache $p $(unit_path "$u"), second GET: $got" >>"$OUT/env.txt"
				if [ "$u" = pass-1k ]; then
					! is_hit "$p" "$got" "$BODY_BYTES" || die "$p answered the no-store $(unit_path "$u") from its cache: $got"
					[[ $got == "200 $BODY_BYTES "* ]] || die "$p: GET $(unit_path "$u"): $got"
				else
					is_hit "$p" "$got" "$(unit_bytes "$u")" ||
						die "$p does not answer $(unit_path "$u") from its cache (second GET: $got); the cache-hit scenario would measure something else"
				fi
			done
		done
	fi
	if has_scenario compress; then
		printf 'unit\tproxy\tencoding\tbytes\tratio\n' >"$OUT/sizes.tsv"
		for u in $(scenario_units compress); do
			for p in $(unit_proxies "$u"); do
				check_encoding "$p" "$u" "$(unit_path "$u")" "$(unit_encoding "$u")"
			done
		done
		if [[ " $PROXIES " == *" gatehouse "* ]]; then
			local a=$WORK/gz5.body b=$WORK/gzdef.body
			curl -s -H 'Accept-Encoding: gzip' -o "$a" "http://127.0.0.1:${PORT[gatehouse]}/gz5/100k.json"
			curl -s -H 'Accept-Encoding: gzip' -o "$b" "http://127.0.0.1:${PORT[gatehouse]}/gzdef/100k.json"
			if cmp -s "$a" "$b"; then
				got="the same $(wc -c <"$a") bytes as level 5: the gzip-5 rows are Gatehouse's default"
			else
				got="NOT the same as level 5 ($(wc -c <"$b") against $(wc -c <"$a") bytes)"
			fi
			echo "compress gatehouse gzip at its default level: $got" >>"$OUT/env.txt"
			log "gatehouse's default gzip level gives $got"
		fi
	fi
	if has_scenario edge; then check_edge; fi
}

# check_units runs once before measuring: every proxy must answer each of
# the units http, http-64k, http-1000, https, upload-64k and h2 as the
# load generator will ask (status, protocol, the whole body; for an
# upload, the backend must have read the whole body), and each Gatehouse
# row must run the HTTP/1.1 engine it is named for (check_engine). A
# unit that fails is marked failed on that proxy and not measured there;
# the rest go on. What each answered goes to env.txt.
check_units() {
	local u p got want port ok
	printf '%*s' "$UPLOAD_BYTES" '' | tr ' ' x >"$WORK/upload.body"
	for u in $(all_units); do
		for p in $(unit_proxies "$u"); do
			port=${PORT[$p]} ok=
			case $u in
			http | http-64k | http-1000)
				want="200 1.1 $(unit_bytes "$u")"
				got=$(curl -s --http1.1 --max-time 10 -o /dev/null -w '%{http_code} %{http_version} %{size_download}' \
					"http://127.0.0.1:$port$(unit_path "$u")") || true
				[ "$got" != "$want" ] || ok=1
				;;
			https | h2)
				want="200 $([ "$u" = h2 ] && echo 2 || echo 1.1) $BODY_BYTES"
				got=$(curl -sk "$([ "$u" = h2 ] && echo --http2 || echo --http1.1)" --max-time 10 -o /dev/null \
					-w '%{http_code} %{http_version} %{size_download}' "https://127.0.0.1:${TLS_PORT[$p]}/") || true
				[ "$got" != "$want" ] || ok=1
				;;
			upload-64k)
				# No Expect: 100-continue, as wrk sends none. X-Read is what
				# the backend read of the request: line, header and body.
				want="200 ${#UPLOAD_REPLY} [X-Read over $UPLOAD_BYTES]"
				got=$(curl -s --http1.1 --max-time 10 -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' \
					--data-binary @"$WORK/upload.body" -w '%{http_code} %{size_download} [%header{x-read}]' \
					"http://127.0.0.1:$port/upload") || true
				if [[ $got =~ ^200\ ${#UPLOAD_REPLY}\ \[([0-9]+)\]$ ]] && [ "${BASH_REMATCH[1]}" -gt "$UPLOAD_BYTES" ]; then ok=1; fi
				;;
			*) continue ;;
			esac
			echo "check $u $p: $got" >>"$OUT/env.txt"
			[ -n "$ok" ] || fail "$u" "$p" "the check before measuring got '$got', want '$want'"
		done
	done
	for p in gatehouse gatehouse-stdlib; do
		[[ " $(used_proxies) " == *" $p "* ]] || continue
		check_engine "$p" "http://127.0.0.1:${PORT[$p]}/"
		if has_scenario https && [[ " $(unit_proxies https) " == *" $p "* ]]; then
			check_engine "$p" "https://127.0.0.1:${TLS_PORT[$p]}/"
		fi
	done
}

# check_engine tells the engines apart by max_header_count: Gatehouse's
# own refuses a request of more than 100 header fields with 431 (its
# default limit), net/http has no such limit and proxies it. A row whose
# answer is not its engine's is a failed check (written down, not fatal:
# the row is measured, and the summary's failure list says so).
check_engine() { # proxy url
	local p=$1 url=$2 got want=200 i hdr=()
	[ "$p" = gatehouse ] && want=431
	for i in $(seq 101); do hdr+=(-H "X-Field-$i: $i"); done
	got=$(curl -sk --http1.1 --max-time 10 -o /dev/null -w '%{http_code}' "${hdr[@]}" "$url") || true
	echo "engine check $p $url, 104 header fields: $got (want $want: $([ "$want" = 431 ] && echo "Gatehouse's engine" || echo net/http))" >>"$OUT/env.txt"
	if [ "$got" != "$want" ]; then
		log "WARNING: $p answered $got to 104 header fields at $url; its engine would answer $want"
		echo "$(date -u +%H:%M:%S) ERRORS engine check on $p ($url): 104 header fields got $got, want $want" >>"$OUT/failures.txt"
	fi
}

# check_encoding fetches path from proxy p with Accept-Encoding enc (none
# if empty), checks status, Content-Encoding and that the body decodes to
# the JSON file, and records the size.
check_encoding() { # proxy unit path enc
	local p=$1 u=$2 path=$3 enc=$4 got want bytes hdr=()
	[ -z "$enc" ] || hdr=(-H "Accept-Encoding: $enc")
	got=$(fetch "${PORT[$p]}" "$path" -o /dev/null "${hdr[@]}") || die "$p: GET $path failed"
	echo "compress $p $path ($u, Accept-Encoding: ${enc:-none}): $got" >>"$OUT/env.txt"
	want="[$enc]"
	[[ $got == 200\ *" $want" ]] || die "$p answers $path with Accept-Encoding '${enc:-none}' with '$got'; want 200 and Content-Encoding '$enc'"
	curl -s --max-time 10 --compressed "${hdr[@]}" -o "$WORK/decoded" "http://127.0.0.1:${PORT[$p]}$path" ||
		die "$p: GET $path --compressed failed"
	cmp -s "$WORK/decoded" "$JSON_FILE" || die "$p: $path ($enc) does not decode to the JSON body"
	read -r _ bytes _ <<<"$got"
	printf '%s\t%s\t%s\t%s\t%.2f\n' "$u" "$p" "${enc:-identity}" "$bytes" \
		"$(awk -v a="$(wc -c <"$JSON_FILE")" -v b="$bytes" 'BEGIN { print a / b }')" >>"$OUT/sizes.tsv"
}

# unit_before runs after the warm-up, before a measured run of unit u on
# proxy p: for hits, one more GET must be a hit, and the backend's count
# of cached-path requests is taken.
BACKEND_BEFORE=0
unit_before() { # unit proxy
	case $1 in hit-*) ;; *) return 0 ;; esac
	local got
	got=$(fetch "${PORT[$2]}" "$(unit_path "$1")" -o /dev/null) || die "$2: GET $(unit_path "$1") failed"
	is_hit "$2" "$got" "$(unit_bytes "$1")" || die "$2 no longer answers $(unit_path "$1") from its cache after the warm-up: $got"
	BACKEND_BEFORE=$(backend_cached_requests)
}

# unit_after runs after a measured run: a run of hits that sent the
# backend any request measured misses, not hits, and ends the script.
unit_after() { # unit proxy round
	case $1 in hit-*) ;; *) return 0 ;; esac
	local n=$(($(backend_cached_requests) - BACKEND_BEFORE))
	printf '%s\t%s\t%s\t%s\n' "$1" "$3" "$2" "$n" >>"$OUT/backend-requests.tsv"
	[ "$n" -eq 0 ] || die "$2 sent the backend $n requests for $(unit_path "$1") during a measured run of hits; see $WORK/backend-cache.log"
}

# ---------------------------------------------------------------- summary

# unit_median prints the median CPU µs/request of unit u, conns c, proxy p.
unit_median() { # unit conns proxy
	awk -F'\t' -v u="$1" -v c="$2" -v p="$3" '$1 == u && $2 == c && $4 == p && $24 != "failed" { print $9 }' "$RESULTS" | median
}

# summarize_rounds prints each unit's CPU per request on each proxy in
# every round (F for a failed run; the noise), with the most other work
# seen on the proxy's core in any of them.
summarize_rounds() { # conns
	local c=$1 u p cc
	printf '\nCPU µs/request per round (core0-x%% of the noisiest round), %s connections\n' "$c"
	for u in $(all_units); do
		cc=$(unit_conns "$u" "$c")
		[ -n "$cc" ] || continue
		for p in $(unit_proxies "$u"); do
			awk -F'\t' -v u="$u" -v c="$cc" -v p="$p" '$1 == u && $2 == c && $4 == p {
				s = s ($24 == "failed" ? " F" : sprintf(" %.1f", $9)); if ($12 > x) x = $12 }
				END { printf "  %-15s %-16s%s   (%.1f)\n", u, p, s, x }' "$RESULTS"
		done
	done
}

# summarize_features prints, for the units of cache-hit and compress, the
# comparisons the scenarios are for, and the compressed sizes.
summarize_features() { # conns
	local c=$1 u p
	feature_scenarios || return 0
	if has_scenario cache-hit; then
		printf '\nA hit against a proxied request (medians of CPU µs/request)\n'
		local h h64 x s
		for p in $(unit_proxies hit-1k); do
			h=$(unit_median hit-1k "$c" "$p") h64=$(unit_median hit-64k "$c" "$p")
			x=$(unit_median proxied-1k "$c" "$p") s=$(unit_median pass-1k "$c" "$p")
			awk -v p="$p" -v h="$h" -v h64="$h64" -v x="$x" -v s="$s" 'BEGIN {
				printf "  %-10s hit-1k %.2f  hit-64k %.2f  proxied-1k %.2f  pass-1k %.2f   hit-1k/proxied-1k %.2fx  pass-1k/proxied-1k %.2fx\n",
					p, h, h64, x, s, x ? h / x : 0, x ? s / x : 0 }'
		done
		printf '  backend requests for /cache/* during measured runs of hits: %s\n' \
			"$(awk -F'\t' '{ n += $4 } END { print n + 0 }' "$OUT/backend-requests.tsv" 2>/dev/null || echo 0)"
	fi
	if has_scenario compress; then
		printf '\nCompressed sizes of the %s-byte JSON body (curl, before measuring)\n' "$(wc -c <"$JSON_FILE")"
		awk -F'\t' '{ printf "  %-9s %-10s %-9s %7s %6s\n", $1, $2, $3, $4, $5 }' "$OUT/sizes.tsv"
		printf '\nWhat compressing adds to a 100 KiB response (medians of CPU µs/request, minus identity)\n'
		local base v
		for p in $(unit_proxies identity); do
			base=$(unit_median identity "$c" "$p")
			for u in gzip-1 gzip-5 br; do
				[[ " $(unit_proxies "$u") " == *" $p "* ]] || continue
				v=$(unit_median "$u" "$c" "$p")
				awk -v p="$p" -v u="$u" -v v="$v" -v b="$base" 'BEGIN { printf "  %-10s %-7s %8.1f  (identity %.1f, +%.1f)\n", p, u, v, b, v - b }'
			done
		done
	fi
}

# ---------------------------------------------------------------- edge

# edge_fetch GETs unit u's path from proxy p with the unit's header (or,
# with a third argument, that header instead; "" for none) and prints:
# status, bytes, then [RateLimit] [X-Limit-Req] [WWW-Authenticate].
edge_fetch() { # proxy unit [header]
	local h hdr=()
	if [ $# -ge 3 ]; then h=$3; else h=$(unit_header "$2"); fi
	[ -z "$h" ] || hdr=(-H "$h")
	curl -s --max-time 10 -o /dev/null "${hdr[@]}" \
		-w '%{http_code} %{size_download} [%header{ratelimit}] [%header{x-limit-req}] [%header{www-authenticate}]' \
		"http://127.0.0.1:${PORT[$1]}$(unit_path "$2")"
}

# check_edge runs once before measuring: every edge unit must answer 200
# with the whole body on each of its proxies; a limited unit must show it
# ran (Gatehouse's RateLimit field, nginx's X-Limit-Req: PASSED); a JWT
# unit must refuse a request without a token and one with a broken
# signature (401, Bearer challenge); the token must not reach the backend;
# and a redis-limit request must run the script in Redis. What each
# answered goes to env.txt.
check_edge() {
	local u p got want bad n0 n1
	for u in $(scenario_units edge); do
		for p in $(unit_proxies "$u"); do
			got=$(edge_fetch "$p" "$u") || die "$p: GET $(unit_path "$u") failed"
			echo "edge $p $u $(unit_path "$u"): $got" >>"$OUT/env.txt"
			[[ $got == "200 $BODY_BYTES "* ]] || die "$p answers $u ($(unit_path "$u")) with '$got'; want 200 and $BODY_BYTES bytes"
			case $p/$u in
			gatehouse/*limit) [[ $got =~ ^200\ [0-9]+\ \[\"big\"\;r=[0-9]+ ]] || die "gatehouse: $u has no RateLimit field ('$got'): is the limit on?" ;;
			nginx/limit) [[ $got == *" [PASSED] "* ]] || die "nginx: limit_req did not run on $(unit_path "$u") ('$got')" ;;
			esac
			case $u in jwt-*) ;; *) continue ;; esac
			got=$(edge_fetch "$p" "$u" "") || die "$p: GET $(unit_path "$u") failed"
			echo "edge $p $u without a token: $got" >>"$OUT/env.txt"
			[[ $got == "401 "*"[Bearer realm="* ]] || die "$p lets $u through without a token ('$got'); want 401 and a Bearer challenge"
			want=$(unit_header "$u")
			bad=${want:0:${#want}-20}$([ "${want:${#want}-20:1}" = A ] && echo B || echo A)${want:${#want}-19}
			got=$(edge_fetch "$p" "$u" "$bad") || die "$p: GET $(unit_path "$u") failed"
			echo "edge $p $u with a broken signature: $got" >>"$OUT/env.txt"
			[[ $got == "401 "* ]] || die "$p accepts $u with a broken signature ('$got'); want 401"
		done
	done
	if [[ " $(unit_proxies jwt-es256) " == *" gatehouse "* ]]; then
		got=$(curl -s --max-time 10 -H "$(unit_header jwt-es256)" "http://127.0.0.1:${PORT[gatehouse]}/jwt/authz")
		echo "edge gatehouse: the Authorization header the backend got: $got" >>"$OUT/env.txt"
		[ "$got" = "[]" ] || die "gatehouse sent the backend the Authorization header '$got'; want none"
	fi
	if [[ " $(unit_proxies redis-limit) " == *" gatehouse "* ]]; then
		n0=$(redis_decisions)
		edge_fetch gatehouse redis-limit >/dev/null
		n1=$(redis_decisions)
		echo "edge gatehouse redis-limit: Redis ran the script $((n1 - n0)) time(s) for one request" >>"$OUT/env.txt"
		[ $((n1 - n0)) -eq 1 ] || die "one redis-limit request ran the script $((n1 - n0)) times in Redis; want 1"
	fi
	log "edge checks passed (every unit 200, limits on, tokens required and not forwarded, Redis consulted)"
}

# edge_median prints the median of results.tsv column k for unit u,
# conns c and proxy p.
edge_median() { # unit conns proxy column
	awk -F'\t' -v u="$1" -v c="$2" -v p="$3" -v k="$4" '$1 == u && $2 == c && $4 == p && $24 != "failed" { print $k }' "$RESULTS" | median
}

# summarize_edge prints the edge scenario's table: per unit and proxy the
# medians of CPU µs/request, what the unit adds to the same proxy's plain
# request (+µs and ×), Gatehouse's ratio to nginx (nginx's same unit, or,
# marked *, nginx's plain request where nginx has no such unit),
# requests/s, p50 and p99 latency, and Redis's own CPU (not counted in
# cpu_us/req) and script runs per request.
summarize_edge() { # conns
	local c=$1 u p v base nplain nu row
	has_scenario edge || return 0
	printf '\nedge, %s connections (medians; +plain and xplain: against the same proxy'"'"'s plain unit)\n' "$c"
	printf '  %-15s %-10s %10s %8s %7s %8s %8s %7s %7s %9s %10s %7s\n' unit proxy cpu_us/req +plain xplain x_nginx rps p50_ms p99_ms redis_us redis_calls non2xx
	nplain=$(edge_median plain "$c" nginx 9)
	for u in $(scenario_units edge); do
		for p in $(unit_proxies "$u"); do
			v=$(edge_median "$u" "$c" "$p" 9)
			base=$(edge_median plain "$c" "$p" 9)
			nu=
			if [ "$p" = gatehouse ]; then
				if [[ " $(unit_proxies "$u") " == *" nginx "* ]]; then
					nu="$(edge_median "$u" "$c" nginx 9) "
				elif [[ " $PROXIES " == *" nginx "* ]]; then
					nu="$nplain *"
				fi
			fi
			row=$(awk -F'\t' -v u="$u" -v c="$c" -v p="$p" '$1 == u && $2 == c && $4 == p { n += $13 + $14 } END { print n + 0 }' "$RESULTS")
			awk -v u="$u" -v p="$p" -v v="$v" -v b="$base" -v nu="$nu" -v rps="$(edge_median "$u" "$c" "$p" 6)" \
				-v p50="$(edge_median "$u" "$c" "$p" 19)" -v p99="$(edge_median "$u" "$c" "$p" 7)" \
				-v ru="$(edge_median "$u" "$c" "$p" 20)" -v rc="$(edge_median "$u" "$c" "$p" 21)" -v bad="$row" 'BEGIN {
				split(nu, n, " ")
				xn = (nu == "") ? "-" : sprintf("%.2fx%s", n[1] ? v / n[1] : 0, n[2])
				printf "  %-15s %-10s %10.2f %+8.2f %6.2fx %8s %8.0f %7.3f %7.3f %9.2f %10.3f %7d\n",
					u, p, v, v - b, b ? v / b : 0, xn, rps, p50, p99, ru, rc, bad }'
		done
	done
	printf '  x_nginx marked * is against nginx'"'"'s plain unit: nginx has no JWT verification. redis_us: redis-server'"'"'s\n'
	printf '  own CPU µs per request (not in cpu_us/req); redis_calls: scripts Redis ran per request (1 for redis-limit).\n'
	awk -F'\t' -v c="$c" '$1 == "redis-limit" && $2 == c && ($21 < 0.99 || $21 > 1.05) { print "  WARNING: redis-limit round " $3 ": " $21 " Redis scripts per request" }
		$2 == c && $1 != "redis-limit" && $21 > 0.001 { print "  WARNING: " $1 " round " $3 " " $4 ": " $21 " Redis scripts per request, want 0" }' "$RESULTS"
	awk -F'\t' -v c="$c" -v units=" $(scenario_units edge) " '$2 == c && index(units, " " $1 " ") && $13 + $14 > 0 {
		print "  WARNING: " $1 " round " $3 " " $4 ": " $13 " non-2xx, " $14 " socket errors (a limit refused, or Redis failed)" }' "$RESULTS"
}
