#!/bin/bash
# aggregator.sh - dircat-aggregator against a real private slapd: the
# sample organisation, paging past a size limit, and every failure path
# (the previous catalog must survive each one).
# run.sh: beside others
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slapd-lib.sh"
need slapd ldapadd ldapmodify flock

data=$DIRCAT_TOP/tests/integration/data
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)

slapd_start "$d/slapd" || { fail "slapd starts"; exit 1; }
pass "private slapd started on $SLAPD_URI"
slapd_load "$data/sample.ldif" || fail "sample directory loaded"

mkconf() {	# mkconf OUT [sed expressions...]
	local out=$1; shift
	sed -e "s|@DIR@|$d|g" -e "s|@URI@|$SLAPD_URI|g" \
	    -e "s|@BINDPW@|$SLAPD_BINDPW|g" "$@" "$data/sample.conf.in" >"$out"
}
mkconf "$d/agg.conf"
serial() { sed -n 's/.*"serial_after": \([0-9]*\).*/\1/p' "$d/report.json"; }

# --- the sample organisation -------------------------------------------
"$agg" -c "$d/agg.conf" >"$d/out" 2>"$d/err"
check_eq "first run exits 0" "$?" 0
check_eq "quiet on success (no stdout without -v)" "$(cat "$d/out")" ""
check_eq "silent on success for cron (nothing on stderr either)" "$(cat "$d/err")" ""
check_eq "dump equals the expected list exactly" \
	"$("$dircat" dump "$d/catalog.mdb")" "$(cat "$data/sample.expected")"
check_eq "first run makes serial 1" "$(serial)" 1
full=$("$dircat" dump --full "$d/catalog.mdb")
check_match "person owner login from uid" "$full" $'^john\\.smith@example\\.com\tperson\tjsmith\t$'
check_match "group owner from owner DN" "$full" $'^staff@example\\.com\tgroup\tjsmith\t$'
check_match "mail-in owners listed" "$full" $'^helpdesk@example\\.com\tmailin\tmjones,jsmith\t$'
check_match "catch-all from mailLocalAddress" "$full" $'^@example\\.org\tmailin'
json=$(cat "$d/report.json")
check_match "report: conflict counted" "$json" '"conflicts": 1,'
check_match "report: both entries of the conflict named" "$json" '"kept": "uid=dlee,ou=people,dc=example,dc=com".*"left_out": "cn=shared,ou=groups,dc=example,dc=com"'
check_match "report: foreign domain left out" "$json" '"foreign_domain": 1'
check_match "report: invalid address left out" "$json" '"invalid_address": 1'
check_match "report: per-kind selection" "$json" '"selected": \{"person": 5, "group": 2, "mailin": 2\}'
check_match "report: not selected (disabled, no-sync, no mail)" "$json" '"not_selected": 5'
noleak=$("$dircat" dump --full "$d/catalog.mdb"; strings "$d/catalog.mdb")
if grep -qE 'John Smith|Smith,|555 0100|ou=people|cn=staff|employeeType' <<<"$noleak"; then
	fail "no DNs, names or other attributes stored"
else
	pass "no DNs, names or other attributes stored"
fi

out=$("$agg" -c "$d/agg.conf" -v)
check_eq "unchanged directory: exit 0" "$?" 0
check_match "unchanged directory keeps the serial" "$out" 'unchanged at serial 1'
check_match "-v report shows counts" "$out" 'selected: 5 persons, 2 groups, 2 mail-in'

# --- a change: serial 2 and history --------------------------------------
cat >"$d/change.ldif" <<LDIF
dn: uid=newhire,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: newhire
cn: New Hire
sn: Hire
mail: new.hire@example.com
LDIF
slapd_ldapmodify "$d/change.ldif"
out=$("$agg" -c "$d/agg.conf" --dry-run)
check_eq "dry run exits 0" "$?" 0
check_match "dry run names the added address" "$out" 'would add +new\.hire@example\.com'
check_eq "dry run writes nothing" "$("$dircat" dump "$d/catalog.mdb")" "$(cat "$data/sample.expected")"
"$agg" -c "$d/agg.conf"
check_eq "changed directory: exit 0" "$?" 0
check_eq "changed directory: serial 2" "$(serial)" 2
check_match "new address published" "$("$dircat" dump "$d/catalog.mdb")" $'^new\\.hire@example\\.com\tperson$'
cp "$d/catalog.mdb" "$d/saved.mdb"
before=$("$dircat" dump "$d/catalog.mdb")

# Each failure below must leave this catalog exactly as it is.
unchanged() { check_eq "$1: previous catalog still there" "$("$dircat" dump "$d/catalog.mdb")" "$before"; }

# --- failure paths --------------------------------------------------------
port=$(free_port)
mkconf "$d/down.conf" -e "s|^uri = .*|uri = ldap://127.0.0.1:$port/|" -e "s|network_timeout|x|"
err=$("$agg" -c "$d/down.conf" 2>&1)
check_eq "server down: exit 69" "$?" 69
check_match "server down: one line saying what failed" "$err" "source corp \\(ldap://127.0.0.1:$port/\\): bind: Can't contact LDAP server"
check_match "server down: the first line says what failed" "$(head -n 1 <<<"$err")" "bind: Can't contact LDAP server"
check_match "server down: summary with the exit status" "$err" "run failed after [0-9.]+s, exit 69 \\(an LDAP source is unavailable or failed\\)"
check_match "server down: summary names the failed source" "$err" "  source corp: FAILED"
check_match "server down: summary says what is still published" "$err" "still published: catalog example serial [0-9]+, [0-9]+ addresses, made 20[0-9-]+T"
check "server down: at most five lines for cron's mail" test "$(wc -l <<<"$err")" -le 5
check_eq "server down: report_json says the serial still published" \
	"$(serial)" 2
check_match "server down: report_json says the run failed" \
	"$(cat "$d/report.json")" '"result": "failed"'
unchanged "server down"

(umask 077; printf wrong >"$d/wrong.pw")
mkconf "$d/wrongpw.conf" -e "s|^bind_password_file = .*|bind_password_file = $d/wrong.pw|"
err=$("$agg" -c "$d/wrongpw.conf" 2>&1)
check_eq "wrong password: exit 69" "$?" 69
check_match "wrong password: says so" "$err" 'bind: Invalid credentials'
unchanged "wrong password"

cp "$SLAPD_BINDPW" "$d/open.pw"; chmod 644 "$d/open.pw"
mkconf "$d/openpw.conf" -e "s|^bind_password_file = .*|bind_password_file = $d/open.pw|"
err=$("$agg" -c "$d/openpw.conf" 2>&1)
check_eq "password file readable by others: exit 78" "$?" 78
check_match "password file readable by others: refused with its mode" "$err" "open.pw: mode 0644 lets others read or change it"
unchanged "readable password file"

mkconf "$d/pwinconf.conf" -e "s|^bind_password_file = .*|bind_password = secret|"
err=$("$agg" -c "$d/pwinconf.conf" 2>&1)
check_eq "password in the configuration: exit 78" "$?" 78
check_match "password in the configuration: refused" "$err" 'bind_password: a password does not belong in the configuration'

mkconf "$d/badfilter.conf" -e "s|^filter = .*|filter = (objectClass=inetOrgPerson|"
err=$("$agg" -c "$d/badfilter.conf" 2>&1)
check_eq "bad filter: exit 69" "$?" 69
check_match "bad filter: says so" "$err" 'search: Bad search filter'
unchanged "bad filter"

mkconf "$d/badformula.conf" -e 's|^group = .*|group = SELECT @IsMember("groupOfNames"; objectClass) \& @Frobnicate(mail)|'
line=$(grep -n '^group = ' "$d/badformula.conf" | cut -d: -f1)
err=$("$agg" -c "$d/badformula.conf" 2>&1)
check_eq "bad formula: exit 78" "$?" 78
check_match "bad formula: file:line:column named" "$err" "badformula.conf:$line:57: group formula: unknown function '@Frobnicate'"
unchanged "bad formula"

mkconf "$d/typo.conf" -e 's|^page_size = |pagesize = |'
err=$("$agg" -c "$d/typo.conf" 2>&1)
check_eq "misspelt setting: exit 78" "$?" 78
check_match "misspelt setting: named with file:line" "$err" "typo.conf:[0-9]+: unknown setting 'pagesize' in \\[source corp\\]"

out=$("$agg" -c "$d/agg.conf" -t)
check_eq "-t checks the configuration" "$?" 0
check_match "-t says what it checked" "$out" 'configuration OK: 1 source\(s\), 2 local domain\(s\)'

# A lock held by another run.
(exec 9>"$d/catalog.mdb.lock"; flock -x 9; exec sleep 10) &
lockpid=$!
track_pid "$lockpid"
wait_for 3 bash -c "! flock -n -x '$d/catalog.mdb.lock' true"
err=$("$agg" -c "$d/agg.conf" 2>&1)
check_eq "concurrent run blocked by the lock: exit 75" "$?" 75
check_match "concurrent run: says so" "$err" 'another run holds the lock'
stop_pid "$lockpid"
unchanged "concurrent run"
mkconf "$d/lockdir.conf" -e "s|^catalog = \(.*\)|catalog = \1\nlock = $d|"
err=$("$agg" -c "$d/lockdir.conf" 2>&1)
check_eq "lock file unusable (a directory): exit 73, not 75" "$?" 73
check_match "lock file unusable: says why" "$err" "lock $d: Is a directory"

# Shrinking by more than max_shrink (10%): 3 of 15 addresses go.
cat >"$d/shrink.ldif" <<LDIF
dn: uid=mjones,ou=people,dc=example,dc=com
changetype: modify
add: employeeType
employeeType: disabled
LDIF
slapd_ldapmodify "$d/shrink.ldif"
err=$("$agg" -c "$d/agg.conf" 2>&1)
check_eq "shrink beyond max_shrink: exit 65" "$?" 65
check_match "shrink: refused with the figures" "$err" 'refused to publish: the catalog would shrink from 15 to 12 addresses \(20\.0%\), more than max_shrink = 10%'
check_match "shrink: the summary has the run's figures" "$err" 'changes: \+0 -3 ~0'
check_match "shrink: the summary says what is still published" "$err" 'still published: catalog example serial 2, 15 addresses'
unchanged "shrink refused"
out=$("$agg" -c "$d/agg.conf" --dry-run)
check_match "dry run shows the removals" "$out" 'would remove mary\.jones@example\.com'
unchanged "dry run"
err=$("$agg" -c "$d/agg.conf" --force 2>&1)
check_eq "--force publishes anyway: exit 0" "$?" 0
check_match "--force: warns" "$err" 'publishing despite'
check_eq "--force: serial 3" "$(serial)" 3
check_eq "--force: mary's addresses are gone" \
	"$("$dircat" dump "$d/catalog.mdb" | grep -c mary)" 0

# min_records.
mkconf "$d/min.conf" -e 's|^min_records = .*|min_records = 1000|'
err=$("$agg" -c "$d/min.conf" 2>&1)
check_eq "fewer than min_records: exit 65" "$?" 65
check_match "min_records: says so" "$err" 'fewer than min_records = 1000'

# A catalog of another id is not overwritten.
mkconf "$d/otherid.conf" -e 's|^catalog_id = .*|catalog_id = other|'
err=$("$agg" -c "$d/otherid.conf" 2>&1)
check_eq "another catalog id: exit 78" "$?" 78
check_match "another catalog id: says so" "$err" "holds catalog 'example', not 'other'"

# A subdomain wildcard in local_domains is published as such, so nodes
# treat every subdomain as local.
mkconf "$d/subdom.conf" -e 's|^local_domains = .*|local_domains = example.com, example.org, .example.org|' \
	-e "s|^catalog = .*|catalog = $d/subdom.mdb|" -e 's|^report_json.*||'
"$agg" -c "$d/subdom.conf" 2>"$d/err"
check_eq "local_domains with .example.org: exit 0" "$?" 0
check_eq "local_domains: the three domain records" \
	"$("$dircat" dump "$d/subdom.mdb" | awk -F'\t' '$2 == "domain"' | sort)" \
	"$(printf '.example.org\tdomain\nexample.com\tdomain\nexample.org\tdomain')"

# SASL EXTERNAL over ldapi (peer credentials).
mkconf "$d/external.conf" -e "s|^uri = .*|uri = $SLAPD_LDAPI|" \
	-e '/^bind_dn = /d' -e "s|^bind_password_file = .*|sasl_mech = EXTERNAL|" \
	-e "s|^catalog = .*|catalog = $d/ext.mdb|" -e 's|^report_json.*||'
"$agg" -c "$d/external.conf" 2>"$d/err"
check_eq "SASL EXTERNAL over ldapi: exit 0" "$?" 0
check_eq "SASL EXTERNAL over ldapi: same catalog" \
	"$("$dircat" dump "$d/ext.mdb")" "$("$dircat" dump "$d/catalog.mdb")"

# --- internal_only: a formula marks the groups for internal senders ---------
mkconf "$d/io.conf" -e '/^group = /a internal_only = cn = "staff"' \
	-e "s|^catalog = .*|catalog = $d/io.mdb|" -e 's|^report_json.*||'
"$agg" -c "$d/io.conf" 2>"$d/err"
check_eq "internal_only formula: exit 0" "$?" 0
check_match "internal_only formula: staff@ carries internal_only=yes" \
	"$("$dircat" dump --full "$d/io.mdb" | grep '^staff@')" $'\tinternal_only=yes'
check_eq "internal_only formula: no other record does" \
	"$("$dircat" dump --full "$d/io.mdb" | grep -c 'internal_only')" 1
mkconf "$d/ioextra.conf" -e '/^group = /a extra = internal_only cn'
"$agg" -c "$d/ioextra.conf" 2>"$d/err"
check_match "an extra field named internal_only is refused" "$(cat "$d/err")" \
	'ioextra.conf:[0-9]+: .*internal_only is set by the internal_only formula'

# --- paging past a server size limit (as Active Directory's 1000) ---------
slapd_stop
slapd_start "$d/slapd2" 10 || { fail "slapd with sizelimit 10 starts"; exit 1; }
{
	echo "dn: ou=people,dc=example,dc=com"
	echo "objectClass: organizationalUnit"
	echo "ou: people"
	for i in $(seq 1 57); do
		printf '\ndn: uid=u%d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: u%d\ncn: U %d\nsn: U\nmail: user%d@example.com\n' "$i" "$i" "$i" "$i"
	done
} >"$d/many.ldif"
slapd_load "$d/many.ldif"
cat >"$d/paged.conf" <<CONF
catalog = $d/paged.mdb
catalog_id = paged
local_domains = example.com
report_json = $d/paged.json
[source big]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = ou=people,dc=example,dc=com
filter = (objectClass=inetOrgPerson)
page_size = 5
person = SELECT @All
CONF
out=$("$agg" -c "$d/paged.conf" -v 2>&1)
check_eq "paged search past sizelimit 10: exit 0" "$?" 0
check_match "paged search: 57 entries in 12 pages" "$out" 'source big: 57 entries in [0-9.]+s \(12 pages'
check_eq "paged search: all 57 addresses" "$("$dircat" dump "$d/paged.mdb" | grep -c '@')" 57
before=$("$dircat" dump "$d/paged.mdb")
sed -i 's/^page_size = 5/page_size = 0/' "$d/paged.conf"
slapd_ldapmodify /dev/stdin <<LDIF
dn: uid=u1,ou=people,dc=example,dc=com
changetype: delete
LDIF
err=$("$agg" -c "$d/paged.conf" 2>&1)
check_eq "size limit without paging: exit 69" "$?" 69
check_match "size limit without paging: says so" "$err" 'Size limit exceeded'
check_eq "size limit without paging: previous catalog kept" "$("$dircat" dump "$d/paged.mdb")" "$before"
sed -i 's/^page_size = 0/page_size = 50/' "$d/paged.conf"
"$agg" -c "$d/paged.conf" 2>&1
check_eq "page larger than the size limit: the server pages by its limit" "$?" 0
check_eq "page larger than the size limit: 56 addresses" "$("$dircat" dump "$d/paged.mdb" | grep -c '@')" 56
slapd_stop
