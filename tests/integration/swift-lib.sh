# swift-lib.sh - a private OpenStack Swift "all in one" with the s3api
# middleware: an S3-compatible object store from Debian's packages, on
# loopback, for the publish tests (sourced after lib.sh; as root).
#
#   swift_start DIR   account, container and object servers and a proxy
#                     with TLS, tempauth (user test:tester, key testing)
#                     and s3api (AWS Signature Version 4), one storage
#                     device under DIR, its own swift.conf (swift_dir), all
#                     on free ports.  Sets:
#     SWIFT_URL       https://127.0.0.1:PORT (the S3 endpoint)
#     SWIFT_CA        the proxy's certificate (self-signed)
#     SWIFT_KEY_ID    test:tester          SWIFT_SECRET  a file with the key
#     SWIFT_PUBLIC    https://127.0.0.1:PORT/v1/AUTH_test (anonymous reads
#                     of public-read buckets)
#     SWIFT_PIDS      the four pids (tracked: stopped at exit)
#   s3req [-H HDR]... METHOD URL [BODYFILE]   a signed request (tools/s3req)
#
# Servers run with workers = 0 (one process each), in the foreground,
# logging to syslog if any (no /dev/log here: nothing is written).
# Start-up takes a few seconds, longer on a loaded machine.

_swift_ring() {	# CONFDIR NAME PORT
	(cd "$1" &&
	 swift-ring-builder "$2.builder" create 4 1 1 &&
	 swift-ring-builder "$2.builder" add "r1z1-127.0.0.1:$3/d1" 1 &&
	 swift-ring-builder "$2.builder" rebalance) >/dev/null 2>&1
}

swift_start() {
	local d=$1/swift n p pa pc po pp
	mkdir -p "$d/conf" "$d/node/d1"
	pa=$(free_port) && pc=$(free_port) && po=$(free_port) &&
		pp=$(free_port) || return 1
	[ "$(printf '%s\n' $pa $pc $po $pp | sort -u | wc -l)" = 4 ] ||
		{ echo "swift_start: ports collided, try again" >&2; return 1; }
	printf '[swift-hash]\nswift_hash_path_suffix = dircat-test-%s\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' \
		"$$" >"$d/conf/swift.conf"
	for n in account:$pa container:$pc object:$po; do
		p=${n#*:} n=${n%%:*}
		_swift_ring "$d/conf" "$n" "$p" || { echo "swift ring $n" >&2; return 1; }
		cat >"$d/conf/$n-server.conf" <<-EOF
		[DEFAULT]
		bind_ip = 127.0.0.1
		bind_port = $p
		devices = $d/node
		mount_check = false
		swift_dir = $d/conf
		workers = 0
		disable_fallocate = true
		[pipeline:main]
		pipeline = $n-server
		[app:$n-server]
		use = egg:swift#$n
		[$n-replicator]
		[$n-updater]
		[$n-auditor]
		EOF
	done
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$d/conf/key.pem" \
		-out "$d/conf/cert.pem" >/dev/null 2>&1 || return 1
	cat >"$d/conf/proxy-server.conf" <<-EOF
	[DEFAULT]
	bind_ip = 127.0.0.1
	bind_port = $pp
	swift_dir = $d/conf
	workers = 0
	cert_file = $d/conf/cert.pem
	key_file = $d/conf/key.pem
	[pipeline:main]
	pipeline = catch_errors gatekeeper proxy-logging cache s3api tempauth copy proxy-logging proxy-server
	[app:proxy-server]
	use = egg:swift#proxy
	account_autocreate = true
	[filter:catch_errors]
	use = egg:swift#catch_errors
	[filter:gatekeeper]
	use = egg:swift#gatekeeper
	[filter:proxy-logging]
	use = egg:swift#proxy_logging
	[filter:cache]
	use = egg:swift#memcache
	[filter:s3api]
	use = egg:swift#s3api
	[filter:tempauth]
	use = egg:swift#tempauth
	user_test_tester = testing .admin
	[filter:copy]
	use = egg:swift#copy
	EOF
	SWIFT_PIDS=
	for n in account container object proxy; do
		"swift-$n-server" "$d/conf/$n-server.conf" >"$d/$n.log" 2>&1 &
		track_pid $!
		SWIFT_PIDS="$SWIFT_PIDS $!"
	done
	SWIFT_URL=https://127.0.0.1:$pp
	SWIFT_PUBLIC=$SWIFT_URL/v1/AUTH_test
	SWIFT_CA=$1/swift-ca.pem
	cp "$d/conf/cert.pem" "$SWIFT_CA" && chmod 644 "$SWIFT_CA"
	SWIFT_KEY_ID=test:tester
	SWIFT_SECRET=$1/swift.secret
	(umask 077 && printf 'testing\n' >"$SWIFT_SECRET")
	# The proxy answers once it and the account server are up; the
	# container and object servers may still be starting (the proxy then
	# answers 503 "Please reduce your request rate"): each must listen.
	_SWIFT_PORTS="$pa $pc $po"
	if ! wait_for 120 _swift_ready; then
		echo "swift did not start:" >&2
		tail -n 5 "$d"/*.log >&2
		return 1
	fi
	export SWIFT_URL SWIFT_PUBLIC SWIFT_CA SWIFT_KEY_ID SWIFT_SECRET
}

_swift_ready() {
	local p
	for p in $_SWIFT_PORTS; do
		ss -Hltn "sport = :$p" | grep -q . || return 1
	done
	s3req GET "$SWIFT_URL/" >/dev/null
}

s3req() {	# [-H HEADER]... METHOD URL [BODYFILE]
	local opts=()
	while [ "${1:-}" = -H ]; do
		opts+=(-H "$2")
		shift 2
	done
	"$DIRCAT_TESTBIN/tools/s3req" -k "$SWIFT_CA" "${opts[@]}" "$1" "$2" \
		"$SWIFT_KEY_ID" "$SWIFT_SECRET" ${3:+"$3"} 2>/dev/null
}
