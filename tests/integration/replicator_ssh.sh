#!/bin/bash
# replicator_ssh.sh - dircat-replicator against private OpenSSH servers:
# sftp and scp deliveries arrive renamed and byte-identical; a wrong or
# unknown host key is refused before anything is sent; three targets with
# one down, then caught up; a delta chain; an unchanged catalog sends
# nothing; a hung server does not hold up the others.
. "$(dirname "$0")/lib.sh"
# libssh2's overlapping memcpy with a node's RSA or ECDSA key listed first
# (tests/asan.supp says why).  Here only: the file is not in the Debian
# roots other tests start sanitised tools in.
ASAN_OPTIONS="$ASAN_OPTIONS:suppressions=$DIRCAT_TOP/tests/asan.supp"
. "$(dirname "$0")/sshd-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
need ssh-keygen curl flock

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
sshd_start "$top/a" || { fail "sshd did not start"; exit 1; }
U=$SSHD_USER P=$SSHD_PORT A_PID=$SSHD_PID
A_KEY=$SSHD_KEY A_KH=$SSHD_KNOWN_HOSTS A_WRONG_KH=$SSHD_WRONG_KNOWN_HOSTS
url() { echo "$1://$U@127.0.0.1:$P$top/$2/"; }
mkdir -p "$top"/in-{sftp,scp,wrong,unknown,pin}

rep_records 1 200 | rep_catalog >/dev/null

# --- 1. sftp and scp deliveries -------------------------------------------
rep_conf "$top/ssh.conf" <<EOF
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
retries = 0
[target sftp]
url = $(url sftp in-sftp)
[target scp]
url = $(url scp in-scp)
EOF
rep_run -c "$top/ssh.conf" -v
check_eq "sftp+scp: exit status" "$REP_RC" 0
check "sftp: file arrived under its final name" \
	test -f "$top/in-sftp/corp.1.full.snap"
check "sftp: no temporary file left" \
	test -z "$(ls -A "$top/in-sftp" | grep -v '^corp.1.full.snap$')"
check "sftp: byte-identical to the spool copy" \
	cmp -s "$top/in-sftp/corp.1.full.snap" "$REP_DIR/spool/corp.1.full.snap"
check "scp: file arrived" test -f "$top/in-scp/corp.1.full.snap"
check "scp: byte-identical to the spool copy" \
	cmp -s "$top/in-scp/corp.1.full.snap" "$REP_DIR/spool/corp.1.full.snap"
check_match "sftp: verifies with the public key" \
	"$(rep_verify "$top/in-sftp/corp.1.full.snap")" '^valid'
check_eq "sftp: uploaded with mode 0640" \
	"$(stat -c %a "$top/in-sftp/corp.1.full.snap")" 640
check_eq "report: sftp sent full" "$(rep_json sftp action)" full
check_eq "report: scp sent full" "$(rep_json scp action)" full
check_eq "report: bytes = file size" "$(rep_json sftp bytes)" \
	"$(stat -c %s "$REP_DIR/spool/corp.1.full.snap")"
check_match "-v prints the table" "$REP_OUT" '^sftp +ok +full 1 +none'

# An existing file of the same name (catalogd down) is replaced, not kept.
echo stale >"$top/in-sftp/corp.1.full.snap"
rep_status "$top/in-sftp" 0
rm -f "$REP_DIR/state/sftp.state"
rep_run -c "$top/ssh.conf" -t sftp
check_eq "sftp: resend over a stale file: exit status" "$REP_RC" 0
check "sftp: stale file replaced" \
	cmp -s "$top/in-sftp/corp.1.full.snap" "$REP_DIR/spool/corp.1.full.snap"

# A path under the login's home: /~/ (a uniquely named directory there,
# removed at exit).
home=$(getent passwd "$U" | cut -d: -f6)
hdir=dircat-test-inbox.$$.$RANDOM
mkdir "$home/$hdir" && _test_dirs+=("$home/$hdir")
rep_conf "$top/home.conf" <<EOF
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
retries = 0
[target home]
url = sftp://$U@127.0.0.1:$P/~/$hdir/
EOF
rep_run -c "$top/home.conf"
check_eq "sftp: /~/ path: exit status" "$REP_RC" 0
check_eq "sftp: /~/ path: renamed in the home directory" \
	"$(ls -A "$home/$hdir")" corp.1.full.snap

# --- 2. host keys ---------------------------------------------------------
: >"$top/empty_known_hosts"
rep_conf "$top/hk.conf" <<EOF
ssh_private_key = $A_KEY
retries = 2
retry_delay = 1s
[target wrong]
url = $(url sftp in-wrong)
ssh_known_hosts = $A_WRONG_KH
[target unknown]
url = $(url sftp in-unknown)
ssh_known_hosts = $top/empty_known_hosts
[target pin]
url = $(url sftp in-pin)
ssh_known_hosts = $A_KH
ssh_host_sha256 = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
EOF
rep_run -c "$top/hk.conf"
check_eq "wrong host key: exit status 69" "$REP_RC" 69
check_match "wrong host key: clear message" "$REP_ERR" \
	'target wrong: host key of 127.0.0.1:[0-9]+ does not match the one in .*wrong_known_hosts: refusing'
check_match "unknown host: clear message" "$REP_ERR" \
	'target unknown: host 127.0.0.1:[0-9]+ has no key in .*empty_known_hosts: refusing'
check_match "pinned fingerprint mismatch refused" "$REP_ERR" \
	'target pin: host key of 127.0.0.1:[0-9]+ does not have the fingerprint in ssh_host_sha256'
check_eq "wrong host key: nothing uploaded" "$(ls -A "$top/in-wrong")" ""
check_eq "unknown host: nothing uploaded" "$(ls -A "$top/in-unknown")" ""
check_eq "pin mismatch: nothing uploaded" "$(ls -A "$top/in-pin")" ""
check_eq "wrong host key: not retried" "$(rep_json wrong attempts)" 1
check "unknown host key was not added to known_hosts" \
	test ! -s "$top/empty_known_hosts"

# --- 2b. a node with RSA, ECDSA and Ed25519 host keys (as Debian's
# openssh-server makes them) and known_hosts written by ssh-keyscan -------
sshd_start "$top/k" || { fail "sshd with three host keys did not start"; exit 1; }
kdir=$top/k/sshd
ssh-keygen -q -t rsa -b 3072 -N '' -f "$kdir/host_rsa" &&
	ssh-keygen -q -t ecdsa -N '' -f "$kdir/host_ecdsa" &&
	sed -i "s|^HostKey .*|HostKey $kdir/host_rsa\nHostKey $kdir/host_ecdsa\nHostKey $kdir/host_key|" \
		"$kdir/sshd_config" || { fail "host keys"; exit 1; }
stop_pid "$SSHD_PID"
wait "$SSHD_PID" 2>/dev/null
sshd_restart || { fail "sshd with three host keys did not restart"; exit 1; }
K=$SSHD_PORT
mkdir -p "$top/in-kscan"
kscan_conf() {	# KNOWN_HOSTS
	rep_conf "$top/kscan.conf" <<-EOF
	ssh_private_key = $SSHD_KEY
	ssh_known_hosts = $1
	retries = 2
	retry_delay = 1s
	[target kscan]
	url = sftp://$SSHD_USER@127.0.0.1:$K$top/in-kscan/
	EOF
	rm -rf "$REP_DIR/state" "$top"/in-kscan/*
}
# ssh-keyscan without -t lists every key, in the order the answers came
# (often RSA first); here RSA is put first, as it then is.
ssh-keyscan -p "$K" 127.0.0.1 >"$top/kh_scan" 2>/dev/null
check_eq "ssh-keyscan without -t lists the RSA, ECDSA and Ed25519 keys" \
	"$(cut -d' ' -f2 "$top/kh_scan" | sort | tr '\n' ' ')" \
	"ecdsa-sha2-nistp256 ssh-ed25519 ssh-rsa "
{ grep ' ssh-rsa ' "$top/kh_scan"; grep -v ' ssh-rsa ' "$top/kh_scan"; } >"$top/kh_all"
kscan_conf "$top/kh_all"
rep_run -c "$top/kscan.conf"
check_eq "RSA key first in known_hosts: exit status 69" "$REP_RC" 69
check_match "RSA key first: the line, the key type and the fix are named" \
	"$REP_ERR" "target kscan: .*/kh_all:1, the first key listed for 127.0.0.1:$K, is ssh-rsa: .*OpenSSH 8.8 .*ssh-keyscan -t ed25519 -p $K 127.0.0.1"
check_eq "RSA key first: nothing uploaded" "$(ls -A "$top/in-kscan")" ""
check_eq "RSA key first: not retried" "$(rep_json kscan attempts)" 1
# Hashed names (-H): libcurl takes the first hashed line for any host.
ssh-keyscan -H -p "$K" 127.0.0.1 >"$top/kh_hscan" 2>/dev/null
{ grep ' ssh-rsa ' "$top/kh_hscan"; grep -v ' ssh-rsa ' "$top/kh_hscan"; } >"$top/kh_hashed"
kscan_conf "$top/kh_hashed"
rep_run -c "$top/kscan.conf"
check_match "hashed known_hosts, RSA first: named as a hashed line" \
	"$REP_ERR" "kh_hashed:1, the first key listed for 127.0.0.1:$K \\(a hashed line: .*\\), is ssh-rsa"
# ECDSA first (RSA after it) works: nothing to say.
{ grep ' ecdsa-' "$top/kh_scan"; grep -v ' ecdsa-' "$top/kh_scan"; } >"$top/kh_ecdsa"
kscan_conf "$top/kh_ecdsa"
rep_run -c "$top/kscan.conf"
check_eq "ECDSA key first: delivered" "$REP_RC/$(ls -A "$top/in-kscan")" \
	"0/corp.1.full.snap"
# What the guide and the manual page say to run, as written there (host,
# port and file put in).
for doc in docs/replicator.md man/dircat-replicator.8; do
	if [ "$doc" = docs/replicator.md ]; then
		cmd=$(grep -o '`ssh-keyscan [^`]*`' "$DIRCAT_TOP/$doc" | tr -d '`' |
			sed "s/ PORT / $K /; s/ HOST / 127.0.0.1 /; s|>> known_hosts|>> $top/kh_doc|")
	else
		cmd=$(grep '^ssh\\-keyscan ' "$DIRCAT_TOP/$doc" | sed 's/\\-/-/g' |
			sed "s/-p 2222 mx2.dmz.example.com/-p $K 127.0.0.1/; s|/etc/dircat/known_hosts|$top/kh_doc|")
	fi
	check_match "$doc: the ssh-keyscan line takes the Ed25519 key only" \
		"$cmd" "^ssh-keyscan -t ed25519 -p $K 127.0.0.1 >> $top/kh_doc\$"
	: >"$top/kh_doc"
	bash -c "$cmd" 2>/dev/null
	kscan_conf "$top/kh_doc"
	rep_run -c "$top/kscan.conf"
	check_eq "$doc: known_hosts as it says: delivered" \
		"$REP_RC/$(ls -A "$top/in-kscan")" "0/corp.1.full.snap"
done
stop_pid "$SSHD_PID"

# --- 3. three targets, one of them down -----------------------------------
sshd_start "$top/c"
C_PORT=$SSHD_PORT C_KEY=$SSHD_KEY C_KH=$SSHD_KNOWN_HOSTS
sshd_stop		# node c is down (connection refused)
mkdir -p "$top"/in-a "$top"/in-b "$top"/in-c
rep_records 1 210 | rep_catalog >/dev/null	# serial 2
rep_conf "$top/three.conf" <<EOF
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
retries = 1
retry_delay = 1s
connect_timeout = 5s
[target a]
url = $(url sftp in-a)
[target b]
url = $(url sftp in-b)
[target c]
url = sftp://$U@127.0.0.1:$C_PORT$top/in-c/
ssh_private_key = $C_KEY
ssh_known_hosts = $C_KH
EOF
rep_run -c "$top/three.conf"
check_eq "one down: exit status 69" "$REP_RC" 69
check "one down: a got the snapshot" test -f "$top/in-a/corp.2.full.snap"
check "one down: b got the snapshot" test -f "$top/in-b/corp.2.full.snap"
check_eq "one down: c got nothing" "$(ls -A "$top/in-c")" ""
check_match "one down: the failure is reported on stderr" "$REP_ERR" \
	'target c: .*(connect|Connect).*\(after 2 attempts\)'
check_match "one down: stderr has the summary table, c failed" "$REP_ERR" $'\nc +FAILED'
check_match "one down: stderr has the summary table, a ok" "$REP_ERR" $'\na +ok +full 2'
check_match "one down: stderr summary head: sent is not current" "$REP_ERR" 'catalog corp serial 2: 0 targets current, 2 sent it \(not installed yet\), 1 failed'
check_eq "one down: nothing on stdout without -v" "$REP_OUT" ""
check_eq "one down: report says c failed" "$(rep_json c ok)" false
check_eq "one down: report says a ok" "$(rep_json a ok)" true
check_match "one down: JSON counts" "$(head -c 300 "$REP_REPORT")" \
	'"targets_ok":2,"targets_failed":1'
a_mtime=$(stat -c %Y "$top/in-a/corp.2.full.snap")

SSHD_PORT=$C_PORT SSHD_LOG=$top/c/sshd/sshd.log
sshd_restart || fail "sshd c did not come back"
C_PID=$SSHD_PID
rep_run -c "$top/three.conf"
check_eq "back up: exit status 0" "$REP_RC" 0
check "back up: c caught up" \
	cmp -s "$top/in-c/corp.2.full.snap" "$REP_DIR/spool/corp.2.full.snap"
check_eq "back up: a not sent again (delivered, awaiting install)" \
	"$(rep_json a action)" waiting
check_eq "back up: a's file untouched" \
	"$(stat -c %Y "$top/in-a/corp.2.full.snap")" "$a_mtime"
check_eq "back up: c sent full" "$(rep_json c action)" full
stop_pid "$C_PID"

# --- 4. delta chain 1 -> 2 -> 3 ------------------------------------------
rep_setup "$top/chain" || fail "chain setup"
mkdir -p "$top"/in-n2 "$top"/in-n1 "$top"/in-new "$top"/in-other \
	"$top"/in-ahead
rep_records 1 100 | rep_catalog >/dev/null				# 1
rep_records 1 110 | rep_catalog >/dev/null				# 2
# 3: ten removed, five added; keep one serial of history: a delta can
# start from 2, not from 1.
{ rep_records 11 110; rep_records 500 504; } |
	"$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -H 1 "$REP_CAT" >/dev/null
rep_status "$top/in-n2" 2
rep_status "$top/in-n1" 1
rep_status "$top/in-other" 2 othercat
rep_status "$top/in-ahead" 9
rep_conf "$top/chain.conf" <<EOF
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
retries = 0
[target n2]
url = $(url sftp in-n2)
[target n1]
url = $(url sftp in-n1)
[target new]
url = $(url sftp in-new)
[target other]
url = $(url sftp in-other)
[target ahead]
url = $(url sftp in-ahead)
EOF
rep_run -c "$top/chain.conf" -v
check_eq "chain: node at 2 gets a delta" "$(rep_json n2 action)" delta
check "chain: delta file 2-3 arrived" test -f "$top/in-n2/corp.2-3.delta.snap"
v=$(rep_verify "$top/in-n2/corp.2-3.delta.snap")
check_match "chain: dircat verify: a delta" "$v" 'type +delta'
check_match "chain: dircat verify: base 2" "$v" 'base +2'
check_match "chain: dircat verify: valid" "$v" '^valid'
check_eq "chain: node at 1 (not in history) gets a full" \
	"$(rep_json n1 action)" full
check "chain: full file arrived" test -f "$top/in-n1/corp.3.full.snap"
check_eq "chain: node without status gets a full" \
	"$(rep_json new action)" full
check_eq "chain: node with another catalog refused" \
	"$(rep_json other action)" failed
check_match "chain: another catalog: message" "$REP_ERR" \
	"target other: the node holds catalog 'othercat', not 'corp'"
check_match "chain: node ahead of the catalog: message" "$REP_ERR" \
	'target ahead: the node has epoch 0 serial 9, ahead of this catalog.s epoch 0 serial 3.*--new-epoch'
check_eq "chain: nothing sent to those two" \
	"$(ls -A "$top/in-other" "$top/in-ahead" | grep -c snap)" 0
check "chain: delta smaller than full" test \
	"$(stat -c %s "$top/in-n2/corp.2-3.delta.snap")" -lt \
	"$(stat -c %s "$top/in-n1/corp.3.full.snap")"

# --- 5. unchanged catalog: nothing is pushed ------------------------------
for n in n2 n1 new; do
	rm -f "$top/in-$n"/*.snap
	rep_status "$top/in-$n" 3		# as catalogd after installing
done
{ rep_records 11 110; rep_records 500 504; } | rep_catalog >/dev/null
check_eq "unchanged: aggregating the same content keeps serial 3" \
	"$({ rep_records 11 110; rep_records 500 504; } | rep_catalog)" 3
sed -i '/^\[target other\]/,$d' "$top/chain.conf"
rep_run -c "$top/chain.conf" -v
check_eq "unchanged: exit status 0" "$REP_RC" 0
check_eq "unchanged: nothing uploaded" \
	"$(ls -A "$top"/in-n2 "$top"/in-n1 "$top"/in-new | grep -c snap)" 0
check_eq "unchanged: report says nothing" \
	"$(rep_json n2 action) $(rep_json n1 action) $(rep_json new action)" \
	"nothing nothing nothing"
check_eq "unchanged: zero bytes" "$(rep_json n2 bytes)" 0
check_eq "unchanged: quiet without -v" \
	"$(rep_run -c "$top/chain.conf"; echo "$REP_OUT$REP_ERR")" ""

# --- 6. a hung server holds up nobody -------------------------------------
sshd_start "$top/h"
H_PORT=$SSHD_PORT H_PID=$SSHD_PID H_KH=$SSHD_KNOWN_HOSTS H_KEY=$SSHD_KEY
kill -STOP "$H_PID"	# accepts connections (kernel), never answers
mkdir -p "$top"/in-f1 "$top"/in-f2 "$top"/in-hung
rep_conf "$top/hung.conf" <<EOF
ssh_private_key = $C_KEY
ssh_known_hosts = $C_KH
retries = 0
[target f1]
url = sftp://$U@127.0.0.1:$P$top/in-f1/
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
[target hung]
url = sftp://$U@127.0.0.1:$H_PORT$top/in-hung/
ssh_private_key = $H_KEY
ssh_known_hosts = $H_KH
connect_timeout = 4s
[target f2]
url = sftp://$U@127.0.0.1:$P$top/in-f2/
ssh_private_key = $A_KEY
ssh_known_hosts = $A_KH
EOF
t0=$(date +%s.%N)
rep_run -c "$top/hung.conf"
t1=$(date +%s.%N)
check_eq "hung: exit status 69" "$REP_RC" 69
check "hung: f1 and f2 delivered" test -f "$top/in-f1/corp.3.full.snap" \
	-a -f "$top/in-f2/corp.3.full.snap"
check "hung: f1 done in under 2s" \
	awk -v s="$(rep_json f1 seconds)" 'BEGIN { exit !(s < 2) }'
check "hung: f2 done in under 2s" \
	awk -v s="$(rep_json f2 seconds)" 'BEGIN { exit !(s < 2) }'
check "hung: the hung one gave up at its connect timeout" \
	awk -v s="$(rep_json hung seconds)" 'BEGIN { exit !(s >= 3.5 && s < 10) }'
check_match "hung: reported as a timeout" "$REP_ERR" \
	'target hung: .*([Tt]ime|timed out)'
check "hung: whole run bounded" \
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }'
# The whole run has a limit too.
sed -e 's/^connect_timeout = 4s/connect_timeout = 60s/' \
	-e 's/^retries = 0/retries = 0\nrun_timeout = 2s/' \
	"$top/hung.conf" >"$top/runlimit.conf"
rm -rf "$REP_DIR/state" "$top"/in-f1/* "$top"/in-f2/*
t0=$(date +%s.%N)
rep_run -c "$top/runlimit.conf"
t1=$(date +%s.%N)
check_match "run_timeout: the hung target fails at the run's limit" \
	"$REP_ERR" 'target hung: run_timeout reached'
check "run_timeout: the run ends at its limit" \
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1.9 && b - a < 5) }'
check "run_timeout: the others were served" \
	test -f "$top/in-f1/corp.3.full.snap" -a -f "$top/in-f2/corp.3.full.snap"
kill -CONT "$H_PID"
stop_pid "$H_PID"

exit 0
