#!/bin/bash
# watch_389ds.sh - the watch mode against 389 Directory Server (Debian's
# 389-ds-base) with its content synchronisation plugin (RFC 4533) and the
# Retro Changelog it reads.  This host has no systemd as init, and
# dscreate starts and stops the instance with systemctl: a stand-in
# systemctl (first on PATH for dscreate, dsconf and dsctl only) starts
# ns-slapd by its pid file instead.  The instance gets a unique name, a
# free port and its own ldapi socket, and is removed (dsctl remove) at
# the end.  After an add, a modify, a delete and a rename made while the
# watch runs, the catalog equals a batch run's; a restart resumes from the
# cookie stored with the catalog.
# run.sh: beside others
source "$(dirname "$0")/lib.sh"
need ldapmodify ldapsearch
for p in dscreate dsconf dsctl ns-slapd; do
	command -v "$p" >/dev/null 2>&1 ||
		{ echo "SKIP: $_test_name: $p missing (scripts/deps.sh test installs 389-ds-base)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: $_test_name: needs root (dscreate)"; exit 0; }

agg=$DIRCAT_BIN/dircat-aggregator
dircat=$DIRCAT_BIN/dircat
d=$(tmpdir)
inst=dircatlive$$
port=$(free_port)
pw=$d/dm.pw
(umask 077; printf 'Dircat-Test-%s' "$$" >"$pw")

mkdir -p "$d/shim"
cat >"$d/shim/systemctl" <<EOF
#!/bin/sh
# systemctl for dscreate/dsctl on a host without systemd: dirsrv@NAME
# started and stopped as ns-slapd by its pid file.
act=\$1; shift; unit=
for a in "\$@"; do case \$a in -*) ;; *) unit=\$a ;; esac; done
case \$unit in dirsrv@*) i=\${unit#dirsrv@}; i=\${i%.service} ;; *) exit 0 ;; esac
pid=/run/dirsrv/slapd-\$i.pid
mkdir -p /run/dirsrv /run/lock/dirsrv/slapd-\$i
chown dirsrv:dirsrv /run/dirsrv /run/lock/dirsrv/slapd-\$i 2>/dev/null
up() { [ -s \$pid ] && kill -0 "\$(cat \$pid)" 2>/dev/null; }
start() {
	/usr/sbin/ns-slapd -D /etc/dirsrv/slapd-\$i -i \$pid >>$d/ns-slapd.log 2>&1
	for n in \$(seq 100); do up && return 0; sleep 0.1; done; return 1
}
stop() {
	up && kill "\$(cat \$pid)"
	for n in \$(seq 100); do up || { rm -f \$pid; return 0; }; sleep 0.1; done
	return 1
}
case \$act in
start) start ;;
stop) stop ;;
restart) stop; start ;;
is-active) up ;;
*) exit 0 ;;
esac
EOF
chmod 755 "$d/shim/systemctl"
ds() { PATH=$d/shim:$PATH "$@"; }
ds_remove() {
	ds dsctl "$inst" remove --do-it >>"$d/ds.log" 2>&1
	[ -s "/run/dirsrv/slapd-$inst.pid" ] && stop_pid "$(cat "/run/dirsrv/slapd-$inst.pid")"
	rm -f "/run/dirsrv/slapd-$inst.pid" "/run/slapd-$inst.socket"
	rm -rf "/run/lock/dirsrv/slapd-$inst"
}
trap 'ds_remove; _test_cleanup' EXIT

cat >"$d/ds.inf" <<EOF
[general]
full_machine_name = localhost
start = False
strict_host_checking = False
selinux = False
systemd = False
[slapd]
instance_name = $inst
port = $port
root_password = $(cat "$pw")
self_sign_cert = False
[backend-userroot]
suffix = dc=example,dc=com
create_suffix_entry = True
EOF
t0=$(date +%s.%N)
if ds dscreate from-file "$d/ds.inf" >"$d/ds.log" 2>&1; then
	pass "dscreate made instance $inst ($(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s)"
else
	fail "dscreate from a .inf file"; tail -n 5 "$d/ds.log"; exit 1
fi
uri=ldap://127.0.0.1:$port
ds systemctl start "dirsrv@$inst"
wait_for 20 ldapsearch -x -H "$uri" -b "" -s base ||
	{ fail "ns-slapd answers"; tail -n 5 "$d/ns-slapd.log"; exit 1; }
pass "ns-slapd runs (pid $(cat "/run/dirsrv/slapd-$inst.pid"), $(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$(cat "/run/dirsrv/slapd-$inst.pid")/status") MB)"
for p in retro-changelog contentsync; do
	ds dsconf -D "cn=Directory Manager" -y "$pw" "$uri" plugin "$p" enable >>"$d/ds.log" 2>&1
done
ds systemctl restart "dirsrv@$inst"
wait_for 20 ldapsearch -x -H "$uri" -b "" -s base
check_match "content synchronisation enabled" \
	"$(ldapsearch -x -LLL -H "$uri" -D "cn=Directory Manager" -y "$pw" \
		-b "cn=Content Synchronization,cn=plugins,cn=config" -s base nsslapd-pluginEnabled 2>&1)" \
	'nsslapd-pluginEnabled: on'

mod() { ldapmodify -x -H "$uri" -D "cn=Directory Manager" -y "$pw" >>"$d/ldap.log" 2>&1; }
mod <<EOF
dn: ou=people,dc=example,dc=com
changetype: add
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
mail: alice@example.com

dn: uid=bob,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
mail: bob@example.com
mail: robert@example.com
EOF
for x in w b; do
	mkdir -p "$d/$x"
	cat >"$d/$x/agg.conf" <<EOF
catalog = $d/$x/catalog.mdb
catalog_id = ds389
local_domains = example.com
$([ $x = w ] && echo "watch_status_file = $d/w/status")
[source ds]
uri = $uri
bind_dn = cn=Directory Manager
bind_password_file = $pw
base = dc=example,dc=com
filter = (objectClass=inetOrgPerson)
login_attribute = uid
person = SELECT @All
EOF
done
equal() {
	local want got i
	"$agg" -c "$d/b/agg.conf" --force >>"$d/batch.log" 2>&1
	want=$("$dircat" dump --full "$d/b/catalog.mdb")
	for i in $(seq 100); do
		got=$("$dircat" dump --full "$d/w/catalog.mdb")
		[ "$got" == "$want" ] && break
		sleep 0.1
	done
	check_eq "$1" "$got" "$want"
}
"$agg" -c "$d/w/agg.conf" --once >"$d/once.log" 2>&1
check_eq "--once against 389-DS exits 0" "$?" 0
equal "the initial refresh equals a batch run"
"$agg" -c "$d/w/agg.conf" --watch -vv >"$d/watch.log" 2>&1 &
wpid=$!
track_pid "$wpid"
wait_for 10 grep -q "following (syncrepl" "$d/watch.log"
grep -q 'from the stored cookie' "$d/watch.log" &&
	pass "the watch resumes from the cookie --once stored" ||
	fail "the watch resumes from the cookie --once stored"
mod <<EOF
dn: uid=carol,ou=people,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: C
mail: carol@example.com
EOF
equal "add"
mod <<EOF
dn: uid=alice,ou=people,dc=example,dc=com
changetype: modify
add: mail
mail: a.liddell@example.com
EOF
equal "modify: an address added"
mod <<EOF
dn: uid=bob,ou=people,dc=example,dc=com
changetype: delete
EOF
equal "delete: both of the entry's addresses leave"
mod <<EOF
dn: uid=carol,ou=people,dc=example,dc=com
changetype: modrdn
newrdn: uid=caroline
deleteoldrdn: 1
EOF
equal "rename (modrdn)"
check_match "carol@ follows the renamed entry" \
	"$("$dircat" dump --full "$d/w/catalog.mdb" | grep '^carol@')" $'\tcaroline\t'
stop_pid "$wpid"
