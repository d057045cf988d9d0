#!/bin/bash
# catalogd_sftp.sh - snapshots delivered by the real replicator through
# OpenSSH's sftp server are installed at once.  That server renames by
# link() and unlink(), which inotify reports as a new name rather than a
# rename; catalogd must still see the file as complete (not wait for its
# rescan settle time of 5 s), and must not take a file still being written
# (an scp-style upload under the final name) for a complete one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/sshd-lib.sh"

d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1h"
catd_start || exit 1
inbox=$d/inbox
sshd_start "$d" || { fail "sshd starts"; exit 1; }

catd_source >/dev/null <<'EOF2'
example.com domain
alice@example.com person alice
EOF2
cat >"$d/rep.conf" <<CONF
catalog = $d/src/src.mdb
signing_key = $d/signer.key
lifetime = 7d
spool_dir = $d/spool
state_dir = $d/state
ssh_private_key = $SSHD_KEY
ssh_known_hosts = $SSHD_KNOWN_HOSTS
upload_mode = 0644
[target node]
url = sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$inbox/
CONF
for serial in 1 2 3; do
	if [ "$serial" -gt 1 ]; then
		printf 'example.com domain\nalice@example.com person alice\nu%s@example.com person\n' "$serial" |
			catd_source >/dev/null
	fi
	t0=$(date +%s.%N)
	"$DIRCAT_BIN/dircat-replicator" -c "$d/rep.conf" >"$d/rep.out" 2>&1
	check_eq "serial $serial: replicator exit 0" "$?" 0
	catd_wait_serial "$serial" 10
	t=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
	check "serial $serial over sftp installed in under 3 s (${t}s)" \
		awk -v t="$t" 'BEGIN { exit !(t < 3) }'
done
check_eq "delta applied" "$(catd_sm recipients u3@example.com u2@example.com)" "OK person
NOTFOUND "

# An upload still being written under its final name (as scp does) is
# not taken: write half a snapshot, keep the file open, wait, finish.
printf 'example.com domain\nalice@example.com person alice\nlate@example.com person\n' |
	catd_source >/dev/null
"$DIRCAT_TESTBIN/tools/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/whole.snap" >/dev/null
size=$(stat -c %s "$d/whole.snap")
exec 7>"$inbox/corp.4.full.snap"
head -c $((size / 2)) "$d/whole.snap" >&7
sleep 2
check "a file still open for writing is left alone" test -e "$inbox/corp.4.full.snap"
check "a file still open for writing is not refused" test ! -e "$inbox/rejected/corp.4.full.snap.reason"
tail -c +$((size / 2 + 1)) "$d/whole.snap" >&7
exec 7>&-
check "the completed write is installed" catd_wait_serial 4
check_eq "its records are served" "$(catd_sm recipients late@example.com)" "OK person"
