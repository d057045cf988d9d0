#!/bin/bash
# guides_directories.sh - the example source configurations of
# docs/sources.md (docs/examples/*.conf) run for real against a private
# slapd holding entries shaped like 389 Directory Server and Active
# Directory ones (data/ad-389.schema, data/guides-*.ldif).  Checked:
# each example passes -t; the 389-DS and AD formulas put exactly the
# expected addresses, kinds and owners in the catalog (dircat dump
# --full): locked, disabled and computer accounts, X500:/SIP: proxy
# addresses and foreign addresses left out, smtp: secondary addresses,
# shared mailboxes, mail groups and their owners kept; managedBy DNs
# resolved to the manager's sAMAccountName, an escaped comma and a forward
# reference included, and the one naming no entry read counted.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
need slapd slapadd ldapadd ldapsearch

data=$DIRCAT_TOP/tests/integration/data
examples=$DIRCAT_TOP/docs/examples
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)

# --- the examples as shipped: -t (paths moved into the test directory) ----
mkdir -p "$d/etc" "$d/var"
(umask 077; printf secret >"$d/etc/ldap.pw"; printf secret >"$d/etc/ds.pw";
 printf secret >"$d/etc/ad.pw")
for ca in ldap-ca.pem ds-ca.pem ad-ca.pem; do
	cp /etc/ssl/certs/ca-certificates.crt "$d/etc/$ca" 2>/dev/null ||
		: >"$d/etc/$ca"
done
# relocate FILE: the example with /etc/dircat and /var/lib/dircat moved
relocate() {
	sed -e "s|/etc/dircat/|$d/etc/|g" -e "s|/var/lib/dircat/|$d/var/|g" "$1"
}
for ex in openldap 389ds activedirectory; do
	relocate "$examples/$ex.conf" >"$d/$ex.conf"
	out=$("$agg" -c "$d/$ex.conf" -t 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		pass "docs/examples/$ex.conf passes dircat-aggregator -t ($out)"
	else
		fail "docs/examples/$ex.conf: dircat-aggregator -t exits $rc"
		echo "    $out"
	fi
done

# --- formula errors point to the file's line, whatever lies between -------
# The AD example's select formula has comment lines inside it.  A typo on
# one of its later lines must be reported on that line and column, and a
# blank line inside the formula is no error and moves the report with it.
typo='| @BitAnd(userAccountControl; 2) = 0'
n=$(grep -nF -- "$typo" "$d/activedirectory.conf" | cut -d: -f1)
check "AD example still has the line this test edits" test -n "$n"
sed "${n}s/@BitAnd(/@IsMembr(/" "$d/activedirectory.conf" \
	>"$d/adtypo.conf"
col=$(sed -n "${n}p" "$d/adtypo.conf" | awk '{ print index($0, "@IsMembr") }')
err=$("$agg" -c "$d/adtypo.conf" -t 2>&1)
check_eq "formula typo: exit 78" "$?" 78
check_match "formula typo after comment lines: its own line and column" "$err" \
	"adtypo.conf:$n:$col: select formula: unknown function '@IsMembr'"
sed "$((n - 1))a\\
" "$d/adtypo.conf" >"$d/adblank.conf"
check_eq "a blank line went in" "$(sed -n "${n}p" "$d/adblank.conf")" ""
err=$("$agg" -c "$d/adblank.conf" -t 2>&1)
check_match "formula typo after a blank line: one line further down" "$err" \
	"adblank.conf:$((n + 1)):$col: select formula: unknown function '@IsMembr'"
sed "$((n - 1))a\\
" "$d/activedirectory.conf" | sed "$((n - 1))a\\
# a comment at column 1 inside a formula" >"$d/adgap.conf"
out=$("$agg" -c "$d/adgap.conf" -t 2>&1)
check_eq "blank and comment lines inside a formula: -t passes ($out)" "$?" 0

# --- a slapd that knows the 389-DS and AD stand-in schema -------------------
if SLAPD_EXTRA_SCHEMA=$data/ad-389.schema slapd_start "$d/slapd"; then
	pass "private slapd with the 389-DS/AD stand-in schema on $SLAPD_URI"
else
	fail "slapd with ad-389.schema starts"; cat "$d/slapd/slapd.log"; exit 1
fi
for f in guides-ad guides-389ds; do
	if ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" \
		-f "$data/$f.ldif" >"$d/$f.load" 2>&1; then
		pass "$f.ldif loaded"
	else
		fail "$f.ldif loaded"; sed 's/^/    /' "$d/$f.load"
	fi
done

# run NAME EXAMPLE BASE: the example against this slapd, then its dump.
run() {
	local name=$1 ex=$2 base=$3
	relocate "$examples/$ex.conf" | sed \
		-e "s|^uri = .*|uri = $SLAPD_URI|" \
		-e '/^ca_file = /d' \
		-e "s|^bind_dn = .*|bind_dn = $SLAPD_BINDDN|" \
		-e "s|^bind_password_file = .*|bind_password_file = $SLAPD_BINDPW|" \
		-e '/^base = /d' -e "/^\[source /a base = $base" \
		-e "s|^catalog = .*|catalog = $d/$name.mdb|" \
		-e "s|^report_json = .*|report_json = $d/$name.json|" \
		-e 's|^min_records = .*|min_records = 1|' >"$d/$name.conf"
	"$agg" -c "$d/$name.conf" >"$d/$name.out" 2>&1
}

# --- 389 Directory Server ---------------------------------------------------
run ds 389ds "ou=ds,dc=example,dc=com"
check_eq "389-DS example: aggregator exits 0" "$?" 0
got=$("$dircat" dump --full "$d/ds.mdb")
want=$(printf '%s\n' \
	$'all@example.com\tgroup\tjdoe\t' \
	$'cy.free@example.com\tperson\tcfree\t' \
	$'example.com\tdomain\t\t' \
	$'example.org\tdomain\t\t' \
	$'jane.doe@example.com\tperson\tjdoe\t' \
	$'jane@example.org\tperson\tjdoe\t' \
	$'jdoe@example.com\tperson\tjdoe\t' \
	$'orders@example.com\tmailin\torders,jdoe,cfree\t' \
	$'staff@example.com\tgroup\tjdoe\t')
check_eq "389-DS example: exactly these addresses, kinds and owners" "$got" "$want"
for who in al.locked bea.locked di.private someone@partner; do
	if grep -q "^$who" <<<"$got"; then
		fail "389-DS example: $who left out"
	else
		pass "389-DS example: $who left out"
	fi
done
json=$(cat "$d/ds.json")
check_match "389-DS example: report: 5 entries not selected (2 locked, no-sync, 2 without mail)" \
	"$json" '"not_selected": 5,'
check_match "389-DS example: report: 2 persons, 1 group, 1 mail-in" \
	"$json" '"selected": \{"person": 2, "group": 1, "mailin": 1\}'

# --- Active Directory -------------------------------------------------------
run ad activedirectory "ou=ad,dc=example,dc=com"
check_eq "AD example: aggregator exits 0" "$?" 0
got=$("$dircat" dump --full "$d/ad.mdb")
want=$(printf '%s\n' \
	$'ann.lee@example.com\tperson\talee\t' \
	$'dana.hidden@example.com\tperson\tdhidden\t' \
	$'events@example.com\tgroup\tEvents\t' \
	$'example.com\tdomain\t\t' \
	$'example.org\tdomain\t\t' \
	$'finance@example.com\tgroup\tFinance,alee\t' \
	$'frank.forward@example.com\tperson\t\t' \
	$'helpdesk@example.com\tmailin\thelpdesk\t' \
	$'john.smith@example.com\tperson\tjsmith\t' \
	$'john.smith@example.org\tperson\tjsmith\t' \
	$'jsmith@example.com\tperson\tjsmith\t' \
	$'mary.jones@example.com\tperson\tmjones\t' \
	$'room101@example.com\tmailin\troom101\t' \
	$'sales@example.com\tgroup\tSales,mjones\t' \
	$'support-team@example.com\tgroup\tSupportTeam,jsmith\t' \
	$'support@example.org\tmailin\thelpdesk\t' \
	$'vertrieb@example.org\tgroup\tSales,mjones\t')
check_eq "AD example: exactly these addresses, kinds and owners" "$got" "$want"
for who in bob.gone carol.left eve.nosmtp ws01 frank@partner; do
	if grep -qi "^$who" <<<"$got"; then
		fail "AD example: $who left out"
	else
		pass "AD example: $who left out"
	fi
done
if grep -qiE 'x500|sip:|/o=' <<<"$got"; then
	fail "AD example: no X500: or SIP: value in the catalog"
else
	pass "AD example: no X500: or SIP: value in the catalog"
fi
json=$(cat "$d/ad.json")
check_match "AD example: report: 4 not selected (2 disabled, no SMTP address, computer), 1 foreign address" \
	"$json" '"not_selected": 4, .*"foreign_domain": 1\}'
check_match "AD example: report names the outside contact address" \
	"$json" '"reason": "foreign_domain", "address": "frank@partner\.example\.net"'
# managedBy: cn=mjones, "cn=John Smith" and "CN=Lee\, Ann" (read after the
# group) resolved to sAMAccountName; a display name outside the base is not.
check_match "AD example: report: 4 managedBy DNs, 3 resolved, 1 not" \
	"$json" '"owner_dns": \{"total": 4, "resolved": 3, "first_rdn": 0, "not_resolved": 1\}'
check_match "AD example: report names the managedBy DN not resolved and its group" \
	"$json" '"owner_dn": "(CN|cn)=Former Manager,(OU|ou)=Alumni,(DC|dc)=elsewhere,(DC|dc)=example", "dn": "cn=Events,ou=Groups,ou=ad,dc=example,dc=com"'

# The hidden-mailbox line of the example, switched on.
sed -i 's|^    # \(& .*msExchHideFromAddressLists\)|    \1|' "$d/ad.conf"
"$agg" -c "$d/ad.conf" >"$d/ad2.out" 2>&1
check_eq "AD example with the hidden-mailbox line: exits 0" "$?" 0
got2=$("$dircat" dump "$d/ad.mdb")
if grep -q '^dana.hidden@' <<<"$got2" || ! grep -q '^jsmith@' <<<"$got2"; then
	fail "AD example with the hidden-mailbox line: only the hidden mailbox goes"
else
	pass "AD example with the hidden-mailbox line: only the hidden mailbox goes"
fi

slapd_stop
exit 0
