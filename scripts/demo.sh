#!/bin/bash
# demo.sh - the whole dircat pipeline on this machine, on private servers
# started here and stopped at the end (by pid):
#
#   slapd (sample organisation) -> dircat-aggregator -> catalog
#   -> dircat-replicator --sftp--> private sshd (the "DMZ node") -> inbox
#   -> catalogd -> socketmap / policy sockets -> a private Postfix
#
# then the directory changes (a new hire, a departure), the aggregator and
# replicator run again, a delta arrives, and the answers change; then both
# run in watch mode and a change made with ldapmodify reaches Postfix on
# its own, in a fraction of a second.
# Run as root (Postfix and the privilege drop of catalogd need it):
#   scripts/deps.sh test && make demo
# KEEP_DEMO=1 keeps the files (configurations, logs) for a look afterwards.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export DIRCAT_TOP=$top
export DIRCAT_BIN=${DIRCAT_BIN:-$top/bin}
source "$top/tests/integration/lib.sh"
source "$top/tests/integration/slapd-lib.sh"
source "$top/tests/integration/sshd-lib.sh"
source "$top/tests/integration/postfix-lib.sh"
source "$top/scripts/pipeline-lib.sh"
# The directory also offers RFC 4533 content synchronisation (step 8).
export SLAPD_SYNCPROV=1

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it starts a private Postfix and drops catalogd's privileges)" >&2
	exit 2
fi
for p in slapd sshd postfix swaks smtp-sink "$DIRCAT_BIN/catalogd"; do
	command -v "$p" >/dev/null || { echo "demo: $p is missing: run scripts/deps.sh test && make" >&2; exit 2; }
done

d=$(mktemp -d /tmp/dircat-demo.XXXXXX)
chmod 755 "$d"
_test_dirs+=("$d")
[ -n "${KEEP_DEMO:-}" ] && _test_dirs=()
log=$d/demo.log
failed=0
step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
bad() { printf '   !! %s\n' "$*"; failed=$((failed + 1)); }
rcpt() {
	local r
	for r in "$@"; do
		printf '   RCPT TO:<%s>\n     -> %s\n' "$r" "$(pl_rcpt "$PF_SMTP_PORT" sender@outside.example "$r")"
	done
}

step "1. Internal directory: a private slapd with a sample organisation"
pipeline_internal "$d" >"$log" 2>&1 || { echo "demo: slapd did not start (see $log)"; exit 1; }
n=$(ldapsearch -x -LLL -H "$SLAPD_URI" -D "$SLAPD_BINDDN" -y "$SLAPD_BINDPW" -b "$SLAPD_BASE" \
	'(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))' dn | grep -c '^dn:')
say "slapd on $SLAPD_URI: $n entries: persons, groups, mail-in entries, disabled"
say "accounts, an entry marked dircatNoSync, foreign and upper-case addresses"

step "2. dircat-aggregator: directory -> catalog (serial 1)"
pl_aggregate -v >"$d/agg1.out" 2>&1 || { bad "aggregator failed:"; cat "$d/agg1.out"; }
grep -E '^(selected|left out|addresses|catalog)' "$d/agg1.out" | sed 's/^/   /'

step "3. The DMZ node: an sshd receiving uploads, catalogd answering lookups"
pipeline_node "$d" >>"$log" 2>&1 || { bad "the node did not start:"; cat "$PL_NODE/catalogd.log"; }
say "sshd on 127.0.0.1:$SSHD_PORT (keys only); catalogd (pid $PL_CATD_PID) runs as nobody,"
say "listens only on Unix sockets in $PL_NODE/run, trusts $(basename "$PL_NODE"/keys/*.pub)"

step "4. dircat-replicator: signed snapshot -> sftp -> the node's inbox"
pipeline_replicator
pl_replicate -v >"$d/rep1.out" 2>&1 || { bad "replicator failed:"; cat "$d/rep1.out"; }
sed 's/^/   /' "$d/rep1.out"
wait_for 15 grep -qx serial=1 "$PL_NODE/inbox/status" || bad "catalogd did not install serial 1"
"$DIRCAT_BIN/dircat" status -c "$PL_CATD_CONF" 2>&1 |
	grep -E '^(catalog_id|serial|records|key_id|last_install|stale):' | sed 's/^/   node: /'

step "5. Lookups through the socket, with Postfix's own client (postmap -q)"
for a in john.smith@example.com JOHN.SMITH@EXAMPLE.COM jsmith+news@example.com \
	staff@example.com nobody@example.com bob.disabled@example.com pat@partner.example.net; do
	printf '   %-28s -> %s\n' "$a" "$(pl_lookup "$a")"
done

step "6. A private Postfix in front of catalogd (relay_recipient_maps = socketmap)"
pipeline_postfix "$d" >>"$log" 2>&1 || { echo "demo: Postfix did not start (see $log)"; exit 1; }
say "Postfix smtpd on 127.0.0.1:$PF_SMTP_PORT; accepted mail goes on to an smtp-sink"
rcpt john.smith@example.com nobody@example.com someone@elsewhere.example
swaks --server 127.0.0.1 --port "$PF_SMTP_PORT" --from sender@outside.example \
	--to john.smith@example.com --helo client.example --timeout 20 >>"$log" 2>&1
if sink_wait john.smith@example.com 1 10; then
	say "a message to john.smith@example.com reached the internal hub (smtp-sink)"
else
	bad "no message reached the sink"
fi

step "7. The directory changes: a new hire; Dana Lee leaves"
cat >"$d/change.ldif" <<LDIF
dn: uid=newhire,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: newhire
cn: New Hire
sn: Hire
mail: new.hire@example.com

dn: uid=dlee,ou=people,dc=example,dc=com
changetype: modify
add: employeeType
employeeType: disabled
LDIF
slapd_ldapmodify "$d/change.ldif" >>"$log" 2>&1
say "added uid=newhire (new.hire@example.com); disabled uid=dlee (dana.lee@example.com;"
	say "shared@example.com, which dlee claimed first, now goes to the group cn=shared)"
pl_aggregate -v >"$d/agg2.out" 2>&1 || { bad "aggregator failed:"; cat "$d/agg2.out"; }
grep -E '^(changes|catalog)' "$d/agg2.out" | sed 's/^/   /'
pl_replicate -v >"$d/rep2.out" 2>&1 || { bad "replicator failed:"; cat "$d/rep2.out"; }
sed 's/^/   /' "$d/rep2.out"
grep -q 'delta' "$d/rep2.out" || bad "the replicator did not send a delta"
wait_for 15 grep -qx serial=2 "$PL_NODE/inbox/status" || bad "catalogd did not install serial 2"
say "catalogd now serves serial $(pl_node_serial)"
rcpt new.hire@example.com dana.lee@example.com shared@example.com john.smith@example.com

step "8. Watch mode: the aggregator follows the directory, the replicator pushes at once"
if pipeline_watch >>"$log" 2>&1; then
	say "dircat-aggregator --watch follows slapd (RFC 4533, syncprov); dircat-replicator -w"
	say "waits on $(basename "$PL_NOTIFY") and keeps its ssh connection to the node open"
else
	bad "the watch mode did not start (see $PL_INT/aggregator-watch.log)"
fi
cat >"$d/live.ldif" <<LDIF
dn: uid=live,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: live
cn: Live Hire
sn: Hire
mail: live.hire@example.com
LDIF
t0=$(date +%s.%N)
slapd_ldapmodify "$d/live.ldif" >>"$log" 2>&1
ok=
for i in $(seq 200); do
	case $(pl_rcpt "$PF_SMTP_PORT" sender@outside.example live.hire@example.com) in
	250*) ok=1; break ;;
	esac
	sleep 0.05
done
took=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
if [ -n "$ok" ]; then
	say "added uid=live with ldapmodify: Postfix accepts live.hire@example.com ${took}s later"
	say "(with no aggregator or replicator run by hand: serial $(pl_node_serial) on the node)"
else
	bad "live.hire@example.com was not accepted within 10 s"
fi
rcpt live.hire@example.com
pipeline_watch_stop

step "9. Stopping everything"
postfix_stop >>"$log" 2>&1
stop_pid "$PL_CATD_PID"
sshd_stop >>"$log" 2>&1
slapd_stop
say "Postfix, smtp-sink, catalogd, sshd and slapd stopped by pid"
if [ "$failed" -gt 0 ]; then
	echo "demo: $failed step(s) did not do what they should; files kept in $d"
	_test_dirs=()
	exit 1
fi
echo
echo "demo: done."
