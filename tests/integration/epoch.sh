#!/bin/bash
# epoch.sh - a rebuilt internal host, and a standby taking over, end to
# end, with docs/fleet.md's recovery and standby procedures run as
# written (their blocks extracted from the guide): two internal hosts,
# each a mount namespace with its own /etc/dircat and /var/lib/dircat and
# the `dircat` account, aggregating a real slapd; the guide's nginx
# origin; three catalogd nodes (two pushed to, one pulling from the
# origin).  The rebuilt catalog (serial 1) is refused until an
# administrator starts a new epoch; then every node takes it in full,
# serves exactly it (never a mix), and refuses the old epoch's snapshots
# and manifests.  A standby with an older copy of the catalog and the
# same key is refused too, takes over only with --new-epoch (learning the
# fleet's epoch from the nodes and the manifest), and the old primary
# then cannot win the nodes back: no fighting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser ss slapd ldapadd useradd
fleet_ns "$@"

top=$(tmpdir)
data=$DIRCAT_TOP/tests/integration/data
for b in origin-site origin-setup publish-origin recover-aggregate recover-check \
	recover-new-epoch recover-fleet standby-fleet standby-takeover retire; do
	[ -n "$(fleet_doc $b)" ] || { fail "docs/fleet.md has the block '$b'"; exit 1; }
done
useradd --system --user-group --no-create-home --home-dir /var/lib/dircat \
	--shell /usr/sbin/nologin dircat || { fail "the dircat account (private /etc)"; exit 1; }
install -d -m 0755 /etc/dircat /var/lib/dircat
rep_setup "$top/keys" || { fail "setup"; exit 1; }

# The directory.
slapd_start "$top/slapd" || { fail "slapd starts"; exit 1; }
slapd_load "$data/sample.ldif" || fail "sample directory loaded"
# person N: one more person in the directory (a change, a new serial)
person() {
	cat >"$top/p$1.ldif" <<-EOF
	dn: uid=new$1,ou=people,dc=example,dc=com
	objectClass: inetOrgPerson
	uid: new$1
	cn: New Person $1
	sn: Person
	mail: new$1@example.com
	employeeType: staff
	EOF
	slapd_load "$top/p$1.ldif"
}

# The origin, as the guide has it.
(umask 077; head -c 18 /dev/urandom | base64 >"$top/origin.password")
FLEET_SETUP_STDIN=$top/origin.password \
	fleet_nginx_host origin "$(fleet_doc origin-site)" "$(fleet_doc origin-setup)" ||
	{ fail "the guide's origin: nginx started"; exit 1; }
ORIGIN_DIR=$FLEET_TOP/host-origin/srv/dircat/dircat

# Three nodes: a and b pushed to (file://, the inbox writable by the
# dircat group), c pulling from the origin.
for n in a b c; do
	catd_init "$top/$n"
	catd_conf "trusted_key = $REP_PUB"
	catd_start || exit 1
	eval "PID_$n=\$CATD_PID"
done
for n in a b; do chgrp dircat "$top/$n/inbox" && chmod 2770 "$top/$n/inbox"; done
chmod 2770 "$top/c/inbox"
fleet_node "$top/cf" "https://dircat-origin.example.com/dircat/corp.manifest" "$REP_PUB" \
	"inbox = $top/c/inbox" "ca_file = $FLEET_CA_CRT"

# new_host DIR: an internal host's /etc/dircat (DIR/etc) and
# /var/lib/dircat (DIR/var), as a package and an administrator leave them.
new_host() {
	local d=$1
	mkdir -p "$d/etc/keys" "$d/var"
	install -o dircat -g dircat -m 0600 "$REP_KEY" "$d/etc/keys/signer.key"
	install -o dircat -g dircat -m 0600 "$SLAPD_BINDPW" "$d/etc/ldap.pw"
	install -o dircat -g dircat -m 0600 "$top/origin.password" "$d/etc/origin.password"
	install -m 0644 "$FLEET_CA_CRT" "$d/etc/origin-ca.pem"
	sed -e "s|@DIR@|/var/lib/dircat|g" -e "s|@URI@|$SLAPD_URI|g" \
		-e "s|@BINDPW@|/etc/dircat/ldap.pw|g" -e "s|^catalog_id = .*|catalog_id = corp|" \
		"$data/sample.conf.in" >"$d/etc/aggregator.conf"
	cat >"$d/etc/replicator.conf" <<-EOF
	catalog = /var/lib/dircat/catalog.mdb
	signing_key = /etc/dircat/keys/signer.key
	spool_dir = /var/lib/dircat/spool
	state_dir = /var/lib/dircat/replicator
	upload_mode = 0644
	retries = 0
	[target a]
	url = file://$top/a/inbox/
	[target b]
	url = file://$top/b/inbox/
	$(fleet_doc publish-origin)
	EOF
	chown -R dircat:dircat "$d/var"
	chmod 0750 "$d/var"
}
# on HOST-DIR SCRIPT: the shell lines SCRIPT as root on that host, as
# `bash -e` would (PATH with the programs); sets OUT (stdout and stderr)
# and RC.  `systemctl` is a stand-in that knows the units this project
# ships and notes what it is asked in HOST-DIR/systemctl.log.
on() {
	printf '%s\n' "$2" >"$1/script.sh"
	OUT=$(unshare --mount bash -c '
		d=$1 units=$2
		mount --bind "$d/etc" /etc/dircat &&
			mount --bind "$d/var" /var/lib/dircat || exit 1
		systemctl() {
			local verb=$1; shift
			case $verb in enable|disable|start|stop|restart) ;;
			*) echo "systemctl stand-in: $verb not known here" >&2; return 1 ;;
			esac
			[ "${1:-}" != --now ] || shift
			[ -e "$units/$1" ] || { echo "Unit $1 does not exist." >&2; return 1; }
			echo "$verb $*" >>"$d/systemctl.log"
		}
		set -e
		. "$d/script.sh"' on-host "$1" "$DIRCAT_TOP/systemd" 2>&1)
	RC=$?
	[ -z "${FLEET_DEBUG:-}" ] || printf -- '--- on %s (%s):\n%s\n' "$1" "$RC" "$OUT"
}
# timer HOST-DIR: what dircat-aggregate.timer runs there (the unit's
# ExecStart, as dircat).
timer_job=$(sed -n 's/^ExecStart=//p' "$DIRCAT_TOP/systemd/dircat-aggregate.service" |
	sed -e "s|@SBINDIR@|$DIRCAT_BIN|g" -e 's|@SYSCONFDIR@|/etc/dircat|g' -e 's/\$\$/$/g')
timer() { on "$1" "runuser -u dircat -- $timer_job"; }

serial_of() { sed -n 's/^serial=//p' "$top/$1/inbox/status"; }
epoch_of() { sed -n 's/^epoch=//p' "$top/$1/inbox/status"; }
at() {	# EPOCH SERIAL: every node serves it
	local n
	for n in a b c; do
		[ "$(epoch_of $n)/$(serial_of $n)" = "$1/$2" ] || return 1
	done
}
# every_node_serves CATALOG: each node's records are exactly CATALOG's
every_node_serves() {
	local n want
	want=$("$DIRCAT_BIN/dircat" dump "$1")
	for n in a b c; do
		[ "$("$DIRCAT_BIN/dircat" dump "$top/$n/var/catalog.mdb")" = "$want" ] ||
			return 1
	done
}
converge() {	# EPOCH SERIAL: pull node c, then wait for all
	fleet_fetch "$top/cf"
	wait_for 20 at "$1" "$2"
}

# --- host A, epoch 0 ----------------------------------------------------------
A=$top/hostA
new_host "$A"
for s in 1 2 3; do
	[ $s = 1 ] || person $s
	timer "$A"
	check_eq "host A serial $s: aggregated, pushed and published" "$RC" 0
	[ "$RC" = 0 ] || sed 's/^/    /' <<<"$OUT" | head -n 5
	check "serial $s: every node at epoch 0 serial $s" converge 0 $s
done
cp "$A/var/spool/"corp.3.full.snap "$A/var/spool/"corp.2-3.delta.snap "$top/"
cp "$ORIGIN_DIR/corp.manifest" "$top/manifest.e0"
cp -a "$A/var/catalog.mdb" "$top/backup.mdb"	# a backup, for the standby

# --- A is rebuilt: /var/lib/dircat lost ------------------------------------------
rm -rf "${A:?}/var"
mkdir -p "$A/var" && chown dircat:dircat "$A/var" && chmod 0750 "$A/var"
person 4
timer "$A"
check_eq "rebuilt: the timer's run refuses to go back (exit 69)" "$RC" 69
check_match "rebuilt: a node ahead, and what to do" "$OUT" \
	'target a: the node has epoch 0 serial 3, ahead of this catalog.s epoch 0 serial 1.*run dircat-replicator --new-epoch once'
check_match "rebuilt: the origin's manifest ahead" "$OUT" \
	'publish origin: the manifest there has epoch 0 serial 3, ahead'
fleet_fetch "$top/cf"
check "rebuilt: nodes untouched, still epoch 0 serial 3" at 0 3

# The guide's steps 1 to 4.
on "$A" "$(fleet_doc recover-aggregate)"
check_eq "step 1 (aggregate): exit 0" "$RC" 0
on "$A" "$(fleet_doc recover-check)"
check_eq "step 2 (check): exit 0" "$RC" 0
records=$("$DIRCAT_BIN/dircat" dump "$A/var/catalog.mdb" | wc -l)
check_match "step 2: the catalog's size" "$OUT" "^$records\$"
check_match "step 2: -n --new-epoch says what it would do" "$OUT" \
	'would start epoch 1 \(the catalog.s is 0, the highest seen in the fleet 0\)'
fleet_fetch "$top/cf"
check "step 2 changed nothing: nodes at epoch 0 serial 3" at 0 3
on "$A" "$(fleet_doc recover-new-epoch)"
check_eq "step 3 (--new-epoch): exit 0" "$RC" 0
check_match "step 3: logged" "$OUT" \
	'catalog corp: epoch 1 started by --new-epoch \(was 0; highest seen in the fleet: 0\), serial 2'
check "step 3: every node at epoch 1 serial 2 (a lower serial)" converge 1 2
check "step 3: every node serves exactly the rebuilt catalog" \
	every_node_serves "$A/var/catalog.mdb"
check "pushed nodes got it in full" wait_for 10 grep -Eq 'installed corp\.2\.full\.snap' "$top/a/catalogd.log"
on "$A" "$(fleet_doc recover-fleet)"
check_eq "--fleet right after sending: the nodes as last seen, not yet (69)" "$RC" 69
timer "$A"
check_eq "step 4: the timer's next run (0)" "$RC" 0
on "$A" "$(fleet_doc recover-fleet)"
check_eq "step 4 (--fleet): every target current (0)" "$RC" 0
check_match "step 4: the host's epoch and serial" "$OUT" \
	'fleet of catalog corp: this host has epoch 1 serial 2'
check_match "step 4: a pushed node's line" "$OUT" \
	$'\na +push +1 +2 +[0-9T:-]+Z +[0-9]+s +current'
check_match "step 4: the publish destination's manifest" "$OUT" \
	$'\norigin +publish +1 +2 '
check_match "dircat status on a node shows the epoch" \
	"$("$DIRCAT_BIN/dircat" status -c "$top/a/catalogd.conf" 2>&1)" '^epoch: 1$'

# --- the old epoch's snapshots and manifest are refused -------------------------
for f in corp.3.full.snap corp.2-3.delta.snap; do
	cp "$top/$f" "$top/a/inbox/.x" && chown nobody "$top/a/inbox/.x" &&
		mv "$top/a/inbox/.x" "$top/a/inbox/$f"
done
wait_for 15 test ! -e "$top/a/inbox/corp.3.full.snap"
check_match "old full snapshot (epoch 0 serial 3) refused" \
	"$(cat "$top/a/inbox/rejected/corp.3.full.snap.reason" 2>/dev/null)" \
	'epoch 0 is older than the installed epoch 1'
check "old snapshots: node a still at epoch 1 serial 2" at 1 2
cp "$ORIGIN_DIR/corp.manifest" "$top/manifest.e1"
cp "$top/manifest.e0" "$ORIGIN_DIR/corp.manifest"
fleet_fetch "$top/cf"
check_eq "old manifest replayed: refused (65)" "$FETCH_RC" 65
check_match "old manifest replayed: said so" "$FETCH_ERR" 'is older than the manifest already accepted'
check "old manifest: node c still at epoch 1 serial 2" at 1 2
cp "$top/manifest.e1" "$ORIGIN_DIR/corp.manifest"

# --- a standby with the same key and configuration, an older copy --------------------
B=$top/hostB
new_host "$B"
install -o dircat -g dircat -m 0640 "$top/backup.mdb" "$B/var/catalog.mdb"	# epoch 0 serial 3
person 5
timer "$B"
check_eq "standby: its timer's run refuses to push or publish an older catalog (69)" "$RC" 69
check_match "standby: the nodes' epoch named" "$OUT" \
	'the node has epoch 1 serial 2, ahead of this catalog.s epoch 0 serial 4'
check_match "standby: the manifest's epoch named" "$OUT" \
	'the manifest there has epoch 1 serial 2, ahead'
on "$B" "$(fleet_doc standby-fleet)"
check_eq "standby --fleet: nodes not at its catalog (69)" "$RC" 69
check_match "standby --fleet: their epoch and the error shown" "$OUT" \
	$'\na +push +1 +2 .*failed: the node has epoch 1 serial 2, ahead'
check "standby: nodes untouched" at 1 2
on "$B" "$(fleet_doc standby-takeover)"
check_eq "standby takes over: exit 0" "$RC" 0
check_match "standby: -n says which epoch" "$OUT" \
	'would start epoch 2 \(the catalog.s is 0, the highest seen in the fleet 1\)'
check_match "standby: learnt the fleet's epoch" "$OUT" \
	'epoch 2 started by --new-epoch \(was 0; highest seen in the fleet: 1\), serial 5'
check "standby: every node at epoch 2 serial 5" converge 2 5
check "standby: every node serves exactly the standby's catalog" \
	every_node_serves "$B/var/catalog.mdb"

# --- the old primary comes back: it cannot win the nodes back --------------------
person 6
timer "$A"
check_eq "old primary: refused (69)" "$RC" 69
check_match "old primary: told why" "$OUT" 'epoch 2 serial 5, ahead of this catalog.s epoch 1 serial 3'
fleet_fetch "$top/cf"
check "old primary: nodes stay with the standby (epoch 2 serial 5)" at 2 5
on "$A" "$(fleet_doc retire)"
check_eq "retiring it: the guide's systemctl line names a shipped unit" "$RC" 0
check_eq "retiring it: disable --now dircat-aggregate.timer" \
	"$(cat "$A/systemctl.log" 2>/dev/null)" "disable dircat-aggregate.timer"
for n in a b c; do CATD_PID=$(eval echo \$PID_$n) catd_stop; done
slapd_stop
exit 0
