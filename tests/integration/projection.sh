#!/bin/bash
# projection.sh - a node can be given less than the whole catalog: an MX
# (projection = mx) gets addresses and kinds only, no owner logins and no
# extra fields, in a snapshot signed like any other; pushed (file://) and
# published (a manifest of its own, fetched by dircat-fetch); a node that
# changes projection gets a full snapshot, never a delta that would leave
# it half one, half the other.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
fleet_origin "$top" "$top/www" || { fail "origin nginx did not start"; exit 1; }
mkdir -p "$top/www/pub"
records() {	# N: the catalog's records, owners and an extra field
	echo "alice@example.org person alice - dept=sales"
	echo "sales@example.org group alice,bob"
	rep_records 1 "$1" | sed 's/ person$/ person owner1/'
}
records 10 | rep_catalog >/dev/null		# serial 1
for n in a b c; do
	catd_init "$top/$n"
	catd_conf "trusted_key = $REP_PUB"
	catd_start || exit 1
	eval "PID_$n=\$CATD_PID"
done
rep_conf "$top/r.conf" <<EOF
ca_file = $ORIGIN_CA
upload_mode = 0644
[target a]
url = file://$top/a/inbox/
[target b]
url = file://$top/b/inbox/
projection = mx
[publish mx]
url = ${ORIGIN_URL}pub/
projection = mx
EOF
fleet_node "$top/cf" "$ORIGIN_HTTP/pub/corp.mx.manifest" "$REP_PUB" \
	"inbox = $top/c/inbox" "projection = mx"
rep_run -c "$top/r.conf"
check_eq "push and publish: exit 0" "$REP_RC" 0
fleet_fetch "$top/cf"
check_eq "fetch of the mx manifest: exit 0" "$FETCH_RC" 0
for n in a b c; do
	check "node $n installed serial 1" wait_for 15 grep -qx serial=1 "$top/$n/inbox/status"
done
senders() { "$DIRCAT_TESTBIN/tools/catdclient" sm "$top/$1/run/map.sock" senders "$2"; }
recips() { "$DIRCAT_TESTBIN/tools/catdclient" sm "$top/$1/run/map.sock" recipients "$2"; }
check_match "all: owners served" "$(senders a sales@example.org)" '^OK alice,bob'
check_match "all: extra fields kept" "$("$DIRCAT_BIN/dircat" dump --full "$top/a/var/catalog.mdb")" 'dept=sales'
for n in b c; do
	check_match "mx node $n: the address is known" "$(recips $n sales@example.org)" '^OK'
	check_match "mx node $n: no owner logins" "$(senders $n sales@example.org)" '^NOTFOUND'
	check_eq "mx node $n: no owners or extra fields anywhere" \
		"$("$DIRCAT_BIN/dircat" dump --full "$top/$n/var/catalog.mdb" | grep -c -e alice, -e owner1 -e dept=)" 0
	check_eq "mx node $n: the same addresses as the whole catalog" \
		"$("$DIRCAT_BIN/dircat" dump "$top/$n/var/catalog.mdb")" \
		"$("$DIRCAT_BIN/dircat" dump "$REP_CAT")"
done
check_match "the mx snapshot is signed like any other" \
	"$("$DIRCAT_BIN/dircat" verify "$REP_DIR/spool/mx/corp.1.full.snap" --key "$REP_PUB" 2>&1)" '^valid'
check_match "published under its own manifest" "$(cat "$top/www/pub/corp.mx.manifest")" \
	$'projection mx\n'
check_eq "published files carry the projection in their names" \
	"$(ls "$top/www/pub" | grep -c '^corp\.mx\.e0\.1\.')" 1

# A delta keeps the projection.
records 12 | rep_catalog >/dev/null		# serial 2
rep_run -c "$top/r.conf"
fleet_fetch "$top/cf"
for n in a b c; do
	check "node $n installed serial 2" wait_for 15 grep -qx serial=2 "$top/$n/inbox/status"
done
check "mx node b: serial 2 came as a delta" wait_for 10 grep -Eq 'installed corp\.1-2\.delta\.snap' "$top/b/catalogd.log"
check_eq "mx node b: still no owners after the delta" \
	"$("$DIRCAT_BIN/dircat" dump --full "$top/b/var/catalog.mdb" | grep -c owner1)" 0

# b becomes a submission server: all of it, in full.
awk -v u="url = file://$top/b/inbox/" \
	'prev == u && $0 == "projection = mx" { prev = $0; next }
	 { print; prev = $0 }' "$top/r.conf" >"$top/r2.conf"
mv "$top/r2.conf" "$top/r.conf"
check_eq "b's projection line gone, the publish one kept" \
	"$(grep -c '^projection = mx$' "$top/r.conf")" 1
records 13 | rep_catalog >/dev/null		# serial 3
rep_run -c "$top/r.conf" -v
check_match "b's projection changed: a full snapshot, not a delta" "$REP_OUT" \
	$'\nb +ok +full 3'
check "node b installed serial 3" wait_for 15 grep -qx serial=3 "$top/b/inbox/status"
check_match "node b now serves the owners" "$(senders b sales@example.org)" '^OK alice,bob'
for n in a b c; do CATD_PID=$(eval echo \$PID_$n) catd_stop; done
exit 0
