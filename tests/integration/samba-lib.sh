# samba-lib.sh - a private Samba Active Directory domain controller for the
# integration tests (sourced after lib.sh, not run; as root).
#
# The domain CORP.EXAMPLE.COM (DC=corp,DC=example,DC=com), DC dc1, is
# provisioned once and kept under build/samba/KEY, KEY being a hash of
# this file, the population script, the schema extension and Samba's
# version: every AD test of a run (and of later runs) copies it, so only
# the first one pays for provisioning.  AD's ports are fixed (88, 389,
# 636, 3268, 3269), so each DC runs in a network namespace of its own
# with only loopback up; dc1.corp.example.com is 127.0.0.1 there
# (/etc/netns/NAME/hosts, which `ip netns exec` mounts over /etc/hosts).
# Only the ldap and kdc services run, in one process (-M single).
#
#   samba_provision      make the cache if it is missing (flock'ed);
#                        sets SAMBA_CACHE; prints nothing on success
#   samba_start DIR      copy the cache to DIR, make a namespace, start the
#                        DC in it, wait until LDAPS and the KDC answer.
#                        Sets SAMBA_DIR, SAMBA_NS, SAMBA_PID (tracked),
#                        SAMBA_CA (the DC's CA certificate), SAMBA_BASE,
#                        SAMBA_ADMIN_DN, SAMBA_ADMIN_PW (a 0600 file),
#                        SAMBA_SVC_DN, SAMBA_SVC_PW (the service account's
#                        password, 0600), SAMBA_KEYTAB (its keytab, 0600),
#                        SAMBA_KRB5_CONF (a krb5.conf for the realm)
#   samba_restart        start the DC of SAMBA_DIR again (after samba_stop)
#   samba_stop           stop the DC by its pid
#   samba_ns CMD...      run CMD in the DC's namespace
#   samba_admin_modify   ldapmodify as Administrator, LDIF on stdin
#   samba_search ARGS... ldapsearch as Administrator (LDIF, no wrapping)
#   samba_rss_kb         the DC's resident memory now and at its peak
#
# The namespace and /etc/netns/NAME are removed at exit, after the DC is
# stopped by its pid.
SAMBA_REALM=CORP.EXAMPLE.COM
SAMBA_DOMAIN=CORP
SAMBA_HOST=dc1.corp.example.com
SAMBA_BASE='DC=corp,DC=example,DC=com'
SAMBA_ADMIN_DN="CN=Administrator,CN=Users,$SAMBA_BASE"
SAMBA_SVC_DN="CN=svc-dircat,OU=Service Accounts,$SAMBA_BASE"
SAMBA_SVC_PASSWORD='Svc-D1rcat-Pw!'	# as in data/ad-population.sh
SAMBA_BULK=1100				# bulk mailboxes (> MaxPageSize)
SAMBA_START_WAIT=60			# seconds for the DC to answer
_samba_data=$DIRCAT_TOP/tests/integration/data
_samba_netns=()

# _samba_conf DIR: the DC's smb.conf, every path inside DIR.
_samba_conf() {
	local d=$1
	mkdir -p "$d/etc" "$d/cache" "$d/ncalrpc"
	cat >"$d/etc/smb.conf" <<EOF
[global]
	netbios name = DC1
	realm = $SAMBA_REALM
	workgroup = $SAMBA_DOMAIN
	server role = active directory domain controller
	server services = ldap, kdc
	interfaces = lo
	bind interfaces only = yes
	private dir = $d/private
	state directory = $d/state
	cache directory = $d/cache
	lock directory = $d
	pid directory = $d
	ncalrpc dir = $d/ncalrpc
	binddns dir = $d/bind-dns
	log file = $d/samba.log
	logging = file
	log level = 1
	dsdb:schema update allowed = true
	# A test DC: no fsync after each write (what Samba's own test suite
	# does); provisioning and every change in the tests go faster.
	ldb:nosync = true
EOF
	cat >"$d/etc/krb5.conf" <<EOF
[libdefaults]
	default_realm = $SAMBA_REALM
	dns_lookup_realm = false
	dns_lookup_kdc = false
	rdns = false
[realms]
	$SAMBA_REALM = {
		kdc = 127.0.0.1
	}
EOF
}

# _samba_ready: LDAPS and the KDC listen in the namespace.
_samba_ready() {
	ip netns exec "$SAMBA_NS" bash -c \
		'exec 3<>/dev/tcp/127.0.0.1/636 && exec 4<>/dev/tcp/127.0.0.1/88'
}

# _samba_netns_up NAME: a namespace with loopback only, and its hosts file.
_samba_netns_up() {
	local ns=$1
	ip netns add "$ns" || return 1
	_samba_netns+=("$ns")
	ip netns exec "$ns" ip link set lo up || return 1
	mkdir -p "/etc/netns/$ns"
	printf '127.0.0.1 %s dc1 localhost\n::1 localhost\n' "$SAMBA_HOST" \
		>"/etc/netns/$ns/hosts"
}

_samba_netns_down() {
	local ns
	for ns in "${_samba_netns[@]}"; do
		ip netns delete "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	_samba_netns=()
}

# _samba_run DIR: start the DC of DIR in SAMBA_NS; SAMBA_PID.
_samba_run() {
	local d=$1
	ip netns exec "$SAMBA_NS" samba -i -M single -s "$d/etc/smb.conf" \
		>>"$d/samba.out" 2>&1 </dev/null &
	SAMBA_PID=$!
	track_pid "$SAMBA_PID"
	if ! wait_for "$SAMBA_START_WAIT" _samba_ready; then
		echo "samba did not answer within ${SAMBA_START_WAIT}s:" >&2
		tail -n 20 "$d/samba.out" >&2
		return 1
	fi
}

samba_ns() { ip netns exec "$SAMBA_NS" "$@"; }

samba_admin_modify() {
	samba_ns env LDAPTLS_CACERT="$SAMBA_CA" ldapmodify -H "ldaps://$SAMBA_HOST" \
		-x -D "$SAMBA_ADMIN_DN" -y "$SAMBA_ADMIN_PW" "$@"
}

samba_search() {
	samba_ns env LDAPTLS_CACERT="$SAMBA_CA" ldapsearch -LLL -o ldif-wrap=no \
		-H "ldaps://$SAMBA_HOST" -x -D "$SAMBA_ADMIN_DN" -y "$SAMBA_ADMIN_PW" "$@"
}

samba_rss_kb() {
	awk '/^VmRSS|^VmHWM/ { printf "%s %s kB  ", $1, $2 }' \
		"/proc/$SAMBA_PID/status" 2>/dev/null
	echo
}

# _samba_set DIR: the variables of a DC tree.
_samba_set() {
	SAMBA_DIR=$1
	SAMBA_CA=$SAMBA_DIR/private/tls/ca.pem
	SAMBA_ADMIN_PW=$SAMBA_DIR/admin.pw
	SAMBA_SVC_PW=$SAMBA_DIR/svc.pw
	SAMBA_KEYTAB=$SAMBA_DIR/svc-dircat.keytab
	SAMBA_KRB5_CONF=$SAMBA_DIR/etc/krb5.conf
}

# _samba_make DIR: provision, extend the schema, load the population.
_samba_make() {
	local d=$1 t0 t1 t2
	t0=$(date +%s.%N)
	(umask 077; printf 'Ad-%s' "$(openssl rand -hex 12)" >"$d.admin.pw")
	samba-tool domain provision --targetdir="$d" --realm="$SAMBA_REALM" \
		--domain="$SAMBA_DOMAIN" --host-name=dc1 --server-role=dc \
		--dns-backend=NONE --adminpass="$(cat "$d.admin.pw")" \
		--option="interfaces=lo" --option="bind interfaces only=yes" \
		--option="ldb:nosync=true" \
		>"$d.provision.log" 2>&1 || { cat "$d.provision.log" >&2; return 1; }
	mv "$d.admin.pw" "$d/admin.pw"
	mv "$d.provision.log" "$d/provision.log"
	rm -f "$d/etc/smb.conf"
	_samba_conf "$d"
	_samba_set "$d"
	t1=$(date +%s.%N)
	SAMBA_NS=dircat-adprov-$$
	_samba_netns_up "$SAMBA_NS" && _samba_run "$d" || return 1
	# The DC's own ldap/ names (samba_spnupdate would add them; that
	# service is not run), for Kerberos binds.
	sed "s/@SCHEMA@/CN=Schema,CN=Configuration,$SAMBA_BASE/" \
		"$_samba_data/ad-exchange-schema.ldif" |
		samba_admin_modify >"$d/schema.log" 2>&1 ||
		{ cat "$d/schema.log" >&2; return 1; }
	printf 'dn: CN=DC1,OU=Domain Controllers,%s\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: ldap/%s\nservicePrincipalName: ldap/%s/corp.example.com\nservicePrincipalName: ldap/DC1\n-\n' \
		"$SAMBA_BASE" "$SAMBA_HOST" "$SAMBA_HOST" |
		samba_admin_modify >"$d/spn.log" 2>&1 ||
		{ cat "$d/spn.log" >&2; return 1; }
	bash "$_samba_data/ad-population.sh" "$SAMBA_BASE" "$SAMBA_BULK" |
		samba_admin_modify >"$d/population.log" 2>&1 ||
		{ tail -n 20 "$d/population.log" >&2; return 1; }
	(umask 077
	 samba-tool domain exportkeytab "$SAMBA_KEYTAB" \
		--principal="svc-dircat@$SAMBA_REALM" -s "$d/etc/smb.conf" \
		>"$d/keytab.log" 2>&1 &&
	 printf '%s' "$SAMBA_SVC_PASSWORD" >"$SAMBA_SVC_PW") ||
		{ cat "$d/keytab.log" >&2; return 1; }
	t2=$(date +%s.%N)
	{
		echo "provision_seconds=$(echo "$t1 - $t0" | bc)"
		echo "load_seconds=$(echo "$t2 - $t1" | bc)"
		echo "entries_loaded=$(grep -c '^adding new entry' "$d/population.log")"
		echo "dc_$(samba_rss_kb | sed 's/:  */=/g; s/ kB  */ kB /g')"
	} >"$d/provision.txt"
	stop_pid "$SAMBA_PID"
	wait "$SAMBA_PID" 2>/dev/null
	_samba_netns_down
	rm -f "$d/samba.out" "$d/samba.log"
}

samba_provision() {
	local root=$DIRCAT_TOP/build/samba key rc
	need samba samba-tool ldapmodify ldapsearch ip
	key=$(cat "${BASH_SOURCE[0]}" "$_samba_data/ad-population.sh" \
		"$_samba_data/ad-exchange-schema.ldif" <(samba -V) |
		sha256sum | cut -c1-16)
	SAMBA_CACHE=$root/$key
	mkdir -p "$root"
	(
		flock 9
		[ -f "$SAMBA_CACHE/provision.txt" ] && exit 0
		rm -rf "$SAMBA_CACHE.new" "$SAMBA_CACHE.new".*
		_samba_make "$SAMBA_CACHE.new" || exit 1
		# Only this key's tree is kept.
		find "$root" -mindepth 1 -maxdepth 1 -type d ! -name "$key.new" \
			-exec rm -rf {} +
		mv "$SAMBA_CACHE.new" "$SAMBA_CACHE"
	) 9>"$root/.lock"
	rc=$?
	[ "$rc" = 0 ] || rm -rf "$SAMBA_CACHE.new" "$SAMBA_CACHE.new".*
	return "$rc"
}

samba_start() {
	local d=$1
	samba_provision || return 1
	cp -a "$SAMBA_CACHE" "$d" || return 1
	_samba_conf "$d"
	_samba_set "$d"
	SAMBA_NS=dircat-ad-$$-${#_samba_netns[@]}
	_samba_netns_up "$SAMBA_NS" || return 1
	_samba_run "$d"
}

samba_restart() { _samba_run "$SAMBA_DIR"; }

samba_stop() {
	stop_pid "$SAMBA_PID"
	wait "$SAMBA_PID" 2>/dev/null
	SAMBA_PID=
}

_samba_cleanup() {
	[ -n "${SAMBA_PID:-}" ] && stop_pid "$SAMBA_PID"
	_samba_netns_down
	_test_cleanup
}
trap _samba_cleanup EXIT
