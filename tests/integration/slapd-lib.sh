# slapd-lib.sh - a private OpenLDAP slapd for tests, demo and benchmarks
# (sourced).  Its own configuration directory (a generated slapd.conf),
# an mdb database, loopback TCP on a free port and an ldapi
# socket, run as the invoking user, stopped by pid.
#
#   slapd_start DIR [SIZELIMIT] [LDIF]
#                                 start (LDIF: bulk-loaded with slapadd
#                                 first, for large directories); sets
#                                 SLAPD_URI, SLAPD_LDAPI,
#                                 SLAPD_PID, SLAPD_BASE, SLAPD_ROOTDN,
#                                 SLAPD_ROOTPW (a file), SLAPD_BINDDN,
#                                 SLAPD_BINDPW (a file, mode 0600)
#   With SLAPD_TLS_CERT and SLAPD_TLS_KEY set: StartTLS on SLAPD_URI and
#   an ldaps listener, SLAPD_LDAPS_URI (certificates need IP:127.0.0.1).
#   With SLAPD_EXTRA_INDEX set (e.g. "mail eq"): one more index line.
#   With SLAPD_SYNCPROV set: the syncprov overlay (RFC 4533 provider) with
#   a session log of SLAPD_SESSIONLOG changes (default 1000); with
#   SLAPD_NOPRESENT set, a cookie older than the session log is refused
#   (e-syncRefreshRequired) instead of answered with a present phase.
#   With SLAPD_MONITOR set: the monitor database (cn=Monitor), readable
#   by the root DN, for counting the operations the server carried out.
#   With SLAPD_EXTRA_SCHEMA set (e.g. "$DIRCAT_TOP/tests/integration/data/
#   ad-389.schema"): those schema files (slapd.conf format, separated by
#   spaces) included after the standard ones.
#   slapd_load FILE.ldif          add entries as the root DN
#   slapd_ldapmodify FILE.ldif    modify as the root DN
#   slapd_stop                    stop it by pid
# Needs lib.sh (free_port, wait_for, track_pid) sourced first.

SLAPD_BASE="dc=example,dc=com"
SLAPD_ROOTDN="cn=admin,$SLAPD_BASE"
SLAPD_BINDDN="cn=dircat,ou=services,$SLAPD_BASE"

slapd_start() {
	local dir=$1 sizelimit=${2:-unlimited} bulk=${3:-} port i
	local top=${DIRCAT_TOP:?}
	mkdir -p "$dir/db"
	port=$(free_port) || return 1
	SLAPD_PORT=$port
	SLAPD_URI="ldap://127.0.0.1:$port/"
	SLAPD_SOCK="$dir/ldapi"
	SLAPD_LDAPI="ldapi://$(printf '%s' "$SLAPD_SOCK" | sed 's|/|%2F|g')"
	SLAPD_ROOTPW="$dir/root.pw"
	SLAPD_BINDPW="$dir/bind.pw"
	(umask 077; printf rootsecret >"$SLAPD_ROOTPW"; printf dircat-bind-secret >"$SLAPD_BINDPW")
	cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/misc.schema
include $top/schema/dircat.schema
include $top/tests/integration/data/test-extra.schema
$(for f in ${SLAPD_EXTRA_SCHEMA:-}; do echo "include $f"; done)
${SLAPD_TLS_CERT:+TLSCertificateFile $SLAPD_TLS_CERT}
${SLAPD_TLS_KEY:+TLSCertificateKeyFile $SLAPD_TLS_KEY}
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
${SLAPD_SYNCPROV:+moduleload syncprov}
sizelimit $sizelimit
database mdb
suffix "$SLAPD_BASE"
rootdn "$SLAPD_ROOTDN"
rootpw rootsecret
directory $dir/db
maxsize 8589934592
index objectClass eq
${SLAPD_EXTRA_INDEX:+index $SLAPD_EXTRA_INDEX}
${SLAPD_SYNCPROV:+index entryCSN,entryUUID eq}
access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to *
	by dn.exact="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth" read
	by users read
	by * none
CONF
	if [ -n "${SLAPD_SYNCPROV:-}" ]; then
		cat >>"$dir/slapd.conf" <<CONF
overlay syncprov
syncprov-checkpoint 100 1
syncprov-sessionlog ${SLAPD_SESSIONLOG:-1000}
${SLAPD_NOPRESENT:+syncprov-nopresent TRUE}
CONF
	fi
	if [ "$sizelimit" != unlimited ]; then
		# As Active Directory: a small size limit, but a paged search
		# may return everything.
		cat >>"$dir/slapd.conf" <<CONF
limits users size.soft=$sizelimit size.hard=$sizelimit size.prtotal=unlimited
CONF
	fi
	if [ -n "${SLAPD_MONITOR:-}" ]; then
		cat >>"$dir/slapd.conf" <<CONF
database monitor
access to *
	by dn.exact="$SLAPD_ROOTDN" read
	by * none
CONF
	fi
	_slapd_base_ldif >"$dir/base.ldif"
	if [ -n "$bulk" ]; then
		slapadd -q -f "$dir/slapd.conf" -l "$dir/base.ldif" >"$dir/slapadd.log" 2>&1 &&
		slapadd -q -f "$dir/slapd.conf" -l "$bulk" >>"$dir/slapadd.log" 2>&1 || {
			cat "$dir/slapadd.log"; return 1; }
	fi
	SLAPD_LDAPS_URI=
	if [ -n "${SLAPD_TLS_CERT:-}" ]; then
		SLAPD_LDAPS_PORT=$(free_port) || return 1
		SLAPD_LDAPS_URI="ldaps://127.0.0.1:$SLAPD_LDAPS_PORT/"
	fi
	slapd -f "$dir/slapd.conf" -h "$SLAPD_URI $SLAPD_LDAPI $SLAPD_LDAPS_URI" >"$dir/slapd.log" 2>&1 || {
		cat "$dir/slapd.log"; return 1; }
	for i in $(seq 100); do
		[ -s "$dir/slapd.pid" ] && break
		sleep 0.1
	done
	SLAPD_PID=$(cat "$dir/slapd.pid" 2>/dev/null)
	[ -n "$SLAPD_PID" ] || return 1
	track_pid "$SLAPD_PID"
	wait_for 10 ldapsearch -x -H "$SLAPD_URI" -b "" -s base || return 1
	[ -n "$bulk" ] && return 0
	ldapadd -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" \
		-f "$dir/base.ldif" >/dev/null
}

# The base entry and the aggregator's service account.
_slapd_base_ldif() {
	cat <<LDIF
dn: $SLAPD_BASE
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=services,$SLAPD_BASE
objectClass: organizationalUnit
ou: services

dn: $SLAPD_BINDDN
objectClass: simpleSecurityObject
objectClass: organizationalRole
cn: dircat
userPassword: dircat-bind-secret
LDIF
}

slapd_load() {
	ldapadd -c -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" -f "$1" >/dev/null
}

slapd_ldapmodify() {
	ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -y "$SLAPD_ROOTPW" -f "$1" >/dev/null
}

slapd_stop() {
	stop_pid "${SLAPD_PID:-}"
	SLAPD_PID=
}
