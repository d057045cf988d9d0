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
            proxy_cache_key \$uri;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 60s;
            proxy_cache_lock_age 60s;
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

# --- docs/fleet.md's own nginx configuration, run as written ---------------
#
#   fleet_ns ARGS...          call first: runs the calling script again
#                             (with ARGS) in a mount, network and PID
#                             namespace of its own and exits with its
#                             status; in that copy it returns, with a
#                             private /etc and /var/lib (overlays:
#                             /etc/dircat, /etc/hosts, accounts,
#                             /var/lib/dircat may be written),
#                             loopback up, dircat-origin.example.com =
#                             10.200.0.1 (on lo).  Sets FLEET_TOP (a
#                             directory of the outer test, removed once
#                             nothing is mounted below it)
#   fleet_doc NAME            the block of docs/fleet.md under the line
#                             "<!-- test: fleet NAME -->" (indented in a
#                             list item or not), as written
#   fleet_nginx_host NAME SITE SETUP [N]
#                             a host running Debian's nginx as installed
#                             (its /etc/nginx, nginx.conf untouched) with
#                             the site file SITE (text whose first line is
#                             "# /etc/nginx/sites-available/FILE"), after
#                             the shell lines SETUP run as root (stdin:
#                             FLEET_SETUP_STDIN; `systemctl` only noted,
#                             nginx is started after them as its unit
#                             would).  Its own mount namespace (/etc/nginx,
#                             /srv, /var/log/nginx, /var/lib/nginx,
#                             /var/cache, /run); with N, also a network
#                             namespace of its own, reached at 10.200.N.2
#                             (a veth from this one, 10.200.N.1), so that
#                             several hosts can each listen on port 80.
#                             Certificates named by ssl_certificate(_key)
#                             lines are made for its server_name by
#                             FLEET_CA (FLEET_CA_CRT is the CA's
#                             certificate).  An extra conf.d file logs
#                             each request to FLEET_HOST_LOG as
#                             "MSEC STATUS METHOD URI CACHE_STATUS BYTES
#                             UPSTREAM_STATUS AGENT" (seen, not changed).
#                             Sets FLEET_HOST_PID (stop it with stop_pid),
#                             FLEET_HOST_ADDR, FLEET_HOST_DIR, FLEET_HOST_LOG.

fleet_ns() {
	if [ -z "${FLEET_NS_INSIDE:-}" ]; then
		need unshare ip mount nginx openssl
		if [ "$(id -u)" != 0 ]; then
			fail "needs root (namespaces, nginx as Debian runs it)"
			exit 1
		fi
		local d
		d=$(tmpdir)
		FLEET_NS_INSIDE=$d unshare --mount --net --pid --fork --mount-proc \
			--propagation private bash "$0" "$@"
		exit $?
	fi
	FLEET_TOP=$FLEET_NS_INSIDE
	mkdir -p "$FLEET_TOP/etc.upper" "$FLEET_TOP/etc.work" \
		"$FLEET_TOP/varlib.upper" "$FLEET_TOP/varlib.work" &&
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$FLEET_TOP/etc.upper,workdir=$FLEET_TOP/etc.work" /etc &&
		mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$FLEET_TOP/varlib.upper,workdir=$FLEET_TOP/varlib.work" /var/lib &&
		ip link set lo up && ip addr add 10.200.0.1/32 dev lo &&
		echo "10.200.0.1 dircat-origin.example.com" >>/etc/hosts || {
		fail "a private /etc and network for the test"
		exit 1
	}
	FLEET_CA=$FLEET_TOP/ca
	mkdir -p "$FLEET_CA"
	_nginx_ca "$FLEET_CA" ca || { fail "a test CA"; exit 1; }
	FLEET_CA_CRT=$FLEET_CA/ca.crt
	_fleet_hosts=0
}

fleet_doc() {
	awk -v m="<!-- test: fleet $1 -->" '
		{ line = $0; sub(/^ +/, "", line) }
		!on && line == m { on = 1; next }
		on && line ~ /^```/ {
			if (++fence == 2) exit
			ind = index($0, "`") - 1
			next
		}
		on && fence == 1 { print substr($0, ind + 1) }' "$DIRCAT_TOP/docs/fleet.md"
}

fleet_nginx_host() {
	local name=$1 site=$2 setup=$3 net=${4:-} dir file cn p rel
	dir=$FLEET_TOP/host-$name
	FLEET_HOST_DIR=$dir
	file=$(sed -n '1s|^# \(/etc/nginx/sites-available/[A-Za-z0-9._-]*\)$|\1|p' <<<"$site")
	if [ -z "$file" ]; then
		echo "fleet_nginx_host: the site's first line names no /etc/nginx/sites-available file" >&2
		return 1
	fi
	mkdir -p "$dir/srv" "$dir/log" "$dir/lib" &&
		cp -a /etc/nginx "$dir/etc-nginx" || return 1
	printf '%s\n' "$site" >"$dir/etc-nginx/${file#/etc/nginx/}"
	cat >"$dir/etc-nginx/conf.d/dircat-test-log.conf" <<-'EOF'
	log_format dircat_test '$msec $status $request_method $uri $upstream_cache_status $body_bytes_sent $upstream_status "$http_user_agent"';
	access_log /var/log/nginx/dircat-test.log dircat_test;
	EOF
	# The site's certificate, for its server_name.
	cn=$(sed -n 's/^ *server_name  *\([^ ;]*\).*/\1/p' <<<"$site" | head -n 1)
	for p in $(sed -n 's/^ *ssl_certificate  *\(\/etc\/nginx\/[^ ;]*\);.*/\1/p' <<<"$site"); do
		rel=${p#/etc/nginx/}
		mkdir -p "$(dirname "$dir/etc-nginx/$rel")"
		_nginx_cert "$FLEET_CA" ca "$cn" "DNS:$cn" serverAuth || return 1
		cp "$FLEET_CA/$cn.crt" "$dir/etc-nginx/$rel"
	done
	for p in $(sed -n 's/^ *ssl_certificate_key  *\(\/etc\/nginx\/[^ ;]*\);.*/\1/p' <<<"$site"); do
		rel=${p#/etc/nginx/}
		mkdir -p "$(dirname "$dir/etc-nginx/$rel")"
		install -m 0600 "$FLEET_CA/$cn.key" "$dir/etc-nginx/$rel"
	done
	printf '%s\n' "$setup" >"$dir/setup.sh"
	: >"$dir/systemctl.log"
	local script='
		d=$1
		mount --bind "$d/etc-nginx" /etc/nginx &&
		mount --bind "$d/srv" /srv &&
		mount --bind "$d/log" /var/log/nginx &&
		mount --bind "$d/lib" /var/lib/nginx &&
		mount -t tmpfs -o mode=0755 tmpfs /var/cache &&
		mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
		if [ -n "$2" ]; then
			for i in $(seq 100); do [ -e "$d/net-up" ] && break; sleep 0.1; done
		fi
		# The unit manager: noted; nginx starts below, as its unit would.
		systemctl() { echo "$*" >>"$d/systemctl.log"; }
		(set -e; . "$d/setup.sh") <"${FLEET_SETUP_STDIN:-/dev/null}" \
			>"$d/setup.log" 2>&1 || { echo "setup failed" >>"$d/setup.log"; exit 1; }
		exec nginx -g "daemon off;"'
	if [ -n "$net" ]; then
		unshare --mount --net bash -c "$script" fleet-host "$dir" "$net" &
	else
		unshare --mount bash -c "$script" fleet-host "$dir" "" &
	fi
	FLEET_HOST_PID=$!
	track_pid "$FLEET_HOST_PID"
	FLEET_HOST_LOG=$dir/log/dircat-test.log
	if [ -n "$net" ]; then
		FLEET_HOST_ADDR=10.200.$net.2
		wait_for 10 _fleet_own_net "$FLEET_HOST_PID" &&
		ip link add "fleet$net" type veth peer name eth0 netns "$FLEET_HOST_PID" &&
			ip addr add "10.200.$net.1/24" dev "fleet$net" &&
			ip link set "fleet$net" up &&
			nsenter -t "$FLEET_HOST_PID" -n sh -c "ip link set lo up &&
				ip addr add 10.200.$net.2/24 dev eth0 && ip link set eth0 up &&
				ip route add default via 10.200.$net.1" || {
			echo "fleet_nginx_host: network of $name" >&2
			return 1
		}
		touch "$dir/net-up"
	else
		FLEET_HOST_ADDR=10.200.0.1
	fi
	if ! wait_for 20 _fleet_listening "$FLEET_HOST_PID"; then
		echo "fleet_nginx_host: nginx of $name did not start:" >&2
		tail -n 5 "$dir/setup.log" "$dir/log/error.log" >&2 2>/dev/null
		return 1
	fi
}

# _fleet_own_net PID: PID has left this network namespace for its own.
_fleet_own_net() {
	local mine theirs
	mine=$(readlink /proc/self/ns/net) && theirs=$(readlink "/proc/$1/ns/net") &&
		[ "$mine" != "$theirs" ]
}

# _fleet_listening PID: nginx (PID, in its own namespaces) listens.
_fleet_listening() {
	kill -0 "$1" 2>/dev/null &&
		nsenter -t "$1" -n ss -Hltnp 2>/dev/null | grep -q "\"nginx\""
}
