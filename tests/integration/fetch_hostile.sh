#!/bin/bash
# fetch_hostile.sh - dircat-fetch against the other side of its two trust
# boundaries.
#
# A hostile origin or cache (tests/tools/evilhttp: a server that serves the
# genuine published files except the one it attacks): a redirect to
# somewhere else, a 1 TiB Content-Length, a manifest chunked without end,
# response headers without end, and a snapshot dripped just above
# low_speed_limit.  Pass: nothing is followed or delivered, each poll
# ends within its bound (the refusals within FH_REFUSE_S seconds, the drip
# at timeout) with the reason, and the node keeps serving what it has.
#
# The inbox writer (the upload account shares the inbox with dircat-fetch
# on a node that takes both): INBOX/status rewritten to say the node
# already has the newest serial, or a serial ahead of the manifest.
# Pass: the newest serial is still delivered and installed; the forged
# status can cost a full snapshot instead of a delta, never an update.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser

FH_REFUSE_S=${FH_REFUSE_S:-5}
EVIL=$DIRCAT_TESTBIN/tools/evilhttp
[ -x "$EVIL" ] || { fail "missing $EVIL (make tests)"; exit 1; }

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
fleet_origin "$top" "$top/www" || { fail "origin nginx did not start"; exit 1; }
mkdir -p "$top/www/pub"
rep_conf "$top/pub.conf" <<EOF
ca_file = $ORIGIN_CA
[publish origin]
url = ${ORIGIN_URL}pub/
EOF
publish() {	# LAST: the catalog user1..userLAST, published
	rep_records 1 "$1" | rep_catalog >/dev/null
	rep_run -c "$top/pub.conf"
	check_eq "published users 1-$1" "$REP_RC" 0
}
publish 300

catd_init "$top/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
alive() { [ "$(catd_sm recipients user5@example.org)" = "OK person" ]; }

# The node under test: catalogd, filled by dircat-fetch from the origin.
inbox=$CATD_DIR/inbox
N=$top/node
fleet_node "$N" "$ORIGIN_HTTP/pub/corp.manifest" "$REP_PUB" "inbox = $inbox"
chown nobody "$inbox"
fleet_fetch "$N"
check_eq "node: serial 1 delivered" "$FETCH_RC" 0
check "node: serial 1 installed" catd_wait_serial 1

# evil MODE PATH [ARG]: a hostile server of a copy of the published files,
# attacking PATH; sets EVIL_URL.
EVIL_PID=
evil() {
	[ -z "$EVIL_PID" ] || { stop_pid "$EVIL_PID"; wait "$EVIL_PID" 2>/dev/null; }
	rm -rf "$top/evil" && cp -r "$top/www/pub" "$top/evil"
	rm -f "$top/evil.port"
	"$EVIL" -r "$top/evil" -p "$2" -m "$1" ${3:+-a "$3"} "$top/evil.port" \
		>"$top/evil.log" 2>&1 &
	EVIL_PID=$!
	track_pid "$EVIL_PID"
	wait_for 10 test -s "$top/evil.port"
	EVIL_URL=http://127.0.0.1:$(cat "$top/evil.port")
}
n=0
hnode() {	# a fresh node reading the hostile server; extra conf lines
	n=$((n + 1))
	H=$top/h$n
	fleet_node "$H" "$EVIL_URL/corp.manifest" "$REP_PUB" "$@"
}
inbox_clean() { [ -z "$(ls -A "$H/inbox")" ]; }
timed_fetch() {	# sets MS
	local t0 t1
	t0=$(date +%s%N)
	fleet_fetch "$H"
	t1=$(date +%s%N)
	MS=$(( (t1 - t0) / 1000000 ))
}
full=$(sed -n 's/^full \([^ ]*\) .*/\1/p' "$top/www/pub/corp.manifest")

# --- a hostile origin or cache ------------------------------------------------
# A redirect of the manifest to the genuine origin: not followed.
evil redirect /corp.manifest "$ORIGIN_HTTP/pub/"
hnode
before=$(grep -c 'corp.manifest' "$ORIGIN_LOG")
timed_fetch
check_eq "manifest redirected: exit 69 (${MS} ms)" "$FETCH_RC" 69
check_match "manifest redirected: the 302 is the error" "$FETCH_ERR" 'HTTP 302'
check_eq "manifest redirected: the other server was not asked" \
	"$(grep -c 'corp.manifest' "$ORIGIN_LOG")" "$before"
check "manifest redirected: nothing delivered" inbox_clean
# The snapshot redirected elsewhere.
evil redirect "/$full" "$ORIGIN_HTTP/pub/"
hnode
timed_fetch
check_eq "snapshot redirected: exit 69 (${MS} ms)" "$FETCH_RC" 69
check_match "snapshot redirected: the 302 is the error" "$FETCH_ERR" "$full: HTTP 302"
check "snapshot redirected: nothing delivered" inbox_clean

# A 1 TiB Content-Length, on the manifest and on the snapshot.
evil bigcl /corp.manifest
hnode
timed_fetch
check_eq "manifest of 1 TiB announced: exit 65" "$FETCH_RC" 65
check_match "manifest of 1 TiB announced: refused as too large" "$FETCH_ERR" \
	'larger than 131072 bytes: refused'
check "manifest of 1 TiB announced: refused within ${FH_REFUSE_S}s (${MS} ms)" \
	test "$MS" -lt $((FH_REFUSE_S * 1000))
evil bigcl "/$full"
hnode
timed_fetch
check_eq "snapshot of 1 TiB announced: exit 65" "$FETCH_RC" 65
check_match "snapshot of 1 TiB announced: refused at the signed size" "$FETCH_ERR" \
	"larger than $(stat -c %s "$top/www/pub/$full") bytes: refused"
check "snapshot of 1 TiB announced: refused within ${FH_REFUSE_S}s (${MS} ms)" \
	test "$MS" -lt $((FH_REFUSE_S * 1000))
check "snapshot of 1 TiB announced: nothing delivered" inbox_clean

# A manifest chunked without end (no length announced).
evil chunked /corp.manifest
hnode
timed_fetch
check_eq "endless chunked manifest: exit 65" "$FETCH_RC" 65
check_match "endless chunked manifest: refused past 128 KiB" "$FETCH_ERR" \
	'larger than 131072 bytes: refused'
check "endless chunked manifest: refused within ${FH_REFUSE_S}s (${MS} ms)" \
	test "$MS" -lt $((FH_REFUSE_S * 1000))

# Response headers without end, as fast as the node reads them.
evil headers /corp.manifest
hnode "timeout = 60s"
timed_fetch
check "endless headers: refused (exit $FETCH_RC)" test "$FETCH_RC" -ne 0
check_match "endless headers: said why" "$FETCH_ERR" 'Too large response headers'
check "endless headers: refused within ${FH_REFUSE_S}s, not at timeout (${MS} ms)" \
	test "$MS" -lt $((FH_REFUSE_S * 1000))
check "endless headers: nothing delivered" inbox_clean

# The snapshot dripped at 200 bytes a second, above low_speed_limit (100
# here): timeout (8 s here) ends the poll.
check "the snapshot takes more than 8 s at 200 bytes a second" \
	test "$(stat -c %s "$top/www/pub/$full")" -gt 3200
evil drip "/$full" 200
hnode "low_speed_limit = 100" "low_speed_time = 2s" "timeout = 8s"
timed_fetch
check_eq "snapshot dripped above low_speed_limit: exit 69" "$FETCH_RC" 69
check "snapshot dripped: the poll ends at timeout (8 s; ${MS} ms)" \
	test "$MS" -ge 7000 -a "$MS" -lt 20000
check_match "snapshot dripped: said why" "$FETCH_ERR" '[Tt]imeout|timed out'
check "snapshot dripped: nothing delivered" inbox_clean
stop_pid "$EVIL_PID"
wait "$EVIL_PID" 2>/dev/null
check "catalogd answered throughout" alive

# --- the inbox writer forges INBOX/status -------------------------------------
# What catalogd serves, from itself (INBOX/status is what is forged here).
_installed() { "$DIRCAT_BIN/dircat" status -c "$CATD_CONF" | grep -qx "serial: $1"; }
installed() { wait_for "${2:-30}" _installed "$1"; }
forge() {	# SERIAL: INBOX/status says the node has it
	sed "s/^serial=.*/serial=$1/" "$inbox/status" >"$top/status.forged"
	cp "$top/status.forged" "$inbox/.status.forged"
	mv "$inbox/.status.forged" "$inbox/status"
}

# It says the node already has serial 2, then serial 2 is published.
forge 2
publish 310
fleet_fetch "$N"
check_eq "status forged as current: the poll succeeds" "$FETCH_RC" 0
check_eq "status forged as current: serial 2 delivered all the same" \
	"$(fleet_state "$N" delivered_serial)" 2
check_match "status forged as current: the fetcher says what it did" "$FETCH_ERR" \
	'status says epoch 0 serial 2, at epoch 0 serial 2 of the manifest, which was not delivered from here: delivering its full snapshot'
check "status forged as current: serial 2 installed" installed 2
check_eq "status forged as current: the new address is served" \
	"$(catd_sm recipients user310@example.org)" "OK person"

# It says the node is ahead of every manifest.
forge 99
publish 320
fleet_fetch "$N"
check_eq "status forged ahead: the poll succeeds" "$FETCH_RC" 0
check "status forged ahead: serial 3 installed" installed 3
check_eq "status forged ahead: the new address is served" \
	"$(catd_sm recipients user320@example.org)" "OK person"
fleet_fetch "$N"
check_eq "then: the node is current" "$(fleet_state "$N" last_outcome)" current
check_eq "then: nothing fetched again" "$(fleet_state "$N" files)" 3
check "daemon process still there" kill -0 "$CATD_PID"
