#!/bin/bash
# fetch_cache.sh - pull through a real caching tier: an nginx origin, two
# nginx proxy_caches in front of it, twenty dircat-fetch daemons (ten per
# cache; two with a real catalogd, eighteen with a stand-in that verifies
# and installs each snapshot).  Every node converges on each new serial,
# and the origin sees a handful of requests per serial, not one per node:
# the caches collapse the nodes' requests (proxy_cache_lock) and answer
# the polls of an unchanged manifest themselves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser

NODES=20
top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
fleet_origin "$top" "$top/www" || { fail "origin nginx did not start"; exit 1; }
mkdir -p "$top/www/pub"
fleet_cache "$top" a "$ORIGIN_HTTP" || { fail "cache a"; exit 1; }
CACHE_A=$CACHE_URL
fleet_cache "$top" b "$ORIGIN_HTTP" || { fail "cache b"; exit 1; }
CACHE_B=$CACHE_URL
rep_records 1 1000 | rep_catalog >/dev/null		# serial 1
rep_conf "$top/pub.conf" <<EOF
ca_file = $ORIGIN_CA
[publish origin]
url = ${ORIGIN_URL}pub/
EOF
rep_run -c "$top/pub.conf"
check_eq "published serial 1" "$REP_RC" 0

# Two real catalogd nodes, one behind each cache.
catd_init "$top/real1/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
REAL1=$CATD_DIR CATD1_PID=$CATD_PID
fleet_node "$top/node1" "$CACHE_A/pub/corp.manifest" "$REP_PUB" \
	"inbox = $REAL1/inbox" "poll_interval = 3s" "poll_jitter = 2s"
catd_init "$top/real2/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
REAL2=$CATD_DIR CATD2_PID=$CATD_PID
fleet_node "$top/node2" "$CACHE_B/pub/corp.manifest" "$REP_PUB" \
	"inbox = $REAL2/inbox" "poll_interval = 3s" "poll_jitter = 2s"
# The others: their inboxes go to the stand-in.
: >"$top/inboxes"
for i in $(seq 3 $NODES); do
	if [ $((i % 2)) = 1 ]; then c=$CACHE_A; else c=$CACHE_B; fi
	fleet_node "$top/node$i" "$c/pub/corp.manifest" "$REP_PUB" \
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

check "serial 1: all $NODES nodes serve it" wait_for 60 all_at 1
b=$(behind 1); [ -z "$b" ] || echo "    behind:$b"

for s in 2 3; do
	mark=$(wc -l <"$ORIGIN_LOG")
	rep_records 1 $((1000 + s)) | rep_catalog >/dev/null
	t0=$(date +%s.%N)
	rep_run -c "$top/pub.conf"
	check_eq "published serial $s" "$REP_RC" 0
	check "serial $s: all $NODES nodes serve it" wait_for 60 all_at $s
	t1=$(date +%s.%N)
	b=$(behind $s); [ -z "$b" ] || echo "    behind:$b"
	# Let the polls that follow show up in the log, too.
	sleep 4
	new=$(tail -n +$((mark + 1)) "$ORIGIN_LOG")
	delta_gets=$(grep -c "GET /pub/corp\.e0\.$((s - 1))-$s\.[0-9a-f]*\.delta\.snap" <<<"$new")
	full_gets=$(grep -c 'GET /pub/corp\.e0\.[0-9]*\.[0-9a-f]*\.full\.snap' <<<"$new")
	man_200=$(grep 'GET /pub/corp.manifest' <<<"$new" | grep -c '" 200 ')
	man_304=$(grep 'GET /pub/corp.manifest' <<<"$new" | grep -c '" 304 ')
	gets=$(grep -c '"GET ' <<<"$new")
	echo "    serial $s: $NODES nodes current in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s; origin GETs: $gets ($delta_gets delta, $full_gets full, manifest $man_200 x 200 + $man_304 x 304)"
	check "serial $s: the delta fetched from the origin at most once per cache ($delta_gets)" \
		test "$delta_gets" -ge 1 -a "$delta_gets" -le 2
	check "serial $s: no full snapshot from the origin ($full_gets)" test "$full_gets" -eq 0
	check "serial $s: origin GETs far fewer than nodes ($gets for $NODES nodes)" \
		test "$gets" -lt "$NODES"
done
check "real catalogd nodes installed deltas" wait_for 10 grep -Eq 'installed corp\.2-3\.delta\.snap' "$top/real1/catd/catalogd.log"
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
origin_total=$(grep -c '"GET ' "$ORIGIN_LOG")
check "the origin saw fewer GETs than the nodes made polls ($origin_total vs $polls)" \
	test "$origin_total" -lt "$polls"
CATD_PID=$CATD1_PID catd_stop
CATD_PID=$CATD2_PID catd_stop
exit 0
