#!/bin/bash
# replicator_local.sh - dircat-replicator without a network: configuration
# checks, file:// delivery, the run lock, dry runs, the spool (reuse and
# cleanup), state and report files, broken status files, resending after
# install_grace, and the whole loop with a real catalogd installing what
# the replicator delivers.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
need flock

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
mkdir -p "$top"/in1 "$top"/in2

# --- usage and configuration ----------------------------------------------
rep_run -h
check_eq "-h: exit status 0" "$REP_RC" 0
check_match "-h documents the exit statuses" "$REP_OUT" \
	'5  another run holds the lock'
rep_run -x
check_eq "unknown option: exit status 64" "$REP_RC" 64

rep_conf "$top/typo.conf" <<EOF
concurency = 4
[target one]
url = file://$top/in1/
EOF
rep_run -c "$top/typo.conf" -C
check_eq "misspelt key: exit status 78" "$REP_RC" 78
check_match "misspelt key: names file and line" "$REP_ERR" \
	"typo.conf:7: unknown setting 'concurency'"

rep_conf "$top/notarget.conf" </dev/null
rep_run -c "$top/notarget.conf" -C
check_match "no target: refused" "$REP_ERR" 'no \[target NAME\] or \[publish NAME\] section'

rep_conf "$top/sshnokh.conf" <<EOF
[target s]
url = sftp://u@127.0.0.1:2222/in/
ssh_private_key = $REP_KEY
EOF
rep_run -c "$top/sshnokh.conf" -C
check_match "sftp without known_hosts: refused" "$REP_ERR" \
	'needs ssh_private_key and ssh_known_hosts'
rep_conf "$top/nouser.conf" <<EOF
[target s]
url = sftp://127.0.0.1:2222/in/
EOF
rep_run -c "$top/nouser.conf" -C
check_match "sftp without a login: refused" "$REP_ERR" 'name the login'
rep_conf "$top/noslash.conf" <<EOF
[target s]
url = file://$top/in1
EOF
rep_run -c "$top/noslash.conf" -C
check_match "URL not ending in /: refused" "$REP_ERR" "end in '/'"
printf '%064x\n' 7 >"$top/open.hashkey"
chmod 0644 "$top/open.hashkey"
rep_conf "$top/openhash.conf" <<EOF
hash_secret = $top/open.hashkey
[target one]
url = file://$top/in1/
EOF
rep_run -c "$top/openhash.conf" -C
check_eq "hash_secret others may read: exit status 78" "$REP_RC" 78
check_match "hash_secret others may read: file:line, mode and the fix" "$REP_ERR" \
	"openhash.conf:[0-9]+: hash_secret: .*open.hashkey: mode 0644 lets others read or change it; run: chmod 600"
chmod 0600 "$top/open.hashkey"
rep_run -c "$top/openhash.conf" -C
check_eq "hash_secret mode 0600: -C passes" "$REP_RC $REP_ERR" "0 "

rep_conf "$top/file.conf" <<EOF
upload_mode = 0644
retries = 0
[target one]
url = file://$top/in1/
[target two]
url = file://$top/in2/
EOF
# The shipped example, with its paths pointed at files that exist here.
mkdir -p "$top/ex"
for f in push_ed25519 known_hosts dmz-ca.pem push-client.pem \
	push-client.key edge.password; do
	echo x >"$top/ex/$f"
	chmod 600 "$top/ex/$f"
done
sed -e "s#^catalog = .*#catalog = $REP_CAT#" \
	-e "s#^signing_key = .*#signing_key = $REP_KEY#" \
	-e "s#/etc/dircat/keys/#$top/ex/#; s#/etc/dircat/#$top/ex/#" \
	"$DIRCAT_TOP/etc/replicator.conf" >"$top/example.conf"
rep_run -c "$top/example.conf" -C
check_eq "etc/replicator.conf (the shipped example) passes -C" "$REP_RC $REP_ERR" "0 "

rep_run -c "$top/file.conf" -C
check_eq "-C: a good configuration" "$REP_RC" 0
check_match "-C: says so with the key id" "$REP_OUT" \
	'configuration ok, 2 targets, 0 publish destinations, signing key [0-9a-f]{16}'
chmod 644 "$REP_KEY"
rep_run -c "$top/file.conf"
check_eq "signing key readable by others: exit status 78" "$REP_RC" 78
check_match "signing key readable by others: names the file" "$REP_ERR" \
	"signing.key"
chmod 600 "$REP_KEY"
rep_run -c "$top/file.conf" -t nosuch
check_eq "-t with an unknown target: exit status 64" "$REP_RC" 64

# --- catalog problems -----------------------------------------------------
rep_run -c "$top/file.conf"
check_eq "no catalog yet: exit status 66" "$REP_RC" 66
rep_records 1 50 | rep_catalog >/dev/null		# serial 1
sed 's/^catalog_id.*//' "$top/file.conf" >"$top/otherid.conf"
echo "catalog_id = other" | cat - "$top/otherid.conf" >"$top/otherid2.conf"
rep_run -c "$top/otherid2.conf"
check_eq "catalog_id differs from the catalog's: exit status 78" "$REP_RC" 78
check_match "catalog_id differs: message" "$REP_ERR" \
	"catalog_id other in .*, but the catalog .* is 'corp'"

# --- dry run --------------------------------------------------------------
rep_run -c "$top/file.conf" -n -v
check_eq "dry run: exit status 69 (something to send)" "$REP_RC" 69
check_match "dry run: says what it would send" "$REP_OUT" \
	'^one +send +full 1'
check_eq "dry run: nothing delivered" "$(ls -A "$top/in1" "$top/in2")" \
	"$(printf '%s:\n\n%s:' "$top/in1" "$top/in2")"
check "dry run: no snapshot written" test ! -e "$REP_DIR/spool/corp.1.full.snap"
check "dry run: no report written" test ! -e "$REP_REPORT"

# --- file:// delivery, state, report --------------------------------------
rep_run -c "$top/file.conf"
check_eq "file: exit status 0" "$REP_RC" 0
check_eq "file: quiet on success" "$REP_OUT$REP_ERR" ""
check "file: delivered" cmp -s "$top/in1/corp.1.full.snap" \
	"$REP_DIR/spool/corp.1.full.snap"
check_eq "file: no temporary file left" "$(ls -A "$top/in1")" corp.1.full.snap
check_eq "file: upload_mode honoured" \
	"$(stat -c %a "$top/in1/corp.1.full.snap")" 644
check_match "state file: sent serial 1" "$(cat "$REP_DIR/state/one.state")" \
	'sent_serial=1'
check_match "state file: result sent" "$(cat "$REP_DIR/state/one.state")" \
	'result=sent'
check_match "report: JSON header" "$(head -c 200 "$REP_REPORT")" \
	'^\{"catalog_id":"corp","serial":1,"key_id":"[0-9a-f]{16}","started":"[0-9T:-]+Z"'
check_eq "report: target one" \
	"$(rep_json one ok) $(rep_json one action) $(rep_json one node_serial) $(rep_json one error)" \
	"true full 0 null"

# --- the lock -------------------------------------------------------------
(flock -x 9; sleep 3) 9>"$REP_DIR/state/replicator.lock" &
locker=$!
track_pid "$locker"
sleep 0.5
rep_run -c "$top/file.conf"
check_eq "lock held: exit status 75" "$REP_RC" 75
check_match "lock held: message" "$REP_ERR" 'another run holds the lock'
stop_pid "$locker"
wait "$locker" 2>/dev/null
# A lock that cannot be taken at all is a local failure, not a busy lock.
mv "$REP_DIR/state/replicator.lock" "$REP_DIR/state/replicator.lock.aside"
mkdir "$REP_DIR/state/replicator.lock"
rep_run -c "$top/file.conf"
check_eq "lock file unusable (a directory): exit status 73" "$REP_RC" 73
check_match "lock file unusable: message" "$REP_ERR" 'lock .*replicator.lock: Is a directory'
rmdir "$REP_DIR/state/replicator.lock"
mv "$REP_DIR/state/replicator.lock.aside" "$REP_DIR/state/replicator.lock"

# --- spool: reuse and cleanup ---------------------------------------------
rm -rf "$REP_DIR/state" "$top"/in1/* "$top"/in2/*
m0=$(stat -c %Y.%X "$REP_DIR/spool/corp.1.full.snap")
ino0=$(stat -c %i "$REP_DIR/spool/corp.1.full.snap")
rep_run -c "$top/file.conf" -vv
check_match "spool: an earlier file is reused" "$REP_ERR" \
	'reusing .*/spool/corp.1.full.snap'
check_eq "spool: reused, not rewritten" \
	"$(stat -c %i "$REP_DIR/spool/corp.1.full.snap")" "$ino0"
printf 'junk' >>"$REP_DIR/spool/corp.1.full.snap"
rm -rf "$REP_DIR/state" "$top"/in1/* "$top"/in2/*
rep_run -c "$top/file.conf" -vv
check_match "spool: a damaged file is not reused" "$REP_ERR" \
	'corp.1.full.snap: not reused'
check_match "spool: the rewritten file verifies" \
	"$(rep_verify "$top/in1/corp.1.full.snap")" '^valid'
# Spool files are written without fsync: what a crash can leave (an
# empty file, a whole header over payload that never reached the disk)
# is written again, never sent.
size=$(stat -c %s "$REP_DIR/spool/corp.1.full.snap")
printf '\377\377\377\377' | dd of="$REP_DIR/spool/corp.1.full.snap" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
rm -rf "$REP_DIR/state" "$top"/in1/* "$top"/in2/*
rep_run -c "$top/file.conf" -vv
check_match "spool: a file whose payload did not reach the disk is not reused" "$REP_ERR" \
	'corp.1.full.snap: not reused'
check_match "spool: and what is sent instead verifies" \
	"$(rep_verify "$top/in1/corp.1.full.snap")" '^valid'
: >"$REP_DIR/spool/corp.1.full.snap"
rm -rf "$REP_DIR/state" "$top"/in1/* "$top"/in2/*
rep_run -c "$top/file.conf" -vv
check_match "spool: an empty file is not reused" "$REP_ERR" \
	'corp.1.full.snap: not reused'
check_match "spool: and what is sent instead verifies" \
	"$(rep_verify "$top/in1/corp.1.full.snap")" '^valid'
touch "$REP_DIR/spool/corp.1.full.snap.tmp.99999" "$REP_DIR/spool/keep.me"
rep_status "$top/in1" 1
rep_status "$top/in2" 1
rep_records 1 60 | rep_catalog >/dev/null		# serial 2
rep_run -c "$top/file.conf"
check_eq "serial 2: deltas delivered" \
	"$(rep_json one action) $(rep_json two action)" "delta delta"
check "spool: the old serial's file is removed" \
	test ! -e "$REP_DIR/spool/corp.1.full.snap"
check "spool: leftover temporary file removed" \
	test ! -e "$REP_DIR/spool/corp.1.full.snap.tmp.99999"
check "spool: other files left alone" test -e "$REP_DIR/spool/keep.me"
check_eq "spool: one delta file for both targets" \
	"$(ls "$REP_DIR/spool" | grep -c snap)" 1

# --- delivered, not installed: wait, then resend in full -------------------
rm -f "$top"/in1/*.snap
rep_run -c "$top/file.conf" -t one -v
check_eq "not installed yet: waiting" "$(rep_json one action)" waiting
check_eq "not installed yet: exit status 0" "$REP_RC" 0
check_match "not installed yet: the summary counts it as waiting, not current" \
	"$REP_OUT" '^catalog corp serial [0-9]+: 0 targets current, 1 waiting to install it, 0 failed'
sed 's/^upload_mode/install_grace = 0s\nupload_mode/' "$top/file.conf" \
	>"$top/grace.conf"
rep_run -c "$top/grace.conf" -t one
check_eq "still not installed after install_grace: sent again, in full" \
	"$(rep_json one action)" full
check "still not installed: full file delivered" \
	test -f "$top/in1/corp.2.full.snap"
check_match "still not installed: a warning says so" "$REP_ERR" \
	'target one: serial 2 was delivered [0-9]+s ago and the node still has 1: sending it again in full'
check_eq "still not installed: exit status 0 (delivered)" "$REP_RC" 0

# --- a broken status file ---------------------------------------------------
printf 'serial=banana\n' >"$top/in2/status"
rep_run -c "$top/file.conf" -t two
check_eq "broken status: exit status 69" "$REP_RC" 69
check_match "broken status: says why" "$REP_ERR" \
	"target two: status file: line 1: serial: not a number from 0: 'banana'"
head -c 10000 /dev/zero | tr '\0' 'x' >"$top/in2/status"
rep_run -c "$top/file.conf" -t two
check_match "oversized status: refused" "$REP_ERR" \
	'status file is larger than 4096 bytes'
rep_status "$top/in2" 2

# --- an unchanged catalog is refreshed before nodes' copies expire ----------
{
	sed '/^\[target/,$d' "$top/file.conf"
	echo "lifetime = 1h"
	echo "refresh_after = 2s"
	sed -n '/^\[target/,$p' "$top/file.conf"
} >"$top/refresh.conf"
rep_records 1 61 | rep_catalog >/dev/null		# serial 3, just made
rep_status "$top/in1" 3
rep_status "$top/in2" 3
rm -rf "$REP_DIR/state"
rep_run -c "$top/refresh.conf"
check_eq "refresh: a fresh serial is left alone" \
	"$(rep_json one action) $(rep_json two action) $(rep_serial)" \
	"nothing nothing 3"
sleep 2.2
rep_run -c "$top/refresh.conf" -vv
check_eq "refresh: exit status 0" "$REP_RC" 0
check_match "refresh: says why" "$REP_ERR" \
	'catalog unchanged for [0-9]+s: serial 4 made with the same records'
check_eq "refresh: both nodes get a delta 3-4" \
	"$(rep_json one action) $(rep_json two action) $(rep_json one base)" \
	"delta delta 3"
v=$(rep_verify "$top/in1/corp.3-4.delta.snap")
check_match "refresh: the delta is valid" "$v" '^valid'
check_match "refresh: and holds no records" "$v" 'records +0'
check_eq "refresh: the catalog's records are unchanged" \
	"$("$DIRCAT_BIN/dircat" dump "$REP_CAT" | wc -l)" 61
rep_status "$top/in1" 4
rep_status "$top/in2" 4
rep_run -c "$top/refresh.conf"
check_eq "refresh: right after, nothing to send" \
	"$(rep_json one action) $(rep_json two action)" "nothing nothing"
check_eq "refresh: node expiry in the report" "$(rep_json one node_expires)" \
	"$(sed -n 's/^expires=//p' "$top/in1/status")"

# --- with a real catalogd ---------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	pass "catalogd loop skipped (needs root to run catalogd as nobody)"
	exit 0
fi
catd_init "$top/catd"
cp "$REP_PUB" "$CATD_DIR/signer.pub"
catd_conf "rescan_interval = 1s"
catd_start || exit 0
rep_conf "$top/catd.conf" <<EOF
upload_mode = 0644
retries = 0
[target node]
url = file://$CATD_DIR/inbox/
EOF
rep_run -c "$top/catd.conf"
check_eq "catalogd: first push: full" "$(rep_json node action)" full
check "catalogd: installs the current serial" catd_wait_serial "$(rep_serial)"
check_eq "catalogd: answers for a pushed address" \
	"$(catd_sm recipients user55@example.org)" "OK person"
rep_run -c "$top/catd.conf"
check_eq "catalogd: next run sends nothing" "$(rep_json node action)" nothing
rep_records 3 70 | rep_catalog >/dev/null		# a new serial
rep_run -c "$top/catd.conf"
check_eq "catalogd: change: a delta" "$(rep_json node action)" delta
check "catalogd: installs the delta" catd_wait_serial "$(rep_serial)"
check_eq "catalogd: removed address gone, added one there" \
	"$(catd_sm recipients user1@example.org user70@example.org)" \
	"$(printf 'NOTFOUND \nOK person')"
check_eq "catalogd: nothing left in the inbox" \
	"$(ls "$CATD_DIR/inbox" | grep -c snap)" 0
exp0=$(sed -n 's/^expires=//p' "$CATD_DIR/inbox/status")
sleep 2.2
{
	sed '/^\[target/,$d' "$top/catd.conf"
	echo "refresh_after = 2s"
	sed -n '/^\[target/,$p' "$top/catd.conf"
} >"$top/catd-refresh.conf"
rep_run -c "$top/catd-refresh.conf"
check_eq "catalogd: refresh sends an empty delta" "$(rep_json node action)" delta
check "catalogd: installs the refresh" catd_wait_serial "$(rep_serial)"
check "catalogd: expiry renewed" test \
	"$(sed -n 's/^expires=//p' "$CATD_DIR/inbox/status")" -gt "$exp0"
check_eq "catalogd: still answers after the refresh" \
	"$(catd_sm recipients user70@example.org)" "OK person"

# Keyed-hash mode: the same secret file on both sides (hash_secret).
secret=$top/corp.hashkey
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret")
chgrp nogroup "$secret"
chmod 0640 "$secret"
catd_stop
catd_conf "rescan_interval = 1s" "hash_secret = $secret"
catd_start || exit 0
check_match "keyed-hash: a clear catalog under hash_secret answers TEMP" \
	"$(catd_sm recipients user70@example.org)" '^TEMP catalog installed in clear'
check_match "keyed-hash: ... and the log says to start a new catalog file" \
	"$(cat "$CATD_LOG")" 'catalog.mdb: catalog installed in clear, but hash_secret is set.*remove the catalog file'
# As docs/catalogd.md says: LMDB keeps freed pages, so the clear
# catalog's file goes; the next full snapshot starts a new one.
catd_stop
rm -f "$CATD_DIR/var/catalog.mdb" "$CATD_DIR/var/catalog.mdb-lock"
catd_start || exit 0
{
	sed '/^\[target/,$d' "$top/catd.conf"
	echo "hash_secret = $secret"
	sed -n '/^\[target/,$p' "$top/catd.conf"
} >"$top/catd-hash.conf"
rep_records 3 71 | rep_catalog >/dev/null
rep_run -c "$top/catd-hash.conf"
check_eq "keyed-hash: the switch sends a full snapshot" "$(rep_json node action)" full
check "keyed-hash: catalogd installs it" catd_wait_serial "$(rep_serial)"
check_eq "keyed-hash: answers as before" \
	"$(catd_sm recipients user71@example.org user1@example.org)" \
	"$(printf 'OK person\nNOTFOUND ')"
rep_records 4 72 | rep_catalog >/dev/null
rep_run -c "$top/catd-hash.conf"
check_eq "keyed-hash: the next change is a delta" "$(rep_json node action)" delta
check "keyed-hash: catalogd installs the delta" catd_wait_serial "$(rep_serial)"
check_eq "keyed-hash: removed address gone, added one there" \
	"$(catd_sm recipients user3@example.org user72@example.org)" \
	"$(printf 'NOTFOUND \nOK person')"
check_eq "keyed-hash: no address as text in the node's catalog" \
	"$(grep -ac 'example\.org' "$CATD_DIR/var/catalog.mdb")" 0
check_eq "keyed-hash: nor in the replicator's spool" \
	"$(cat "$REP_DIR"/spool/corp.*.snap | grep -ac 'user72')" 0
catd_stop
exit 0
