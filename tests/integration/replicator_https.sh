#!/bin/bash
# replicator_https.sh - dircat-replicator against a private nginx over TLS
# with WebDAV: PUT to a temporary name, MOVE into place; the status file
# read back with GET decides a delta; an untrusted certificate, a wrong
# password and a missing client certificate are refused.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
need nginx openssl curl

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
NGINX_AUTH_USER=push NGINX_AUTH_PASSWORD='s3cret pass' \
	nginx_start "$top/n1" "$top/www" || { fail "nginx did not start"; exit 1; }
URL=$NGINX_URL CA=$NGINX_CA WRONG_CA=$NGINX_WRONG_CA N1_PID=$NGINX_PID
N1_ACCESS=$NGINX_ACCESS_LOG
mkdir -p "$top"/www/in1 "$top"/www/in-untrusted "$top"/www/in-badpw
printf 's3cret pass\n' >"$top/password"
chmod 600 "$top/password"
printf 'wrong\n' >"$top/badpassword"
chmod 600 "$top/badpassword"

rep_records 1 300 | rep_catalog >/dev/null		# serial 1

rep_conf "$top/https.conf" <<EOF
ca_file = $CA
username = push
password_file = $top/password
retries = 1
retry_delay = 1s
[target web]
url = ${URL}in1/
[target untrusted]
url = ${URL}in-untrusted/
ca_file = $WRONG_CA
[target badpw]
url = ${URL}in-badpw/
password_file = $top/badpassword
EOF

# --- PUT + MOVE -----------------------------------------------------------
rep_run -c "$top/https.conf" -v
check_eq "https: exit status 69 (two targets refused)" "$REP_RC" 69
check "https: file arrived under its final name" \
	test -f "$top/www/in1/corp.1.full.snap"
check "https: byte-identical to the spool copy" \
	cmp -s "$top/www/in1/corp.1.full.snap" "$REP_DIR/spool/corp.1.full.snap"
check_eq "https: no temporary file left" "$(ls -A "$top/www/in1")" \
	corp.1.full.snap
check_match "https: uploaded with PUT to a temporary name" \
	"$(cat "$N1_ACCESS")" '"PUT /in1/\.corp\.1\.full\.snap\.part HTTP/1\.1" 20[14]'
check_match "https: renamed with MOVE" "$(cat "$N1_ACCESS")" \
	'"MOVE /in1/\.corp\.1\.full\.snap\.part HTTP/1\.1" 20[14]'
check_eq "https: report says full" "$(rep_json web action)" full
check_match "https: valid snapshot" \
	"$(rep_verify "$top/www/in1/corp.1.full.snap")" '^valid'

# --- refusals -------------------------------------------------------------
check_match "untrusted certificate: clear message" "$REP_ERR" \
	'target untrusted: server certificate of 127.0.0.1:[0-9]+ not trusted \(ca_file .*wrong-ca.crt\)'
check_eq "untrusted certificate: nothing uploaded" \
	"$(ls -A "$top/www/in-untrusted")" ""
check_eq "untrusted certificate: not retried" \
	"$(rep_json untrusted attempts)" 1
check_match "untrusted certificate: no request reached nginx" \
	"$(grep -c 'in-untrusted' "$N1_ACCESS")" '^0$'
check_match "wrong password: refused with HTTP 401" "$REP_ERR" \
	'target badpw: reading the node.s status: 127.0.0.1:[0-9]+ answered HTTP 401 \(credentials refused\)'
check_eq "wrong password: nothing uploaded" "$(ls -A "$top/www/in-badpw")" ""

# --- status read back with GET: a delta -----------------------------------
rep_status "$top/www/in1" 1
rm -f "$top/www/in1"/*.snap
rep_records 1 305 | rep_catalog >/dev/null		# serial 2
rep_run -c "$top/https.conf" -t web
check_eq "https delta: exit status" "$REP_RC" 0
check "https delta: delta 1-2 arrived" test -f "$top/www/in1/corp.1-2.delta.snap"
check_match "https delta: verifies as a delta" \
	"$(rep_verify "$top/www/in1/corp.1-2.delta.snap")" 'type +delta'
check_eq "https delta: report" "$(rep_json web action)" delta

# A stale file of the same name is replaced (Overwrite: T).
rm -f "$REP_DIR/state/web.state"
echo stale >"$top/www/in1/corp.1-2.delta.snap"
rep_run -c "$top/https.conf" -t web
check "https: MOVE replaces a stale file" cmp -s \
	"$top/www/in1/corp.1-2.delta.snap" "$REP_DIR/spool/corp.1-2.delta.snap"

# --- secrets and URLs -----------------------------------------------------
chmod 644 "$top/password"
rep_run -c "$top/https.conf" -C
check_eq "password file readable by others: configuration refused" \
	"$REP_RC" 78
check_match "password file readable by others: message names it" \
	"$REP_ERR" "password_file: .*$top/password"
chmod 600 "$top/password"
rep_conf "$top/pwurl.conf" <<EOF
[target x]
url = https://push:secret@127.0.0.1:1/in/
EOF
rep_run -c "$top/pwurl.conf" -C
check_eq "password in the URL: refused" "$REP_RC" 78
check_match "password in the URL: message" "$REP_ERR" \
	'a password does not belong in the URL'
rep_conf "$top/http.conf" <<EOF
[target x]
url = http://127.0.0.1:1/in/
EOF
rep_run -c "$top/http.conf" -C
check_eq "plain http: refused" "$REP_RC" 78

# --- client certificates --------------------------------------------------
NGINX_REQUIRE_CLIENT_CERT=1 nginx_start "$top/n2" "$top/www2" ||
	fail "second nginx did not start"
mkdir -p "$top"/www2/in "$top"/www2/in-nocert
rep_conf "$top/cert.conf" <<EOF
retries = 0
ca_file = $NGINX_CA
[target withcert]
url = ${NGINX_URL}in/
client_cert = $NGINX_CLIENT_CERT
client_key = $NGINX_CLIENT_KEY
[target nocert]
url = ${NGINX_URL}in-nocert/
EOF
rep_run -c "$top/cert.conf"
check "client certificate: delivered" test -f "$top/www2/in/corp.2.full.snap"
check_match "no client certificate: refused (HTTP 400)" "$REP_ERR" \
	'target nocert: .*answered HTTP 400'
check_eq "no client certificate: nothing uploaded" \
	"$(ls -A "$top/www2/in-nocert")" ""
chmod 644 "$NGINX_CLIENT_KEY"
rep_run -c "$top/cert.conf" -C
check_eq "client key readable by others: refused" "$REP_RC" 78
exit 0
