#!/bin/bash
# secrets.sh - no secret is printed or logged, at any verbosity.
#
# dircat-replicator pushes to two private nginx servers that require HTTP
# basic authentication (password from a file), one over HTTP/1.1, one
# over HTTP/2 (where libcurl reports header fields as text), and to a
# private sshd over sftp
# with a passphrase-protected key, at every verbosity from none to -vvvv
# (libcurl's own conversation), in -C and through a proxy whose password
# is in the environment; dircat-aggregator reads a
# private slapd with a simple bind (password from a file) at every
# verbosity, also with a wrong password, and refuses a URI that carries a
# password; dircat keygen makes a key.  The
# programs' syslog goes to a receiver (logcatch, mounted over /dev/log in
# a mount namespace of their own).  Checked: every run did its work (so
# the secrets were used), the -vvvv run did show the conversation, and
# none of the secrets - the HTTP password, the Authorization header's
# base64 "user:password", the ssh key's passphrase and key, the signing
# key, the bind passwords - appears in any standard output, standard
# error, syslog line, or in any file of the test's tree other than the
# secret files themselves and the directory servers' own databases.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/sshd-lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
need nginx openssl curl ssh-keygen slapd ldapadd unshare mount base64
[ -x "$DIRCAT_TESTBIN/tools/logcatch" ] ||
	{ fail "missing $DIRCAT_TESTBIN/tools/logcatch (make tests)"; exit 1; }

top=$(tmpdir)
out=$top/out			# every program's stdout and stderr
mkdir -p "$out" "$top/secret"
chmod 700 "$top/secret"

# --- syslog: a receiver mounted over /dev/log for the programs ----------
dev=$top/dev
mkdir -p "$dev"
for n in null zero full random urandom; do : >"$dev/$n"; done
ln -s /proc/self/fd "$dev/fd"
"$DIRCAT_TESTBIN/tools/logcatch" "$dev/log" "$out/syslog" &
catch_pid=$!
track_pid "$catch_pid"
wait_for 5 test -S "$dev/log" || { fail "logcatch did not start"; exit 1; }
# logged NAME CMD...: run CMD with /dev/log the receiver; its stdout and
# stderr into $out/NAME.out and .err; its exit status.
logged() {
	local name=$1; shift
	unshare --mount sh -c 'd=$1; shift
		for n in null zero full random urandom; do
			mount --bind "/dev/$n" "$d/$n" || exit 125
		done
		mount --rbind "$d" /dev || exit 125
		exec "$@"' sh "$dev" "$@" >"$out/$name.out" 2>"$out/$name.err"
}

# --- the secrets ------------------------------------------------------------
http_user=push
http_pw='Pu5h-http-s3cret-9f2c'
ssh_pass='ssh-key-Pa55phrase-7d1e'
printf '%s\n' "$http_pw" >"$top/secret/http.pw"
printf '%s\n' "$ssh_pass" >"$top/secret/ssh.pass"
printf 'Wrong-bind-s3cret-41aa\n' >"$top/secret/wrong.pw"
chmod 600 "$top/secret"/*
ssh-keygen -q -t ed25519 -N "$ssh_pass" -C dircat-test-push \
	-f "$top/secret/push_key" || { fail "ssh-keygen"; exit 1; }

# --- servers ------------------------------------------------------------------
rep_setup "$top/rep" || { fail "replicator setup"; exit 1; }
NGINX_AUTH_USER=$http_user NGINX_AUTH_PASSWORD=$http_pw \
	nginx_start "$top/n" "$top/www" || { fail "nginx did not start"; exit 1; }
NGINX_URL1=$NGINX_URL NGINX_CA1=$NGINX_CA
NGINX_HTTP2=1 NGINX_AUTH_USER=$http_user NGINX_AUTH_PASSWORD=$http_pw \
	nginx_start "$top/n2" "$top/www2" ||
	{ fail "nginx (HTTP/2) did not start"; exit 1; }
sshd_start "$top/s" || { fail "sshd did not start"; exit 1; }
cat "$top/secret/push_key.pub" >>"$top/s/sshd/authorized_keys"
slapd_start "$top/ldap" || { fail "slapd did not start"; exit 1; }
slapd_load "$DIRCAT_TOP/tests/integration/data/sample.ldif" ||
	{ fail "sample directory loaded"; exit 1; }
mkdir -p "$top/www/in" "$top/www2/in" "$top/sftp-in"

# --- dircat-replicator at every verbosity -----------------------------------
rep_records 1 50 | rep_catalog >/dev/null
rep_conf "$top/rep.conf" <<EOF
retries = 0
[target web]
url = ${NGINX_URL1}in/
ca_file = $NGINX_CA1
username = $http_user
password_file = $top/secret/http.pw
[target web2]
url = ${NGINX_URL}in/
ca_file = $NGINX_CA
username = $http_user
password_file = $top/secret/http.pw
[target ssh]
url = sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$top/sftp-in/
ssh_private_key = $top/secret/push_key
ssh_key_passphrase_file = $top/secret/ssh.pass
ssh_known_hosts = $SSHD_KNOWN_HOSTS
EOF
rep=$DIRCAT_BIN/dircat-replicator
logged rep-vvvv "$rep" -c "$top/rep.conf" -vvvv
check_eq "replicator -vvvv: pushed to every target (exit 0)" "$?" 0
check "https: the snapshot arrived (the password was used)" \
	test -f "$top/www/in/corp.1.full.snap"
check "https over HTTP/2: the snapshot arrived" \
	test -f "$top/www2/in/corp.1.full.snap"
check "sftp: the snapshot arrived (the key and its passphrase were used)" \
	test -f "$top/sftp-in/corp.1.full.snap"
err=$(cat "$out/rep-vvvv.err")
check_match "-vvvv shows libcurl's conversation (the PUT request)" "$err" \
	'^> PUT /in/\.corp\.1\.full\.snap\.part HTTP/1\.1'
check_match "-vvvv shows that an Authorization header was sent, not its value" \
	"$err" '^> Authorization: \[redacted\]$'
check_match "-vvvv shows the HTTP/2 conversation" "$err" '^\* using HTTP/2'
check_match "-vvvv shows the sftp conversation" "$err" '^\* .*SSH'
rep_records 1 60 | rep_catalog >/dev/null	# something new for each level
for v in "" -v -vv -vvv; do
	logged "rep$v" "$rep" -c "$top/rep.conf" $v
	check_eq "replicator ${v:-(quiet)}: exit 0" "$?" 0
done
logged rep-C "$rep" -c "$top/rep.conf" -C -vvvv
check_eq "replicator -C -vvvv: exit 0" "$?" 0
# A proxy with a password in the environment (nobody listens there).
logged rep-proxy env "https_proxy=http://proxyuser:Proxy-s3cret-pw-c3d4@127.0.0.1:$(free_port)/" \
	"$rep" -c "$top/rep.conf" -t web -vvvv
check_eq "replicator -vvvv through an unreachable proxy: exit 69" "$?" 69
check_match "-vvvv names the proxy from the environment, not its password" \
	"$(cat "$out/rep-proxy.err")" "proxy env variable https_proxy == 'http://\[redacted\]@127\.0\.0\.1:"

# --- dircat-aggregator at every verbosity -----------------------------------
sed -e "s|@DIR@|$top/agg|g" -e "s|@URI@|$SLAPD_URI|g" \
	-e "s|@BINDPW@|$SLAPD_BINDPW|g" \
	"$DIRCAT_TOP/tests/integration/data/sample.conf.in" >"$top/agg.conf"
mkdir -p "$top/agg"
agg=$DIRCAT_BIN/dircat-aggregator
for v in "" -v -vv -vvv; do
	logged "agg$v" "$agg" -c "$top/agg.conf" $v
	check_eq "aggregator ${v:-(quiet)}: exit 0 (bound with the password)" "$?" 0
done
sed "s|^bind_password_file = .*|bind_password_file = $top/secret/wrong.pw|" \
	"$top/agg.conf" >"$top/agg-wrong.conf"
logged agg-wrong "$agg" -c "$top/agg-wrong.conf" -vvv
check_eq "aggregator, wrong password: refused (exit 69)" "$?" 69
# A password written into the URI is refused, without repeating it.
for u in "ldap://cn=dircat:Uri-s3cret-pw-5b0e@127.0.0.1:$SLAPD_PORT/" \
	 "ldap://127.0.0.1:$SLAPD_PORT/????x-bindpw=Uri-s3cret-pw-5b0e"; do
	sed "s|^uri = .*|uri = $u|" "$top/agg.conf" >"$top/secret/agg-uri.conf"
	logged agg-uri "$agg" -c "$top/secret/agg-uri.conf" -t -vvv
	check_eq "aggregator: credentials in the URI refused (exit 78)" "$?" 78
	check_match "  with a message that says why" "$(cat "$out/agg-uri.err")" \
		'uri: a (login or )?password does not belong in the URI'
	cat "$out/agg-uri.err" >>"$out/agg-uri.all"
done

# --- dircat keygen ------------------------------------------------------------
(cd "$top/secret" && logged keygen "$DIRCAT_BIN/dircat" keygen admin-key)
check_eq "dircat keygen: exit 0" "$?" 0

# --- syslog really captured -------------------------------------------------
stop_pid "$catch_pid"
check "syslog captured the replicator's lines" grep -q 'dircat-replicator' "$out/syslog"
check "syslog captured the aggregator's lines" grep -q 'dircat-aggregator' "$out/syslog"

# --- no secret anywhere ----------------------------------------------------
key_body() { grep -v '^-----' "$1" | tr -d '\n'; }	# a PEM's base64
secrets=(
	"$http_pw"
	"$(printf '%s:%s' "$http_user" "$http_pw" | base64 -w0)"
	"$ssh_pass"
	"$(sed -n 2p "$top/secret/push_key")"
	"$(key_body "$REP_KEY")"
	"$(key_body "$top/secret/admin-key.key")"
	"$(key_body "$REP_KEY" | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')"
	"$(cat "$SLAPD_BINDPW")"
	"Wrong-bind-s3cret-41aa"
	"Uri-s3cret-pw-5b0e"
	"Proxy-s3cret-pw-c3d4"
)
names=("HTTP password" "Authorization value" "ssh key passphrase"
       "ssh private key" "signing key" "dircat keygen's key"
       "signing key seed (hex)" "LDAP bind password" "wrong bind password"
       "password in a URI" "proxy password")
# Every file but the secrets themselves and the directory's own database
# (slapd stores the bind entry's userPassword).
files=$(find "$top" -type f ! -path "$top/secret/*" ! -path "$top/ldap/*" \
	! -path "$REP_KEY")
nfiles=$(wc -l <<<"$files")
for i in "${!secrets[@]}"; do
	s=${secrets[$i]}
	if [ ${#s} -lt 8 ]; then
		fail "${names[$i]}: not read ('$s')"
		continue
	fi
	hits=$(tr '\n' '\0' <<<"$files" | xargs -0 grep -lF -- "$s" 2>/dev/null)
	if [ -z "$hits" ]; then
		pass "${names[$i]}: in no output, log or file ($nfiles files)"
	else
		fail "${names[$i]}: found in $(echo $hits)"
	fi
done
