#!/bin/bash
# guides_postfix.sh - what docs/postfix.md and docs/submission.md say,
# checked on a private Postfix instance in front of a real catalogd fed by
# the whole pipeline (slapd -> dircat-aggregator -> dircat-replicator
# file:// -> catalogd inbox):
#
#   chroot    a chrooted smtpd cannot reach a socket outside the queue
#             directory (451 4.3.0 for every recipient); sockets in a
#             directory under the queue directory, named relative to it,
#             work chrooted and unchrooted, for the socketmap and the
#             policy service; proxy:socketmap works from a chrooted smtpd;
#             with catalogd stopped each of them defers (4xx), never 5xx.
#   submission  the submission service of docs/submission.md, installed
#             as written (port and socket path changed): SASL users send
#             as the addresses they own through login_attribute (uid) and
#             owner_attribute (owner DNs of groups and mail-in entries),
#             and get 553 5.7.1 for any other sender; unauthenticated
#             clients are refused.
# Needs root (Postfix, catalogd).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
. "$(dirname "$0")/postfix-lib.sh"

need postfix postconf smtp-sink swaks saslpasswd2 slapd ldapadd
if [ "$(id -u)" != 0 ]; then
	fail "needs root to start a private Postfix instance"
	exit 1
fi
data=$DIRCAT_TOP/tests/integration/data
docs=$DIRCAT_TOP/docs
T=$(tmpdir)
cd "$T" || exit 1

# --- the pipeline: LDAP -> catalog -> signed snapshot -> catalogd ----------
slapd_start "$T/slapd" || { fail "slapd starts"; exit 1; }
slapd_load "$data/sample.ldif" || fail "sample directory loaded"
sed -e "s|@DIR@|$T|g" -e "s|@URI@|$SLAPD_URI|g" -e "s|@BINDPW@|$SLAPD_BINDPW|g" \
	"$data/sample.conf.in" >agg.conf
"$DIRCAT_BIN/dircat-aggregator" -c agg.conf >agg.out 2>&1 ||
	{ fail "aggregator"; cat agg.out; exit 1; }
slapd_stop
pass "aggregator built the sample catalog from slapd"

mkdir -p inbox run var keys
chown nobody:nogroup inbox run var
(cd keys && "$DIRCAT_BIN/dircat" keygen signer >/dev/null) || { fail "keygen"; exit 1; }
cat >rep.conf <<EOF
catalog = $T/catalog.mdb
signing_key = $T/keys/signer.key
lifetime = 7d
spool_dir = $T/spool
state_dir = $T/state
upload_mode = 0644
[target node]
url = file://$T/inbox/
EOF
"$DIRCAT_BIN/dircat-replicator" -c rep.conf >rep.out 2>&1 ||
	{ fail "replicator"; cat rep.out; exit 1; }
pass "replicator delivered a signed snapshot into the inbox (file://)"

# Postfix first: catalogd's second set of sockets lives in its queue
# directory, as docs/postfix.md says for a chrooted smtpd.
postfix_start "$T/pf" "$T/run/map.sock" "example.com example.org" ||
	{ fail "private Postfix did not start"; exit 1; }
Q=$T/pf/queue
install -d -o nobody -g postfix -m 0750 "$Q/dircat"

cat >catalogd.conf <<EOF
catalog = $T/var/catalog.mdb
catalog_id = example
inbox = $T/inbox
trusted_key = $T/keys/signer.pub
user = nobody
extension_delimiter = +
rescan_interval = 2s
[socket map]
path = $T/run/map.sock
protocol = socketmap
group = postfix
mode = 0660
[socket qmap]
path = $Q/dircat/catalogd.sock
protocol = socketmap
group = postfix
mode = 0660
[socket qpolicy]
path = $Q/dircat/policy.sock
protocol = policy
group = postfix
mode = 0660
EOF
CATD_PID=
catalogd_up() {
	"$DIRCAT_BIN/catalogd" -c "$T/catalogd.conf" -f >>"$T/catalogd.log" 2>&1 &
	CATD_PID=$!
	track_pid "$CATD_PID"
	wait_for 10 test -S "$Q/dircat/policy.sock"
}
catalogd_up || { fail "catalogd did not start"; cat catalogd.log; exit 1; }
installed() { grep -q '^serial=1$' "$T/inbox/status" 2>/dev/null; }
if wait_for 20 installed; then
	pass "catalogd installed the snapshot (serial 1)"
else
	fail "catalogd installed the snapshot"; tail -n 5 catalogd.log; exit 1
fi

# --- chroot: one smtpd per way of reaching catalogd -------------------------
# PORT_OUT: chrooted, the absolute path outside the queue directory
# PORT_REL: chrooted, socket under the queue directory, relative name
# PORT_PROXY: chrooted, proxy:socketmap to the absolute path
# PORT_POLICY: chrooted, check_policy_service with a relative name
# PORT_RELN: not chrooted, the same relative name
for p in PORT_OUT PORT_REL PORT_PROXY PORT_POLICY PORT_RELN; do
	printf -v "$p" '%s' "$(_pf_port)"
done
cat >>"$T/pf/etc/master.cf" <<EOF
127.0.0.1:$PORT_OUT inet n - y - - smtpd
  -o syslog_name=postfix/out
127.0.0.1:$PORT_REL inet n - y - - smtpd
  -o syslog_name=postfix/rel
  -o relay_recipient_maps=socketmap:unix:dircat/catalogd.sock:recipients
127.0.0.1:$PORT_PROXY inet n - y - - smtpd
  -o syslog_name=postfix/proxy
  -o relay_recipient_maps=proxy:socketmap:unix:$T/run/map.sock:recipients
127.0.0.1:$PORT_POLICY inet n - y - - smtpd
  -o syslog_name=postfix/policy
  -o relay_recipient_maps=
  -o smtpd_recipient_restrictions=check_policy_service,unix:dircat/policy.sock
127.0.0.1:$PORT_RELN inet n - n - - smtpd
  -o syslog_name=postfix/reln
  -o relay_recipient_maps=socketmap:unix:dircat/catalogd.sock:recipients
EOF
# A table given with -o in master.cf is not in the default
# proxy_read_maps, which lists main.cf's own settings: add it.
postconf -c "$PF_CONF" \
	"proxy_read_maps = $(postconf -dh proxy_read_maps) proxy:socketmap:unix:$T/run/map.sock:recipients"
postfix -c "$PF_CONF" reload >/dev/null 2>&1
for p in $PORT_OUT $PORT_REL $PORT_PROXY $PORT_POLICY $PORT_RELN; do
	wait_for 10 _pf_listening "$p" || { fail "nothing listens on $p"; exit 1; }
done
pass "chroot test services listening ($PORT_OUT $PORT_REL $PORT_PROXY $PORT_POLICY $PORT_RELN)"

# rcpt PORT TO [swaks options]: the reply to RCPT TO.
rcpt() {
	local port=$1 to=$2
	shift 2
	swaks -s 127.0.0.1 -p "$port" --helo client.dircat-test.invalid \
		--timeout 60 -f someone@sender.test -t "$to" -q RCPT "$@" \
		>"$T/swaks.out" 2>&1
	awk '/^ *-> RCPT TO/ { want = 1; next }
	     want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' \
		"$T/swaks.out"
}

r=$(rcpt "$PORT_OUT" john.smith@example.com)
check_match "chrooted smtpd, socket outside the queue directory: known recipient 451 4.3.0" \
	"$r" '^451 4\.3\.0 <john\.smith@example\.com>: Temporary lookup failure'
r=$(rcpt "$PORT_OUT" nobody@example.com)
check_match "chrooted smtpd, socket outside the queue directory: unknown recipient 451 4.3.0 too" \
	"$r" '^451 4\.3\.0 '
check_match "... and the log says the socket is not there" \
	"$(grep 'postfix/out/smtpd' "$PF_LOG")" \
	"connect to $T/run/map\\.sock: No such file or directory"
for way in REL PROXY RELN; do
	port_var=PORT_$way
	port=${!port_var}
	case $way in
	REL) what="chrooted smtpd, socket under the queue directory (dircat/catalogd.sock)" ;;
	PROXY) what="chrooted smtpd, proxy:socketmap" ;;
	RELN) what="unchrooted smtpd, the same relative name" ;;
	esac
	r=$(rcpt "$port" John.Smith@example.com)
	check_match "$what: known recipient 250" "$r" '^250 2\.1\.5 '
	r=$(rcpt "$port" nobody@example.com)
	check_match "$what: unknown recipient 550 5.1.1" "$r" \
		'^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown in relay recipient table'
done
r=$(rcpt "$PORT_POLICY" helpdesk@example.com)
check_match "chrooted smtpd, policy service under the queue directory: known recipient 250" \
	"$r" '^250 2\.1\.5 '
r=$(rcpt "$PORT_POLICY" nobody@example.com)
check_match "chrooted smtpd, policy service under the queue directory: unknown recipient 550 5.1.1" \
	"$r" '^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown'

# --- catalogd stopped: every way defers -------------------------------------
stop_pid "$CATD_PID"
wait "$CATD_PID" 2>/dev/null
for way in REL PROXY RELN; do
	port_var=PORT_$way
	r=$(rcpt "${!port_var}" john.smith@example.com)
	check_match "catalogd stopped, $way: 451 4.3.0, not a rejection" "$r" \
		'^451 4\.3\.0 <john\.smith@example\.com>: Temporary lookup failure'
done
r=$(rcpt "$PORT_POLICY" nobody@example.com)
check_match "catalogd stopped, policy service: 451 4.3.5" "$r" \
	'^451 4\.3\.5 <nobody@example\.com>: Recipient address rejected: Server configuration problem'
catalogd_up || { fail "catalogd restarts"; exit 1; }
r=$(rcpt "$PORT_REL" nobody@example.com)
check_match "catalogd back: the relative socket answers again (550 5.1.1)" "$r" '^550 5\.1\.1 '

# --- submission, as docs/submission.md writes it ----------------------------
# The master.cf block of the guide that holds the submission service.
awk '/^```/ { if (inb) { if (found) { printf "%s", buf; exit } inb = 0; next }
               inb = 1; buf = ""; found = 0; next }
     inb { buf = buf $0 "\n"; if ($0 ~ /^submission +inet/) found = 1 }' \
	"$docs/submission.md" >sub.block
if [ -s sub.block ]; then
	pass "docs/submission.md has a master.cf submission service"
else
	fail "docs/submission.md has a master.cf submission service"; exit 1
fi
PORT_SUB=$(_pf_port)
# Changed for the test: the port (loopback, free), the socket path, and
# TLS (this instance has no certificate; the guide requires it).
sed -e "s|^submission *inet|127.0.0.1:$PORT_SUB inet|" \
	-e "s|/run/dircat/catalogd.sock|$T/run/map.sock|g" \
	-e 's|smtpd_tls_security_level=encrypt|smtpd_tls_security_level=none|' \
	-e 's|smtpd_tls_auth_only=yes|smtpd_tls_auth_only=no|' \
	sub.block >>"$T/pf/etc/master.cf"
postfix -c "$PF_CONF" reload >/dev/null 2>&1
wait_for 10 _pf_listening "$PORT_SUB" || { fail "submission service listens"; exit 1; }
pass "the guide's submission service runs on port $PORT_SUB"
postfix_add_user jsmith jsmith-secret && postfix_add_user mjones mjones-secret &&
	postfix_add_user JSMITH JSMITH-secret ||
	{ fail "saslpasswd2"; exit 1; }
as() { echo -a PLAIN -au "$1" -ap "$1-secret"; }

sub() {	# USER FROM: the reply to RCPT TO on the submission port
	swaks -s 127.0.0.1 -p "$PORT_SUB" --helo client.dircat-test.invalid \
		--timeout 60 -f "$2" -t mary.jones@example.com -q RCPT $(as "$1") \
		>"$T/swaks.out" 2>&1
	awk '/^ *-> RCPT TO/ { want = 1; next }
	     want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' \
		"$T/swaks.out"
}
ok() {	# USER FROM WHY
	local r
	r=$(sub "$1" "$2")
	check_match "submission: $1 may send as $2 ($3)" "$r" '^250 '
}
no() {	# USER FROM WHY
	local r
	r=$(sub "$1" "$2")
	check_match "submission: $1 may not send as $2 ($3): 553 5.7.1" "$r" \
		"^553 5\\.7\\.1 <$2>: Sender address rejected: not owned by user $1"
}
ok jsmith john.smith@example.com "own mail, login_attribute uid"
ok jsmith jsmith@example.com "own mailLocalAddress"
ok jsmith John.Smith@Example.COM "case does not matter"
ok jsmith staff@example.com "group owner: owner DN uid=jsmith,..."
ok jsmith helpdesk@example.com "one of two mail-in owners"
ok mjones helpdesk@example.com "the other mail-in owner"
ok mjones mary@example.org "own address in the second domain"
ok JSMITH john.smith@example.com "login JSMITH, owner jsmith: Postfix ignores case"
no mjones staff@example.com "group owned by jsmith"
no mjones john.smith@example.com "another person's address"
no jsmith sales@example.com "mail-in entry without owners"
no jsmith nobody@example.com "an address the catalog does not hold"
no jsmith someone@elsewhere.test "an outside address"
swaks -s 127.0.0.1 -p "$PORT_SUB" --helo client.dircat-test.invalid --timeout 60 \
	-f john.smith@example.com -t mary.jones@example.com -q RCPT >"$T/swaks.out" 2>&1
r=$(awk '/^ *-> RCPT TO/ { want = 1; next }
	 want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' "$T/swaks.out")
check_match "submission: unauthenticated client refused (554 5.7.1)" "$r" \
	'^554 5\.7\.1 .*Client host rejected: Access denied'

master=$PF_MASTER_PID
postfix_stop
check "Postfix stopped (master pid gone)" wait_for 10 sh -c "! kill -0 $master 2>/dev/null"
exit 0
