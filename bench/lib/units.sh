# bench/lib/units.sh: what run.sh measures for each scenario, and the
# checks of the cache-hit and compress scenarios. Sourced by run.sh.
#
# A scenario is one or more units; a unit is one kind of request, measured
# on each of its proxies once per round, and is what results.tsv's
# scenario column names. http, https and h2 are a unit each. cache-hit is
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

FEATURE_PROXIES="gatehouse nginx" # the proxies this harness configures for them
JSON_FILE= # set by check_features

scenario_units() {
	case $1 in
	cache-hit) echo "hit-1k hit-64k proxied-1k pass-1k" ;;
	compress) echo "identity gzip-1 gzip-5 br" ;;
	*) echo "$1" ;;
	esac
}

# all_units prints the units of every scenario in SCENARIOS, in order.
all_units() {
	local s out=()
	for s in $SCENARIOS; do out+=($(scenario_units "$s")); done
	echo "${out[*]}"
}

unit_path() {
	case $1 in
	hit-1k) echo /cache/1k ;;
	hit-64k) echo /cache/64k ;;
	pass-1k) echo /nostore/1k ;;
	identity) echo /plain/100k.json ;;
	gzip-1) echo /gz1/100k.json ;;
	gzip-5) echo /gz5/100k.json ;;
	br) echo /br/100k.json ;;
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

# unit_proxies prints the proxies of PROXIES that run unit $1.
unit_proxies() {
	local p out=()
	for p in $PROXIES; do
		case $1 in
		http) out+=("$p") ;;
		https | h2) if tls_proxy "$p"; then out+=("$p"); fi ;;
		br) if [ "$p" = gatehouse ]; then out+=("$p"); fi ;;
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
	hit-64k) echo 65536 ;;
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
# compressed sizes go to sizes.tsv. What each answered goes to env.txt.
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
	awk -F'\t' -v u="$1" -v c="$2" -v p="$3" '$1 == u && $2 == c && $4 == p { print $9 }' "$RESULTS" | median
}

# summarize_features prints, for the units of cache-hit and compress, each
# proxy's CPU per request in every round (the noise), the comparisons
# the scenarios are for, and the compressed sizes.
summarize_features() { # conns
	local c=$1 u p
	feature_scenarios || return 0
	printf '\nCPU µs/request per round (core0-x%% of the noisiest round), %s connections\n' "$c"
	for u in $(all_units); do
		case $u in http | https | h2) continue ;; esac
		for p in $(unit_proxies "$u"); do
			awk -F'\t' -v u="$u" -v c="$c" -v p="$p" '$1 == u && $2 == c && $4 == p {
				s = s sprintf(" %.1f", $9); if ($12 > x) x = $12 }
				END { printf "  %-11s %-10s%s   (%.1f)\n", u, p, s, x }' "$RESULTS"
		done
	done
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
