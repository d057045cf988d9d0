#!/bin/bash
# aggregator_owners.sh - owner DNs (owner_attribute) against a real
# private slapd: resolved to the login_attribute of the entry they name
# when it is read in the same run - from another source read later, or
# later in the same source's results, with an escaped comma in its DN, a
# display-name RDN (as AD's managedBy) - else to the first RDN's value
# when that is a login, else dropped and counted in the report; each
# owner stored once; dircatMailIn entries carry owner without
# extensibleObject.
# run.sh: beside others
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slapd-lib.sh"
need slapd ldapadd ldapsearch

agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)
B=dc=example,dc=com

slapd_start "$d/slapd" || { fail "slapd starts"; exit 1; }
pass "private slapd started on $SLAPD_URI"

# In the order the server returns them (entry creation order).
cat >"$d/dir.ldif" <<LDIF
dn: ou=groups,$B
objectClass: organizationalUnit
ou: groups

dn: ou=people,$B
objectClass: organizationalUnit
ou: people

dn: ou=admins,$B
objectClass: organizationalUnit
ou: admins

# Groups, read by the first source: every owner below is read later.
dn: cn=staff,ou=groups,$B
objectClass: groupOfNames
objectClass: extensibleObject
cn: staff
mail: staff@example.com
member: cn=Smith\\, John,ou=people,$B
owner: cn=Smith\\, John,ou=people,$B

dn: cn=managers,ou=groups,$B
objectClass: groupOfNames
objectClass: extensibleObject
cn: managers
mail: managers@example.com
member: cn=Ann Lee,ou=people,$B
owner: cn=Ann Lee,ou=people,$B
owner: uid=alee,ou=elsewhere,dc=example,dc=org
owner: cn=Smith\\2C John,ou=People,$B

dn: cn=outside,ou=groups,$B
objectClass: groupOfNames
objectClass: extensibleObject
cn: outside
mail: outside@example.com
member: uid=contractor,ou=partners,$B
owner: uid=contractor,ou=partners,$B
owner: cn=Some Body,ou=partners,$B

dn: cn=ops,ou=groups,$B
objectClass: groupOfNames
objectClass: extensibleObject
cn: ops
mail: ops@example.com
member: cn=Root Admin,ou=admins,$B
owner: cn=Root Admin,ou=admins,$B

# A mail-in entry (owner allowed by dircatMailIn), whose owner comes
# after it in the same source's results.
dn: cn=helpdesk,ou=groups,$B
objectClass: inetOrgPerson
objectClass: dircatMailIn
cn: helpdesk
sn: Helpdesk
mail: helpdesk@example.com
owner: cn=Late Comer,ou=groups,$B

dn: cn=Late Comer,ou=groups,$B
objectClass: inetOrgPerson
cn: Late Comer
sn: Comer
uid: lcomer

# People, read by the second source.
dn: cn=Smith\\, John,ou=people,$B
objectClass: inetOrgPerson
cn: Smith, John
sn: Smith
uid: jsmith
mail: john.smith@example.com

# No address, so not published; still read, so its login resolves.
dn: cn=Ann Lee,ou=people,$B
objectClass: inetOrgPerson
cn: Ann Lee
sn: Lee
uid: alee

# Administrators: read by a third source that publishes nothing and
# only gives logins, by another attribute.
dn: cn=Root Admin,ou=admins,$B
objectClass: inetOrgPerson
objectClass: dircatTestUser
cn: Root Admin
sn: Admin
uid: radmin
sAMAccountName: root.admin
mail: admin@example.com
LDIF
if ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" \
	-f "$d/dir.ldif" >"$d/load.out" 2>&1; then
	pass "directory loaded (dircatMailIn with owner, no extensibleObject)"
else
	fail "directory loaded"; sed 's/^/    /' "$d/load.out"
fi

cat >"$d/agg.conf" <<CONF
catalog = $d/catalog.mdb
catalog_id = owners
local_domains = example.com
report_json = $d/report.json
min_records = 1

[source groups]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = ou=groups,$B
login_attribute = uid
owner_attribute = owner
select = SELECT @IsAvailable(mail)
person = SELECT @IsMember("inetOrgPerson"; objectClass) & !@IsMember("dircatMailIn"; objectClass)
mailin = SELECT @IsMember("dircatMailIn"; objectClass)
group = SELECT @IsMember("groupOfNames"; objectClass)

[source people]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = ou=people,$B
filter = (objectClass=inetOrgPerson)
login_attribute = uid
owner_attribute = owner
person = SELECT @All

[source admins]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = ou=admins,$B
login_attribute = sAMAccountName
select = SELECT @False
person = SELECT @All
CONF

out=$("$agg" -c "$d/agg.conf" -v 2>"$d/err")
check_eq "run exits 0" "$?" 0
check_eq "nothing on stderr" "$(cat "$d/err")" ""
got=$("$dircat" dump --full "$d/catalog.mdb")
want=$(printf '%s\n' \
	$'example.com\tdomain\t\t' \
	$'helpdesk@example.com\tmailin\tlcomer\t' \
	$'john.smith@example.com\tperson\tjsmith\t' \
	$'managers@example.com\tgroup\talee,jsmith\t' \
	$'ops@example.com\tgroup\troot.admin\t' \
	$'outside@example.com\tgroup\tcontractor\t' \
	$'staff@example.com\tgroup\tjsmith\t')
check_eq "exactly these addresses and owners" "$got" "$want"
check_match "escaped comma (cn=Smith\\, John) read by a later source: its uid" \
	"$got" $'^staff@example\\.com\tgroup\tjsmith\t$'
check_match "display-name RDN (managedBy style) resolved through login_attribute, once, with a uid= fallback of the same login" \
	"$got" $'^managers@example\\.com\tgroup\talee,jsmith\t$'
check_match "owner read later in the same source's results" \
	"$got" $'^helpdesk@example\\.com\tmailin\tlcomer\t$'
check_match "owner read by a source that publishes nothing: its own login_attribute" \
	"$got" $'^ops@example\\.com\tgroup\troot\\.admin\t$'
check_match "DN outside every base: the uid= RDN value; a display name dropped" \
	"$got" $'^outside@example\\.com\tgroup\tcontractor\t$'
if grep -qE 'Smith\\|Some|Body|Ann Lee|admin@' <<<"$got"; then
	fail "no RDN fragment, display name or unpublished address stored"
else
	pass "no RDN fragment, display name or unpublished address stored"
fi

check_match "-v: owner DN counts" "$out" \
	'owner DNs: 8 \(5 resolved to the logins of entries read, 2 to their first RDN value, 1 not resolved\)'
check_match "-v: owner DNs not resolved, counted" "$out" '^owner DNs not resolved: 1$'
check_match "-v: the sample names the DN, its entry and why" "$out" \
	'^  cn=Some Body,ou=partners,dc=example,dc=com \(cn=outside,ou=groups,dc=example,dc=com\): no entry read has this DN, and its first RDN value is no login$'
json=$(cat "$d/report.json")
check_match "report_json: owner DN counts" "$json" \
	'"owner_dns": \{"total": 8, "resolved": 5, "first_rdn": 2, "not_resolved": 1\}'
check_match "report_json: owner_dns_not_resolved" "$json" '"owner_dns_not_resolved": 1,'
check_match "report_json: owner DN sample" "$json" \
	'"owner_dn": "cn=Some Body,ou=partners,dc=example,dc=com", "dn": "cn=outside,ou=groups,dc=example,dc=com", "why": "no entry read has this DN'
check_match "report: the admins source published nothing" "$json" \
	'"name": "admins", "entries": 2, .*"person": 0, "group": 0, "mailin": 0'

# Same directory, same result: the hash key changes every run, the
# owners do not.
out=$("$agg" -c "$d/agg.conf" -v 2>&1)
check_match "second run: unchanged" "$out" 'catalog owners: unchanged at serial 1'

# The owner moves out of every source's base: the group keeps only what
# the DN itself says (a display name: nothing), and the report says so.
cat >"$d/move.ldif" <<LDIF
dn: cn=Root Admin,ou=admins,$B
changetype: modrdn
newrdn: cn=Root Admin
deleteoldrdn: 0
newsuperior: ou=services,$B
LDIF
slapd_ldapmodify "$d/move.ldif"
out=$("$agg" -c "$d/agg.conf" -v 2>&1)
check_match "owner entry no longer read: its group loses the owner" \
	"$("$dircat" dump --full "$d/catalog.mdb")" $'^ops@example\\.com\tgroup\t\t$'
check_match "owner entry no longer read: counted" "$out" '^owner DNs not resolved: 2$'

slapd_stop
exit 0
