#!/bin/bash
# replicator_many.sh - one push configuration of 1,000 targets, file://
# and sftp:// mixed, part of them from an include directory (one file per
# node) and an include file: all brought to the current serial (a full
# snapshot each, then a delta each), with the replicator's CPU time,
# peak memory and wall-clock time reported; includes that are wrong are
# refused naming their own file and line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
need sshd /usr/bin/time

TOTAL=1000
SFTP=100		# through one private sshd; the rest file://
top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
sshd_start "$top/s" || { fail "sshd did not start"; exit 1; }
rep_records 1 2000 | rep_catalog >/dev/null		# serial 1

mkdir -p "$top/targets.d" "$top/in"
: >"$top/inboxes"
{
	echo "concurrency = 64"
	echo "retries = 1"
	echo "retry_delay = 1s"
	echo "ssh_private_key = $SSHD_KEY"
	echo "ssh_known_hosts = $SSHD_KNOWN_HOSTS"
	echo "upload_mode = 0644"
	echo "include = $top/targets.d"
	echo "include = $top/sftp.conf"
	# Half of the file:// targets in the main file...
	for ((i = 1; i <= (TOTAL - SFTP) / 2; i++)); do
		printf '[target f%d]\nurl = file://%s/in/f%d/\n' "$i" "$top" "$i"
	done
} | rep_conf "$top/many.conf"
# ... the other half one file per node ...
for ((i = (TOTAL - SFTP) / 2 + 1; i <= TOTAL - SFTP; i++)); do
	printf '# node f%d\n[target f%d]\nurl = file://%s/in/f%d/\n' "$i" "$i" "$top" "$i" \
		>"$top/targets.d/f$i.conf"
done
# ... and the sftp nodes in one included file.
for ((i = 1; i <= SFTP; i++)); do
	printf '[target s%d]\nurl = sftp://%s@127.0.0.1:%s%s/in/s%d/\n' \
		"$i" "$SSHD_USER" "$SSHD_PORT" "$top" "$i"
done >"$top/sftp.conf"
for ((i = 1; i <= TOTAL - SFTP; i++)); do mkdir -p "$top/in/f$i"; done
for ((i = 1; i <= SFTP; i++)); do mkdir -p "$top/in/s$i"; done
echo "# not a target file" >"$top/targets.d/README"

rep_run -c "$top/many.conf" -C
check_eq "1,000 targets: configuration ok" "$REP_RC" 0
check_match "1,000 targets: counted" "$REP_OUT" "configuration ok, $TOTAL targets"

# run SERIAL: one push, timed; then every inbox must hold that serial.
run() {
	/usr/bin/time -f '%e %U %S %M' -o "$top/time" \
		"$DIRCAT_BIN/dircat-replicator" -c "$top/many.conf" \
		>"$top/out" 2>"$top/err"
	RC=$?
	read -r WALL USR SYS RSS <"$top/time"
	echo "    serial $1: $TOTAL targets in ${WALL}s wall, $(awk -v u="$USR" -v s="$SYS" 'BEGIN { print u + s }')s CPU, peak RSS $((RSS / 1024)) MB"
}
count() {	# PATTERN: inboxes holding a file matching it
	ls "$top"/in/*/$1 2>/dev/null | wc -l
}
run 1
check_eq "serial 1: exit status 0" "$RC" 0
check_eq "serial 1: a full snapshot in every inbox" "$(count corp.1.full.snap)" "$TOTAL"
check_eq "serial 1: report: all ok" \
	"$(sed -n 's/.*"targets_ok":\([0-9]*\).*/\1/p' "$REP_REPORT")" "$TOTAL"
check "serial 1: replicator peak memory under 512 MB ($((RSS / 1024)) MB)" \
	test "$RSS" -lt 524288

# The nodes install it (as catalogd would: status says serial 1).
for d in "$top"/in/*; do
	rep_status "$d" 1
	rm -f "$d/corp.1.full.snap"
done
rep_records 1 2010 | rep_catalog >/dev/null		# serial 2
run 2
check_eq "serial 2: exit status 0" "$RC" 0
check_eq "serial 2: a delta in every inbox" "$(count corp.1-2.delta.snap)" "$TOTAL"
check_eq "serial 2: one delta file in the spool for all" \
	"$(ls "$REP_DIR/spool" | grep -c '\.delta\.snap$')" 1
check "serial 2: under 2 minutes for 1,000 targets (${WALL}s)" \
	awk -v w="$WALL" 'BEGIN { exit !(w < 120) }'
# Nothing to do: every node reports serial 2.
for d in "$top"/in/*; do rep_status "$d" 2; done
run 2
check_eq "current: exit status 0" "$RC" 0
check_eq "current: nothing sent" \
	"$(grep -o '"action":"nothing"' "$REP_REPORT" | wc -l)" "$TOTAL"

# --- include errors name their own file ---------------------------------
printf '[target f1]\nurl = file:///tmp/x/\n' >"$top/targets.d/zz-dup.conf"
rep_run -c "$top/many.conf" -C
check_eq "a target defined twice: refused" "$REP_RC" 78
check_match "a target defined twice: both places named" "$REP_ERR" \
	"zz-dup.conf:1: section \\[target f1\\] already defined at $top/many.conf:[0-9]+"
rm "$top/targets.d/zz-dup.conf"
printf '[target bad]\nurl = file:///tmp/x/\nretries = many\n' >"$top/targets.d/zz-bad.conf"
rep_run -c "$top/many.conf" -C
check_match "a bad value in an included file: its file and line" "$REP_ERR" \
	"zz-bad.conf:3: retries"
printf '[target bad]\nurl = file:///tmp/x/\nretrys = 1\n' >"$top/targets.d/zz-bad.conf"
rep_run -c "$top/many.conf" -C
check_match "a typo in an included file: its file and line" "$REP_ERR" \
	"zz-bad.conf:3: unknown setting 'retrys' in \\[target bad\\]"
printf 'retries = 1\n[target bad]\nurl = file:///tmp/x/\n' >"$top/targets.d/zz-bad.conf"
rep_run -c "$top/many.conf" -C
check_match "settings outside a section in an included file: refused" "$REP_ERR" \
	"zz-bad.conf:1: an included file holds sections only"
rm "$top/targets.d/zz-bad.conf"
rep_conf "$top/noinc.conf" <<EOF
include = $top/nowhere
[target x]
url = file:///tmp/x/
EOF
rep_run -c "$top/noinc.conf" -C
check_match "a missing include: named with its line" "$REP_ERR" \
	"noinc.conf:[0-9]+: include: $top/nowhere: No such file or directory"
exit 0
