# bench/lib/configs.sh: the certificate and the configs of the backend and
# the proxies. Sourced by run.sh; writes into $WORK.

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
# BODY_BYTES (1 KiB) body from the config; GET /64k a 64 KiB file and
# GET /8m an 8 MiB one (the large bodies of rss.sh); GET /bighead the
# 1 KiB body with a 3 KiB header field.
write_backend_conf() {
	local body
	body=$(printf '%*s' $BODY_BYTES '' | tr ' ' x)
	mkdir -p "$WORK/www"
	printf '%*s' 65536 '' | tr ' ' x >"$WORK/www/64k"
	head -c 8388608 /dev/zero | tr '\0' x >"$WORK/www/8m"
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
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        location / { return 200 "$body"; }
        location ~ ^/(64k|8m)$ { root $WORK/www; sendfile on; }
        location = /bighead { add_header X-Pad "$(printf '%*s' 3072 '' | tr ' ' p)"; return 200 "$body"; }
    }
}
EOF
	} >"$WORK/backend.conf"
}

# The proxies add the same request headers Gatehouse adds by default
# (X-Forwarded-For/-Proto/-Host, X-Real-IP, a generated X-Request-ID, also
# returned to the client), so each does comparable work.
nginx_location() {
	cat <<EOF
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
EOF
}

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
$(nginx_location)
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

# Access log off; no active health checks (none is the default) and
# passive ones off, so nothing but the proxying runs. The plain listener
# must not redirect to HTTPS, which it would for bench.local once a
# certificate is configured.
write_gatehouse_yaml() {
	{
		cat <<EOF
listeners:
  - name: bench
    address: 127.0.0.1:$GATEHOUSE_PORT
EOF
		if tls_scenarios; then
			cat <<EOF
    redirect_https: false
  - name: bench-tls
    address: 127.0.0.1:$GATEHOUSE_TLS_PORT
    tls: {}
tls:
  certificates: [{cert: $WORK/bench.pem, key: $WORK/bench.key}]
EOF
		fi
		cat <<EOF
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
	} >"$WORK/gatehouse.yaml"
}
