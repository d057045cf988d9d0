#!/bin/bash
# fetch_cache.sh - pull through a real caching tier set up as
# docs/fleet.md says, its blocks taken from the guide and run as written:
# Debian's nginx as the origin (the guide's site file and setup lines;
# the replicator publishing with the guide's [publish origin] section)
# and as two caches (the guide's cache site, each a host of its own on
# port 80), twenty dircat-fetch daemons (ten per cache; two with a real
# catalogd, eighteen with a stand-in that verifies and installs each
# snapshot).  Every node converges on each new serial; the origin sees,
# per new serial, one manifest and one delta per cache and nothing per
# node (the caches collapse the nodes' requests with proxy_cache_lock and
# answer the polls of an unchanged manifest themselves), and between
# serials only the caches' revalidations, one per cache per max-age.
# Nobody without the publishing password can write to the origin, not
# even through a cache.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser ss
fleet_ns "$@"

NODES=20
CACHES=2
top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }

# --- the origin, as the guide has it ------------------------------------------
site=$(fleet_doc origin-site)
setup=$(fleet_doc origin-setup)
pub=$(fleet_doc publish-origin)
for b in origin-site origin-setup publish-origin cache-site cache-setup; do
	[ -n "$(fleet_doc $b)" ] || { fail "docs/fleet.md has the block '$b'"; exit 1; }
done
max_age=$(sed -n 's/.*\\\.manifest\$ *"max-age=\([0-9]*\)".*/\1/p' <<<"$site")
check "the guide's origin gives the manifest a max-age ($max_age)" test -n "$max_age"
install -d -m 0755 /etc/dircat
(umask 077; head -c 18 /dev/urandom | base64 >/etc/dircat/origin.password)
cp "$FLEET_CA_CRT" /etc/dircat/origin-ca.pem
FLEET_SETUP_STDIN=/etc/dircat/origin.password \
	fleet_nginx_host origin "$site" "$setup" ||
	{ fail "the guide's origin: nginx started"; exit 1; }
pass "the guide's origin site and setup lines: nginx -t passed, nginx serving"
ORIGIN_LOG=$FLEET_HOST_LOG
check_eq "the guide's setup asks systemd to reload nginx" \
	"$(cat "$FLEET_HOST_DIR/systemctl.log")" "reload nginx"
check_match "htpasswd readable by nginx's workers only" \
	"$(stat -c '%U:%G %a' "$FLEET_HOST_DIR/etc-nginx/dircat.htpasswd")" '^root:www-data 640$'

# --- two caches, each a host of its own -----------------------------------------
caches=()
for c in $(seq 1 $CACHES); do
	fleet_nginx_host "cache$c" "$(fleet_doc cache-site)" "$(fleet_doc cache-setup)" "$c" ||
		{ fail "the guide's cache $c: nginx started"; exit 1; }
	caches+=("http://$FLEET_HOST_ADDR")
	eval "CACHE${c}_LOG=\$FLEET_HOST_LOG"
done
pass "the guide's cache site and setup lines on $CACHES hosts"

# Serials 1 to 4, each published as a new full snapshot, a delta and a
# manifest (a PUT from memory: when nginx asks for the password after the
# body went out, libcurl must send it again).
rep_conf "$top/pub.conf" <<<"$pub"
ok=0
for s in 1 2 3 4; do
	rep_records 1 $((996 + s)) | rep_catalog >/dev/null
	rep_run -c "$top/pub.conf"
	if [ "$REP_RC" = 0 ]; then
		ok=$((ok + 1))
	else
		sed 's/^/    /' <<<"$REP_ERR" | head -n 3
	fi
done
check_eq "serials 1-4 published with the guide's [publish origin] (password asked for each PUT)" "$ok" 4
[ "$ok" = 4 ] || exit 1
check_match "the manifest through a cache: the origin's Cache-Control" \
	"$(curl -s -D - -o /dev/null "${caches[0]}/dircat/corp.manifest" | tr -d '\r')" \
	"Cache-Control: max-age=$max_age"
pubdir=$FLEET_TOP/host-origin/srv/dircat/dircat
snap=$(ls "$pubdir" | grep -m 1 '\.full\.snap$')
check_match "a snapshot through a cache: immutable" \
	"$(curl -s -D - -o /dev/null "${caches[0]}/dircat/$snap" | tr -d '\r')" \
	'Cache-Control: max-age=31536000, immutable'

# --- a stranger cannot publish -----------------------------------------------------
cp "$pubdir/corp.manifest" "$top/manifest.1"
echo forged >"$top/forged"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert /etc/dircat/origin-ca.pem \
	-T "$top/forged" https://dircat-origin.example.com/dircat/corp.manifest)
check_eq "PUT to the origin without the password: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$top/forged" \
	"${caches[0]}/dircat/corp.manifest")
check_eq "PUT through a cache: 401 (the origin asks for the password)" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert /etc/dircat/origin-ca.pem \
	-u dircat-publish:wrong -X DELETE https://dircat-origin.example.com/dircat/corp.manifest)
check_eq "DELETE with a wrong password: 401" "$code" 401
check "the manifest is still the replicator's" cmp -s "$pubdir/corp.manifest" "$top/manifest.1"

# --- the nodes ---------------------------------------------------------------------
catd_init "$top/real1/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
REAL1=$CATD_DIR CATD1_PID=$CATD_PID
fleet_node "$top/node1" "${caches[0]}/dircat/corp.manifest" "$REP_PUB" \
	"inbox = $REAL1/inbox" "poll_interval = 3s" "poll_jitter = 2s"
catd_init "$top/real2/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
REAL2=$CATD_DIR CATD2_PID=$CATD_PID
fleet_node "$top/node2" "${caches[1]}/dircat/corp.manifest" "$REP_PUB" \
	"inbox = $REAL2/inbox" "poll_interval = 3s" "poll_jitter = 2s"
# The others: their inboxes go to the stand-in.
: >"$top/inboxes"
for i in $(seq 3 $NODES); do
	c=${caches[$(( (i - 1) % CACHES ))]}
	fleet_node "$top/node$i" "$c/dircat/corp.manifest" "$REP_PUB" \
		"poll_interval = 3s" "poll_jitter = 2s"
	echo "$top/node$i/inbox" >>"$top/inboxes"
done
"$DIRCAT_TESTBIN/tools/fakecatd" -k "$REP_PUB" -i corp -t 300 "$top/inboxes" \
	>"$top/installs" 2>"$top/fakecatd.err" &
FAKE_PID=$!
track_pid $FAKE_PID
for i in $(seq 1 $NODES); do
	runuser -u nobody -- "$DIRCAT_BIN/dircat-fetch" -c "$top/node$i/fetch.conf" \
		2>>"$top/node$i/fetch.log" &
	track_pid $!
done

# node_serial I: what node I serves
node_serial() {
	case $1 in
	1) sed -n 's/^serial=//p' "$REAL1/inbox/status" 2>/dev/null ;;
	2) sed -n 's/^serial=//p' "$REAL2/inbox/status" 2>/dev/null ;;
	*) sed -n 's/^serial=//p' "$top/node$1/inbox/status" 2>/dev/null ;;
	esac
}
all_at() {	# SERIAL: every node serves it
	local i
	for i in $(seq 1 $NODES); do
		[ "$(node_serial "$i")" = "$1" ] || return 1
	done
}
behind() {	# SERIAL: the nodes that do not serve it
	local i out=
	for i in $(seq 1 $NODES); do
		[ "$(node_serial "$i")" = "$1" ] || out="$out node$i=$(node_serial "$i")"
	done
	echo "$out"
}
# origin_since MSEC: the caches' GETs at the origin from MSEC on (the
# replicator's own left out), as "STATUS URI" lines
origin_since() {
	awk -v t="$1" '$1 >= t && $3 == "GET" && $0 !~ /dircat-replicator/ { print $2, $4 }' \
		"$ORIGIN_LOG"
}

check "serial 4: all $NODES nodes serve it" wait_for 60 all_at 4
b=$(behind 4); [ -z "$b" ] || echo "    behind:$b"

for s in 5 6; do
	rep_records 1 $((996 + s)) | rep_catalog >/dev/null
	t0=$(date +%s.%N)
	rep_run -c "$top/pub.conf"
	check_eq "published serial $s" "$REP_RC" 0
	[ "$REP_RC" = 0 ] || sed "s/^/    /" <<<"$REP_ERR" | head -n 5
	check "serial $s: all $NODES nodes serve it" wait_for 60 all_at $s
	t1=$(date +%s.%N)
	b=$(behind $s); [ -z "$b" ] || echo "    behind:$b"
	# Let the polls that follow show up in the log, too.
	sleep 4
	new=$(origin_since "$t0")
	delta_gets=$(grep -c " /dircat/corp\.e0\.$((s - 1))-$s\.[0-9a-f]*\.delta\.snap$" <<<"$new")
	full_gets=$(grep -c ' /dircat/corp\.e0\.[0-9]*\.[0-9a-f]*\.full\.snap$' <<<"$new")
	man_200=$(grep -c '^200 /dircat/corp.manifest$' <<<"$new")
	man_304=$(grep -c '^304 /dircat/corp.manifest$' <<<"$new")
	gets=$(grep -c . <<<"$new")
	echo "    serial $s: $NODES nodes current in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s; origin GETs from the caches: $gets ($delta_gets delta, $full_gets full, manifest $man_200 x 200 + $man_304 x 304)"
	check "serial $s: the delta fetched from the origin at most once per cache ($delta_gets)" \
		test "$delta_gets" -ge 1 -a "$delta_gets" -le $CACHES
	check "serial $s: the new manifest fetched at most once per cache ($man_200)" \
		test "$man_200" -ge 1 -a "$man_200" -le $CACHES
	check "serial $s: no full snapshot from the origin ($full_gets)" test "$full_gets" -eq 0
	check "serial $s: origin GETs far fewer than nodes ($gets for $NODES nodes)" \
		test "$gets" -lt "$NODES"
done
check "real catalogd nodes installed deltas" wait_for 10 grep -Eq 'installed corp\.5-6\.delta\.snap' "$top/real1/catd/catalogd.log"

# --- the cache key: a query string does not reach the origin ---------------------
delta=$(ls "$pubdir" | grep -m 1 '^corp\.e0\.5-6\.[0-9a-f]*\.delta\.snap$')	# in every cache
t0=$(date +%s.%N)
for q in a b c; do
	curl -s -o /dev/null "${caches[0]}/dircat/$delta?$q$RANDOM"
	curl -s -o /dev/null "${caches[0]}/dircat/corp.manifest?$q$RANDOM"
done
code=$(curl -s -o "$top/q.snap" -w '%{http_code}' "${caches[0]}/dircat/$delta?x")
check_eq "a file asked for with a query string: served" "$code" 200
check "a file asked for with a query string: the file itself" cmp -s "$top/q.snap" "$pubdir/$delta"
check_eq "requests with query strings: none reaches the origin (proxy_cache_key \$uri)" \
	"$(origin_since "$t0" | grep -vc ' /dircat/corp\.manifest$')" 0

# --- between serials: only the caches' revalidations ----------------------------
quiet=12
t0=$(date +%s.%N)
p0=0
for i in $(seq 1 $NODES); do p0=$((p0 + $(fleet_state "$top/node$i" polls))); done
sleep $quiet
new=$(origin_since "$t0")
p1=0
for i in $(seq 1 $NODES); do p1=$((p1 + $(fleet_state "$top/node$i" polls))); done
reval=$(grep -c '^304 /dircat/corp.manifest$' <<<"$new")
other=$(grep -vc '^304 /dircat/corp.manifest$' <<<"$new")
bound=$((CACHES * (quiet / max_age + 1)))
echo "    no new serial for ${quiet}s: $((p1 - p0)) polls by the nodes, $reval revalidations (304) and $other other GETs at the origin"
check "no new serial: at most one revalidation per cache per max-age at the origin ($reval <= $bound)" \
	test "$reval" -le "$bound"
check "no new serial: nothing else reaches the origin ($other)" test "$other" -eq 0
check "no new serial: the nodes polled meanwhile ($((p1 - p0)))" test $((p1 - p0)) -gt "$bound"

stop_pid "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
check_eq "the stand-in refused nothing" \
	"$(sed -n 's/.*, \([0-9]*\) refused/\1/p' "$top/fakecatd.err")" 0
polls=0 nm=0
for i in $(seq 1 $NODES); do
	polls=$((polls + $(fleet_state "$top/node$i" polls)))
	nm=$((nm + $(fleet_state "$top/node$i" not_modified)))
done
echo "    $polls polls by the nodes, $nm answered 304 Not Modified"
check "most polls answered 304 by the caches ($nm of $polls)" test $((nm * 2)) -gt "$polls"
origin_total=$(grep -c ' GET ' "$ORIGIN_LOG")
check "the origin saw fewer GETs than the nodes made polls ($origin_total vs $polls)" \
	test "$origin_total" -lt "$polls"
CATD_PID=$CATD1_PID catd_stop
CATD_PID=$CATD2_PID catd_stop
exit 0
