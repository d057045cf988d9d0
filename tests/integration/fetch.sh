#!/bin/bash
# fetch.sh - publish to an HTTP origin, pull with dircat-fetch into a real
# catalogd's inbox: a full snapshot, then a delta, then nothing (304); the
# other side (a hostile origin or cache) serving forged, foreign-key,
# replayed, stale, oversized and wrong manifests, damaged, oversized and
# truncated snapshots, and a trickle, changes nothing on the node; the
# replicator refuses to publish over a manifest ahead of its catalog.
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
rep_records 1 300 | rep_catalog >/dev/null		# serial 1
rep_conf "$top/pub.conf" <<EOF
ca_file = $ORIGIN_CA
[publish origin]
url = ${ORIGIN_URL}pub/
EOF

# --- publish, then pull into a catalogd node --------------------------------
rep_run -c "$top/pub.conf" -v
check_eq "publish: exit status" "$REP_RC" 0
check_match "publish: reported" "$REP_OUT" 'publish origin +published epoch/serial 0/1'
check "publish: manifest on the origin" test -s "$top/www/pub/corp.manifest"
check_eq "publish: one full snapshot, named by epoch, serial and hash" \
	"$(cd "$top/www/pub" && ls | grep -c '^corp\.e0\.1\.[0-9a-f]\{8\}\.full\.snap$')" 1

catd_init "$top/n1/catd"
catd_conf "trusted_key = $REP_PUB"
catd_start || exit 1
fleet_node "$top/n1" "$ORIGIN_HTTP/pub/corp.manifest" "$REP_PUB" \
	"inbox = $CATD_DIR/inbox"
check "fetch -t: configuration ok" runuser -u nobody -- \
	"$DIRCAT_BIN/dircat-fetch" -c "$top/n1/fetch.conf" -t
fleet_fetch "$top/n1"
check_eq "fetch: exit status (delivered)" "$FETCH_RC" 0
check_eq "fetch: outcome" "$(fleet_state "$top/n1" last_outcome)" delivered
check "catalogd installed serial 1" catd_wait_serial 1
check_match "lookup after the pull" "$(catd_sm recipients user5@example.org)" '^OK'


rep_records 1 305 | rep_catalog >/dev/null		# serial 2
rep_run -c "$top/pub.conf"
check_eq "publish serial 2" "$REP_RC" 0
check "manifest lists the delta 1-2" wait_for 10 grep -Eq 'delta corp\.e0\.1-2\.[0-9a-f]{8}\.delta\.snap 1 2 ' "$top/www/pub/corp.manifest"
fleet_fetch "$top/n1"
check_eq "fetch serial 2: exit status" "$FETCH_RC" 0
check "catalogd installed serial 2" catd_wait_serial 2
check "catalogd installed a delta" wait_for 10 grep -Eq 'installed corp\.1-2\.delta\.snap' "$CATD_LOG"
check_match "lookup of a new address" "$(catd_sm recipients user303@example.org)" '^OK'
fleet_fetch "$top/n1"
check_eq "current: exit status" "$FETCH_RC" 0
check_eq "current: outcome" "$(fleet_state "$top/n1" last_outcome)" current
check_match "current: answered 304 Not Modified" \
	"$(grep 'corp.manifest' "$ORIGIN_LOG" | tail -n 1)" '" 304 '
check_eq "current: two files fetched in all" "$(fleet_state "$top/n1" files)" 2
check "metrics: node current" wait_for 10 grep -Eq 'dircat_fetch_current 1' "$top/n1/state/fetch.prom"
check_match "fetch -s: shows the node current" \
	"$(runuser -u nobody -- "$DIRCAT_BIN/dircat-fetch" -c "$top/n1/fetch.conf" -s)" \
	'node: epoch 0 serial 2 \(current\)'

# --- a hostile origin ---------------------------------------------------------
# Nodes h1, h2... fetch from a server whose files the test controls; each
# case starts from a copy of the real ones, then spoils one thing.
evil=$top/evil
fleet_static "$top/e" "$evil" || { fail "hostile nginx"; exit 1; }
EVIL_URL=$STATIC_URL
cp "$top/www/pub/"* "$evil/"
cp "$top/www/pub/corp.manifest" "$top/manifest.2"
n=0
hnode() {	# a fresh node reading the hostile server; extra conf lines
	n=$((n + 1))
	H=$top/h$n
	fleet_node "$H" "$EVIL_URL/corp.manifest" "$REP_PUB" "$@"
}
inbox_clean() { [ -z "$(ls -A "$H/inbox")" ]; }

hnode
fleet_fetch "$H"
check_eq "genuine copy: delivered" "$FETCH_RC" 0
check "genuine copy: full snapshot in the inbox" test -s "$H/inbox/corp.2.full.snap"
check_match "genuine copy: it verifies" \
	"$("$DIRCAT_BIN/dircat" verify "$H/inbox/corp.2.full.snap" --key "$REP_PUB" 2>&1)" '^valid'

# A replayed manifest: the node has seen serial 3, the server goes back.
rep_records 1 310 | rep_catalog >/dev/null		# serial 3
rep_run -c "$top/pub.conf"
cp "$top/www/pub/"* "$evil/"
fleet_fetch "$H"
check_eq "serial 3 accepted by the node" "$(fleet_state "$H" manifest_serial)" 3
cp "$top/manifest.2" "$evil/corp.manifest"
fleet_fetch "$H"
check_eq "replayed manifest: exit 65" "$FETCH_RC" 65
check_match "replayed manifest: said so" "$FETCH_ERR" \
	'serial 2 .* is older than the manifest already accepted .*serial 3'
check_eq "replayed manifest: counted" "$(fleet_state "$H" refused_replay)" 1
check_eq "replayed manifest: still at serial 3" "$(fleet_state "$H" manifest_serial)" 3

# A forged manifest: one field changed.
hnode
pub=$(sed -n 's/^published //p' "$top/www/pub/corp.manifest")
sed "s/^published $pub\$/published $((pub - 1))/" "$top/www/pub/corp.manifest" \
	>"$evil/corp.manifest"
fleet_fetch "$H"
check_eq "forged manifest: exit 65" "$FETCH_RC" 65
check_match "forged manifest: bad signature" "$FETCH_ERR" 'signature does not verify'
check "forged manifest: nothing in the inbox" inbox_clean
# Signed, but by a key the node does not trust.
foreign=$(cd "$top" && "$DIRCAT_BIN/dircat" keygen foreign | sed -n 's/^key id //p')
sed "s/^key .*/key $foreign/" "$top/www/pub/corp.manifest" |
	"$DIRCAT_TESTBIN/tools/signmanifest" "$top/foreign.key" >"$evil/corp.manifest"
fleet_fetch "$H"
check_eq "foreign key: exit 65" "$FETCH_RC" 65
check_match "foreign key: refused" "$FETCH_ERR" 'not trusted here'
# Properly signed, but expired: a frozen copy.
now=$(date +%s)
sed -e "s/^published .*/published $((now - 7200))/" \
    -e "s/^expires .*/expires $((now - 60))/" "$top/www/pub/corp.manifest" |
	"$DIRCAT_TESTBIN/tools/signmanifest" "$REP_KEY" >"$evil/corp.manifest"
fleet_fetch "$H"
check_eq "stale manifest: exit 65" "$FETCH_RC" 65
check_match "stale manifest: said so" "$FETCH_ERR" 'stale or frozen'
check_eq "stale manifest: counted" "$(fleet_state "$H" refused_stale)" 1
check "stale manifest: metrics" wait_for 10 grep -Eq 'dircat_fetch_refusals_total\{reason="stale"\} 1' "$H/state/fetch.prom"
check "stale manifest: nothing in the inbox" inbox_clean
# Another catalog's manifest, signed by the right key.
sed 's/^catalog corp$/catalog other/' "$top/www/pub/corp.manifest" |
	"$DIRCAT_TESTBIN/tools/signmanifest" "$REP_KEY" >"$evil/corp.manifest"
fleet_fetch "$H"
check_match "another catalog: refused" "$FETCH_ERR" 'a manifest of catalog other'
# Oversized: 200 KB.
head -c 200000 /dev/zero | tr '\0' 'x' >"$evil/corp.manifest"
fleet_fetch "$H"
check_eq "oversized manifest: exit 65" "$FETCH_RC" 65
check_match "oversized manifest: refused" "$FETCH_ERR" 'larger than 131072 bytes'
check "refused manifests: nothing in the inbox" inbox_clean

# Snapshots that are not what the signed manifest lists.
cp "$top/www/pub/corp.manifest" "$evil/corp.manifest"
full=$(sed -n 's/^full \([^ ]*\) .*/\1/p' "$evil/corp.manifest")
size=$(stat -c %s "$evil/$full")
cp "$evil/$full" "$top/full.good"
hnode
head -c "$size" /dev/urandom >"$evil/$full"
fleet_fetch "$H"
check_eq "damaged snapshot: exit 65" "$FETCH_RC" 65
check_match "damaged snapshot: said so" "$FETCH_ERR" 'with another hash, not the'
check "damaged snapshot: inbox left clean" inbox_clean
{ cat "$top/full.good"; echo extra; } >"$evil/$full"
fleet_fetch "$H"
check_eq "oversized snapshot: exit 65" "$FETCH_RC" 65
check_match "oversized snapshot: said so" "$FETCH_ERR" "larger than $size bytes"
check "oversized snapshot: inbox left clean" inbox_clean
head -c $((size - 10)) "$top/full.good" >"$evil/$full"
fleet_fetch "$H"
check_eq "truncated snapshot: exit 65" "$FETCH_RC" 65
check "truncated snapshot: inbox left clean" inbox_clean
check_eq "bad files: counted" "$(fleet_state "$H" refused_bad_file)" 3
cp "$top/full.good" "$evil/$full"

# A trickle: 100 bytes a second.  low_speed_time cuts it off.
stop_pid "$STATIC_PID"
fleet_static "$top/slow" "$evil" "limit_rate 100" || fail "slow nginx"
hnode "low_speed_limit = 1000" "low_speed_time = 2s"
sed -i "s|^manifest_url = .*|manifest_url = $STATIC_URL/corp.manifest|" "$H/fetch.conf"
t0=$(date +%s)
fleet_fetch "$H"
t1=$(date +%s)
check_eq "slow origin: exit 69" "$FETCH_RC" 69
check "slow origin: given up within 20s ($((t1 - t0))s)" test $((t1 - t0)) -lt 20
check "slow origin: inbox left clean" inbox_clean

# --- the replicator will not publish over a newer catalog -------------------
sed -e 's/^serial 3$/serial 99/' -e 's/^full \([^ ]*\) 3 /full \1 99 /' \
	"$top/www/pub/corp.manifest" |
	"$DIRCAT_TESTBIN/tools/signmanifest" "$REP_KEY" >"$top/ahead"
cp "$top/ahead" "$top/www/pub/corp.manifest"
rep_records 1 311 | rep_catalog >/dev/null		# serial 4
rep_run -c "$top/pub.conf"
check_eq "origin ahead: exit 69" "$REP_RC" 69
check_match "origin ahead: said why" "$REP_ERR" \
	'epoch 0 serial 99, ahead of this catalog.s epoch 0 serial 4: another internal host'
check "origin ahead: manifest left alone" cmp -s "$top/ahead" "$top/www/pub/corp.manifest"
check_eq "origin ahead: no snapshot of serial 4 published" \
	"$(ls "$top/www/pub" | grep -c '\.4\.')" 0

# --- manifests in quick succession ---------------------------------------------
# nginx's ETag is the modification time in seconds and the length, and
# manifests without deltas (keep_deltas = 0) keep their length: one
# replaced within the second it was written would be the "same" to a node
# asking with If-None-Match, and to a cache revalidating it.  The
# replicator replaces a manifest only once the origin's clock has passed
# that second, so every one is seen.
mkdir -p "$top/www/two"
chown --reference="$top/www/pub" "$top/www/two"
rep_conf "$top/two.conf" <<EOF
ca_file = $ORIGIN_CA
[publish two]
url = ${ORIGIN_URL}two/
keep_deltas = 0
EOF
fleet_node "$top/q" "$ORIGIN_HTTP/two/corp.manifest" "$REP_PUB"
etags=
for s in 4 5 6; do
	[ "$s" = 4 ] || rep_records 1 $((311 + s)) | rep_catalog >/dev/null
	rep_run -c "$top/two.conf"
	check_eq "quick succession: serial $s published" "$REP_RC" 0
	fleet_fetch "$top/q"
	check_eq "quick succession: the node has manifest serial $s" \
		"$(fleet_state "$top/q" manifest_serial)" "$s"
	etags="$etags$(fleet_state "$top/q" etag)
"
done
check_eq "quick succession: three ETags" \
	"$(sort -u <<<"$etags" | grep -c .)" 3

# --- configuration ------------------------------------------------------------
printf 'manifest_url = s3://bucket/corp.manifest\ncatalog_id = corp\ntrusted_key = %s\ninbox = %s\n' \
	"$REP_PUB" "$top" >"$top/s3.conf"
"$DIRCAT_BIN/dircat-fetch" -c "$top/s3.conf" -t >/dev/null 2>"$top/err"
check_eq "s3:// manifest_url: exit 78" "$?" 78
check "s3:// manifest_url: says what to use" wait_for 10 grep -Eq 'scheme s3 is not supported: http:// or https://' "$top/err"
rep_conf "$top/s3target.conf" <<EOF
[target x]
url = s3://bucket/inbox/
EOF
rep_run -c "$top/s3target.conf" -C
check_eq "s3:// target: exit 78" "$REP_RC" 78
check_match "s3:// target: says where it belongs" "$REP_ERR" \
	's3:// is an object store, not a node.s inbox: publish to it with a \[publish NAME\] section'
catd_stop
exit 0
