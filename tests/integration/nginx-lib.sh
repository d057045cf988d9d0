# nginx-lib.sh - a private nginx with TLS and WebDAV PUT/MOVE for tests
# (sourced after lib.sh, whose free_port, track_pid, stop_pid and wait_for
# it uses).
#
#   nginx_start DIR ROOT  serve ROOT (GET, PUT, MOVE, DELETE) over https on
#                         127.0.0.1 and a free high port.  A throwaway CA, a
#                         server certificate for 127.0.0.1/localhost signed by
#                         it, a second unrelated CA, and a client certificate
#                         are made under DIR/nginx/ (config, pid, logs too).
#                         Sets:
#     NGINX_PORT          the port
#     NGINX_PID           its pid (also tracked: stopped at exit)
#     NGINX_URL           https://127.0.0.1:PORT/  (ROOT)
#     NGINX_CA            the CA that signed the server certificate
#     NGINX_WRONG_CA      a CA that did not
#     NGINX_CLIENT_CERT, NGINX_CLIENT_KEY   a client certificate and key
#     NGINX_LOG           the error log (NGINX_ACCESS_LOG: the access log)
#   nginx_stop            stop it (by pid)
#
# Settings read when set: NGINX_DAV_ACCESS (nginx's dav_access for the
# files it writes; default "user:rw group:r"), NGINX_AUTH_USER and NGINX_AUTH_PASSWORD (require
# HTTP basic authentication), NGINX_REQUIRE_CLIENT_CERT=1 (refuse clients
# without a certificate from NGINX_CA), NGINX_HTTP2=1 (offer HTTP/2 too).  nginx runs as one process in the
# foreground (master_process off, daemon off) as the user running the
# test, so it writes ROOT with that user's rights and stopping the pid
# stops it.

_nginx_ready() {
	curl -s -o /dev/null --cacert "$NGINX_CA" "$NGINX_URL"
}

# Make CA DIR/NAME.crt/.key; then a certificate NAME2 signed by it.
_nginx_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
		-subj "/CN=dircat test $2" -keyout "$1/$2.key" \
		-out "$1/$2.crt" >/dev/null 2>&1
}

_nginx_cert() {	# dir ca name subject-alt-names extended-key-usage
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$3" \
		-keyout "$1/$3.key" -out "$1/$3.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$4" "$5" \
		>"$1/$3.ext"
	openssl x509 -req -in "$1/$3.csr" -CA "$1/$2.crt" -CAkey "$1/$2.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$1/$3.ext" \
		-out "$1/$3.crt" >/dev/null 2>&1
}

nginx_start() {
	local dir=$1/nginx root=$2 nginx try auth='' verify='' h2=''
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || { echo "nginx_start: no nginx" >&2; return 1; }
	mkdir -p "$dir/tmp" "$root" || return 1
	chmod 700 "$dir"
	_nginx_ca "$dir" ca && _nginx_ca "$dir" wrong-ca &&
	_nginx_cert "$dir" ca server "IP:127.0.0.1,DNS:localhost" serverAuth &&
	_nginx_cert "$dir" ca client "DNS:client" clientAuth || {
		echo "nginx_start: openssl failed" >&2
		return 1
	}
	chmod 600 "$dir"/*.key
	NGINX_CA=$dir/ca.crt
	NGINX_WRONG_CA=$dir/wrong-ca.crt
	NGINX_CLIENT_CERT=$dir/client.crt
	NGINX_CLIENT_KEY=$dir/client.key
	NGINX_LOG=$dir/error.log
	NGINX_ACCESS_LOG=$dir/access.log
	if [ -n "${NGINX_AUTH_USER:-}" ]; then
		printf '%s:%s\n' "$NGINX_AUTH_USER" \
			"$(openssl passwd -apr1 "$NGINX_AUTH_PASSWORD")" \
			>"$dir/htpasswd"
		auth="auth_basic \"dircat\"; auth_basic_user_file $dir/htpasswd;"
	fi
	[ "${NGINX_HTTP2:-}" = 1 ] && h2=' http2'
	if [ "${NGINX_REQUIRE_CLIENT_CERT:-}" = 1 ]; then
		verify="ssl_client_certificate $NGINX_CA; ssl_verify_client on;"
	fi
	for try in 1 2 3; do
		NGINX_PORT=$(free_port) || return 1
		NGINX_URL=https://127.0.0.1:$NGINX_PORT/
		cat >"$dir/nginx.conf" <<-EOF
		daemon off;
		master_process off;
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $NGINX_LOG info;
		events { worker_connections 256; }
		http {
		    access_log $NGINX_ACCESS_LOG;
		    client_body_temp_path $dir/tmp/body;
		    proxy_temp_path $dir/tmp/proxy;
		    fastcgi_temp_path $dir/tmp/fastcgi;
		    uwsgi_temp_path $dir/tmp/uwsgi;
		    scgi_temp_path $dir/tmp/scgi;
		    types { }
		    default_type application/octet-stream;
		    server {
		        listen 127.0.0.1:$NGINX_PORT ssl$h2;
		        server_name localhost;
		        ssl_certificate $dir/server.crt;
		        ssl_certificate_key $dir/server.key;
		        $verify
		        root $root;
		        client_max_body_size 0;
		        location / {
		            $auth
		            dav_methods PUT MOVE DELETE;
		            dav_access ${NGINX_DAV_ACCESS:-user:rw group:r};
		        }
		    }
		}
		EOF
		: >"$NGINX_LOG"
		"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$NGINX_LOG" \
			>>"$NGINX_LOG" 2>&1 &
		NGINX_PID=$!
		track_pid "$NGINX_PID"
		if wait_for 10 _nginx_ready; then
			break
		fi
		stop_pid "$NGINX_PID"
		NGINX_PID=
	done
	if [ -z "$NGINX_PID" ]; then
		echo "nginx_start: nginx did not start; log:" >&2
		tail -n 20 "$NGINX_LOG" >&2
		return 1
	fi
	export NGINX_PORT NGINX_PID NGINX_URL NGINX_CA NGINX_WRONG_CA \
		NGINX_CLIENT_CERT NGINX_CLIENT_KEY NGINX_LOG NGINX_ACCESS_LOG
	return 0
}

nginx_stop() {
	[ -n "${NGINX_PID:-}" ] && stop_pid "$NGINX_PID"
	NGINX_PID=
}
