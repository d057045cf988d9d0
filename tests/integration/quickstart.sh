#!/bin/bash
# quickstart.sh - a new administrator's path, as the README writes it:
# the Debian packages of this tree installed into two fresh Debian 12
# roots, an internal host and a DMZ node, and the README's own command
# blocks run in them as root, taken from README.md at run time (not
# copied): "The internal host" and "A DMZ node".  Between the blocks the
# test does only what the README leaves to the administrator: write the
# LDAP password, edit the settings the README names, copy the two public
# keys from one host to the other.  Then the whole pipeline runs as the
# units run it (the systemctl stand-in, unitrun/systemctl, emulates their
# sandbox with bubblewrap): the aggregator reads a private slapd, the
# replicator pushes over sftp as dircat-upload through the node's sshd
# (the Match block of docs/examples/sshd-dircat-upload.conf: chroot,
# internal-sftp, the key in upload_authorized_keys), catalogd installs the
# snapshot, and the node's Postfix, set up with the README's main.cf
# lines, answers 250 for a known recipient, 550 for an unknown one and
# 451 with catalogd stopped.  A third root checks what the packages alone
# do: accounts, directories and modes, units enabled and not started,
# skipped until configured, and purge.
#
# Everything runs in a mount, network and PID namespace of its own: sshd
# on port 22 and Postfix on 25 as the README has them, host names from
# the roots' /etc/hosts, nothing reachable from outside, every process
# ended with the namespace.  The roots are overlays on one debootstrap
# root kept in build/debroot (debroot-lib.sh).  Needs root.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debian-lib.sh"
. "$(dirname "$0")/debroot-lib.sh"

if [ "${1:-}" != --inside ]; then
	need unshare bwrap debootstrap dpkg-buildpackage slapd swaks ip
	[ "$(id -u)" = 0 ] || { fail "needs root"; exit 1; }
	deb_build || { fail "the Debian packages build (debian_package.sh)"; exit 1; }
	t0=$(date +%s)
	debroot_base || { fail "a Debian 12 root from the mirror (debootstrap)"; exit 1; }
	pass "Debian 12 root ready ($(($(date +%s) - t0))s; kept in build/debroot)"
	d=$(tmpdir)
	# The roots' mounts live and die with the namespace: by the time
	# lib.sh removes $d, nothing is mounted below it.
	DEB_DIR=$DEB_DIR DEBROOT_BASE=$DEBROOT_BASE \
		unshare --mount --net --pid --fork --mount-proc \
		bash "$0" --inside "$d"
	exit $?
fi
d=$2
_test_name=quickstart
readme=$DIRCAT_TOP/README.md
T=$DIRCAT_TESTBIN/tools
# mx1 and ldap are loopback addresses of their own (Postfix wants its
# inet_interfaces to be an interface's address).
{ ip link set lo up && ip addr add 127.0.0.2/8 dev lo && ip addr add 127.0.0.3/8 dev lo; } ||
	{ fail "loopback addresses in the test's network namespace"; exit 1; }

# readme_block HEADING: the first ```sh block after the line HEADING.
readme_block() {
	awk -v h="$1" '
		$0 == h { found = 1; next }
		found && $0 == "```sh" { inb = 1; next }
		inb && $0 == "```" { exit }
		inb { print }' "$readme"
}
# part TEXT FROM TO: the lines from the first matching FROM (a regex;
# empty: the start) up to before the first matching TO (empty: the end).
part() {
	awk -v from="$2" -v to="$3" '
		!started && (from == "" || $0 ~ from) { started = 1 }
		started && to != "" && $0 ~ to && !(from != "" && $0 ~ from) { exit }
		started { print }' <<<"$1"
}
# run ROOT NAME SCRIPT: the README's lines, as root in ROOT, from /root/pkgs
run() {
	local root=$1 name=$2 out
	out=$(debroot_run "$root" /bin/bash -e -o pipefail -c "cd /root/pkgs
$3" 2>&1)
	local rc=$?
	check_eq "$name: exit 0" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/    | /' <<<"$out" | tail -n 25
	return "$rc"
}
in_root() { local r=$1; shift; debroot_run "$r" "$@"; }

internal=$(readme_block '### The internal host: aggregator and replicator')
node=$(readme_block '### A DMZ node: catalogd')
check "README: the internal host's commands found" test -n "$internal"
check "README: the node's commands found" test -n "$node"
check_match "README: the node's block installs the packages" "$node" '^apt install .*dircat-node'
# The README shows part of the sshd block; every line it shows must be in
# the file the node installs.
excerpt=$(awk '/^The sshd part, / { f = 1 } f && /^```$/ { if (inb) exit; inb = 1; next } inb { print }' "$readme")
check "README: the sshd excerpt found" test -n "$excerpt"
while IFS= read -r l; do
	case $l in *...*|"") continue ;; esac
	check "README's sshd excerpt line is in docs/examples/sshd-dircat-upload.conf: $l" \
		grep -qxF -- "$l" "$DIRCAT_TOP/docs/examples/sshd-dircat-upload.conf"
done <<<"$excerpt"

# --- three roots ------------------------------------------------------------
for r in internal node fresh; do
	debroot_new "$d/$r" || { fail "root $r mounted"; exit 1; }
	R=$d/$r/root
	debroot_prepare "$d/$r"
	printf '127.0.0.2 mx1.dmz.example.com mx1\n127.0.0.3 ldap.example.com\n' >>"$R/etc/hosts"
done
pass "three roots: internal, node, fresh (overlays on the base)"
I=$d/internal N=$d/node F=$d/fresh

# --- what the packages alone do (the fresh root) ---------------------------
run "$F" "fresh: the README's apt line for a node" "$(grep '^apt install' <<<"$node")"
check_eq "fresh: accounts dircat and dircat-upload (group dircat)" \
	"$(in_root "$F" id -gn dircat-upload) $(in_root "$F" getent passwd dircat | cut -d: -f6,7)" \
	"dircat /var/lib/dircat:/usr/sbin/nologin"
check_eq "fresh: directories and modes" \
	"$(in_root "$F" stat -c '%n %U %G %a' /var/lib/dircat /var/lib/dircat-upload /var/lib/dircat-upload/inbox /etc/dircat/keys)" \
	"/var/lib/dircat dircat dircat 750
/var/lib/dircat-upload root root 755
/var/lib/dircat-upload/inbox dircat-upload dircat 2770
/etc/dircat/keys root root 755"
check_eq "fresh: catalogd.service enabled by the package (deb-systemd-helper)" \
	"$(in_root "$F" systemctl is-enabled catalogd)" enabled
check_eq "fresh: catalogd not started by the package" \
	"$(in_root "$F" systemctl is-active catalogd)" inactive
check_eq "fresh: dircat-metrics.timer left disabled" \
	"$(in_root "$F" systemctl is-enabled dircat-metrics.timer)" disabled
out=$(in_root "$F" systemctl start catalogd 2>&1)
check_match "fresh: unconfigured (no trusted key), a start is skipped, not failed" \
	"$out" "start condition failed, skipped"
check_eq "fresh: and nothing runs" "$(in_root "$F" systemctl is-active catalogd)" inactive
check "fresh: catalogd.conf is a conffile" \
	in_root "$F" grep -q '^ /etc/dircat/catalogd.conf ' /var/lib/dpkg/status
run "$F" "fresh: apt purge" "apt-get purge -y -qq dircat-node dircat >/dev/null"
check_eq "fresh: purge removed the state directories and the configuration" \
	"$(in_root "$F" ls -d /var/lib/dircat /var/lib/dircat-upload /etc/dircat/catalogd.conf 2>/dev/null)" ""

# --- the internal host, first part: packages and keys -----------------------
run "$I" "internal host: install and keys" "$(part "$internal" '' '^ssh-keyscan ')"
check_eq "internal host: the signing key is dircat's, mode 600" \
	"$(in_root "$I" stat -c '%U %a' /etc/dircat/keys/signer-2026.key)" "dircat 600"
check_eq "internal host: /etc/dircat/keys is root:dircat 750" \
	"$(in_root "$I" stat -c '%U %G %a' /etc/dircat/keys)" "root dircat 750"
# The administrator carries the two public keys to the node.
cp "$I/root/etc/dircat/keys/signer-2026.pub" "$I/root/etc/dircat/keys/push_ed25519.pub" \
	"$N/root/root/pkgs/"

# --- the node -----------------------------------------------------------------
# A running node has its sshd (Debian's ssh.service) before the README's
# steps; so does this one.
in_root "$N" systemctl start ssh
run "$N" "node: install, keys, sshd, group" "$(part "$node" '' '^# edit ')"
check_eq "node: sshd runs the Match block" \
	"$(in_root "$N" sshd -T -C user=dircat-upload,host=x,addr=127.0.0.1 | grep -E '^(chrootdirectory|forcecommand|authorizedkeysfile) ' | sort)" \
	"authorizedkeysfile /etc/dircat/upload_authorized_keys
chrootdirectory /var/lib/dircat-upload
forcecommand internal-sftp -d /inbox"
# catalogd.conf as shipped: catalog_id corp and signer-2026.pub are the
# README's names, so there is nothing to edit.
run "$N" "node: catalogd -t as dircat, enable --now" "$(part "$node" '^# edit ' '')"
check_eq "node: catalogd runs (the unit, sandbox emulated)" \
	"$(in_root "$N" systemctl is-active catalogd)" active ||
	sed 's/^/    | /' "$N/root/run/unitrun/catalogd.log"
check_eq "node: its sockets are group postfix, mode 660" \
	"$(in_root "$N" stat -c '%U %G %a' /run/dircat/catalogd.sock)" "dircat postfix 660"

# --- the internal host, second part -------------------------------------------
. "$(dirname "$0")/slapd-lib.sh"
slapd_start "$d/slapd" || { fail "slapd starts"; exit 1; }
slapd_load "$DIRCAT_TOP/tests/integration/data/sample.ldif" || fail "sample directory loaded"
run "$I" "internal host: ssh-keyscan of the node" "$(part "$internal" '^ssh-keyscan ' '^# edit ')"
# What the README leaves to the administrator: the password, and the
# settings it names (a directory of 9 entries needs a lower min_records;
# one node, so one [target]).
cat "$SLAPD_BINDPW" >"$I/root/etc/dircat/keys/ldap.password"
sed -i -e "s|^uri = .*|uri = $SLAPD_URI|" -e 's|^min_records = .*|min_records = 1|' \
	"$I/root/etc/dircat/aggregator.conf"
sed -i '/^\[target mx2\]$/,/^$/d' "$I/root/etc/dircat/replicator.conf"
run "$I" "internal host: checks, timer, first run" "$(part "$internal" '^# edit ' '')"
check_eq "internal host: the timer is enabled" \
	"$(in_root "$I" systemctl is-enabled dircat-aggregate.timer)" enabled
check "node: catalogd installed serial 1 from the sftp upload" \
	wait_for 20 grep -qx serial=1 "$N/root/var/lib/dircat-upload/inbox/status"
check_eq "node: dircat lookup of a known address" \
	"$(in_root "$N" dircat lookup john.smith@example.com 2>&1)" "OK person"
check_eq "node: the upload arrived as dircat-upload, group dircat, 640" \
	"$(in_root "$N" sh -c 'ls /var/lib/dircat-upload/inbox | grep -c "\.snap$"; stat -c "%U %G" /var/lib/dircat-upload/inbox/status')" \
	"0
dircat dircat"

# The upload account can do nothing else.
key=$I/root/etc/dircat/keys/push_ed25519
out=$(in_root "$I" ssh -i /etc/dircat/keys/push_ed25519 -o BatchMode=yes \
	-o UserKnownHostsFile=/etc/dircat/known_hosts dircat-upload@mx1.dmz.example.com id 2>&1)
check_match "node: no command for dircat-upload (ForceCommand internal-sftp)" \
	"$out" "This service allows sftp connections only"
out=$(printf 'ls /\nget /etc/passwd /tmp/x\nput /etc/hostname /x\n' |
	in_root "$I" sftp -i /etc/dircat/keys/push_ed25519 -o BatchMode=yes \
	-o UserKnownHostsFile=/etc/dircat/known_hosts -b - \
	dircat-upload@mx1.dmz.example.com 2>&1)
check_match "node: the chroot holds the inbox only" "$out" "^/inbox"
check_match "node: nothing outside the chroot" "$out" "not found|No such file"
test -n "$key"

# --- Postfix on the node, as the README sets it -------------------------------
pfconf=$(awk '/^## catalogd$/ { f = 1 } f && /^```$/ { if (inb) exit; inb = 1; next } inb { print }' "$readme")
check_match "README: the main.cf lines found" "$pfconf" '^relay_recipient_maps'
in_root "$N" postconf -e "myhostname = mx1.dmz.example.com" "mydestination =" \
	"relay_domains = example.com, example.org" "inet_interfaces = 127.0.0.2" \
	"inet_protocols = ipv4" "maillog_file = /var/log/postfix.log"
while IFS= read -r l; do
	[ -n "$l" ] || continue
	l=$(sed 's/= \.\.\., /= permit_mynetworks, reject_unauth_destination, /' <<<"$l")
	in_root "$N" postconf -e "$(sed 's/ *= */ = /' <<<"$l")"
done <<<"$pfconf"
# Debian's master.cf runs smtpd chrooted; the README's first way out.
in_root "$N" postconf -F 'smtp/inet/chroot = n'
out=$(in_root "$N" systemctl restart postfix 2>&1) || echo "    postfix start: $out"
check "node: Postfix listens on mx1:25" wait_for 15 in_root "$N" nc -z 127.0.0.2 25 ||
	tail -n 20 "$N/root/var/log/postfix.log" | sed 's/^/    | /'
sw() {	# RCPT: the RCPT reply code of a swaks session
	in_root "$N" swaks --server 127.0.0.2 --from probe@elsewhere.test \
		--to "$1" --quit-after RCPT 2>&1 |
		awk '/^ *-> RCPT TO/ { r = 1; next } r && /^<[-*~ ]/ { print $2; exit }' 
}
check_eq "Postfix: known recipient: 250" "$(sw john.smith@example.com)" 250
check_eq "Postfix: unknown recipient: 550" "$(sw nobody@example.com)" 550
in_root "$N" systemctl stop catalogd
check_eq "Postfix: catalogd stopped: 451 (deferred, not bounced)" "$(sw john.smith@example.com)" 451
in_root "$N" postfix stop >/dev/null 2>&1
exit 0
