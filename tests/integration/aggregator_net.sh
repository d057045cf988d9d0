#!/bin/bash
# aggregator_net.sh - the aggregator's transport: StartTLS and ldaps with
# a CA file (and refusal of an untrusted server), a server that stops
# answering (timeout), and a connection lost in the middle of a paged
# search.  The previous catalog must survive each failure.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slapd-lib.sh"
need slapd openssl
agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)

# A throwaway CA and a server certificate for "localhost".
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dircat test CA" \
	-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/san.ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	-CAcreateserial -days 2 -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$d/other.key" -out "$d/other.pem" 2>/dev/null
chmod 644 "$d/server.key"

# 3000 persons, for paging with many round trips.
awk 'BEGIN { print "dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people"
	for (i = 1; i <= 3000; i++)
		printf "\ndn: uid=u%d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: u%d\ncn: U\nsn: U\nmail: u%d@example.com\n", i, i, i }' >"$d/people.ldif"
SLAPD_TLS_CERT=$d/server.pem SLAPD_TLS_KEY=$d/server.key \
	slapd_start "$d/slapd" unlimited "$d/people.ldif" || { fail "slapd with TLS starts"; exit 1; }

conf() {	# conf NAME URI [extra settings...]
	local name=$1 uri=$2; shift 2
	{
		echo "catalog = $d/$name.mdb"
		echo "catalog_id = net"
		echo "local_domains = example.com"
		echo "[source s]"
		echo "uri = $uri"
		echo "bind_dn = $SLAPD_BINDDN"
		echo "bind_password_file = $SLAPD_BINDPW"
		echo "base = ou=people,dc=example,dc=com"
		echo "filter = (objectClass=inetOrgPerson)"
		echo "person = SELECT @All"
		printf '%s\n' "$@"
	} >"$d/$name.conf"
}
starttls_uri=$SLAPD_URI

conf starttls "$starttls_uri" "starttls = yes" "ca_file = $d/ca.pem"
"$agg" -c "$d/starttls.conf" 2>"$d/err"
check_eq "StartTLS with the right CA: exit 0" "$?" 0
check_eq "StartTLS: 3000 addresses" "$("$dircat" dump "$d/starttls.mdb" | grep -c @)" 3000

conf ldaps "$SLAPD_LDAPS_URI" "ca_file = $d/ca.pem"
"$agg" -c "$d/ldaps.conf" 2>"$d/err"
check_eq "ldaps with the right CA: exit 0" "$?" 0

conf badca "$SLAPD_LDAPS_URI" "ca_file = $d/other.pem"
err=$("$agg" -c "$d/badca.conf" 2>&1)
check_eq "ldaps with an untrusted certificate: exit 69" "$?" 69
check_match "ldaps with an untrusted certificate: says so" "$err" "Can't contact LDAP server"
check "ldaps with an untrusted certificate: no catalog written" test ! -s "$d/badca.mdb"

conf badstarttls "$starttls_uri" "starttls = yes" "ca_file = $d/other.pem"
err=$("$agg" -c "$d/badstarttls.conf" 2>&1)
check_eq "StartTLS with an untrusted certificate: exit 69" "$?" 69
check_match "StartTLS with an untrusted certificate: says StartTLS failed" "$err" 'StartTLS: Connect error'

# A server that stops answering: the time limit ends the run.
cp "$d/starttls.mdb" "$d/stall.mdb"
conf stall "$SLAPD_URI" "timeout = 2s" "network_timeout = 2s"
kill -STOP "$SLAPD_PID"
t0=$(date +%s)
err=$("$agg" -c "$d/stall.conf" 2>&1)
rc=$?
t1=$(date +%s)
kill -CONT "$SLAPD_PID"
check_eq "server stops answering: exit 69" "$rc" 69
check_match "server stops answering: says which limit" "$err" 'source s \(ldap://127\.0\.0\.1:[0-9]+/\): (bind: (Timed out|Can.t contact LDAP server)|no answer within timeout = 2s)'
check "server stops answering: gives up within 10 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
check_eq "server stops answering: previous catalog kept" \
	"$("$dircat" dump "$d/stall.mdb" | grep -c @)" 3000

# The connection is lost in the middle of a paged search (1 entry a
# page): the server is frozen mid-search, then killed.
cp "$d/starttls.mdb" "$d/lost.mdb"
conf lost "$SLAPD_URI" "page_size = 1"
"$agg" -c "$d/lost.conf" >"$d/lost.out" 2>&1 &
aggpid=$!
track_pid "$aggpid"
sleep 0.1
kill -STOP "$SLAPD_PID"
check "connection lost mid-search: the search was still running" kill -0 "$aggpid"
kill -KILL "$SLAPD_PID"
wait "$aggpid"
rc=$?
err=$(cat "$d/lost.out")
check_eq "connection lost mid-search: exit 69" "$rc" 69
check_match "connection lost mid-search: says so" "$err" "Can't contact LDAP server"
check_eq "connection lost mid-search: previous catalog kept" \
	"$("$dircat" dump "$d/lost.mdb" | grep -c @)" 3000
