#!/bin/bash
# ad_catalog.sh - docs/examples/activedirectory.conf, as shipped (only
# /etc/dircat and /var/lib/dircat moved into the test directory), against
# a real Samba AD DC (samba-lib.sh) holding the recipients of an Exchange
# site (data/ad-population.sh, data/ad-exchange-schema.ldif).  Checked:
# the catalog equals data/ad-expected.txt plus the bulk mailboxes exactly
# (missing and extra entries counted and shown); more than 1000 entries
# come back through paging at page_size = 1000; the report counts what
# was left out and why; hostile proxyAddresses values (CR LF, NUL, no @,
# overlong) are reported and never published; then every recipient type
# gets its SMTP answer
# from a private Postfix asking catalogd (a signed snapshot of that
# catalog): 250 for every kind that receives mail, 550 5.1.1 for leavers,
# computers, groups that are not mail-enabled and entries without an SMTP
# address, and relay denied for a contact's outside address.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/samba-lib.sh"
. "$(dirname "$0")/postfix-lib.sh"
need samba postfix swaks
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
tools=$DIRCAT_TESTBIN/tools
d=$(tmpdir)

t0=$(date +%s.%N)
if samba_start "$d/dc"; then
	pass "Samba AD DC $SAMBA_HOST in namespace $SAMBA_NS (provisioned or copied, started: $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5)s)"
else
	fail "Samba AD DC starts"; exit 1
fi
echo "note: provisioning (once per cache key): $(tr '\n' ' ' <"$SAMBA_CACHE/provision.txt")"
echo "note: DC memory after start: $(samba_rss_kb)"

# --- the example, as shipped ------------------------------------------------
mkdir -p "$d/etc" "$d/var"
cp "$SAMBA_CA" "$d/etc/ad-ca.pem"
(umask 077; cp "$SAMBA_SVC_PW" "$d/etc/ad.pw")
sed -e "s|/etc/dircat/|$d/etc/|g" -e "s|/var/lib/dircat/|$d/var/|g" \
	"$DIRCAT_TOP/docs/examples/activedirectory.conf" >"$d/ad.conf"
# Nothing but the lines naming those paths differs from the file in docs/.
n=$(diff "$DIRCAT_TOP/docs/examples/activedirectory.conf" "$d/ad.conf" |
	grep -c '^>')
check_eq "the test's configuration is the shipped example, only its paths moved" \
	"$n" "$(grep -c '/etc/dircat/\|/var/lib/dircat/' \
		"$DIRCAT_TOP/docs/examples/activedirectory.conf")"

samba_ns "$agg" -c "$d/ad.conf" -v >"$d/run.out" 2>&1
rc=$?
check_eq "AD example against the DC (LDAPS, CA pinned, simple bind): exits 0" \
	"$rc" 0
[ "$rc" = 0 ] || sed 's/^/    /' "$d/run.out" | tail -n 20

# --- the catalog equals the expected list -----------------------------------
{
	grep -v '^#' "$DIRCAT_TOP/tests/integration/data/ad-expected.txt"
	for i in $(seq -f %04g 1 "$SAMBA_BULK"); do
		[ $((10#$i % 100)) -eq 0 ] ||
			printf 'bulk%s@example.com\tperson\tbulk%s\t\n' "$i" "$i"
	done
} | LC_ALL=C sort >"$d/want"
"$dircat" dump --full "$d/var/catalog.mdb" | LC_ALL=C sort >"$d/got"
missing=$(LC_ALL=C comm -23 "$d/want" "$d/got")
extra=$(LC_ALL=C comm -13 "$d/want" "$d/got")
nmiss=$(grep -c . <<<"$missing")
nextra=$(grep -c . <<<"$extra")
if [ "$nmiss" = 0 ] && [ "$nextra" = 0 ]; then
	pass "catalog equals the expected list exactly ($(wc -l <"$d/want") records)"
else
	fail "catalog differs from the expected list: $nmiss missing, $nextra extra"
	[ "$nmiss" = 0 ] || { echo "  missing:"; head -n 40 <<<"$missing" | sed 's/^/    /'; }
	[ "$nextra" = 0 ] || { echo "  extra:"; head -n 40 <<<"$extra" | sed 's/^/    /'; }
fi
for who in bob.gone carol.left eve@ ws01 oldlist frank@ mike@partner bulk0100 \
	bulk1000; do
	if grep -qi "^$who" "$d/got"; then
		fail "left out: $who"
	else
		pass "left out: $who"
	fi
done
if grep -qiE 'x500|sip:|x400|/o=' "$d/got"; then
	fail "no X500:, SIP: or x400: value in the catalog"
else
	pass "no X500:, SIP: or x400: value in the catalog"
fi

# Hostile proxyAddresses values (data/ad-population.sh, Mallory Values):
# only the valid address is in, each other value reported as invalid.
check_match "report: 6 hostile proxyAddresses values reported as invalid" \
	"$(cat "$d/var/report.json")" '"invalid_address": 6,'
if LC_ALL=C grep -q $'[\r\x01-\x08]' "$d/got" || grep -qE '^(x|y|nul|two|spaces)' "$d/got"; then
	fail "hostile values: no control character, no smuggled address in the catalog"
else
	pass "hostile values: no control character, no smuggled address in the catalog"
fi

# --- the example's optional line: hidden recipients out ---------------------
sed -e 's|^    # \(& .*msExchHideFromAddressLists\)|    \1|' \
	-e "s|^catalog = .*|catalog = $d/hidden.mdb|" -e '/^report_json/d' \
	"$d/ad.conf" >"$d/hidden.conf"
if grep -q '^    & (msExchHideFromAddressLists' "$d/hidden.conf" &&
	samba_ns "$agg" -c "$d/hidden.conf" >"$d/hidden.out" 2>&1; then
	gone=$(LC_ALL=C comm -23 <("$dircat" dump "$d/var/catalog.mdb" | sort) \
		<("$dircat" dump "$d/hidden.mdb" | sort) | cut -f1 | tr '\n' ' ')
	check_eq "hidden-recipient line switched on: only the hidden mailboxes and group go, public folders stay" \
		"$gone" "board@example.com dana.hidden@example.com journal@example.com "
else
	fail "hidden-recipient line switched on: runs"; cat "$d/hidden.out"
fi

# --- paging and the report --------------------------------------------------
json=$(cat "$d/var/report.json")
entries=$(grep -o '"entries": [0-9]*' <<<"$json" | head -n 1 | grep -o '[0-9]*$')
pages=$(grep -o '"pages": [0-9]*' <<<"$json" | head -n 1 | grep -o '[0-9]*$')
if [ "${entries:-0}" -gt 1000 ] && [ "${pages:-0}" -ge 2 ]; then
	pass "paging: ${entries} entries in one search, ${pages} pages of at most 1000"
else
	fail "paging: want more than 1000 entries over 2 pages or more, got entries=${entries:-?} pages=${pages:-?}"
	head -c 1500 "$d/var/report.json"; echo
fi
# Left out: 2 disabled mailboxes, the computer, 11 disabled bulk
# mailboxes, the entry with only X500:/SIP:.
check_match "report: 15 entries not selected (leavers, computer, no SMTP address)" \
	"$json" '"not_selected": 15,'
check_match "report: no entry without a kind (every selected type has one)" \
	"$json" '"no_kind": 0,'
check_match "report: the contacts' and the mail user's outside addresses are foreign" \
	"$json" '"foreign_domain": 4\}'
check_match "report: managedBy of the moved user resolved" \
	"$json" '"owner_dns": \{"total": 2, "resolved": 2, "first_rdn": 0, "not_resolved": 0\}'

# --- every recipient type through Postfix -----------------------------------
mkdir -p "$d/inbox" "$d/run" "$d/keys" "$d/node"
chmod 755 "$d/run"
# catalogd runs as nobody: it writes the inbox's status, its catalog and
# its sockets.
chown nobody:nogroup "$d/inbox" "$d/run" "$d/node"
(umask 077; "$dircat" keygen "$d/keys/signer" >/dev/null) ||
	{ fail "dircat keygen"; exit 1; }
cat >"$d/catalogd.conf" <<EOF
catalog = $d/node/catalog.mdb
catalog_id = corp
user = nobody
inbox = $d/inbox
trusted_key = $d/keys/signer.pub
rescan_interval = 1s
[socket map]
path = $d/run/map.sock
protocol = socketmap
group = postfix
mode = 0660
EOF
serial=$(grep -o '"serial_after": [0-9]*' "$d/var/report.json" | grep -o '[0-9]*$')
"$tools/mksnap" -i corp "$d/var/catalog.mdb" "$d/keys/signer.key" \
	"$d/inbox/.upload" >/dev/null && chown nobody "$d/inbox/.upload" &&
	mv "$d/inbox/.upload" "$d/inbox/corp.$serial.full.snap" ||
	fail "signed snapshot of the AD catalog"
"$DIRCAT_BIN/catalogd" -c "$d/catalogd.conf" -f >>"$d/catalogd.log" 2>&1 &
track_pid $!
installed() { grep -qx "serial=${serial:-1}" "$d/inbox/status"; }
if wait_for 20 test -S "$d/run/map.sock" && wait_for 20 installed; then
	pass "catalogd installed the AD catalog (serial ${serial:-?})"
else
	fail "catalogd installed the AD catalog"; tail -n 5 "$d/catalogd.log"
fi
postfix_start "$d/pf" "$d/run/map.sock" "example.com example.org" ||
	{ fail "private Postfix did not start"; exit 1; }

# Every address, its type, and the answer it must get at RCPT TO.
cat >"$d/rcpts" <<'EOF'
John.Smith@example.com  250 user mailbox, primary SMTP:
jsmith@example.com      250 user mailbox, secondary smtp:
john.smith@example.org  250 user mailbox, second domain
ann.lee@example.com     250 user moved between OUs
dana.hidden@example.com 250 hidden mailbox
mike.remote@example.com 250 mail user (targetAddress elsewhere)
rita.cloud@example.com  250 remote (hybrid) user mailbox
linus.linked@example.com 250 linked mailbox (disabled account)
helpdesk@example.com    250 shared mailbox (disabled account)
support@example.org     250 shared mailbox, secondary address
room101@example.com     250 room mailbox
projector1@example.com  250 equipment mailbox
journal@example.com     250 hidden shared mailbox
billing@example.com     250 remote shared mailbox
finance@example.com     250 mail-enabled security group
sales@example.com       250 distribution group
board@example.com       250 hidden distribution group
all-staff@example.com   250 dynamic distribution group
support-archive@example.com 250 mail-enabled public folder (hidden)
press@example.org       250 mail-enabled public folder
pat.partner@example.com 250 contact's local address
bulk1099@example.com    250 bulk mailbox (last page)
mallory@example.com     250 the valid address among hostile values
bob.gone@example.com    550 disabled user mailbox (leaver)
carol.left@example.com  550 disabled user, 66050
ws01@example.com        550 computer account
oldlist@example.com     550 group with mail but no proxyAddresses
eve@example.com         550 only X500:/SIP: addresses
bulk0100@example.com    550 disabled bulk mailbox
nobody@example.com      550 no such entry
x@example.com           550 smuggled in a proxyAddresses value with CR LF
frank@partner.example.net 554 contact's outside address (not ours)
EOF
to=$(awk '{ printf "%s%s", sep, $1; sep = "," }' "$d/rcpts")
swaks -s 127.0.0.1 -p "$PF_SMTP_PORT" --helo client.dircat-test.invalid \
	--timeout 60 -f someone@sender.test -t "$to" -q RCPT \
	>"$d/swaks.out" 2>&1
awk '/^ *-> RCPT TO/ { want = 1; next }
     want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' \
	"$d/swaks.out" >"$d/replies"
check_eq "one RCPT reply per address" "$(wc -l <"$d/replies")" \
	"$(wc -l <"$d/rcpts")"
paste -d '|' "$d/rcpts" "$d/replies" | while IFS='|' read -r line reply; do
	read -r addr code what <<<"$line"
	case $code in
	550) want='^550 5\.1\.1 ' ;;
	554) want='^554 5\.7\.1 .*Relay access denied' ;;
	*) want="^$code " ;;
	esac
	if grep -Eq "$want" <<<"$reply"; then
		pass "SMTP: $what: $addr -> ${reply:0:40}"
	else
		fail "SMTP: $what: $addr -> '$reply', want $code"
	fi
done
postfix_stop
samba_stop
exit 0
