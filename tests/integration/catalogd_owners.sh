#!/bin/bash
# catalogd_owners.sh - a socket group or owner the account running
# catalogd cannot set is a configuration error found before anything is
# opened: `catalogd -t` run as that account fails with file:line and exit
# 78, so does the real start (no half-started daemon, no "chown:
# Operation not permitted"), and a reload that adds such a socket is
# refused while the running sockets go on answering.  With the group in
# the account's group list (as `adduser dircat postfix` puts it there) the
# same file passes.  Needs root (setpriv) and the postfix group.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
need setpriv
getent group postfix >/dev/null || { fail "no postfix group (scripts/deps.sh test)"; exit 1; }

d=$(tmpdir)
catd_init "$d"
chmod 644 "$d/signer.pub"
conf=$d/owners.conf
{
	echo "catalog = $d/var/catalog.mdb"
	echo "catalog_id = corp"
	echo "inbox = $d/inbox"
	echo "trusted_key = $d/signer.pub"
	echo "[socket control]"
	echo "path = $d/run/ctl.sock"
	echo "protocol = control"
	echo "[socket map]"
	echo "path = $d/run/map.sock"
	echo "protocol = socketmap"
	echo "group = postfix"
	echo "mode = 0660"
} >"$conf"
chmod 644 "$conf"
gline=$(grep -n '^group = postfix' "$conf" | cut -d: -f1)
without=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
with=(setpriv --reuid=nobody --regid=nogroup --groups=postfix)
want="$conf:$gline: \\[socket map\\] group: catalogd runs as nobody, which is not a member of group postfix"

out=$("${without[@]}" "$DIRCAT_BIN/catalogd" -c "$conf" -t 2>&1)
check_eq "-t as an account outside the group: exit 78" "$?" 78
check_match "-t names file:line of the group setting" "$out" "$want"
check_match "-t says how to fix it" "$out" "adduser nobody postfix"

out=$("${without[@]}" "$DIRCAT_BIN/catalogd" -f -c "$conf" 2>&1)
check_eq "the real start: exit 78 (no restart loop under systemd)" "$?" 78
check_match "the real start: the same file:line message" "$out" "$want"
case $out in
*chown*) fail "the real start: no chown error ($out)" ;;
*) pass "the real start: no chown error" ;;
esac
check "the real start: no socket left behind" \
	test ! -e "$d/run/map.sock" -a ! -e "$d/run/ctl.sock"

out=$("${with[@]}" "$DIRCAT_BIN/catalogd" -c "$conf" -t 2>&1)
check_eq "-t with postfix among the account's groups: exit 0 ($out)" "$?" 0

out=$("$DIRCAT_BIN/catalogd" -c "$conf" -t 2>&1)
check_match "-t as root without 'user' says the groups were not checked" \
	"$out" "socket owners and groups not checked"

# owner: another account cannot be given a socket.
sed "s/^group = postfix\$/owner = daemon/" "$conf" >"$d/owner.conf"
chmod 644 "$d/owner.conf"
out=$("${with[@]}" "$DIRCAT_BIN/catalogd" -c "$d/owner.conf" -t 2>&1)
check_eq "owner of another account: exit 78" "$?" 78
check_match "owner of another account: file:line" "$out" \
	"owner.conf:$gline: \\[socket map\\] owner: catalogd runs as nobody"

# A reload that adds a socket with a group the account lacks is refused;
# the running sockets keep answering.
sed '/^group = postfix$/d' "$conf" >"$d/run.conf"
chmod 644 "$d/run.conf"
"${without[@]}" "$DIRCAT_BIN/catalogd" -f -c "$d/run.conf" >"$d/run.log" 2>&1 &
pid=$!
track_pid "$pid"
check "started without the group setting" wait_for 10 test -S "$d/run/map.sock"
cat >>"$d/run.conf" <<CONF
[socket policy]
path = $d/run/policy.sock
protocol = policy
group = postfix
CONF
pline=$(grep -n '^group = postfix' "$d/run.conf" | cut -d: -f1)
kill -HUP "$pid"
check "reload with a group the account lacks: refused with file:line" \
	wait_for 10 grep -q "reload refused.*run.conf:$pline: \\[socket policy\\] group: catalogd runs as nobody" "$d/run.log"
check "the refused socket was not made" test ! -e "$d/run/policy.sock"
check_eq "the running map socket still answers" \
	"$("$CATD_TOOLS/catdclient" sm "$d/run/map.sock" recipients a@example.com 2>&1)" \
	"TEMP no catalog installed"
stop_pid "$pid"
wait "$pid" 2>/dev/null
exit 0
