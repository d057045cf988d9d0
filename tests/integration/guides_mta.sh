#!/bin/bash
# guides_mta.sh - docs/exim.md and docs/sendmail.md followed as written,
# with Debian's own Exim (exim4-daemon-light) and Sendmail (sendmail-bin).
# Both conflict with Postfix as installed packages, so each runs in a
# throwaway Debian 12 root of its own (debroot-lib.sh: an overlay on the
# debootstrap root, whose apt cache holds both MTAs) where it replaces
# Postfix the Debian way (apt, offline), and the postfix group is removed:
# a host that never had Postfix.  dircat and dircat-node are installed
# from this tree's packages, catalogd runs under its unit (the unitrun
# stand-in), and a signed snapshot lands in the inbox.  Then each guide's
# blocks run as written, taken from the guide at run time: the
# catalogd.conf section, the shell lines (adduser, -t, restart), the ACL
# statements or the sendmail.mc rules; and an SMTP session with swaks
# must give 250 for a known recipient (and one with case and a
# +extension), 550 for an unknown one, and 451 once catalogd is stopped.
# Exim: the socketmap socket, then the line socket, then the routing
# router (a message for an address whose mailHost is 127.0.0.4 arrives
# at an smtp-sink there).  Everything runs in a
# mount, network, UTS and PID namespace of its own (ports 25 on
# loopback addresses, nothing reachable from outside).  Needs root.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debian-lib.sh"
. "$(dirname "$0")/debroot-lib.sh"

if [ "${1:-}" != --inside ]; then
	need unshare bwrap debootstrap dpkg-buildpackage swaks ip smtp-sink
	[ "$(id -u)" = 0 ] || { fail "needs root"; exit 1; }
	deb_build || { fail "the Debian packages build (debian_package.sh)"; exit 1; }
	debroot_base || { fail "a Debian 12 root from the mirror (debootstrap)"; exit 1; }
	d=$(tmpdir)
	DEB_DIR=$DEB_DIR DEBROOT_BASE=$DEBROOT_BASE \
		unshare --mount --net --uts --pid --fork --mount-proc \
		bash "$0" --inside "$d"
	exit $?
fi
d=$2
_test_name=guides_mta
docs=$DIRCAT_TOP/docs
T=$DIRCAT_TESTBIN/tools
{ ip link set lo up && ip addr add 127.0.0.2/8 dev lo && ip addr add 127.0.0.3/8 dev lo &&
  ip addr add 127.0.0.4/8 dev lo; } ||
	{ fail "loopback addresses in the test's network namespace"; exit 1; }
hostname mx1.dmz.example.com

# The catalog every node serves, signed with the key the nodes trust.
mkdir -p "$d/keys"
(cd "$d/keys" && "$DIRCAT_BIN/dircat" keygen signer-2026 >/dev/null)
printf '%s\n' "example.com domain" "example.org domain" \
	"john.smith@example.com person jsmith mailHost=127.0.0.4" \
	"sales@example.com group jsmith" |
	"$T/mkcatalog" -i corp -N "$d/src.mdb" >/dev/null
"$T/mksnap" "$d/src.mdb" "$d/keys/signer-2026.key" "$d/corp.1.full.snap" >/dev/null ||
	{ fail "snapshot made"; exit 1; }

in_root() { local r=$1; shift; debroot_run "$r" "$@"; }
# script ROOT NAME TEXT: TEXT as a bash script (-e) in ROOT, as root.
script() {
	local out rc
	out=$(debroot_run "$1" /bin/bash -e -o pipefail -c "cd /root/pkgs
$3" 2>&1)
	rc=$?
	check_eq "$2: exit 0" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/    | /' <<<"$out" | tail -n 25
	return "$rc"
}
# replace_sockets ROOT BLOCK: the example catalogd.conf with its [socket
# map] and [socket policy] sections replaced by BLOCK, as the guides say.
replace_sockets() {
	local f=$1/root/etc/dircat/catalogd.conf
	awk '/^\[socket (map|policy)\]$/ { skip = 1; next } /^\[/ { skip = 0 } !skip' "$f" >"$f.new" &&
	printf '\n%s\n' "$2" >>"$f.new" && cat "$f.new" >"$f" && rm -f "$f.new"
}
# rcpt_reply ROOT SERVER RCPT: the first line of the reply to RCPT TO in
# a swaks session, from 127.0.0.3: a client from outside, not one of the
# MTA's own relay clients (Exim accepts those before the guide's
# statements).  rcpt: its code.
rcpt_reply() {
	in_root "$1" swaks --server "$2" --local-interface 127.0.0.3 \
		--from probe@elsewhere.test --to "$3" \
		--quit-after RCPT 2>&1 |
		awk '/^ *-> RCPT TO/ { r = 1; next } r && /^<[-*~ ]/ { sub(/^<[-*~ ]+ */, ""); print; exit }'
}
rcpt() { rcpt_reply "$@" | cut -c1-3; }
# node ROOT MTA: a root where MTA replaced Postfix, with dircat-node and a
# catalog installed.
node() {
	local r=$1 mta=$2
	debroot_new "$r" || { fail "$mta root mounted"; return 1; }
	debroot_prepare "$r"
	echo "127.0.0.2 mx1.dmz.example.com mx1" >>"$r/root/etc/hosts"
	script "$r" "$mta: installed from the apt cache, replacing Postfix" \
		"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-download $mta >/dev/null
apt-get purge -y -qq postfix >/dev/null
groupdel postfix 2>/dev/null || true
apt install -y -qq ./dircat_*.deb ./dircat-node_*.deb >/dev/null 2>&1" || return 1
	check_eq "$mta: no postfix group on this host" "$(in_root "$r" getent group postfix)" ""
	install -m 644 "$d/keys/signer-2026.pub" "$r/root/etc/dircat/keys/"
	install -m 640 "$d/corp.1.full.snap" "$r/root/var/lib/dircat-upload/inbox/"
	in_root "$r" chown dircat-upload:dircat /var/lib/dircat-upload/inbox/corp.1.full.snap
}

# --- Exim -----------------------------------------------------------------------
X=$d/exim
if node "$X" exim4-daemon-light; then
	# The site's own Exim settings, which the guide takes as given: relay
	# for the catalog's domains, mail for them goes to the internal hub.
	cat >"$X/root/etc/exim4/update-exim4.conf.conf" <<'CONF'
dc_eximconfig_configtype='smarthost'
dc_other_hostnames=''
dc_local_interfaces='127.0.0.2'
dc_readhost=''
dc_relay_domains='example.com : example.org'
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost='192.0.2.25'
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
CONF
	conf=$(doc_block "$docs/exim.md" conf 1)
	check_match "docs/exim.md: the catalogd.conf section found" "$conf" '^\[socket map\]'
	replace_sockets "$X" "$conf"
	script "$X" "exim: the guide's adduser, catalogd -t, restart" "$(doc_block_with "$docs/exim.md" sh '^adduser dircat')"
	check_eq "exim: the map socket is group Debian-exim" \
		"$(in_root "$X" stat -c '%G %a' /run/dircat/catalogd.sock)" "Debian-exim 660"
	check "exim: catalogd installed the snapshot" \
		wait_for 20 grep -qx serial=1 "$X/root/var/lib/dircat-upload/inbox/status"
	doc_block "$docs/exim.md" exim 1 >"$X/root/etc/exim4/acl_dircat"
	check "docs/exim.md: the ACL statements found" grep -q readsocket "$X/root/etc/exim4/acl_dircat"
	script "$X" "exim: the guide's include lines, update-exim4.conf, restart" \
		"$(doc_block_with "$docs/exim.md" sh 'CHECK_RCPT_LOCAL_ACL_FILE')"
	check "exim: listening on mx1:25" wait_for 15 in_root "$X" nc -z 127.0.0.2 25
	check_eq "exim (socketmap): known recipient: 250" "$(rcpt "$X" 127.0.0.2 john.smith@example.com)" 250
	check_eq "exim (socketmap): case and +extension: 250" "$(rcpt "$X" 127.0.0.2 John.Smith+lists@Example.COM)" 250
	r=$(rcpt "$X" 127.0.0.2 nobody@example.com)
	check_eq "exim (socketmap): unknown recipient: 550" "$r" 550
	[ "$r" = 550 ] ||
		{ in_root "$X" sed -n '/^acl_check_rcpt:/,/CHECK_RCPT_LOCAL_ACL_FILE$/p' /var/lib/exim4/config.autogenerated | grep -v '^ *#' | grep -v '^$' | head -60; in_root "$X" cat /etc/exim4/acl_dircat | head -5;
		  in_root "$X" sh -c 'printf "HELO x\nMAIL FROM:<a@b.c>\nRCPT TO:<nobody@example.com>\nQUIT\n" | exim4 -d+acl -bh 127.0.0.9' 2>&1 | grep -i "acl\|readsocket\|dircat" | head -30; }
	in_root "$X" systemctl stop catalogd
	check_match "exim (socketmap): catalogd stopped: 451 4.3.0 from the guide's defer" \
		"$(rcpt_reply "$X" 127.0.0.2 john.smith@example.com)" '^451.4\.3\.0 .*recipient lookup failed'

	# The line socket: its section added, its statements instead.
	printf '\n%s\n' "$(doc_block "$docs/exim.md" conf 2)" >>"$X/root/etc/dircat/catalogd.conf"
	doc_block "$docs/exim.md" exim 2 >"$X/root/etc/exim4/acl_dircat"
	in_root "$X" systemctl start catalogd
	check_eq "exim: the line socket is group Debian-exim" \
		"$(in_root "$X" stat -c '%G %a' /run/dircat/exim.sock)" "Debian-exim 660"
	in_root "$X" update-exim4.conf && in_root "$X" systemctl restart exim4
	check "exim: listening again" wait_for 15 in_root "$X" nc -z 127.0.0.2 25
	check_eq "exim (line socket): known recipient: 250" "$(rcpt "$X" 127.0.0.2 john.smith@example.com)" 250
	check_eq "exim (line socket): unknown recipient: 550" "$(rcpt "$X" 127.0.0.2 nobody@example.com)" 550
	in_root "$X" systemctl stop catalogd
	check_match "exim (line socket): catalogd stopped: 451 4.3.0 from the guide's defer" \
		"$(rcpt_reply "$X" 127.0.0.2 john.smith@example.com)" '^451.4\.3\.0 .*recipient lookup failed'

	# Routing: the guide's router; john.smith's mailHost is 127.0.0.4,
	# where an smtp-sink stands for his internal hub.
	router=$(doc_block_with "$docs/exim.md" exim 'driver = manualroute')
	check_match "docs/exim.md: the routing router found" "$router" 'route \$local_part@\$domain'
	printf '%s\n' "$router" >"$X/root/etc/exim4/conf.d/router/150_dircat_route"
	sed -i '1i route_field = mailHost' "$X/root/etc/dircat/catalogd.conf"
	mkdir -p "$d/hub" && chown nobody "$d/hub"
	smtp-sink -u nobody -d "$d/hub/%Y%m%d%H%M%S." 127.0.0.4:25 10 >"$d/hub.log" 2>&1 &
	track_pid "$!"
	script "$X" "exim: the guide's restarts after the router" \
		"$(doc_block_with "$docs/exim.md" sh '150_dircat_route')"
	check "exim: listening again (router)" wait_for 15 in_root "$X" nc -z 127.0.0.2 25
	in_root "$X" swaks --server 127.0.0.2 --local-interface 127.0.0.3 \
		--from probe@elsewhere.test --to John.Smith@example.com >"$d/swaks-route.out" 2>&1
	hub_got() { grep -qsi "X-Rcpt-Args: <john.smith@example.com>" "$d"/hub/*; }
	if wait_for 30 hub_got; then
		pass "exim: john.smith's mail at his mailHost, through the route map"
	else
		fail "exim: john.smith's mail at his mailHost, through the route map"
		tail -n 5 "$d/swaks-route.out"
		in_root "$X" tail -n 10 /var/log/exim4/mainlog
	fi
	in_root "$X" systemctl stop catalogd
	in_root "$X" systemctl stop exim4
fi

# --- Sendmail -------------------------------------------------------------------
S=$d/sendmail
if node "$S" sendmail-bin; then
	conf=$(doc_block "$docs/sendmail.md" conf 1)
	check_match "docs/sendmail.md: the catalogd.conf section found" "$conf" '^\[socket map\]'
	replace_sockets "$S" "$conf"
	script "$S" "sendmail: the guide's catalogd -t, restart" "$(doc_block_with "$docs/sendmail.md" sh 'catalogd -c')"
	check "sendmail: catalogd installed the snapshot" \
		wait_for 20 grep -qx serial=1 "$S/root/var/lib/dircat-upload/inbox/status"
	# The site's own settings the guide takes as given: the catalog's
	# domains are relay domains (class R), routed to the internal hub.
	printf 'example.com\nexample.org\n' >"$S/root/etc/mail/relay-domains"
	printf 'example.com esmtp:[192.0.2.25]\nexample.org esmtp:[192.0.2.25]\n' \
		>"$S/root/etc/mail/mailertable"
	# No DNS in here: Sendmail resolves the domains (its own, and the
	# sender's, which it checks) from /etc/hosts.
	echo "192.0.2.25 example.com example.org elsewhere.test" >>"$S/root/etc/hosts"
	grep -q "^FEATURE(.mailertable" "$S/root/etc/mail/sendmail.mc" ||
		sed -i '0,/^MAILER/s//FEATURE(`mailertable'"'"')dnl\n&/' "$S/root/etc/mail/sendmail.mc"
	m4=$(doc_block "$docs/sendmail.md" m4 1)
	check_match "docs/sendmail.md: the rules found" "$m4" '^SLocal_check_rcpt$'
	mc=$S/root/etc/mail/sendmail.mc
	awk -v add="$m4" '!done && /^MAILER/ { print add; done = 1 } { print }' "$mc" >"$mc.new" &&
		cat "$mc.new" >"$mc" && rm -f "$mc.new"
	script "$S" "sendmail: the guide's make -C /etc/mail, restart" "$(doc_block_with "$docs/sendmail.md" sh 'make -C /etc/mail')"
	check "sendmail: listening on 127.0.0.1:25" wait_for 90 in_root "$S" nc -z 127.0.0.1 25
	r=$(rcpt "$S" 127.0.0.1 john.smith@example.com)
	check_eq "sendmail: known recipient: 250" "$r" 250
	[ "$r" = 250 ] ||
		{ in_root "$S" swaks --server 127.0.0.1 --local-interface 127.0.0.3 --from probe@elsewhere.test --to john.smith@example.com --quit-after RCPT 2>&1 | tail -8;
		  in_root "$S" grep -n "mailertable\|^MAILER\|^FEATURE" /etc/mail/sendmail.mc;
		  in_root "$S" sh -c 'printf "/map recipients john.smith@example.com\nLocal_check_rcpt <john.smith@example.com>\n" | sendmail -d38.20 -bt' 2>&1 | tail -30;
		  in_root "$S" grep -n "recipients\|Local_check_rcpt" /etc/mail/sendmail.cf | head; }
	check_eq "sendmail: case and +extension: 250" "$(rcpt "$S" 127.0.0.1 John.Smith+lists@Example.COM)" 250
	check_match "sendmail: unknown recipient: 550 5.1.1 from the guide's rule" \
		"$(rcpt_reply "$S" 127.0.0.1 nobody@example.com)" '^550 5\.1\.1 .*User unknown'

	in_root "$S" systemctl stop catalogd
	check_match "sendmail: catalogd stopped: 451 4.3.0 from the guide's rule" \
		"$(rcpt_reply "$S" 127.0.0.1 john.smith@example.com)" '^451 4\.3\.0 .*Recipient lookup failed'
	in_root "$S" systemctl stop sendmail
fi
exit 0
