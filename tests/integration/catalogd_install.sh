#!/bin/bash
# catalogd_install.sh - what catalogd installs and what it refuses: full
# and delta snapshots, then a rollback, another catalog's snapshot, an
# expired one, a delta on the wrong base, a bad signature, an altered
# payload, an untrusted key, a truncated file and junk.  Each refusal is
# recorded with its reason (INBOX/rejected/NAME.reason, dircat status) and
# the catalog in service stays the same, checked by real lookups.  Several
# waiting files go in serial order; dotfiles and other names are left
# alone; the rejected directory stays bounded.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

d=$(tmpdir)
catd_init "$d"
catd_conf "rejected_keep = 4" "rescan_interval = 2s"
catd_start || exit 1
inbox=$d/inbox

# Serial 1, full.
catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
bob@example.com person bob
EOF2
catd_full corp.1.full.snap
check "full 1 installed" catd_wait_serial 1
cp "$d/src/src.mdb" "$d/src/v1.mdb"
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/old1.snap" >/dev/null

# Serial 2, delta: carol added, bob removed.
catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
carol@example.com person carol
EOF2
catd_delta 1 corp.1-2.delta.snap
check "delta 1-2 installed" catd_wait_serial 2
check_eq "delta applied: answers" \
	"$(catd_sm recipients alice@example.com bob@example.com carol@example.com)" \
	"OK person
NOTFOUND 
OK person"
check_match "delta logged" "$(cat "$CATD_LOG")" "installed corp.1-2.delta.snap: .*delta from 1"
# put FILE NAME: deliver a file under a temporary name, then rename it.
# The uploading account is not catalogd's: the file is world-readable.
put() {
	cp "$1" "$inbox/.up" && chmod 644 "$inbox/.up" && mv "$inbox/.up" "$inbox/$2"
}
served="OK person
NOTFOUND 
OK person"

# refuse NAME REASON-REGEX DESCRIPTION: NAME is already in the inbox.
# Every case uses a name of its own, so each leaves its own .reason file.
refuse() {
	local name=$1 re=$2 what=$3
	wait_for 15 test -e "$inbox/rejected/$name.reason"
	check "$what: refused" test -e "$inbox/rejected/$name.reason"
	check "$what: moved out of the inbox" test ! -e "$inbox/$name"
	check "$what: kept in rejected/" test -e "$inbox/rejected/$name"
	check_match "$what: reason recorded" \
		"$(cat "$inbox/rejected/$name.reason" 2>/dev/null)" "$re"
	check_match "$what: reason logged" "$(cat "$CATD_LOG")" "refused $name: .*$re"
	check_eq "$what: old catalog still served" \
		"$(catd_sm recipients alice@example.com bob@example.com carol@example.com)" \
		"$served"
	check "$what: status still serial 2" _catd_serial_is 2
}

# Rollback: the serial 1 snapshot again.
put "$d/old1.snap" corp.3.full.snap
refuse corp.3.full.snap "rollback" "rollback (old serial under a new name)"
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")
check_match "dircat status shows the last refusal" "$st" \
	"^last_refusal: .* corp.3.full.snap: .*rollback"

# Another catalog's snapshot, under our name and under its own.
catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
carol@example.com person carol
mallory@example.com person mallory
EOF2
catd_full corp.4.full.snap -i other
refuse corp.4.full.snap "wrong catalog id" "another catalog's id"
catd_full other.3.full.snap -i other
refuse other.3.full.snap "not for catalog corp" "another catalog's file name"

# Expired on arrival.
catd_full corp.5.full.snap -C $(( $(date +%s) - 1000 )) -l 100
refuse corp.5.full.snap "expired" "expired"

# A delta on the wrong base: the node has 2, the delta starts at 1.
catd_delta 1 corp.1-3.delta.snap
refuse corp.1-3.delta.snap "wrong delta base|base" "delta on the wrong base"

# Signature damaged (its last byte, at 319), payload altered (a byte in it).
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/good3.snap" >/dev/null
size=$(stat -c %s "$d/good3.snap")
cp "$d/good3.snap" "$d/bad.snap"
b=$(od -An -tu1 -j 319 -N 1 "$d/good3.snap" | tr -d ' ')
printf "\\x$(printf %02x $(( b ^ 1 )))" | dd of="$d/bad.snap" bs=1 seek=319 conv=notrunc 2>/dev/null
put "$d/bad.snap" corp.6.full.snap
refuse corp.6.full.snap "bad signature" "damaged signature"
cp "$d/good3.snap" "$d/bad.snap"
printf 'X' | dd of="$d/bad.snap" bs=1 seek=$((320 + 10)) conv=notrunc 2>/dev/null
put "$d/bad.snap" corp.7.full.snap
refuse corp.7.full.snap "bad payload hash" "altered payload"

# Signed with a key this node does not trust.
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/other.key" "$d/other3.snap" >/dev/null
put "$d/other3.snap" corp.8.full.snap
refuse corp.8.full.snap "unknown signing key" "untrusted key"

# Truncated (an upload cut short, written under its final name).
head -c $((size / 2)) "$d/good3.snap" >"$d/half.snap"
put "$d/half.snap" corp.10.full.snap
refuse corp.10.full.snap "truncated" "truncated"

# Junk.
head -c 5000 /dev/urandom >"$d/junk.snap"
put "$d/junk.snap" corp.11.full.snap
refuse corp.11.full.snap "bad magic|not a dircat snapshot" "junk"

# A file catalogd cannot read (the uploader's mode is too tight).
cp "$d/good3.snap" "$inbox/.up" && chmod 600 "$inbox/.up" && mv "$inbox/.up" "$inbox/corp.9.full.snap"
refuse corp.9.full.snap "cannot read: Permission denied" "unreadable file"

# A name that is not a snapshot name.
put "$d/good3.snap" corp.latest.snap
refuse corp.latest.snap "file name is not" "unparsable name"

# Bounded: rejected_keep = 4.
check_eq "rejected/ keeps the newest 4 reasons" \
	"$(ls "$inbox/rejected/" | grep -c '\.reason$')" 4
check_eq "and their files only" "$(ls "$inbox/rejected/" | grep -vc '\.reason$')" 4

# Left alone: dotfiles (uploads in progress) and other names.
echo partial >"$inbox/.corp.9.full.snap"
echo notes >"$inbox/README"
touch -d '1 minute ago' "$inbox/.corp.9.full.snap" "$inbox/README"
sleep 3	# past one rescan_interval
check "dotfile left alone" test -e "$inbox/.corp.9.full.snap"
check "other names left alone" test -e "$inbox/README"
rm -f "$inbox/.corp.9.full.snap" "$inbox/README"

# The good serial 3 after all of that.
put "$d/good3.snap" corp.3.full.snap
check "good full 3 installed after the refusals" catd_wait_serial 3
check_eq "serial 3 served" "$(catd_sm recipients mallory@example.com)" "OK person"

# Several waiting: delivered while the daemon is down, in any order,
# installed lowest serial first: 4 (delta), 5 (delta), 6 (full).
catd_stop
catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
dave@example.com person dave
EOF2
catd_delta 3 corp.3-4.delta.snap
catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
dave@example.com person dave
erin@example.com person erin
EOF2
catd_delta 4 corp.4-5.delta.snap
catd_source >/dev/null <<'EOF2'
example.com domain
dave@example.com person dave
erin@example.com person erin
frank@example.com person frank
EOF2
catd_full corp.6.full.snap
touch -d '1 minute ago' "$inbox"/corp.*.snap
catd_start || exit 1
check "three waiting files: ends at serial 6" catd_wait_serial 6
order=$(grep -o 'installed corp\.[0-9-]*\.[a-z]*' "$CATD_LOG" | tail -n 3 | tr '\n' ' ')
check_eq "installed in serial order" "$order" \
	"installed corp.3-4.delta installed corp.4-5.delta installed corp.6.full "
check_eq "serial 6 content" \
	"$(catd_sm recipients alice@example.com dave@example.com frank@example.com)" \
	"NOTFOUND 
OK person
OK person"
check "inbox empty again" bash -c "! ls '$inbox' | grep -q '\.snap$'"

# scp-style delivery: written under the final name, no rename.
catd_source >/dev/null <<'EOF2'
example.com domain
grace@example.com person grace
EOF2
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/s7.snap" >/dev/null
chmod 644 "$d/s7.snap"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	sh -c "cat '$d/s7.snap' >'$inbox/corp.7.full.snap'"
check "written in place (close-write event): installed" catd_wait_serial 7

# A restart serves the persisted catalog at once.
catd_stop
catd_start || exit 1
check_eq "after restart: same serial" "$(grep '^serial=' "$inbox/status")" "serial=7"
check_eq "after restart: served" "$(catd_sm recipients grace@example.com)" "OK person"
