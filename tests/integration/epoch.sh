#!/bin/bash
# epoch.sh - a rebuilt internal host, and a standby taking over, end to
# end with real catalogd nodes (two pushed to, one pulling through an
# nginx origin): the rebuilt catalog (serial 1) is refused until an
# administrator starts a new epoch; then every node takes it in full,
# serves exactly it (never a mix), and refuses the old epoch's snapshots
# and manifests; a standby host with an older copy of the catalog and the
# same key is refused too, takes over only with --new-epoch (learning
# the fleet's epoch from the nodes and the manifest), and the old primary
# then cannot win the nodes back: no fighting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
need nginx openssl curl runuser

top=$(tmpdir)
rep_setup "$top/rep" || { fail "setup"; exit 1; }
fleet_origin "$top" "$top/www" || { fail "origin nginx did not start"; exit 1; }
mkdir -p "$top/www/pub"

# Three nodes: a and b pushed to (file://), c pulling.
for n in a b c; do
	catd_init "$top/$n"
	catd_conf "trusted_key = $REP_PUB"
	catd_start || exit 1
	eval "PID_$n=\$CATD_PID"
done
chmod 2770 "$top/c/inbox"
fleet_node "$top/cf" "$ORIGIN_HTTP/pub/corp.manifest" "$REP_PUB" "inbox = $top/c/inbox"
# host_conf FILE REPDIR: a replicator configuration for the fleet
host_conf() {
	cat >"$1" <<EOF
catalog = $2/catalog.mdb
signing_key = $REP_KEY
spool_dir = $2/spool
state_dir = $2/state
ca_file = $ORIGIN_CA
upload_mode = 0644
retries = 0
[target a]
url = file://$top/a/inbox/
[target b]
url = file://$top/b/inbox/
[publish origin]
url = ${ORIGIN_URL}pub/
EOF
}
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
mkdir -p "$A"
host_conf "$top/a.conf" "$A"
for s in 1 2 3; do
	rep_records 1 $((200 + s)) | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp "$A/catalog.mdb" >/dev/null
	rep_run -c "$top/a.conf"
	check_eq "host A serial $s: pushed and published" "$REP_RC" 0
	check "serial $s: every node at epoch 0 serial $s" converge 0 $s
done
cp "$A/spool/"corp.3.full.snap "$A/spool/"corp.2-3.delta.snap "$top/"
cp "$top/www/pub/corp.manifest" "$top/manifest.e0"
cp "$A/catalog.mdb" "$top/backup.mdb"		# a backup, for the standby

# --- A is rebuilt: /var/lib/dircat lost, the catalog made anew ------------------
rm -rf "$A"
mkdir -p "$A"
rep_records 50 260 | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp "$A/catalog.mdb" >/dev/null
rep_run -c "$top/a.conf"
check_eq "rebuilt: the replicator refuses to go back (exit 69)" "$REP_RC" 69
check_match "rebuilt: a node ahead, and what to do" "$REP_ERR" \
	'target a: the node has epoch 0 serial 3, ahead of this catalog.s epoch 0 serial 1.*run dircat-replicator --new-epoch once'
check_match "rebuilt: the origin's manifest ahead" "$REP_ERR" \
	'publish origin: the manifest there has epoch 0 serial 3, ahead'
fleet_fetch "$top/cf"
check "rebuilt: nodes untouched, still epoch 0 serial 3" at 0 3

rep_run -c "$top/a.conf" -n --new-epoch
check_match "--new-epoch -n: says what it would do" "$REP_OUT" \
	'would start epoch 1 \(the catalog.s is 0, the highest seen in the fleet 0\)'
rep_run -c "$top/a.conf" --new-epoch
check_eq "--new-epoch: exit status 0" "$REP_RC" 0
check_match "--new-epoch: logged" "$REP_ERR" \
	'catalog corp: epoch 1 started by --new-epoch \(was 0; highest seen in the fleet: 0\), serial 2'
check "--new-epoch: every node at epoch 1 serial 2 (a lower serial)" converge 1 2
check "--new-epoch: every node serves exactly the rebuilt catalog" \
	every_node_serves "$A/catalog.mdb"
check "pushed nodes got it in full" wait_for 10 grep -Eq 'installed corp\.2\.full\.snap' "$top/a/catalogd.log"
rep_run -c "$top/a.conf" --fleet
check_eq "--fleet: right after sending, the nodes as last seen: not yet (69)" "$REP_RC" 69
rep_run -c "$top/a.conf"
rep_run -c "$top/a.conf" --fleet
check_eq "--fleet: after the next run, every target current (0)" "$REP_RC" 0
check_match "--fleet: the host's epoch and serial" "$REP_OUT" \
	'fleet of catalog corp: this host has epoch 1 serial 2'
check_match "--fleet: a pushed node's line" "$REP_OUT" \
	$'\na +push +1 +2 +[0-9T:-]+Z +[0-9]+s +current'
check_match "--fleet: the publish destination's manifest" "$REP_OUT" \
	$'\norigin +publish +1 +2 '
check_match "dircat status shows the epoch" \
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
cp "$top/www/pub/corp.manifest" "$top/manifest.e1"
cp "$top/manifest.e0" "$top/www/pub/corp.manifest"
fleet_fetch "$top/cf"
check_eq "old manifest replayed: refused (65)" "$FETCH_RC" 65
check_match "old manifest replayed: said so" "$FETCH_ERR" 'is older than the manifest already accepted'
check "old manifest: node c still at epoch 1 serial 2" at 1 2
cp "$top/manifest.e1" "$top/www/pub/corp.manifest"

# --- a standby with the same key and an older copy ----------------------------
B=$top/hostB
mkdir -p "$B"
cp "$top/backup.mdb" "$B/catalog.mdb"		# epoch 0 serial 3
host_conf "$top/b.conf" "$B"
rep_run -c "$top/b.conf"
check_eq "standby: refuses to push or publish an older catalog (69)" "$REP_RC" 69
check_match "standby: the nodes' epoch named" "$REP_ERR" \
	'the node has epoch 1 serial 2, ahead of this catalog.s epoch 0 serial 3'
check_match "standby: the manifest's epoch named" "$REP_ERR" \
	'the manifest there has epoch 1 serial 2, ahead'
rep_run -c "$top/b.conf" --fleet
check_eq "standby --fleet: nodes not at its catalog (69)" "$REP_RC" 69
check_match "standby --fleet: their epoch and the error shown" "$REP_OUT" \
	$'\na +push +1 +2 .*failed: the node has epoch 1 serial 2, ahead'
check "standby: nodes untouched" at 1 2
rep_run -c "$top/b.conf" --new-epoch
check_eq "standby takes over: exit 0" "$REP_RC" 0
check_match "standby: learnt the fleet's epoch" "$REP_ERR" \
	'epoch 2 started by --new-epoch \(was 0; highest seen in the fleet: 1\), serial 4'
check "standby: every node at epoch 2 serial 4" converge 2 4
check "standby: every node serves exactly the standby's catalog" \
	every_node_serves "$B/catalog.mdb"
# The old primary comes back: it cannot win the nodes back.
rep_records 50 270 | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp "$A/catalog.mdb" >/dev/null
rep_run -c "$top/a.conf"
check_eq "old primary: refused (69)" "$REP_RC" 69
check_match "old primary: told why" "$REP_ERR" 'epoch 2 serial 4, ahead of this catalog.s epoch 1 serial 3'
fleet_fetch "$top/cf"
check "old primary: nodes stay with the standby (epoch 2 serial 4)" at 2 4
for n in a b c; do CATD_PID=$(eval echo \$PID_$n) catd_stop; done
exit 0
