# bench/lib/configs.sh: the certificate and the configs of the backend and
# the proxies. Sourced by run.sh and rss.sh; writes into $WORK.

UPLOAD_BYTES=65536 # the request body of upload-64k
UPLOAD_REPLY=ok    # the backend's answer to it

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

# make_cert writes bench.pem and bench.key: a self-signed ECDSA P-256
# certificate for bench.local and 127.0.0.1, the one every proxy serves.
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$WORK/bench.key" -out "$WORK/bench.pem" -days 365 -subj /CN=bench.local \
		-addext "subjectAltName=DNS:bench.local,IP:127.0.0.1" 2>"$WORK/openssl.log" ||
		die "openssl could not make the certificate; see $WORK/openssl.log"
	# nginx's master reads the key as root; Gatehouse runs as this user.
	chmod 600 "$WORK/bench.key"
}

# write_backend_conf writes the backend's config: GET / answers the
# BODY_BYTES (1 KiB) body from the config; GET /64k a 64 KiB file (the
# http-64k scenario) and GET /8m an 8 MiB one (rss.sh's stalls); GET
# /bighead the 1 KiB body with a 3 KiB header field; POST /upload reads
# the whole request body, then answers "ok" (upload-64k).
#
# nginx's return would answer /upload while the body is still arriving
# and discard the rest afterwards; a proxy that gets its answer before it
# has sent the body may stop sending and close the upstream connection,
# which would measure something else. So /upload is proxied, to the
# backend itself: nginx reads the whole body into memory (128 KiB buffer,
# no temp file) before it sends anything upstream, and only then does
# /upload/done answer. X-Read says how many bytes of the request (line,
# header and body) the backend read, for the check before measuring.
write_backend_conf() {
	local body
	body=$(printf '%*s' $BODY_BYTES '' | tr ' ' x)
	mkdir -p "$WORK/www"
	printf '%*s' 65536 '' | tr ' ' x >"$WORK/www/64k"
	head -c 8388608 /dev/zero | tr '\0' x >"$WORK/www/8m"
	if has_scenario compress; then make_json "$WORK/www/100k.json"; fi
	chmod -R a+rX "$WORK/www"
	{
		nginx_common backend
		cat <<EOF
http {
    access_log off;
    default_type text/plain;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
$(nginx_temp_paths backend)
    upstream self {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        location / { return 200 "$body"; }
        location ~ ^/(64k|8m)$ { root $WORK/www; sendfile on; }
        location = /upload {
            client_body_buffer_size 128k;
            add_header X-Read \$request_length always;
            proxy_pass http://self/upload/done;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }
        location = /upload/done { return 200 "$UPLOAD_REPLY"; }
        location = /bighead { add_header X-Pad "$(printf '%*s' 3072 '' | tr ' ' p)"; return 200 "$body"; }
$(if feature_scenarios; then backend_feature_locations "$body"; fi)
$(if has_scenario edge; then backend_edge_locations; fi)
    }
}
EOF
	} >"$WORK/backend.conf"
}

# The proxies add the same request headers Gatehouse adds by default
# (X-Forwarded-For/-Proto/-Host, X-Real-IP, a generated X-Request-ID, also
# returned to the client), so each does comparable work.
# nginx_proxy_location prints a location for path that proxies to the
# backend like that; further arguments are more directives for it.
nginx_proxy_location() { # path [directive...]
	local d
	echo "        location $1 {"
	cat <<EOF
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
EOF
	shift
	for d in "$@"; do echo "            $d"; done
	echo "        }"
}

nginx_location() { nginx_proxy_location /; }

# nginx_tls_server is the HTTPS server: HTTP/1.1 and HTTP/2 by ALPN, TLS
# 1.2 and 1.3 like Gatehouse's defaults. For TLS 1.3 nginx would pick
# AES-256-GCM (OpenSSL's order) where Go picks AES-128-GCM; the suite order
# below makes both pick AES-128-GCM, so they do the same crypto work.
nginx_tls_server() {
	cat <<EOF
    server {
        listen 127.0.0.1:$NGINX_TLS_PORT ssl http2 backlog=4096;
        ssl_certificate $WORK/bench.pem;
        ssl_certificate_key $WORK/bench.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_session_cache shared:bench:1m;
$(nginx_location)
    }
EOF
}

# nginx buffers a request body before it connects upstream; its default
# 16 KiB buffer would write every 64 KiB upload to a temp file, so the
# buffer is 128 KiB: the body stays in memory, as in Gatehouse (which
# streams it) and HAProxy (which streams it through its 16 KiB buffers).
write_nginx_conf() {
	{
		nginx_common nginx
		cat <<EOF
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 100000000;  # nginx closes client connections after 1000 by default; Gatehouse never
    client_body_buffer_size 128k;
$(nginx_temp_paths nginx)
$(if has_scenario cache-hit; then nginx_cache_path; fi)
$(if has_scenario edge; then nginx_limit_zone; fi)
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
$(nginx_location)
$(if feature_scenarios; then nginx_feature_locations; fi)
$(if has_scenario edge; then nginx_edge_locations; fi)
    }
$(if tls_scenarios; then nginx_tls_server; fi)
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

# write_gatehouse_yaml writes $WORK/NAME.yaml, logging to $WORK/NAME.log:
# Gatehouse with the HTTP/1.1 engine ENGINE written on every listener
# (so GATEHOUSE_ENGINE in the environment cannot change what a row
# measures), plain HTTP on PORT and, with TLS scenarios, HTTPS on
# TLS_PORT. Access log off; no active health checks (none is the
# default) and passive ones off, so nothing but the proxying runs. The
# plain listener must not redirect to HTTPS, which it would for
# bench.local once a certificate is configured.
write_gatehouse_yaml() { # name engine port tls_port
	{
		cat <<EOF
listeners:
  - name: bench
    address: 127.0.0.1:$3
    engine: $2
EOF
		if tls_scenarios; then
			cat <<EOF
    redirect_https: false
  - name: bench-tls
    address: 127.0.0.1:$4
    engine: $2
    tls: {}
tls:
  certificates: [{cert: $WORK/bench.pem, key: $WORK/bench.key}]
EOF
		fi
		cat <<EOF
log:
  format: text
  level: info
  output: $WORK/$1.log
  access: false
upstreams:
  backend:
    targets: [http://127.0.0.1:$BACKEND_PORT]
    max_idle_conns: $KEEPALIVE
    health:
      passive: {max_fails: 0}
EOF
		if has_scenario cache-hit; then gatehouse_caches; fi
		if has_scenario edge; then gatehouse_edge_stores; fi
		cat <<EOF
routes:
  - name: all
    match: {path: /}
    upstream: backend
EOF
		if feature_scenarios; then gatehouse_feature_routes; fi
		if has_scenario edge; then gatehouse_edge_routes; fi
	} >"$WORK/$1.yaml"
}

# write_upload_lua writes the wrk script of upload-64k: every request a
# POST of UPLOAD_BYTES (wrk adds the Content-Length).
write_upload_lua() {
	cat >"$WORK/upload.lua" <<EOF
wrk.method = "POST"
wrk.body = string.rep("x", $UPLOAD_BYTES)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
}

# ---------------------------------------------------------------- cache-hit, compress

# feature_scenarios reports whether a scenario of the cache or the
# compression runs; their backend paths, nginx locations and Gatehouse
# routes are in the configs only then.
feature_scenarios() { has_scenario cache-hit || has_scenario compress; }

# make_json writes about 100 KiB (at most 102,400 bytes) of compact JSON,
# an array of user-like records: ids, hex tokens, names, e-mail
# addresses, dates, numbers, nested objects and tag lists, drawn from a
# fixed-seed generator (Park-Miller, exact in awk's doubles), so every run
# serves the same body and it compresses like an API's answer, not like a
# repeated byte.
make_json() { # file
	awk 'function r(n) { seed = (seed * 16807) % 2147483647; return int(seed / 2147483647 * n) }
	function pick(a, n) { return a[r(n) + 1] }
	function hex(n,   s, i) { s = ""; for (i = 0; i < n; i++) s = s substr("0123456789abcdef", r(16) + 1, 1); return s }
	BEGIN {
		seed = 20261202; limit = 102400
		nf = split("Ada Alan Grace Linus Barbara Ken Dennis Margaret Edsger Donald Frances Radia Leslie Niklaus Hedy Guido Sophie Bjarne Rob Tim", first)
		nl = split("Lovelace Turing Hopper Torvalds Liskov Thompson Ritchie Hamilton Dijkstra Knuth Allen Perlman Lamport Wirth Lamarr Rossum Wilson Stroustrup Pike Berners-Lee", last)
		nc = split("Lyon:69003:FR Berlin:10115:DE Oslo:0150:NO Porto:4000-322:PT Austin:73301:US Osaka:530-0001:JP Quito:170150:EC Perth:6000:AU Cork:T12:IE Turin:10121:IT", city)
		nr = split("viewer editor admin owner billing support", role)
		nt = split("beta eu-west us-east early-access newsletter mobile desktop api-v2 trial enterprise", tag)
		nd = split("example.com mail.example.org corp.example.net", dom)
		out = "["; n = 0
		while (1) {
			f = pick(first, nf); l = pick(last, nl); split(pick(city, nc), c, ":")
			tags = "\"" pick(tag, nt) "\""; k = r(3); for (j = 0; j < k; j++) tags = tags ",\"" pick(tag, nt) "\""
			rec = sprintf("{\"id\":%d,\"uuid\":\"%s-%s-4%s-%s-%s\",\"name\":\"%s %s\",\"email\":\"%s.%s%d@%s\",\"active\":%s,\"role\":\"%s\",\"score\":%d.%02d,\"balance\":\"%d.%02d\",\"created_at\":\"20%02d-%02d-%02dT%02d:%02d:%02dZ\",\"address\":{\"city\":\"%s\",\"zip\":\"%s\",\"country\":\"%s\"},\"tags\":[%s],\"logins\":%d}",
				1000 + n, hex(8), hex(4), hex(3), hex(4), hex(12), f, l, tolower(f), tolower(l), r(100), pick(dom, nd),
				(r(4) ? "true" : "false"), pick(role, nr), r(100), r(100), r(20000), r(100),
				19 + r(8), 1 + r(12), 1 + r(28), r(24), r(60), r(60), c[1], c[2], c[3], tags, r(5000))
			if (length(out) + (n ? 1 : 0) + length(rec) + 1 > limit) break
			out = out (n ? "," : "") rec; n++
		}
		printf "%s]", out
	}' >"$1"
}

# backend_feature_locations prints the backend's paths for these
# scenarios. /cache/1k and /cache/64k are cacheable for an hour and
# logged (one line per request, unbuffered), so the script can count the
# requests that reach the backend during a run of hits; /nostore/1k must
# not be stored; */100k.json is the JSON body, never to be cached.
backend_feature_locations() { # body
	cat <<EOF
        location = /cache/1k { access_log $WORK/backend-cache.log; add_header Cache-Control "max-age=3600"; return 200 "$1"; }
        location = /cache/64k {
            access_log $WORK/backend-cache.log; add_header Cache-Control "max-age=3600";
            root $WORK/www; try_files /64k =404; sendfile on;
        }
        location = /nostore/1k { add_header Cache-Control no-store; return 200 "$1"; }
        location ~ /100k[.]json\$ {
            default_type application/json; add_header Cache-Control no-store;
            root $WORK/www; try_files /100k.json =404; sendfile on;
        }
EOF
}

# nginx_cache_path is nginx's cache: in the temp dir, big enough for
# everything (like Gatehouse's 256 MiB memory store), entries kept while
# in use. proxy_cache_valid is not set, so nginx honours Cache-Control.
nginx_cache_path() {
	echo "    proxy_cache_path $WORK/nginx-cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=1d use_temp_path=off;"
}

# nginx_feature_locations: /cache/ and /nostore/ go through nginx's cache
# (sendfile NGINX_CACHE_SENDFILE, default on as in Debian's stock
# nginx.conf, for hits read from the cache file); /gz1/ and /gz5/ compress
# JSON with gzip at level 1 (nginx's default) and 5 (Gatehouse's).
# Debian's nginx has no brotli module.
nginx_feature_locations() {
	local cache="proxy_cache bench; sendfile ${NGINX_CACHE_SENDFILE:-on}; add_header X-Cache-Status \$upstream_cache_status;"
	local gzip='gzip on; gzip_types application/json; gzip_min_length 1024;'
	if has_scenario cache-hit; then
		nginx_proxy_location /cache/ "$cache"
		nginx_proxy_location /nostore/ "$cache"
	fi
	if has_scenario compress; then
		nginx_proxy_location /gz1/ "$gzip gzip_comp_level 1;"
		nginx_proxy_location /gz5/ "$gzip gzip_comp_level 5;"
	fi
}

gatehouse_caches() {
	echo 'caches:'
	echo '  main: {memory: {max_bytes: 256MiB, max_object_bytes: 16MiB}}'
}

# gatehouse_feature_routes: the cache on /cache/ and /nostore/; gzip at
# levels 1 and 5 on /gz1/ and /gz5/, gzip at its default level on /gzdef/
# (checked to equal level 5, not measured), brotli at its default on /br/.
gatehouse_feature_routes() {
	local name opts
	if has_scenario cache-hit; then
		for name in cache nostore; do
			printf '  - name: %s\n    match: {path: /%s}\n    upstream: backend\n    cache: {store: main}\n' "$name" "$name"
		done
	fi
	if has_scenario compress; then
		for name in gz1 gz5 gzdef br; do
			case $name in
			gz1) opts='{encodings: [gzip], levels: {gzip: 1}}' ;;
			gz5) opts='{encodings: [gzip], levels: {gzip: 5}}' ;;
			gzdef) opts='{encodings: [gzip]}' ;;
			br) opts='{encodings: [br]}' ;;
			esac
			printf '  - name: %s\n    match: {path: /%s}\n    upstream: backend\n    compress: %s\n' "$name" "$name" "$opts"
		done
	fi
}

# ---------------------------------------------------------------- edge

# The edge scenario's routes, one per unit (bench/lib/units.sh): /jwt
# (JWT, both keys), /jwtlimit (JWT and the memory limit), /limit (the
# memory limit), /rlimit (the same limit in Redis). The limit is far above
# what this machine can send (a million a second, a million at once, per
# client address), so it never refuses: what it costs is the bookkeeping.
EDGE_LIMIT='{name: big, key: client_ip, rate: 1000000/s, burst: 1000000'

# make_jwt_keys writes an RSA 2048 and an EC P-256 key pair (openssl) and
# signs a token with each (bench/mintjwt; kid rs and es, sub bench, exp
# ten years ahead) into TOKEN_RS and TOKEN_ES.
make_jwt_keys() {
	local k
	mkdir -p "$WORK/jwt"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/jwt/rs256.pem" 2>>"$WORK/openssl.log" &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/jwt/es256.pem" 2>>"$WORK/openssl.log" ||
		die "openssl could not make the JWT keys; see $WORK/openssl.log"
	for k in rs256 es256; do
		openssl pkey -in "$WORK/jwt/$k.pem" -pubout -out "$WORK/jwt/$k.pub.pem" 2>>"$WORK/openssl.log" ||
			die "openssl could not write the $k public key; see $WORK/openssl.log"
	done
	chmod 644 "$WORK/jwt/"*.pub.pem
	TOKEN_RS=$("$WORK/mintjwt" -key "$WORK/jwt/rs256.pem" -kid rs) || die "mintjwt failed (RS256)"
	TOKEN_ES=$("$WORK/mintjwt" -key "$WORK/jwt/es256.pem" -kid es) || die "mintjwt failed (ES256)"
}

# gatehouse_edge_stores prints the top-level blocks the edge routes use:
# the JWT authenticator with both public keys, and the Redis store (on
# the harness's redis-server; on_error deny, so an outage would show as
# 503s, not as memory decisions).
gatehouse_edge_stores() {
	cat <<YAML
authenticators:
  bench:
    jwt:
      keys: [{file: $WORK/jwt/rs256.pub.pem, kid: rs}, {file: $WORK/jwt/es256.pub.pem, kid: es}]
rate_limits:
  shared: {redis: {address: 127.0.0.1:$REDIS_PORT}, on_error: deny}
YAML
}

gatehouse_edge_routes() {
	cat <<YAML
  - name: jwt
    match: {path: /jwt}
    upstream: backend
    auth: {use: [bench]}
  - name: jwtlimit
    match: {path: /jwtlimit}
    upstream: backend
    auth: {use: [bench]}
    rate_limit:
      - $EDGE_LIMIT}
  - name: limit
    match: {path: /limit}
    upstream: backend
    rate_limit:
      - $EDGE_LIMIT}
  - name: rlimit
    match: {path: /rlimit}
    upstream: backend
    rate_limit:
      - $EDGE_LIMIT, store: shared}
YAML
}

# nginx_limit_zone is limit_req's shared zone: by client address (every
# wrk connection comes from 127.0.0.1, one key, as in Gatehouse), at the
# same never-refusing rate as Gatehouse's limit.
nginx_limit_zone() {
	echo '    limit_req_zone $binary_remote_addr zone=edge:10m rate=1000000r/s;'
}

# nginx_edge_locations: /limit/ goes through limit_req with a burst as big
# as Gatehouse's and nodelay (nothing waits), answers a refusal with 429
# as Gatehouse does, and says what limit_req decided in X-Limit-Req, so
# the start checks can see it ran. nginx has no JWT verification of its
# own (that is the commercial NGINX Plus's auth_jwt, or njs/Lua code).
nginx_edge_locations() {
	nginx_proxy_location /limit/ 'limit_req zone=edge burst=1000000 nodelay;' 'limit_req_status 429;' \
		'add_header X-Limit-Req $limit_req_status;'
}

# backend_edge_locations: GET /jwt/authz answers with the Authorization
# header it received, in brackets, so the start check can see that
# Gatehouse does not send the token upstream.
backend_edge_locations() {
	echo '        location = /jwt/authz { return 200 "[$http_authorization]"; }'
}
