#!/bin/bash
# ad_bind.sh - the ways docs/sources.md tells an Active Directory site to
# bind, each against the real Samba AD DC of samba-lib.sh, with the
# shipped example's formulas and the connection lines taken from the
# guide's blocks marked "<!-- test: ad_bind NAME -->": LDAPS and StartTLS with the DC's CA pinned
# (another CA, or a name the certificate does not carry, refused),
# simple bind with a password file (a file others may read refused before
# any connection; a wrong password refused by the DC), Kerberos (SASL
# GSSAPI with the service account's keytab: no password anywhere, no
# ticket left on disk; a keytab others may read refused), the global
# catalog port, and the DC stopped in the middle of a search (exit 69,
# nothing published, the previous catalog stays).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/samba-lib.sh"
need samba openssl ss
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)

samba_start "$d/dc" || { fail "Samba AD DC starts"; exit 1; }
pass "Samba AD DC $SAMBA_HOST in namespace $SAMBA_NS"
mkdir -p "$d/etc" "$d/var"
cp "$SAMBA_CA" "$d/etc/ad-ca.pem"
(umask 077; cp "$SAMBA_SVC_PW" "$d/etc/ad.pw"; cp "$SAMBA_KEYTAB" "$d/etc/dircat.keytab")
export KRB5_CONFIG=$SAMBA_KRB5_CONF

# conf NAME SED-SCRIPT: the shipped example, paths moved, catalog NAME.mdb,
# then SED-SCRIPT applied to it.
conf() {
	sed -e "s|/etc/dircat/|$d/etc/|g" -e "s|/var/lib/dircat/|$d/var/|g" \
		-e "s|^catalog = .*|catalog = $d/var/$1.mdb|" \
		-e "s|^report_json = .*|report_json = $d/var/$1.json|" \
		-e "$2" "$DIRCAT_TOP/docs/examples/activedirectory.conf" >"$d/$1.conf"
}
# snippet NAME: the block under "<!-- test: ad_bind NAME -->" in
# docs/sources.md, the connection lines that replace the example's.
snippet() {
	awk -v m="<!-- test: ad_bind $1 -->" '
		$0 == m { on = 1; next }
		on && /^```/ { if (++fence == 2) exit; next }
		on && fence == 1 { print }' "$DIRCAT_TOP/docs/sources.md"
}
# conf_doc NAME SNIPPET [SED-SCRIPT]: the example with its connection
# lines replaced by the snippet of docs/sources.md.
conf_doc() {
	local block
	block=$(snippet "$2")
	if [ -z "$block" ]; then
		fail "docs/sources.md has the snippet '$2'"
		return 1
	fi
	conf "$1" "/^\(uri\|starttls\|ca_file\|bind_dn\|bind_password_file\|sasl_mech\|sasl_keytab\) = /d"
	awk -v block="$block" '{ print } /^\[source / { print block }' \
		"$d/$1.conf" | sed -e "s|/etc/dircat/|$d/etc/|g" -e "${3:-}" \
		>"$d/$1.conf.new" && mv "$d/$1.conf.new" "$d/$1.conf"
}
# run NAME: the aggregator in the DC's namespace; its status; output in
# NAME.out.
run() { samba_ns "$agg" -c "$d/$1.conf" >"$d/$1.out" 2>&1; }
dump() { "$dircat" dump --full "$d/var/$1.mdb" 2>/dev/null; }
# expect_fail NAME STATUS REGEX WHAT
expect_fail() {
	run "$1"
	local rc=$?
	if [ "$rc" = "$2" ] && grep -Eq -- "$3" "$d/$1.out" &&
		[ -z "$(dump "$1")" ]; then
		pass "$4: exit $rc, nothing published ($(grep -Eo -- "$3" "$d/$1.out" | head -n 1))"
	else
		fail "$4: want exit $2 and /$3/, got $rc"
		sed 's/^/    /' "$d/$1.out" | head -n 5
	fi
}

# --- LDAPS, the example as shipped ------------------------------------------
conf ldaps ''
run ldaps
check_eq "LDAPS (636), CA pinned, simple bind with a password file: exit 0" "$?" 0
base=$(dump ldaps)
n=$(grep -c . <<<"$base")
if [ "$n" -gt 1100 ]; then
	pass "LDAPS: $n records"
else
	fail "LDAPS: only $n records"; head -n 5 "$d/ldaps.out"
fi

# Another CA pinned: the DC's certificate is refused.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/other.key" \
	-out "$d/etc/other-ca.pem" -days 2 -subj "/CN=Some Other CA" \
	>/dev/null 2>&1
conf otherca "s|^ca_file = .*|ca_file = $d/etc/other-ca.pem|"
expect_fail otherca 69 "Can't contact LDAP server|certificate|TLS" \
	"LDAPS with another CA pinned"
# A name the certificate does not carry.
conf badname "s|^uri = .*|uri = ldaps://127.0.0.1/|"
expect_fail badname 69 "Can't contact LDAP server|certificate|TLS" \
	"LDAPS to 127.0.0.1 (not the certificate's name)"

# --- StartTLS on 389 --------------------------------------------------------
conf_doc starttls starttls
run starttls
check_eq "StartTLS (389), CA pinned: exit 0" "$?" 0
check_eq "StartTLS: the same catalog as LDAPS" "$(dump starttls)" "$base"
conf starttls_ca "s|^uri = .*|uri = ldap://$SAMBA_HOST/\\nstarttls = yes|;s|^ca_file = .*|ca_file = $d/etc/other-ca.pem|"
expect_fail starttls_ca 69 "StartTLS|certificate|Connect error" \
	"StartTLS with another CA pinned"
# Without TLS the DC refuses a simple bind (ldap server require strong
# auth = yes, Samba's default, as AD's LDAP signing policy).
conf plain "s|^uri = .*|uri = ldap://$SAMBA_HOST/|;/^ca_file/d"
expect_fail plain 69 "Strong|strong|Confidentiality" \
	"simple bind over plain ldap:// (the DC demands TLS)"

# --- the password file ------------------------------------------------------
cp "$d/etc/ad.pw" "$d/etc/open.pw"
chmod 644 "$d/etc/open.pw"
conf openpw "s|^bind_password_file = .*|bind_password_file = $d/etc/open.pw|"
samba_ns ss -tn state established '( sport = :636 )' >"$d/ss.before" 2>&1
run openpw
rc=$?
if [ "$rc" = 78 ] && grep -q "open.pw: mode 0644" "$d/openpw.out" &&
	grep -q 'openpw.conf:[0-9]*: bind_password_file' "$d/openpw.out"; then
	pass "password file of mode 0644 refused (exit 78, file:line named)"
else
	fail "password file of mode 0644: want exit 78 naming it, got $rc"
	cat "$d/openpw.out"
fi
check "password file of mode 0644: nothing published" test ! -e "$d/var/openpw.mdb"
printf 'wrong-password' >"$d/etc/wrong.pw"; chmod 600 "$d/etc/wrong.pw"
conf wrongpw "s|^bind_password_file = .*|bind_password_file = $d/etc/wrong.pw|"
expect_fail wrongpw 69 "Invalid credentials" "a wrong password"
if grep -q 'wrong-password\|Svc-D1rcat' "$d"/*.out; then
	fail "no password in any output"
else
	pass "no password in any output"
fi

# --- Kerberos: SASL GSSAPI with the service account's keytab ----------------
# ldap:// on 389: Kerberos signs and seals (Samba refuses a SASL layer
# inside TLS, and AD refuses one inside TLS too: see docs/sources.md).
conf_doc gssapi gssapi
check_eq "GSSAPI configuration names no password file" \
	"$(grep -v '^ *#' "$d/gssapi.conf" | grep -ci 'password')" 0
ls /tmp/krb5cc_* "$TMPDIR"/krb5cc_* 2>/dev/null | sort >"$d/cc.before"
run gssapi
rc=$?
check_eq "Kerberos (SASL GSSAPI, keytab, sealed ldap://): exit 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/    /' "$d/gssapi.out" | head -n 5
check_eq "GSSAPI: the same catalog as LDAPS" "$(dump gssapi)" "$base"
ls /tmp/krb5cc_* "$TMPDIR"/krb5cc_* 2>/dev/null | sort >"$d/cc.after"
check_eq "GSSAPI: no credential cache left on disk" \
	"$(comm -13 "$d/cc.before" "$d/cc.after")" ""
cp "$d/etc/dircat.keytab" "$d/etc/open.keytab"; chmod 644 "$d/etc/open.keytab"
conf_doc openkt gssapi "s|dircat.keytab|open.keytab|"
run openkt
rc=$?
if [ "$rc" = 78 ] && grep -q "open.keytab: mode 0644" "$d/openkt.out"; then
	pass "keytab of mode 0644 refused (exit 78)"
else
	fail "keytab of mode 0644: want exit 78, got $rc"; cat "$d/openkt.out"
fi
conf_doc gssnokt gssapi "s|dircat.keytab|none.keytab|"
run gssnokt
check_eq "sasl_keytab naming a missing file: exit 78" "$?" 78
conf_doc gsswrong gssapi "s|^uri = .*|uri = ldap://127.0.0.1/|"
expect_fail gsswrong 69 "SASL bind|Local error|Kerberos|GSS" \
	"GSSAPI to a name the DC has no ldap/ principal for"

# Settings that do not go together, refused when the file is read.
conf badmech "s|^bind_password_file = .*|sasl_mech = PLAIN|"
out=$("$agg" -c "$d/badmech.conf" -t 2>&1)
check_eq "sasl_mech = PLAIN refused: exit 78" "$?" 78
check_match "sasl_mech = PLAIN: says which are accepted" "$out" \
	'badmech.conf:[0-9]+: sasl_mech: expected EXTERNAL or GSSAPI'
conf ktnomech "s|^bind_dn = .*|&\nsasl_keytab = $d/etc/dircat.keytab|"
out=$("$agg" -c "$d/ktnomech.conf" -t 2>&1)
check_eq "sasl_keytab without sasl_mech = GSSAPI refused: exit 78" "$?" 78
check_match "sasl_keytab without GSSAPI: says why" "$out" \
	'sasl_keytab needs sasl_mech = GSSAPI'

# --- the global catalog -----------------------------------------------------
# One domain in the forest, so the global catalog (3269, LDAPS) holds the
# same recipients; the example's attributes are in its partial attribute
# set (data/ad-exchange-schema.ldif marks Exchange's, as Exchange does).
conf_doc gc gc
run gc
check_eq "global catalog (3269): exit 0" "$?" 0
check_eq "global catalog: the same catalog as the domain's LDAPS port" \
	"$(dump gc)" "$base"

# --- the DC stopped in the middle of a search -------------------------------
# Small pages, so the search takes many round trips; once the DC has sent
# a good part of it, freeze it (the aggregator waits for the next page),
# then kill it.
conf midsearch "s|^page_size = .*|page_size = 5|;s|^catalog = .*|catalog = $d/var/ldaps.mdb|;s|^report_json = .*|report_json = $d/var/mid.json|"
serial=$(grep -o '"serial_after": [0-9]*' "$d/var/ldaps.json" | grep -o '[0-9]*$')
# ip itself, not the function: $! is then the aggregator (ip execs it).
ip netns exec "$SAMBA_NS" "$agg" -c "$d/midsearch.conf" >"$d/mid.out" 2>&1 &
track_pid $!
apid=$!
sent=0
for i in $(seq 400); do
	sent=$(samba_ns ss -tni state established '( sport = :636 )' 2>/dev/null |
		grep -o 'bytes_sent:[0-9]*' | cut -d: -f2 | sort -n | tail -n 1)
	[ "${sent:-0}" -gt 60000 ] && break
	kill -0 "$apid" 2>/dev/null || break
	sleep 0.02
done
if [ "${sent:-0}" -gt 60000 ] && kill -STOP "$SAMBA_PID" 2>/dev/null &&
	kill -0 "$apid" 2>/dev/null; then
	pass "DC frozen mid-search, after sending $sent bytes, aggregator still reading"
	kill -KILL "$SAMBA_PID"
	wait "$SAMBA_PID" 2>/dev/null
	SAMBA_PID=
else
	fail "could not catch the search in the middle (sent ${sent:-0} bytes)"
	kill -CONT "$SAMBA_PID" 2>/dev/null
fi
wait "$apid"
rc=$?
check_eq "DC stopped mid-search: exit 69" "$rc" 69
check_match "DC stopped mid-search: says the source failed and what stays" \
	"$(cat "$d/mid.out")" "source ad: FAILED"
check_match "DC stopped mid-search: the previous catalog is still published" \
	"$(cat "$d/mid.out")" "still published: catalog corp serial $serial,"
check_eq "DC stopped mid-search: catalog unchanged" "$(dump ldaps)" "$base"
check_match "DC stopped mid-search: the report says so" \
	"$(cat "$d/var/mid.json")" '"result": "failed"|"error": '
exit 0
