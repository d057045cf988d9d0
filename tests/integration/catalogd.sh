#!/bin/bash
# catalogd.sh - catalogd end to end: a signed snapshot delivered into the
# inbox is installed, then answered over all four sockets (socketmap,
# policy, readsocket, control), by our client, by Postfix's own postmap
# and by dircat; socket ownership and modes; the privilege drop; SIGHUP
# with a good and a bad configuration; SIGTERM removing the sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
need postmap setpriv

d=$(tmpdir)
catd_init "$d"
catd_source >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith
sales@example.com group jsmith,adm
info@example.com mailin
@catchall.example mailin
catchall.example domain
EOF2
catd_conf "extension_delimiter = +"
# The map socket for Postfix: group nogroup, mode 0660.
sed -i '/^\[socket map\]/a owner = nobody\ngroup = nogroup\nmode = 0660' "$d/catalogd.conf"

out=$("$DIRCAT_BIN/catalogd" -c "$d/catalogd.conf" -t 2>&1)
check_match "-t accepts a good configuration" "$out" "configuration ok"
printf 'catalog = /x\nbogus_key = 1\n' >"$d/bad.conf"
out=$("$DIRCAT_BIN/catalogd" -c "$d/bad.conf" -t 2>&1)
rc=$?
check "-t refuses a bad configuration" test "$rc" -ne 0
cp "$d/catalogd.conf" "$d/typo.conf"
echo "stale_polcy = serve" >>"$d/typo.conf"
out=$("$DIRCAT_BIN/catalogd" -c "$d/typo.conf" -t 2>&1)
check_match "-t names a misspelt key with file:line" "$out" \
	"typo.conf:[0-9]+: unknown setting 'stale_polcy'"
grep -v '^user' "$d/catalogd.conf" >"$d/root.conf"
out=$("$DIRCAT_BIN/catalogd" -c "$d/root.conf" -f 2>&1)
rc=$?
check "refuses to run as root without 'user'" test "$rc" -ne 0
check_match "and says why" "$out" "refusing to run as root"

catd_start || exit 1
check "no catalog yet: status says serial 0" \
	grep -qx 'serial=0' "$d/inbox/status"
check_eq "no catalog yet: TEMP" "$(catd_sm recipients jsmith@example.com)" \
	"TEMP no catalog installed"

catd_full corp.1.full.snap
check "full snapshot installed" catd_wait_serial 1
check "installed file removed from the inbox" test ! -e "$d/inbox/corp.1.full.snap"
status=$(cat "$d/inbox/status")
check_match "status: catalog_id" "$status" "^catalog_id=corp$"
check_match "status: stale=no" "$status" "^stale=no$"
check_match "status: created/expires/installed" "$status" \
	"created=[1-9][0-9]*"$'\n'"expires=[1-9][0-9]*"$'\n'"installed=[1-9][0-9]*"
check_eq "status file has exactly nine lines" "$(wc -l <"$d/inbox/status")" 9
check_eq "status file: version=1 first" "$(head -n 1 "$d/inbox/status")" version=1
check_match "status: epoch" "$status" "^epoch=0$"

# Socketmap, pipelined in one write.
got=$(catd_sm recipients jsmith@example.com JSmith+News@EXAMPLE.com \
	nobody@example.com anyone@catchall.example x@elsewhere.net \
	info@example.com 'not an address' '')
want="OK person
OK person
NOTFOUND 
OK mailin
NOTFOUND 
OK mailin
NOTFOUND 
NOTFOUND "
check_eq "socketmap recipients (pipelined)" "$got" "$want"
check_eq "socketmap senders" "$(catd_sm senders sales@example.com jsmith+x@example.com info@example.com)" \
	"OK jsmith,adm
OK jsmith
NOTFOUND "
check_eq "socketmap domains" "$(catd_sm domains example.com EXAMPLE.COM. example.net)" \
	"OK domain
OK domain
NOTFOUND "
check_eq "socketmap unknown map" "$(catd_sm virtual x@example.com)" "PERM unknown map"

# Postfix's own client.
mkdir -p "$d/pf" && : >"$d/pf/main.cf"
got=$(postmap -c "$d/pf" -q 'jsmith+tag@example.com' "socketmap:unix:$d/run/map.sock:recipients")
check_eq "postmap -q recipients (found)" "$got" "person"
postmap -c "$d/pf" -q 'nobody@example.com' "socketmap:unix:$d/run/map.sock:recipients"
check_eq "postmap -q recipients (not found: exit 1)" "$?" 1
got=$(postmap -c "$d/pf" -q 'sales@example.com' "socketmap:unix:$d/run/map.sock:senders")
check_eq "postmap -q senders" "$got" "jsmith,adm"

# dircat lookup through the configuration.
got=$("$DIRCAT_BIN/dircat" lookup -c "$d/catalogd.conf" JSmith@Example.com)
check_eq "dircat lookup found (exit 0)" "$?:$got" "0:OK person"
got=$("$DIRCAT_BIN/dircat" lookup -c "$d/catalogd.conf" nobody@example.com)
check_eq "dircat lookup not found (exit 1)" "$?:$got" "1:NOTFOUND"
got=$("$DIRCAT_BIN/dircat" lookup -c "$d/catalogd.conf" -m senders sales@example.com)
check_eq "dircat lookup -m senders" "$?:$got" "0:OK jsmith,adm"

# Readsocket (Exim): a line, or a half-closed request without newline.
got=$(printf 'jsmith@example.com\n' | "$CATD_TOOLS/catdclient" raw "$d/run/exim.sock")
check_eq "readsocket bare key" "$?:$got" "0:OK person"
got=$(printf 'senders sales@example.com' | "$CATD_TOOLS/catdclient" -s raw "$d/run/exim.sock")
check_eq "readsocket half-closed, map name" "$?:$got" "0:OK jsmith,adm"
got=$(printf 'nobody@example.com\r\n' | "$CATD_TOOLS/catdclient" raw "$d/run/exim.sock")
check_eq "readsocket not found (CRLF)" "$got" "NOTFOUND"

# Policy delegation: several requests on one connection, kept open.
req() {	# state sender recipient [sasl]
	printf 'request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\nclient_address=192.0.2.7\nsender=%s\nrecipient=%s\nsasl_username=%s\ninstance=1.2.3\n\n' "$1" "$2" "$3" "${4:-}"
}
got=$({ req RCPT a@b.example nobody@example.com
	req RCPT a@b.example jsmith+x@example.com
	req RCPT sales@example.com x@elsewhere.net mallory
	req RCPT sales@example.com x@elsewhere.net ADM
	req MAIL a@b.example nobody@example.com; } |
	"$CATD_TOOLS/catdclient" -t 1 raw "$d/run/policy.sock")
rc=$?
check_eq "policy answers" "$got" "action=550 5.1.1 User unknown

action=DUNNO

action=553 5.7.1 Sender address not owned by the authenticated user

action=DUNNO

action=DUNNO"
check_eq "policy: connection kept open after replies" "$rc" 1
got=$(printf 'no equals sign\n\n' | "$CATD_TOOLS/catdclient" -t 2 raw "$d/run/policy.sock")
check_eq "policy: malformed request closed without a reply" "$?:$got" "0:"

# dircat status through the control socket.
st=$("$DIRCAT_BIN/dircat" status -c "$d/catalogd.conf")
rc=$?
check_eq "dircat status exit 0" "$rc" 0
check_match "status: running" "$st" "^daemon: running"
check_match "status: serial" "$st" "^serial: 1$"
check_match "status: counts by kind" "$st" \
	"^records: 6 \(person 1, group 1, mailin 2, domain 2\)"
check_match "status: last install" "$st" "^last_install: .* serial 1 full"
check_match "status: lookups counted" "$st" "^lookups: [1-9][0-9]* \(hits [1-9]"
check_match "status: expires" "$st" "^expires: 20[0-9-]+T"

# Sockets: owner, group, mode as configured; privileges dropped.
check_eq "map socket owner:group mode" "$(stat -c '%U:%G %a' "$d/run/map.sock")" \
	"nobody:nogroup 660"
check_eq "control socket mode 0600 by default" "$(stat -c '%U %a' "$d/run/ctl.sock")" \
	"nobody 600"
check_eq "daemon runs as nobody" "$(ps -o user= -p "$CATD_PID")" "nobody"
check_eq "no supplementary groups" "$(awk '/^Groups:/{print $2}' /proc/$CATD_PID/status)" \
	"65534"
setpriv --reuid=daemon --regid=daemon --clear-groups \
	"$CATD_TOOLS/catdclient" sm "$d/run/map.sock" recipients jsmith@example.com \
	>/dev/null 2>&1
check_eq "other users cannot connect to a 0660 socket" "$?" 3
got=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$CATD_TOOLS/catdclient" sm "$d/run/map.sock" recipients jsmith@example.com)
check_eq "the socket's group can" "$got" "OK person"

# A second instance must not steal the live socket.
out=$("$DIRCAT_BIN/catalogd" -c "$d/catalogd.conf" -f 2>&1)
check_match "second instance refuses a live socket" "$out" "another process is listening"
check_eq "first instance still answers" "$(catd_sm recipients jsmith@example.com)" "OK person"

# SIGHUP: a bad file is refused and the old one kept.
cp "$d/catalogd.conf" "$d/good.conf"
sed -i 's/^extension_delimiter = +/stale_policy = sometimes/' "$d/catalogd.conf"
kill -HUP "$CATD_PID"
wait_for 5 grep -q "reload refused" "$CATD_LOG"
check "bad reload refused and logged" grep -q "reload refused.*stale_policy" "$CATD_LOG"
check_eq "still serving after a bad reload" "$(catd_sm recipients jsmith@example.com)" "OK person"
# A good one: a new socket appears, the readsocket one goes, the
# extension delimiter changes.
cp "$d/good.conf" "$d/catalogd.conf"
sed -i 's/^extension_delimiter = +/extension_delimiter = -/' "$d/catalogd.conf"
sed -i "s|$d/run/exim.sock|$d/run/exim2.sock|" "$d/catalogd.conf"
kill -HUP "$CATD_PID"
wait_for 5 grep -q "configuration reloaded" "$CATD_LOG"
check "good reload applied" grep -q "configuration reloaded" "$CATD_LOG"
check_eq "new delimiter in effect" "$(catd_sm recipients jsmith-x@example.com jsmith+x@example.com)" \
	"OK person
NOTFOUND "
check "new socket created on reload" test -S "$d/run/exim2.sock"
check "dropped socket removed on reload" test ! -e "$d/run/exim.sock"
got=$(printf 'jsmith@example.com\n' | "$CATD_TOOLS/catdclient" raw "$d/run/exim2.sock")
check_eq "new socket answers" "$got" "OK person"

# SIGTERM: clean stop, sockets removed.
stop_pid "$CATD_PID"
check "stopped on SIGTERM" wait_for 5 bash -c "! kill -0 $CATD_PID 2>/dev/null"
check "sockets removed at stop" bash -c "! ls $d/run/*.sock 2>/dev/null | grep -q ."
check_match "stop logged" "$(tail -n 3 "$CATD_LOG")" "stopped"

# Daemon down: status falls back to the files; lookup fails with 3.
st=$("$DIRCAT_BIN/dircat" status -c "$d/catalogd.conf")
check_eq "status exit 2 (CRITICAL) when down" "$?" 2
check_match "status says the daemon is down" "$st" "NOT RUNNING"
check_match "status from the catalog file" "$st" "^serial: 1$"
"$DIRCAT_BIN/dircat" lookup -c "$d/catalogd.conf" jsmith@example.com >/dev/null 2>&1
check_eq "lookup exit 3 when down" "$?" 3
