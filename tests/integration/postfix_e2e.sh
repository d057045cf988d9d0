#!/bin/bash
# postfix_e2e.sh - catalogd behind a real, private Postfix instance, with
# swaks as the SMTP client and smtp-sink as the internal hub.
#
# Postfix asks catalogd through relay_recipient_maps (socketmap), through
# check_policy_service, and on the submission ports through
# smtpd_sender_login_maps / the policy service's sender check.  Checked:
# known recipients get 250 and reach the hub; unknown local ones get
# 550 5.1.1; foreign domains are relay-denied; case variants, address
# extensions and catch-all domains pass; a snapshot dropped in the inbox
# makes a new recipient valid without a restart; with catalogd killed or
# stopped Postfix defers (4xx) and never rejects (5xx), for recipients and
# senders alike, and serves again when catalogd is back; a SASL user may
# send as its own addresses only; an internal-only group takes mail from
# internal client addresses (XCLIENT) and authenticated clients only.
#
# Everything runs twice against the same Postfix: with a clear catalog,
# then with a keyed-hash catalog (hash_secret on both sides, installed
# from a hashed snapshot), whose check names start with "keyed-hash:";
# the keyed-hash round also searches the node's catalog file and the
# snapshot for the addresses as text.  Needs root (Postfix).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix-lib.sh"

need postfix postconf smtp-sink swaks saslpasswd2
if [ "$(id -u)" != 0 ]; then
	fail "needs root to start a private Postfix instance"
	exit 1
fi
tools=$DIRCAT_TESTBIN/tools
for t in mkcatalog mksnap; do
	[ -x "$tools/$t" ] || { fail "missing $tools/$t (make tests)"; exit 1; }
done

T=$(tmpdir)
cd "$T" || exit 1
mkdir -p run inbox keys
chmod 755 run

# --- the catalog ------------------------------------------------------------
# owners: the SASL logins that may send as an address.
cat >records <<'EOF'
example.com domain
example.org domain
example.net domain
alice@example.com person alice@example.com
bob@example.com person bob
dave@example.com person dave@example.com
erin@example.com person erin@example.com
sales@example.com group alice@example.com,bob
helpdesk@example.org mailin bob
@example.net person
staff@example.com group - internal_only=yes
EOF
# 400 more people, so lookups are not answered from a toy table.
for i in $(seq 400); do echo "user$i@example.com person user$i@example.com"; done >>records
(umask 077; "$DIRCAT_BIN/dircat" keygen keys/signer >/dev/null) ||
	{ fail "dircat keygen"; exit 1; }
# The keyed-hash round's secret; catalogd reads it as root (no user=).
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >keys/corp.hashkey)

# Check names carry the round: "keyed-hash: ..." in the second.
ROUND=
pass() { echo "PASS: $_test_name: $ROUND$*"; }
fail() { echo "FAIL: $_test_name: $ROUND$*"; }

# catalog_setup clear|keyed: the node's catalog, inbox and catalogd.conf
# in $T/clear or $T/keyed.  Clear: the catalog file made directly.
# Keyed: the node starts empty and installs a hashed snapshot.
catalog_setup() {
	local mode=$1 secret_line=
	N=$T/$mode
	mkdir -p "$N/inbox"
	if [ "$mode" = clear ]; then
		"$tools/mkcatalog" -i corp "$N/catalog.mdb" <records >/dev/null ||
			{ fail "mkcatalog"; exit 1; }
	else
		secret_line="hash_secret = $T/keys/corp.hashkey"
		"$tools/mkcatalog" -i corp "$N/internal.mdb" <records >/dev/null &&
			"$tools/mksnap" "${MKSNAP_HASH[@]}" "$N/internal.mdb" keys/signer.key \
				"$N/inbox/.corp.1.full.snap.tmp" >/dev/null &&
			cp "$N/inbox/.corp.1.full.snap.tmp" "$N/first.snap" &&
			mv "$N/inbox/.corp.1.full.snap.tmp" "$N/inbox/corp.1.full.snap" ||
			{ fail "hashed snapshot"; exit 1; }
	fi
	cat >"$N/catalogd.conf" <<EOF
catalog = $N/catalog.mdb
catalog_id = corp
inbox = $N/inbox
trusted_key = $T/keys/signer.pub
$secret_line
internal_networks = 10.0.0.0/8, 2001:db8:1::/48
extension_delimiter = +
rescan_interval = 2s
[socket map]
path = $T/run/map.sock
protocol = socketmap
group = postfix
mode = 0660
[socket policy]
path = $T/run/policy.sock
protocol = policy
group = postfix
mode = 0660
EOF
}

CATALOGD_PID=
catalogd_start() {
	"$DIRCAT_BIN/catalogd" -c "$N/catalogd.conf" -f -R >>"$N/catalogd.log" 2>&1 &
	CATALOGD_PID=$!
	track_pid "$CATALOGD_PID"
	wait_for 10 test -S "$T/run/map.sock" && wait_for 5 test -S "$T/run/policy.sock"
}

# XCLIENT lets the tests speak as an internal or external client address
# (the policy service sees it as client_address).
PF_EXTRA_MAIN="smtpd_authorized_xclient_hosts = 127.0.0.1"
postfix_start "$T/pf" "$T/run/map.sock" "example.com example.org example.net" \
	"$T/run/policy.sock" || { fail "private Postfix did not start"; exit 1; }
pass "private Postfix started (smtp $PF_SMTP_PORT, policy $PF_POLICY_PORT, submission $PF_SUBMISSION_PORT/$PF_SUBMISSION_POLICY_PORT, sink $PF_SINK_PORT)"
postfix_add_user alice@example.com alice-secret &&
postfix_add_user bob bob-secret ||
	{ fail "saslpasswd2"; exit 1; }

# --- helpers ----------------------------------------------------------------
# smtp PORT FROM TO [swaks options...]: run one SMTP transaction; prints
# the reply to each RCPT TO, one a line ("250 2.1.5 Ok", ...), and keeps
# the transcript in $T/swaks.out.
smtp() {
	local port=$1 from=$2 to=$3
	shift 3
	swaks -s 127.0.0.1 -p "$port" --helo client.dircat-test.invalid \
		--timeout 60 -f "$from" -t "$to" "$@" >"$T/swaks.out" 2>&1
	awk '/^ *-> RCPT TO/ { want = 1; next }
	     want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' \
		"$T/swaks.out"
}
as_alice() { echo -a PLAIN -au alice@example.com -ap alice-secret; }
as_bob() { echo -a PLAIN -au bob -ap bob-secret; }

# expect NAME REPLY REGEX
expect() { check_match "$1" "$2" "$3"; }

# delivered NAME PORT FROM TO [swaks options]: 250 and the sink has it.
delivered() {
	local name=$1 port=$2 from=$3 to=$4 before r
	shift 4
	before=$(sink_count "$to")
	r=$(smtp "$port" "$from" "$to" "$@")
	if ! grep -q '^250 ' <<<"$r"; then
		fail "$name: RCPT answered '$r', want 250"
		tail -n 5 "$T/swaks.out" | sed 's/^/    /'
		return
	fi
	if ! grep -q '^<-  250 .*queued' "$T/swaks.out"; then
		fail "$name: message not queued"
		tail -n 5 "$T/swaks.out" | sed 's/^/    /'
		return
	fi
	if sink_wait "$to" $((before + 1)) 30; then
		pass "$name: 250, and the hub received it"
	else
		fail "$name: accepted but never reached the hub"
	fi
}

S=$PF_SMTP_PORT
P=$PF_POLICY_PORT
U=$PF_SUBMISSION_PORT

# e2e_round clear|keyed: catalogd on that catalog, every check, catalogd
# stopped at the end.
e2e_round() {
catalog_setup "$1"
catalogd_start || { fail "catalogd did not start"; cat "$N/catalogd.log"; exit 1; }
pass "catalogd serves the catalog on its sockets (group postfix, 0660)"
if [ "$1" = keyed ]; then
	installed() { grep -qx 'serial=1' "$N/inbox/status" 2>/dev/null; }
	check "the hashed snapshot is installed" wait_for 30 installed
	local leaks= f w
	for f in "$N/catalog.mdb" "$N/first.snap"; do
		for w in alice@ bob@ helpdesk user77@ staff@ internal_only example.com example.org; do
			grep -aqF "$w" "$f" && leaks="$leaks $(basename "$f"):$w"
		done
	done
	check_eq "no address, owner or domain as text in the node's catalog file or the snapshot" "$leaks" ""
fi

# --- MX port: relay_recipient_maps = socketmap:...:recipients ----------------
delivered "map: known recipient" $S someone@sender.test alice@example.com
delivered "map: case variant DAVE@EXAMPLE.com" $S someone@sender.test DAVE@EXAMPLE.com
delivered "map: address extension erin+lists@example.com" $S someone@sender.test erin+lists@example.com
delivered "map: group address" $S someone@sender.test sales@example.com
delivered "map: mail-in address in a second domain" $S someone@sender.test helpdesk@example.org
delivered "map: catch-all domain (@example.net)" $S someone@sender.test anyone@example.net
r=$(smtp $S someone@sender.test nobody@example.com -q RCPT)
expect "map: unknown local recipient: 550 5.1.1 User unknown in relay recipient table" \
	"$r" '^550 5\.1\.1 <nobody@example\.com>: .*User unknown in relay recipient table'
r=$(smtp $S someone@sender.test nobody+tag@example.com -q RCPT)
expect "map: unknown local recipient with an extension: 550 5.1.1" "$r" '^550 5\.1\.1 '
r=$(smtp $S someone@sender.test someone@foreign.test -q RCPT)
expect "map: foreign domain: 554 5.7.1 relay access denied" "$r" \
	'^554 5\.7\.1 <someone@foreign\.test>: Relay access denied'
# relay_domains covers subdomains too (parent_domain_matches_subdomains):
# the catalog does not know the address, so it is refused, never relayed.
r=$(smtp $S someone@sender.test alice@sub.example.com -q RCPT)
expect "map: address in a subdomain of a local domain: refused" "$r" '^5[0-9][0-9] '

# Many bad recipients in one session, then a good one: the connection to
# catalogd and the SMTP session both survive.
bad=$(seq -f 'ghost%g@example.com' 1 150 | paste -sd,)
r=$(smtp $S someone@sender.test "$bad,user77@example.com" -q RCPT)
check_eq "map: 150 unknown recipients in one session: 150 x 550 5.1.1" \
	"$(grep -c '^550 5\.1\.1 ' <<<"$r")" 150
expect "map: ... then a known one in the same session: 250" \
	"$(tail -n 1 <<<"$r")" '^250 '

# --- MX port asking the policy service -----------------------------------
delivered "policy: known recipient" $P someone@sender.test bob@example.com
delivered "policy: case variant User77@Example.COM" $P someone@sender.test User77@Example.COM
delivered "policy: address extension user78+tag@example.com" $P someone@sender.test user78+tag@example.com
r=$(smtp $P someone@sender.test nobody@example.com -q RCPT)
expect "policy: unknown local recipient: 550 5.1.1" "$r" \
	'^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected'
# Recipients of a local domain that Postfix takes but catalogd cannot
# read as an address (a blank in a quoted local part, a local part over
# 64 bytes): no catalog entry, so refused as unknown, never let through.
r=$(smtp $P someone@sender.test '"st aff"@example.com' -q RCPT)
expect "policy: a local recipient with a blank in its quoted local part: 550 5.1.1" \
	"$r" '^550 5\.1\.1 '
r=$(smtp $P someone@sender.test "$(printf 'a%.0s' $(seq 65))@example.com" -q RCPT)
expect "policy: a local part of 65 bytes in a local domain: 550 5.1.1" "$r" '^550 5\.1\.1 '
r=$(smtp $P someone@sender.test someone@foreign.test -q RCPT)
expect "policy: foreign domain: 554 5.7.1 relay access denied" "$r" \
	'^554 5\.7\.1 .*Relay access denied'

# Internal-only group (internal_only=yes): 127.0.0.1 is not internal.
# (IPv6 client addresses are checked in test_lookup: this instance runs
# with inet_protocols = ipv4, and Postfix refuses XCLIENT ADDR=IPV6:...)
r=$(smtp $P someone@sender.test staff@example.com -q RCPT)
expect "policy: internal-only group from outside: 550 5.7.1" "$r" \
	'^550 5\.7\.1 <staff@example\.com>: Recipient address rejected: Only internal senders may write to this address'
r=$(smtp $P someone@sender.test staff@example.com -q RCPT --xclient-addr 192.0.2.44)
expect "policy: internal-only group, XCLIENT ADDR=192.0.2.44 (external): 550 5.7.1" \
	"$r" '^550 5\.7\.1 '
delivered "policy: internal-only group, XCLIENT ADDR=10.1.2.3 (internal_networks)" \
	$P someone@sender.test staff@example.com --xclient-addr 10.1.2.3
# The same group spelt otherwise by an external client: every spelling
# that reaches the group is refused as the group is, none slips past.
for v in STAFF@Example.COM staff+news@example.com '"staff"@example.com' \
	 '"st\aff"@example.com' staff@example.com. staff@EXAMPLE.COM.; do
	r=$(smtp $P someone@sender.test "$v" -q RCPT --xclient-addr 192.0.2.44)
	expect "policy: internal-only group spelt $v from outside: 5xx" "$r" '^5[0-9][0-9] '
done
delivered "policy: internal-only group spelt staff+x@example.com from 10.1.2.3" \
	$P someone@sender.test staff+x@example.com --xclient-addr 10.1.2.3

# --- submission: SASL, sender ownership -------------------------------------
delivered "submission (map): alice sends as her own address" $U \
	alice@example.com user1@example.com $(as_alice)
delivered "submission (map): alice sends as a group she owns" $U \
	sales@example.com user2@example.com $(as_alice)
delivered "submission (map): bob (login without realm) sends as his address" $U \
	bob@example.com user3@example.com $(as_bob)
delivered "submission (map): authenticated user may relay out" $U \
	bob@example.com user4@example.com $(as_bob)
r=$(smtp $U bob@example.com user5@example.com -q RCPT $(as_alice))
expect "submission (map): alice as bob@example.com: 553 5.7.1 not owned" "$r" \
	'^553 5\.7\.1 <bob@example\.com>: Sender address rejected: not owned by user alice@example\.com'
r=$(smtp $U helpdesk@example.org user5@example.com -q RCPT $(as_alice))
expect "submission (map): alice as a mail-in she does not own: 553 5.7.1" "$r" '^553 5\.7\.1 '
r=$(smtp $U nobody@example.com user5@example.com -q RCPT $(as_bob))
expect "submission (map): bob as an unknown local address: 553 5.7.1" "$r" '^553 5\.7\.1 '
if [ -n "$PF_SUBMISSION_POLICY_PORT" ]; then
	V=$PF_SUBMISSION_POLICY_PORT
	delivered "submission (policy): bob sends as the mail-in he owns" $V \
		helpdesk@example.org user6@example.com $(as_bob)
	delivered "submission (policy): alice sends as Alice@Example.com" $V \
		Alice@Example.com user6@example.com $(as_alice)
	r=$(smtp $V alice@example.com user7@example.com -q RCPT $(as_bob))
	expect "submission (policy): bob as alice@example.com: 553 5.7.1" "$r" '^553 5\.7\.1 '
	delivered "submission (policy): authenticated bob writes to the internal-only group" \
		$V bob@example.com staff@example.com $(as_bob)
fi

# --- a new snapshot makes a new hire valid, without a restart ------------------
r=$(smtp $S someone@sender.test frank@example.com -q RCPT)
expect "new hire not in the catalog yet: 550 5.1.1" "$r" '^550 5\.1\.1 '
{ cat records; echo "frank@example.com person frank@example.com"; } |
	"$tools/mkcatalog" -i corp -s 10 "$N/next.mdb" >/dev/null &&
	"$tools/mksnap" "${MKSNAP_HASH[@]}" "$N/next.mdb" keys/signer.key \
		"$N/inbox/.corp.10.full.snap.tmp" >/dev/null 2>mksnap.err &&
	mv "$N/inbox/.corp.10.full.snap.tmp" "$N/inbox/corp.10.full.snap" ||
	fail "could not make a snapshot: $(cat mksnap.err)"
new_hire_ok() { smtp $S someone@sender.test frank@example.com -q RCPT | grep -q '^250 '; }
if wait_for 20 new_hire_ok; then
	pass "snapshot installed from the inbox: the new hire gets 250"
else
	fail "snapshot from the inbox: the new hire still refused"
	tail -n 5 "$N/catalogd.log" | sed 's/^/    /'
fi
check "an installed snapshot is removed from the inbox" \
	test ! -e "$N/inbox/corp.10.full.snap"

# --- catalogd down: Postfix defers, never rejects --------------------------
# kill -9 leaves the socket files behind (a crash); SIGTERM removes them.
# expect_4xx NAME REPLY: a temporary failure, no permanent one.
expect_4xx() {
	if grep -q '^4[0-9][0-9] ' <<<"$2" && ! grep -q '^5' <<<"$2"; then
		pass "$1 ($(head -c 40 <<<"$2"))"
	else
		fail "$1"
		echo "    got: $2"
	fi
}
down_checks() {	# how
	local how=$1
	expect_4xx "catalogd $how: known recipient (map) deferred, not rejected" \
		"$(smtp $S someone@sender.test alice@example.com -q RCPT)"
	expect_4xx "catalogd $how: unknown recipient (map) deferred, not rejected" \
		"$(smtp $S someone@sender.test nobody@example.com -q RCPT)"
	expect_4xx "catalogd $how: unknown recipient (policy) deferred, not rejected" \
		"$(smtp $P someone@sender.test nobody@example.com -q RCPT)"
	expect_4xx "catalogd $how: submission, own sender address deferred" \
		"$(smtp $U alice@example.com user1@example.com -q RCPT $(as_alice))"
	expect_4xx "catalogd $how: submission, someone else's sender address deferred" \
		"$(smtp $U bob@example.com user1@example.com -q RCPT $(as_alice))"
	if [ -n "$PF_SUBMISSION_POLICY_PORT" ]; then
		expect_4xx "catalogd $how: submission (policy), sender deferred" \
			"$(smtp $PF_SUBMISSION_POLICY_PORT bob@example.com user1@example.com -q RCPT $(as_alice))"
	fi
}
kill -KILL "$CATALOGD_PID"
wait "$CATALOGD_PID" 2>/dev/null
down_checks "killed (-9, stale sockets)"

catalogd_start || fail "catalogd restart"
delivered "catalogd restarted: known recipient accepted again" $S someone@sender.test alice@example.com
r=$(smtp $S someone@sender.test nobody@example.com -q RCPT)
expect "catalogd restarted: unknown recipient rejected again" "$r" '^550 5\.1\.1 '
delivered "catalogd restarted: the installed snapshot survived (new hire)" $S \
	someone@sender.test frank@example.com

stop_pid "$CATALOGD_PID"
check "catalogd stopped by SIGTERM removes its sockets" test ! -e "$T/run/map.sock"
down_checks "stopped (no sockets)"
}

MKSNAP_HASH=()
e2e_round clear
ROUND="keyed-hash: "
MKSNAP_HASH=(-H "$T/keys/corp.hashkey")
e2e_round keyed
ROUND=

# Nothing was deferred into the queue by the down checks (-q RCPT quits
# before DATA), and nothing accepted was lost: the queue is empty.
empty_queue() { [ -z "$(find "$T/pf/queue/active" "$T/pf/queue/incoming" "$T/pf/queue/deferred" -type f 2>/dev/null)" ]; }
check "every accepted message left Postfix's queue for the hub" wait_for 20 empty_queue

master=$PF_MASTER_PID
postfix_stop
check "Postfix stopped (master pid gone)" wait_for 10 sh -c "! kill -0 $master 2>/dev/null"
exit 0
