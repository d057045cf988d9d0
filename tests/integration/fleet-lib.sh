# fleet-lib.sh - an HTTP origin, caches in front of it and fetching nodes
# for the publish/fetch tests and the fleet benchmark (sourced after
# lib.sh and nginx-lib.sh; as root).
#
#   fleet_origin DIR ROOT     nginx serving ROOT: https with WebDAV PUT and
#                             DELETE (the replicator publishes there), and
#                             plain http GET with the Cache-Control the
#                             docs give (manifest max-age=FLEET_MAX_AGE,
#                             default 5; snapshots immutable).  Sets
#                             ORIGIN_URL (https), ORIGIN_HTTP (http://...),
#                             ORIGIN_CA, ORIGIN_LOG (access log), ORIGIN_PID
#   fleet_cache DIR NAME UPSTREAM   an nginx proxy_cache in front of
#                             UPSTREAM (http://HOST:PORT), requests for one
#                             object collapsed (proxy_cache_lock), stale
#                             copies revalidated; sets CACHE_URL, CACHE_PID,
#                             CACHE_LOG
#   fleet_static DIR ROOT [DIRECTIVE...]   a plain http server of ROOT with
#                             extra directives in its location (a hostile
#                             origin: limit_rate ...); sets STATIC_URL,
#                             STATIC_PID
#   fleet_node DIR MANIFEST_URL KEY [LINE...]   a node's inbox, state
#                             directory and DIR/fetch.conf (owned by
#                             nobody, as the fetcher runs); extra LINEs
#   fleet_fetch DIR [ARGS...] run dircat-fetch -1 as nobody for that node;
#                             sets FETCH_RC, FETCH_ERR
#   fleet_state DIR KEY       a value of the node's state file
#
# Every nginx runs in the foreground as one process, stopped by pid at
# exit (track_pid).

: "${FLEET_MAX_AGE:=5}"

# _fleet_nginx DIR CONF: start nginx with DIR/nginx.conf = CONF; pid in
# _FLEET_PID.  Retries with new ports are the caller's (ports are in CONF).
_fleet_nginx() {
	local dir=$1 nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$dir/tmp"
	printf '%s\n' "$2" >"$dir/nginx.conf"
	: >"$dir/error.log"
	"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
		>>"$dir/error.log" 2>&1 &
	_FLEET_PID=$!
	track_pid "$_FLEET_PID"
}

_fleet_http_common() {	# DIR
	cat <<-EOF
	daemon off;
	master_process off;
	worker_processes 1;
	pid $1/nginx.pid;
	error_log $1/error.log warn;
	worker_rlimit_nofile 8192;
	events { worker_connections 4096; }
	EOF
}

_fleet_temp_paths() {	# DIR
	cat <<-EOF
	    client_body_temp_path $1/tmp/body;
	    proxy_temp_path $1/tmp/proxy;
	    fastcgi_temp_path $1/tmp/fastcgi;
	    uwsgi_temp_path $1/tmp/uwsgi;
	    scgi_temp_path $1/tmp/scgi;
	    types { }
	    default_type application/octet-stream;
	EOF
}

fleet_origin() {
	local dir=$1/origin root=$2 try sport hport
	mkdir -p "$dir" "$root"
	chmod 700 "$dir"
	_nginx_ca "$dir" ca && _nginx_cert "$dir" ca server \
		"IP:127.0.0.1,DNS:localhost" serverAuth || return 1
	chmod 600 "$dir"/*.key
	ORIGIN_CA=$1/origin-ca.crt
	cp "$dir/ca.crt" "$ORIGIN_CA" && chmod 644 "$ORIGIN_CA"
	ORIGIN_LOG=$dir/access.log
	for try in 1 2 3; do
		sport=$(free_port) && hport=$(free_port) || return 1
		[ "$sport" != "$hport" ] || continue
		_fleet_nginx "$dir" "$(_fleet_http_common "$dir")
http {
    access_log $ORIGIN_LOG;
$(_fleet_temp_paths "$dir")
    server {
        listen 127.0.0.1:$sport ssl;
        ssl_certificate $dir/server.crt;
        ssl_certificate_key $dir/server.key;
        root $root;
        client_max_body_size 0;
        location / {
            dav_methods PUT DELETE;
            dav_access user:rw group:r all:r;
        }
    }
    server {
        listen 127.0.0.1:$hport;
        root $root;
        location / { limit_except GET { deny all; } }
        location ~ \.manifest\$ {
            limit_except GET { deny all; }
            add_header Cache-Control \"max-age=$FLEET_MAX_AGE\";
        }
        location ~ \.snap\$ {
            limit_except GET { deny all; }
            add_header Cache-Control \"max-age=31536000, immutable\";
        }
    }
}"
		ORIGIN_PID=$_FLEET_PID
		ORIGIN_URL=https://127.0.0.1:$sport/
		ORIGIN_HTTP=http://127.0.0.1:$hport
		if wait_for 10 curl -s -o /dev/null "$ORIGIN_HTTP/"; then
			return 0
		fi
		stop_pid "$ORIGIN_PID"
	done
	echo "fleet_origin: nginx did not start:" >&2
	tail -n 5 "$dir/error.log" >&2
	return 1
}

fleet_cache() {
	local dir=$1/cache-$2 name=$2 up=$3 try port
	mkdir -p "$dir/cache"
	CACHE_LOG=$dir/access.log
	for try in 1 2 3; do
		port=$(free_port) || return 1
		_fleet_nginx "$dir" "$(_fleet_http_common "$dir")
http {
    access_log $CACHE_LOG;
$(_fleet_temp_paths "$dir")
    proxy_cache_path $dir/cache levels=1 keys_zone=$name:1m max_size=1g
                     inactive=1h use_temp_path=off;
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass $up;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_cache $name;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 60s;
            proxy_cache_revalidate on;
            proxy_cache_use_stale updating error timeout;
            add_header X-Cache \$upstream_cache_status;
        }
    }
}"
		CACHE_PID=$_FLEET_PID
		CACHE_URL=http://127.0.0.1:$port
		if wait_for 10 curl -s -o /dev/null "$CACHE_URL/"; then
			return 0
		fi
		stop_pid "$CACHE_PID"
	done
	echo "fleet_cache: nginx did not start:" >&2
	tail -n 5 "$dir/error.log" >&2
	return 1
}

fleet_static() {
	local dir=$1/static root=$2 try port extra
	shift 2
	extra=$(printf '%s;\n' "$@")
	[ $# -gt 0 ] || extra=
	mkdir -p "$dir" "$root"
	for try in 1 2 3; do
		port=$(free_port) || return 1
		_fleet_nginx "$dir" "$(_fleet_http_common "$dir")
http {
    access_log $dir/access.log;
$(_fleet_temp_paths "$dir")
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { $extra }
    }
}"
		STATIC_PID=$_FLEET_PID
		STATIC_URL=http://127.0.0.1:$port
		if wait_for 10 curl -s -o /dev/null "$STATIC_URL/"; then
			return 0
		fi
		stop_pid "$STATIC_PID"
	done
	return 1
}

fleet_node() {
	local dir=$1 url=$2 key=$3 l
	shift 3
	mkdir -p "$dir/inbox" "$dir/state"
	cp "$key" "$dir/trusted.pub"
	{
		echo "manifest_url = $url"
		echo "catalog_id = corp"
		echo "trusted_key = $dir/trusted.pub"
		echo "inbox = $dir/inbox"
		echo "state_dir = $dir/state"
		echo "metrics_file = $dir/state/fetch.prom"
		for l in "$@"; do echo "$l"; done
	} >"$dir/fetch.conf"
	chown -R nobody:nogroup "$dir"
	chmod 755 "$dir"
}

fleet_fetch() {
	local dir=$1 err
	shift
	err=$(runuser -u nobody -- "$DIRCAT_BIN/dircat-fetch" -c "$dir/fetch.conf" \
		-1 "$@" 2>&1)
	FETCH_RC=$?
	FETCH_ERR=$err
	[ -z "${FLEET_DEBUG:-}" ] || echo "--- fetch $dir ($FETCH_RC): $err"
	return 0
}

fleet_state() {
	sed -n "s/^$2 = //p" "$1/state/corp.state"
}
