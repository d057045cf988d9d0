#!/bin/bash
# watch_pipeline.sh - the live path end to end on private servers: slapd
# with syncprov -> dircat-aggregator --watch -> (datagram) ->
# dircat-replicator -w over sftp, connections kept open -> catalogd ->
# Postfix.  An LDAP add reaches Postfix as 250, a delete as 550 5.1.1,
# with nobody running anything by hand; the replicator keeps one ssh
# connection for all of it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slapd-lib.sh"
source "$(dirname "$0")/sshd-lib.sh"
source "$(dirname "$0")/postfix-lib.sh"
source "$DIRCAT_TOP/scripts/pipeline-lib.sh"
need slapd sshd postfix swaks postmap ldapmodify
[ "$(id -u)" = 0 ] || { echo "SKIP: $_test_name: needs root (Postfix, catalogd's user)"; exit 0; }

d=$(tmpdir)
export SLAPD_SYNCPROV=1
pipeline_internal "$d" >"$d/setup.log" 2>&1 || { fail "slapd with syncprov starts"; exit 1; }
pl_aggregate >>"$d/setup.log" 2>&1
pipeline_node "$d" >>"$d/setup.log" 2>&1 || { fail "the node starts"; exit 1; }
pipeline_replicator
pl_replicate >>"$d/setup.log" 2>&1
wait_for 30 grep -qx serial=1 "$PL_NODE/inbox/status" || fail "the node installs serial 1"
pipeline_postfix "$d" >>"$d/setup.log" 2>&1 || { fail "Postfix starts"; exit 1; }
logins0=$(grep -c 'Accepted publickey' "$SSHD_LOG")
check "the batch replicator logged in once" test "$logins0" -eq 1
if pipeline_watch >>"$d/setup.log" 2>&1; then
	pass "aggregator and replicator in watch mode"
else
	fail "aggregator and replicator in watch mode"
	tail -n 5 "$PL_INT"/*-watch.log
fi

# rcpt_until ADDRESS CODE: poll Postfix (at most 20 s) until RCPT TO
# ADDRESS gets CODE; prints the last answer and the seconds it took.
rcpt_until() {
	local t0 a i
	t0=$(date +%s.%N)
	for i in $(seq 400); do
		a=$(pl_rcpt "$PF_SMTP_PORT" sender@outside.example "$1")
		case $a in "$2"*) break ;; esac
		sleep 0.05
	done
	echo "$a ($(echo "$(date +%s.%N) - $t0" | awk '{ printf "%.2f", $1 - $3 }')s)"
}
check_match "before: new.hire@ is unknown" \
	"$(pl_rcpt "$PF_SMTP_PORT" sender@outside.example new.hire@example.com)" '^550 5\.1\.1'
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" >>"$d/ldap.log" 2>&1 <<LDIF
dn: uid=newhire,ou=people,$SLAPD_BASE
changetype: add
objectClass: inetOrgPerson
uid: newhire
cn: New Hire
sn: Hire
mail: new.hire@example.com
LDIF
got=$(rcpt_until new.hire@example.com 250)
check_match "an LDAP add reaches Postfix: $got" "$got" '^250 '
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" >>"$d/ldap.log" 2>&1 <<LDIF
dn: uid=jsmith,ou=people,$SLAPD_BASE
changetype: delete
LDIF
got=$(rcpt_until john.smith@example.com 550)
check_match "an LDAP delete reaches Postfix: $got" "$got" '^550 5\.1\.1'
check_match "and the leaver's other address too" \
	"$(pl_rcpt "$PF_SMTP_PORT" sender@outside.example jsmith@example.com)" '^550 5\.1\.1'
# Ten more changes, one after another: each one a serial, each one
# installed, over the one ssh connection the replicator keeps.
for i in $(seq 1 10); do
	printf 'dn: uid=burst%d,ou=people,%s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: burst%d\ncn: B\nsn: B\nmail: burst%d@example.com\n\n' \
		"$i" "$SLAPD_BASE" "$i" "$i"
done | ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" >>"$d/ldap.log" 2>&1
got=$(rcpt_until burst10@example.com 250)
check_match "a burst of 10 adds: the last one accepted: $got" "$got" '^250 '
check_match "and the first" \
	"$(pl_rcpt "$PF_SMTP_PORT" sender@outside.example burst1@example.com)" '^250 '
conns=$(ss -tnp 2>/dev/null | grep -c "pid=$PL_REP_PID,")
check "the replicator holds one ssh connection ($conns)" test "$conns" -eq 1
# The batch run logged in once; the watch mode once for all its runs.
logins=$(grep -c 'Accepted publickey' "$SSHD_LOG")
check "one ssh login for every run of the watch mode ($logins in all)" \
	test "$logins" -eq 2
status=$("$DIRCAT_BIN/dircat" dump "$PL_NODE/catalog.mdb" | wc -l)
check "the node's catalog has the burst" test "$status" -ge 20
check_match "the aggregator's status says it is running" \
	"$(cat "$PL_INT/watch.status")" '^state=running'
pipeline_watch_stop
postfix_stop >/dev/null 2>&1
