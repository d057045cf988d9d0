#!/bin/bash
# watch_slapd.sh - the aggregator's watch mode against a private slapd with
# the syncprov overlay (RFC 4533): after every kind of change - add,
# modify (address added, removed; account disabled; formula no longer
# matching), rename, delete, owner changes (login renamed, owner entry
# gone, owner entry added later), an address claimed by two entries
# moving between them - the live catalog equals what a batch run of the
# same configuration writes (dircat dump --full, owners included).  Then
# kill -9 of the aggregator and a restart of slapd in the middle of a
# stream of changes; a cookie the server refuses (e-syncRefreshRequired)
# and a garbled one; a reconcile that finds a planted difference and
# corrects it; the max_shrink gate holding a burst of deletions until
# SIGUSR1; --once; no search beyond the persistent one while idle.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slapd-lib.sh"
need slapd ldapadd ldapmodify ldapdelete mdb_load

agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)
B=dc=example,dc=com

# A small session log and no present phase: a cookie older than 20
# changes is refused with e-syncRefreshRequired.
SLAPD_SYNCPROV=1 SLAPD_SESSIONLOG=20 SLAPD_NOPRESENT=1 \
	slapd_start "$d/slapd" || { fail "slapd with syncprov starts"; exit 1; }
pass "private slapd with syncprov on $SLAPD_URI"

cat >"$d/dir.ldif" <<LDIF
dn: ou=people,$B
objectClass: organizationalUnit
ou: people

dn: ou=groups,$B
objectClass: organizationalUnit
ou: groups

dn: cn=Ann Lee,ou=people,$B
objectClass: inetOrgPerson
cn: Ann Lee
sn: Lee
uid: alee
mail: ann.lee@example.com

dn: uid=jsmith,ou=people,$B
objectClass: inetOrgPerson
cn: John Smith
sn: Smith
uid: jsmith
mail: john.smith@example.com
mail: dup@example.com

dn: uid=zed,ou=people,$B
objectClass: inetOrgPerson
cn: Zed
sn: Zed
uid: zed
mail: zed@example.com
mail: dup@example.com

dn: cn=staff,ou=groups,$B
objectClass: groupOfNames
objectClass: extensibleObject
cn: staff
mail: staff@example.com
member: uid=jsmith,ou=people,$B
owner: cn=Ann Lee,ou=people,$B
owner: cn=Late Comer,ou=people,$B
LDIF
slapd_load "$d/dir.ldif"
for i in $(seq 1 40); do
	printf 'dn: uid=u%d,ou=people,%s\nobjectClass: inetOrgPerson\ncn: U%d\nsn: U\nuid: u%d\nmail: u%d@example.com\n\n' \
		"$i" "$B" "$i" "$i" "$i"
done >"$d/bulk.ldif"
slapd_load "$d/bulk.ldif"

mkconf() {	# DIR [extra top-level lines]
	mkdir -p "$1"
	cat >"$1/agg.conf" <<CONF
catalog = $1/catalog.mdb
catalog_id = live
local_domains = example.com
min_records = 1
max_shrink = 30%
${2:-}

[source people]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = $B
filter = (|(objectClass=inetOrgPerson)(objectClass=groupOfNames))
address_attributes = mail, mailAlternateAddress
login_attribute = uid
owner_attribute = owner
select = SELECT @IsAvailable(mail) & employeeType != "disabled"
    & dircatNoSync != "TRUE"
person = SELECT @IsMember("inetOrgPerson"; objectClass)
group = SELECT @IsMember("groupOfNames"; objectClass)
CONF
}
mkconf "$d/b"
mkconf "$d/w" "watch_status_file = $d/w/status
metrics_file = $d/w/metrics.prom
publish_interval = 50ms
reconcile_interval = 0
shrink_window = 1h"

watch_pid=
start_watch() {	# [ARGS]
	"$agg" -c "$d/w/agg.conf" --watch -v "$@" >>"$d/watch.log" 2>&1 &
	watch_pid=$!
	track_pid "$watch_pid"
}
wserial() { sed -n 's/^serial=//p' "$d/w/status" 2>/dev/null; }
bdump() { "$dircat" dump --full "$d/b/catalog.mdb" 2>&1; }
wdump() { "$dircat" dump --full "$d/w/catalog.mdb" 2>&1; }
# equal NAME: a batch run, then wait (10 s at most) for the live catalog
# to be the same.
equal() {
	local want got i
	"$agg" -c "$d/b/agg.conf" --force >>"$d/batch.log" 2>&1
	want=$(bdump)
	for i in $(seq 100); do
		got=$(wdump)
		[ "$got" == "$want" ] && break
		sleep 0.1
	done
	if [ "$got" == "$want" ]; then
		pass "$1"
	else
		fail "$1"
		diff <(echo "$want") <(echo "$got") | head -n 10 | sed 's/^/    /'
	fi
}
mod() { ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" >>"$d/ldap.log" 2>&1; }

start_watch
if wait_for 20 grep -q '^serial=[1-9]' "$d/w/status"; then
	pass "watch mode started and published serial $(wserial)"
else
	fail "watch mode published"; tail -n 20 "$d/watch.log"
fi
equal "initial refresh equals a batch run"
check_match "owner DN resolved to the login of the entry it names" \
	"$(wdump | grep '^staff@')" $'staff@example.com\tgroup\talee\t'
check_match "an address claimed twice goes to the first DN (uid=jsmith)" \
	"$(wdump | grep '^dup@')" $'dup@example.com\tperson\tjsmith\t'

mod <<LDIF
dn: uid=new1,ou=people,$B
changetype: add
objectClass: inetOrgPerson
cn: New One
sn: One
uid: new1
mail: new.one@example.com
mailAlternateAddress: n1@example.com
LDIF
equal "add: a new entry's addresses"

mod <<LDIF
dn: uid=new1,ou=people,$B
changetype: modify
add: mailAlternateAddress
mailAlternateAddress: one@example.com
LDIF
equal "modify: an address added"

mod <<LDIF
dn: uid=new1,ou=people,$B
changetype: modify
delete: mailAlternateAddress
mailAlternateAddress: n1@example.com
LDIF
equal "modify: an address removed"

mod <<LDIF
dn: uid=u1,ou=people,$B
changetype: modify
add: employeeType
employeeType: disabled
LDIF
equal "modify: an account disabled leaves the catalog"

mod <<LDIF
dn: uid=u2,ou=people,$B
changetype: modify
replace: mail
mail: u2@elsewhere.example
LDIF
equal "modify: an address moved out of local_domains"

mod <<LDIF
dn: uid=u3,ou=people,$B
changetype: modify
add: objectClass
objectClass: dircatMailIn
-
add: dircatNoSync
dircatNoSync: TRUE
LDIF
equal "modify: the select formula no longer matches"

mod <<LDIF
dn: cn=Ann Lee,ou=people,$B
changetype: modify
replace: uid
uid: annlee
LDIF
equal "owner: the owner's login renamed, the group's owners follow"

mod <<LDIF
dn: cn=Ann Lee,ou=people,$B
changetype: modrdn
newrdn: cn=Ann Lee-Smith
deleteoldrdn: 1
LDIF
equal "rename (modrdn): the owner DN no longer names it"

mod <<LDIF
dn: cn=Late Comer,ou=people,$B
changetype: add
objectClass: inetOrgPerson
cn: Late Comer
sn: Comer
uid: lcomer
LDIF
equal "owner: an entry added later that an owner DN names"

ldapdelete -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" \
	"cn=Late Comer,ou=people,$B" >>"$d/ldap.log" 2>&1
equal "owner: the owner entry deleted"

mod <<LDIF
dn: uid=jsmith,ou=people,$B
changetype: modify
delete: mail
mail: dup@example.com
LDIF
equal "duplicate: the address moves to the other claimant"
check_match "dup@ now belongs to zed" "$(wdump | grep '^dup@')" $'\tzed\t'
mod <<LDIF
dn: uid=jsmith,ou=people,$B
changetype: modify
add: mail
mail: dup@example.com
LDIF
equal "duplicate: claimed again, it moves back"

mod <<LDIF
dn: uid=zed,ou=people,$B
changetype: delete
LDIF
equal "delete: an entry's addresses leave, and only those"

# --- kill -9 in the middle of a stream of changes -----------------------
for i in $(seq 100 299); do
	printf 'dn: uid=s%d,ou=people,%s\nchangetype: add\nobjectClass: inetOrgPerson\ncn: S%d\nsn: S\nuid: s%d\nmail: s%d@example.com\n\n' \
		"$i" "$B" "$i" "$i" "$i"
done >"$d/stream.ldif"
mod <"$d/stream.ldif" &
stream=$!
sleep 0.3
kill -KILL "$watch_pid"
wait "$watch_pid" 2>/dev/null
wait "$stream"
start_watch
equal "kill -9 mid-stream, restarted: no change lost (200 adds)"
grep -q 'from the stored cookie' "$d/watch.log" &&
	pass "the restart resumed from the stored cookie" ||
	fail "the restart resumed from the stored cookie"

# --- slapd restarted in the middle of a stream --------------------------
for i in $(seq 100 199); do
	printf 'dn: uid=s%d,ou=people,%s\nchangetype: modify\nreplace: mail\nmail: s%d.b@example.com\n\n' \
		"$i" "$B" "$i"
done >"$d/stream2.ldif"
mod <"$d/stream2.ldif" &
stream=$!
sleep 0.2
wait "$stream"
slapd_stop
SLAPD_SYNCPROV=1 SLAPD_SESSIONLOG=20 SLAPD_NOPRESENT=1 slapd -f "$d/slapd/slapd.conf" \
	-h "$SLAPD_URI $SLAPD_LDAPI" >>"$d/slapd/slapd.log" 2>&1
wait_for 10 test -s "$d/slapd/slapd.pid"
SLAPD_PID=$(cat "$d/slapd/slapd.pid")
track_pid "$SLAPD_PID"
wait_for 10 ldapsearch -x -H "$SLAPD_URI" -b "" -s base
mod <<LDIF
dn: uid=s100,ou=people,$B
changetype: modify
replace: mail
mail: after.restart@example.com
LDIF
equal "slapd restarted mid-stream: the watch reconnects and catches up"
grep -q 'reconnecting in' "$d/watch.log" &&
	pass "a lost session is retried with a delay" ||
	fail "a lost session is retried with a delay"

# --- a cookie the server refuses: a full refresh, never a gap -----------
stop_pid "$watch_pid"
for i in $(seq 200 229); do
	printf 'dn: uid=s%d,ou=people,%s\nchangetype: delete\n\n' "$i" "$B"
done | mod
: >"$d/watch.log"
start_watch
equal "30 deletions past a session log of 20: caught up all the same"

stop_pid "$watch_pid"
printf 'x.live.cookie.0\nrid=000,csn=garbage\n' |
	mdb_load -n -T -s meta "$d/w/catalog.mdb" 2>>"$d/ldap.log"
printf 'dn: uid=s241,ou=people,%s\nchangetype: delete\n\n' "$B" | mod
: >"$d/watch.log"
start_watch
equal "a garbled cookie: the catalog still equals a full run"
check_match "the damaged cookie is not sent, everything is read" \
	"$(cat "$d/watch.log")" 'cookie of source people is damaged: reading everything again'
check_match "a full refresh follows" "$(cat "$d/watch.log")" 'people: full refresh' 

# --- steady state: the watch sleeps ----------------------------------------
sleep 1
cpu0=$(awk '{print $14 + $15}' "/proc/$watch_pid/stat")
sleep 3
cpu1=$(awk '{print $14 + $15}' "/proc/$watch_pid/stat")
check "idle for 3 s: the watch used under 0.05 s of CPU" test $((cpu1 - cpu0)) -le 5

# --- the max_shrink gate holds a burst of deletions ---------------------
for i in $(seq 100 180); do
	printf 'dn: uid=s%d,ou=people,%s\nchangetype: delete\n\n' "$i" "$B"
done | mod
if wait_for 10 grep -q '^state=held' "$d/w/status"; then
	pass "a burst of deletions beyond max_shrink holds publishing"
else
	fail "a burst of deletions beyond max_shrink holds publishing"
fi
check_match "the status says why" "$(grep held_reason "$d/w/status")" 'max_shrink = 30%'
out=$("$dircat" status --watch "$d/w/status" --nagios)
check_eq "dircat status --watch: CRITICAL while held" "$?" 2
check_match "... with the reason" "$out" '^DIRCAT CRITICAL - watch mode held by a safety gate, serial [0-9]+: the catalog would shrink'
held=$(wserial)
sleep 1
check_eq "the catalog stays at its serial while held" "$(wserial)" "$held"
kill -USR1 "$watch_pid"
equal "SIGUSR1: published after all"
out=$("$dircat" status --watch "$d/w/status")
check_eq "dircat status --watch: OK when running" "$?" 0
check_match "... the mode" "$out" '^mode: watch$'
check_match "... the last change (wall clock)" "$out" '^last_change: [0-9]{10}\.'
check_match "... the lag to the published serial" "$out" '^lag_ms: [0-9.]+$'
check_match "... the last reconcile" "$out" '^reconcile: never$'

# --- a reconcile finds a planted difference and corrects it -------------
stop_pid "$watch_pid"
sed -i 's/^reconcile_interval = 0/reconcile_interval = 1s/' "$d/w/agg.conf"
start_watch
if wait_for 20 grep -q '^reconcile=equal' "$d/w/status"; then
	pass "a reconcile finds the live catalog equal to a full read"
else
	fail "a reconcile finds the live catalog equal to a full read"
fi
printf '%s\n' planted@example.com '\01\00\00\00\00' |
	mdb_load -n -T -s records "$d/w/catalog.mdb" 2>>"$d/ldap.log"
if wait_for 20 grep -q '^reconcile=.*extra' "$d/w/status"; then
	pass "a reconcile reports a record the directory does not have"
else
	fail "a reconcile reports a record the directory does not have"
	grep -E 'reconcile' "$d/w/status" "$d/watch.log" | tail -n 5
fi
equal "and the full refresh that follows corrects it"
if wait_for 10 grep -q '^reconcile=equal' "$d/w/status"; then
	pass "the next reconcile finds the catalog equal to a full read"
else
	fail "the next reconcile finds the catalog equal to a full read"
fi
check_match "metrics count the differences" "$(cat "$d/w/metrics.prom")" \
	'^dircat_aggregator_watch_reconcile_differences_total [1-9]'
stop_pid "$watch_pid"

# --- --once catches up and exits ----------------------------------------
printf 'dn: uid=s190,ou=people,%s\nchangetype: delete\n\n' "$B" | mod
"$agg" -c "$d/w/agg.conf" --once >"$d/once.log" 2>&1
check_eq "--once exits 0 when caught up" "$?" 0
equal "--once: the catalog equals a full run"

# --- the server refuses the cookie (e-syncRefreshRequired) --------------
# syncprov asks for a full refresh when a search's base goes away: a
# watch on ou=groups, while ou=groups is renamed away and back.
mkconf "$d/w2" "watch_status_file = $d/w2/status
reconcile_interval = 0"
mkconf "$d/b2"
sed -i "s|^base = $B|base = ou=groups,$B|" "$d/w2/agg.conf" "$d/b2/agg.conf"
"$agg" -c "$d/w2/agg.conf" --watch -v >"$d/watch2.log" 2>&1 &
w2=$!
track_pid "$w2"
wait_for 20 grep -q '^serial=[1-9]' "$d/w2/status"
mod <<LDIF
dn: ou=groups,$B
changetype: modrdn
newrdn: ou=teams
deleteoldrdn: 1
LDIF
mod <<LDIF
dn: ou=teams,$B
changetype: modrdn
newrdn: ou=groups
deleteoldrdn: 1
LDIF
wait_for 20 grep -q 'e-syncRefreshRequired' "$d/watch2.log"
check_match "a lost search base: the server refuses the session" \
	"$(cat "$d/watch2.log")" 'refused the sync cookie \(e-syncRefreshRequired\)'
mod <<LDIF
dn: cn=staff,ou=groups,$B
changetype: modify
replace: mail
mail: team@example.com
LDIF
"$agg" -c "$d/b2/agg.conf" --force >>"$d/batch.log" 2>&1
want=$("$dircat" dump --full "$d/b2/catalog.mdb")
for i in $(seq 150); do
	got=$("$dircat" dump --full "$d/w2/catalog.mdb")
	[ "$got" == "$want" ] && break
	sleep 0.1
done
check_eq "and the full refresh that follows equals a batch run" "$got" "$want"
check_match "after a second full refresh" \
	"$(grep -c 'people: full refresh' "$d/watch2.log")" '^[2-9]'
