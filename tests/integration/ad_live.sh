#!/bin/bash
# ad_live.sh - the watch mode following a real Samba AD DC with
# live = usn, as the least-privileged service account of the shipped
# example (docs/examples/activedirectory.conf, LDAPS, simple bind).  After
# each change - an account disabled, a proxy address removed, every SMTP
# address removed (the entry leaves the filter), an object moved between
# OUs (and its manager with it), a new mailbox, an object deleted (its
# tombstone invisible to the account: found by the sweep), a
# re-enabled account, a manager whose CN holds a filter wildcard moved -
# the live catalog equals what a batch run of the
# same configuration writes (dircat dump --full, owners included).  Then
# the aggregator killed (kill -9) and restarted from its cookie; the DC
# restarted under it; and a stored cookie of another DC (invocationId)
# leading to a full refresh.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/samba-lib.sh"
need samba mdb_dump mdb_load
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)
B=$SAMBA_BASE

samba_start "$d/dc" || { fail "Samba AD DC starts"; exit 1; }
pass "Samba AD DC $SAMBA_HOST in namespace $SAMBA_NS"
mkdir -p "$d/etc" "$d/b" "$d/w"
cp "$SAMBA_CA" "$d/etc/ad-ca.pem"
(umask 077; cp "$SAMBA_SVC_PW" "$d/etc/ad.pw")
# mkconf DIR [top-level lines] [source lines]: the example, its paths in
# DIR.
mkconf() {
	sed -e "s|/etc/dircat/|$d/etc/|g" -e "s|/var/lib/dircat/|$1/|g" \
		-e "s|^max_shrink = .*|max_shrink = 30%\\n${2:-}|" \
		-e "s|^\\[source ad\\]|&\\n${3:-}|" \
		"$DIRCAT_TOP/docs/examples/activedirectory.conf" >"$1/agg.conf"
}
mkconf "$d/b"
# The watch lines of docs/sources.md, their intervals shortened for the
# test.
live=$(awk '$0 == "<!-- test: ad_live usn -->" { on = 1; next }
	on && /^```/ { if (++fence == 2) exit; next }
	on && fence == 1 { print }' "$DIRCAT_TOP/docs/sources.md" |
	sed -e 's/^usn_interval = .*/usn_interval = 1s/' \
	    -e 's/^usn_sweep_interval = .*/usn_sweep_interval = 2s/' |
	awk '{ printf "%s%s", sep, $0; sep = "\\n" }')
check_match "docs/sources.md has the live = usn lines" "$live" '^live = usn'
mkconf "$d/w" "watch_status_file = $d/w/status\\npublish_interval = 50ms\\nreconcile_interval = 0\\nshrink_window = 1h" \
	"$live"
samba_ns "$agg" -c "$d/w/agg.conf" -t >"$d/t.out" 2>&1
check_eq "live = usn configuration passes -t" "$?" 0

watch_pid=
start_watch() {
	# ip itself, not a function: $! must be the aggregator (ip execs it).
	ip netns exec "$SAMBA_NS" "$agg" -c "$d/w/agg.conf" --watch -v \
		>>"$d/watch.log" 2>&1 &
	watch_pid=$!
	track_pid "$watch_pid"
}
wserial() { sed -n 's/^serial=//p' "$d/w/status" 2>/dev/null; }
bdump() { "$dircat" dump --full "$d/b/catalog.mdb" 2>&1; }
wdump() { "$dircat" dump --full "$d/w/catalog.mdb" 2>&1; }
# equal NAME [SECONDS]: a batch run, then wait for the live catalog to be
# the same.
equal() {
	local want got i t0
	t0=$(date +%s.%N)
	samba_ns "$agg" -c "$d/b/agg.conf" --force >>"$d/batch.log" 2>&1
	want=$(bdump)
	for i in $(seq $((${2:-15} * 10))); do
		got=$(wdump)
		[ "$got" == "$want" ] && break
		sleep 0.1
	done
	if [ "$got" == "$want" ]; then
		pass "$1 ($(echo "$(date +%s.%N) - $t0" | bc | cut -c1-4)s)"
	else
		fail "$1"
		diff <(echo "$want") <(echo "$got") | head -n 10 | sed 's/^/    /'
		tail -n 5 "$d/watch.log" | sed 's/^/    /'
	fi
}
has() { wdump | grep -q "^$1	"; }
published() { [ "$(wserial)" -gt 0 ] 2>/dev/null; }

start_watch
if wait_for 60 published; then
	pass "watch mode (live = usn) made the first catalog, serial $(wserial)"
else
	fail "watch mode published"; tail -n 20 "$d/watch.log"; exit 1
fi
equal "full refresh: the live catalog equals a batch run"
n=$(wdump | grep -c .)
check "full refresh: more than 1100 records ($n)" test "$n" -gt 1100

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Mary Jones,OU=Staff,$B
changetype: modify
replace: userAccountControl
userAccountControl: 546
-
EOF
equal "account disabled (userAccountControl 546): gone from the live catalog"
has mary.jones@example.com && fail "mary.jones@ is gone" || pass "mary.jones@ is gone"

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=John Smith,OU=Staff,$B
changetype: modify
delete: proxyAddresses
proxyAddresses: smtp:jsmith@example.com
-
EOF
equal "one proxy address removed: only that address goes"
has jsmith@example.com && fail "jsmith@ is gone, john.smith@ stays" ||
	{ has john.smith@example.com && pass "jsmith@ is gone, john.smith@ stays"; }

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Rita Cloud,OU=Staff,$B
changetype: modify
delete: proxyAddresses
-
EOF
equal "every address removed (the entry leaves the filter): gone"

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Room 101,OU=Resources,$B
changetype: modrdn
newrdn: CN=Room 101
deleteoldrdn: 1
newsuperior: OU=Munich,OU=Staff,$B

dn: CN=Lee\, Ann,OU=Munich,OU=Staff,$B
changetype: modrdn
newrdn: CN=Lee\, Ann
deleteoldrdn: 1
newsuperior: OU=Staff,$B
EOF
equal "moved between OUs (a mailbox, and the manager of a group): unchanged"
wdump | grep -q $'^finance@example.com\tgroup\tFinance,alee\t' &&
	pass "the moved manager still owns finance@" ||
	fail "the moved manager still owns finance@"

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Nina New,OU=Staff,$B
changetype: add
objectClass: user
sAMAccountName: nnew
userAccountControl: 544
proxyAddresses: SMTP:nina.new@example.com
msExchRecipientTypeDetails: 1
EOF
equal "a new mailbox: in"

# A hostile name: a manager whose CN holds a filter wildcard (Samba
# refuses parentheses in a name; the unit test covers them).  When it
# moves, the groups naming it are found by a filter with its DN in it:
# escaped, it matches exactly them; unescaped it would be a substring
# match, which DN attributes do not support.
samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Evil* Twin,OU=Staff,$B
changetype: add
objectClass: user
sAMAccountName: evil
userAccountControl: 544
proxyAddresses: SMTP:evil@example.com

dn: CN=Shady,OU=Groups,$B
changetype: add
objectClass: group
sAMAccountName: Shady
groupType: 8
proxyAddresses: SMTP:shady@example.com
managedBy: CN=Evil* Twin,OU=Staff,$B
EOF
equal "a manager named with a filter wildcard (CN=Evil* Twin) and its group: in"
samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Evil* Twin,OU=Staff,$B
changetype: modrdn
newrdn: CN=Evil* Twin
deleteoldrdn: 1
newsuperior: OU=Munich,OU=Staff,$B
EOF
equal "that manager moved: its group still names it (escaped filter)"
wdump | grep -q $'^shady@example.com\tgroup\tShady,evil\t' &&
	pass "shady@ still owned by evil after the move" ||
	fail "shady@ still owned by evil after the move"

# A deletion: the tombstone moves to CN=Deleted Objects, which the
# service account cannot read; the sweep finds the entry missing.
samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Dana Hidden,OU=Resources,$B
changetype: delete

dn: CN=Press,CN=Microsoft Exchange System Objects,$B
changetype: delete
EOF
equal "objects deleted (a mailbox, a public folder): gone after the sweep"
has dana.hidden@example.com && fail "dana.hidden@ is gone" || pass "dana.hidden@ is gone"
grep -q 'a sweep for deletions is due' "$d/watch.log" &&
	pass "the deletion was found by a sweep (writes the account cannot see)" ||
	fail "the deletion was found by a sweep"

samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Mary Jones,OU=Staff,$B
changetype: modify
replace: userAccountControl
userAccountControl: 544
-
EOF
equal "account enabled again: back"

# --- kill -9 and a restart from the cookie -----------------------------------
kill -KILL "$watch_pid"; wait "$watch_pid" 2>/dev/null
samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Bulk User 0001,OU=Bulk,$B
changetype: modify
replace: userAccountControl
userAccountControl: 546
-

dn: CN=Nina New,OU=Staff,$B
changetype: modify
add: proxyAddresses
proxyAddresses: smtp:nina@example.org
-
EOF
: >"$d/watch.log"
start_watch
equal "killed (-9), changed meanwhile, restarted: caught up from the cookie"
grep -qi 'full refresh' "$d/watch.log" &&
	fail "restart from the cookie: no full refresh" ||
	pass "restart from the cookie: no full refresh"

# --- the DC restarted under the watch ---------------------------------------
samba_stop
sleep 1
samba_restart || { fail "DC restarts"; exit 1; }
samba_admin_modify >>"$d/ldap.log" 2>&1 <<EOF
dn: CN=Bulk User 0002,OU=Bulk,$B
changetype: modify
delete: proxyAddresses
-
EOF
equal "DC restarted: the watch reconnects and catches up" 30

# --- a cookie of another DC: a full refresh, never a gap ---------------------
# USNs are the DC's own.  The stored cookie rewritten with another DC's
# invocationId (as when the DC was restored from a backup, or a failover
# reached another DC) behind a valid checksum.
stop_pid "$watch_pid"; wait "$watch_pid" 2>/dev/null
key=$(printf 'x.live.cookie.0' | od -An -tx1 | tr -d ' \n')
mdb_dump -n -s meta "$d/w/catalog.mdb" >"$d/meta.dump"
old=$(awk -v k=" $key" '$0 == k { getline; print substr($0, 2); exit }' "$d/meta.dump")
cookie=${old:64}
if [ "${#cookie}" = 58 ] && [ "${cookie:0:8}" = 55534e31 ]; then
	cookie=${cookie:0:8}$(openssl rand -hex 16)${cookie:40}
	sum=$(printf "$(sed 's/../\\x&/g' <<<"$cookie")" | sha256sum | cut -c1-64)
	# Replace the value line that followed the key.
	awk -v k=" $key" -v v=" $sum$cookie" '
		skip { skip = 0; next }
		$0 == k { print; print v; skip = 1; next } { print }' \
		"$d/meta.dump" >"$d/meta.new"
	mdb_load -n -s meta -f "$d/meta.new" "$d/w/catalog.mdb" 2>>"$d/ldap.log"
	: >"$d/watch.log"
	start_watch
	if wait_for 30 grep -q 'another domain controller answers' "$d/watch.log"; then
		pass "a cookie of another DC (invocationId): says so, reads everything again"
	else
		fail "a cookie of another DC: a full refresh"; tail -n 5 "$d/watch.log"
	fi
	equal "after that full refresh: equal to a batch run"
else
	fail "the stored uSNChanged cookie has its format (got ${#cookie} hex digits)"
fi
kill -TERM "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null
samba_stop
exit 0
