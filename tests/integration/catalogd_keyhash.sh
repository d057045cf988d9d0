#!/bin/bash
# catalogd_keyhash.sh - keyed-hash catalogs on a node: snapshots written
# with a secret (mksnap -H, the replicator's hash_secret code), installed
# by a catalogd holding the same secret (hash_secret), answer every map
# as a clear catalog does (extensions and catch-alls included; the
# senders map gives the owners back, the route map the next hop from a
# sealed extra field), while neither the snapshot nor the
# node's LMDB file holds any address, owner or extra field as text, and
# dircat dump shows none.  Refused: a snapshot hashed with another
# secret, a clear snapshot on a hashed node, a hashed one on a clear
# node (each with a .reason naming it; a refused clear snapshot is removed,
# not kept in rejected/), a secret file others may read,
# and a secret that changes under an installed catalog (TEMP, not
# "unknown").  Needs root (catalogd runs as nobody).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
catd_tool mkcatalog mksnap catdclient

d=$(tmpdir)
catd_init "$d"
# The secret: group-readable for catalogd's account, as on a node.
secret=$d/corp.hashkey
other=$d/other.hashkey
(umask 077
 head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
 head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$other")
chgrp nogroup "$secret" "$other"
chmod 0640 "$secret" "$other"

records() {
	cat <<'EOF'
example.com domain
example.net domain
alice@example.com person alice,alice@example.com mailHost=hub1.example.com;office=Room-4
bob@example.com person bob
sales@example.com group alice,bob
@example.net person
EOF
}
records | catd_source >/dev/null
catd_full corp.1.full.snap -H "$secret" ||
	{ fail "mksnap -H"; exit 1; }
snap=$d/inbox/corp.1.full.snap
cp "$snap" "$d/copy.snap"
# No address, owner or domain as text in the snapshot itself.
leaks() {	# FILE: print what clear text of the catalog it holds
	local w
	for w in alice bob@ sales example.com example.net hub1 Room-4; do
		grep -aqF "$w" "$1" && echo "$w"
	done
}
check_eq "the hashed snapshot holds no address, owner or domain as text" \
	"$(leaks "$d/copy.snap")" ""
check_match "dircat verify: valid, and shows the secret id (never the secret)" \
	"$("$DIRCAT_BIN/dircat" verify "$d/copy.snap" --key "$d/signer.pub" 2>&1)" \
	'keyed hash +secret [0-9a-f]{16} \(keys hashed'

catd_conf "hash_secret = $secret" "route_field = mailHost"
catd_start || exit 1
catd_wait_serial 1 30 || { fail "hashed snapshot not installed"; tail "$CATD_LOG"; exit 1; }
pass "a hashed snapshot installs on a node with the same secret"

check_eq "recipients: exact, case, extension, catch-all, unknown, foreign" \
	"$(catd_sm recipients alice@example.com BOB@Example.COM bob+news@example.com \
		anyone@example.net nobody@example.com x@elsewhere.test)" \
	"$(printf '%s\n' 'OK person' 'OK person' 'OK person' 'OK person' 'NOTFOUND ' 'NOTFOUND ')"
check_eq "domains: local, foreign" \
	"$(catd_sm domains example.com elsewhere.test)" \
	"$(printf '%s\n' 'OK domain' 'NOTFOUND ')"
check_eq "senders: owners opened from the sealed field" \
	"$(catd_sm senders alice@example.com sales@example.com nobody@example.com)" \
	"$(printf '%s\n' 'OK alice,alice@example.com' 'OK alice,bob' 'NOTFOUND ')"

check_eq "route: the next hop from a sealed extra field; none for bob" \
	"$(catd_sm route alice@example.com bob@example.com)" \
	"$(printf '%s\n' 'OK hub1.example.com' 'NOTFOUND ')"

catalog=$d/var/catalog.mdb
check_eq "the node's LMDB file holds no address, owner or domain as text" \
	"$(leaks "$catalog")" ""
out=$("$DIRCAT_BIN/dircat" dump --full "$catalog" 2>"$d/dump.err")
check_eq "dircat dump --full: no clear text" "$(leaks <(echo "$out"))" ""
check_eq "dircat dump: 6 records, keys of 32 base64url characters" \
	"$(cut -f1 <<<"$out" | grep -cE '^[A-Za-z0-9_-]{32}$')" 6
check_match "dircat dump says the catalog is keyed-hashed" \
	"$(cat "$d/dump.err")" 'keyed-hash catalog \(secret [0-9a-f]{16}\)'
# schema/snapshot.md's openssl commands, as written, give alice's key.
awk '/^K=\$\(printf .dircat keyed-hash keys/ { on = 1 } on { print } on && /tr .\+\/. .-_./ { exit }' \
	"$DIRCAT_TOP/schema/snapshot.md" >"$d/spec.sh"
key=$(cd "$d" && cp "$secret" secret.hex && bash spec.sh; rm -f secret.hex)
check_match "schema/snapshot.md's openssl commands give a key of the catalog ($key)" \
	"$(cut -f1 <<<"$out")" "^$key\$"

# A delta with the same secret: a new address, one removed.
{ records | grep -v '^bob@'; echo "carol@example.com person carol"; } |
	"$CATD_TOOLS/mkcatalog" -i corp "$d/src/src.mdb" >/dev/null
catd_delta 1 corp.1-2.delta.snap -H "$secret" || fail "mksnap -b -H"
catd_wait_serial 2 30 || fail "hashed delta not installed"
check_eq "after a hashed delta: carol known, bob gone" \
	"$(catd_sm recipients carol@example.com bob@example.com)" \
	"$(printf '%s\n' 'OK person' 'NOTFOUND ')"

# Refusals, each with a reason that says what is wrong.
refused() {	# NAME REGEX
	local r=$d/inbox/rejected/$1.reason
	if wait_for 15 test -e "$r"; then
		check_match "$1 refused: $(head -c 150 "$r")" "$(cat "$r")" "$2"
	else
		fail "$1 not refused"
	fi
}
catd_full corp.3.full.snap -H "$other"
refused corp.3.full.snap 'keyed-hash secret mismatch: keys hashed with secret [0-9a-f]{16}, but this node.s hash_secret is secret [0-9a-f]{16}'
catd_full corp.4.full.snap
refused corp.4.full.snap 'keyed-hash secret mismatch: addresses in clear, but this node.s hash_secret.*the file was removed'
# The refused clear snapshot must not stay on the node's disk either:
# nothing under the inbox (rejected/ included), no log line, no status
# file holds an address, owner or domain as text.
found=
for f in $(find "$d/inbox" "$d/var" -type f) "$CATD_LOG"; do
	[ -n "$(leaks "$f")" ] && found="$found ${f#$d/}:$(leaks "$f" | paste -sd,)"
done
check_eq "no clear text in the inbox, rejected/, the status files or the log" "$found" ""
"$DIRCAT_BIN/dircat" status -c "$CATD_CONF" >"$d/status.out" 2>&1
"$DIRCAT_BIN/dircat" metrics -c "$CATD_CONF" >"$d/metrics.out" 2>&1
check_eq "no clear text in dircat status or dircat metrics" \
	"$(leaks "$d/status.out"; leaks "$d/metrics.out")" ""
check_match "dircat status still names the refusal" "$(cat "$d/status.out")" \
	"addresses in clear"
check_eq "neither secret's text in the log, the status files, status or metrics" \
	"$(cat "$CATD_LOG" "$d/inbox/status" "$d"/inbox/rejected/* "$d/status.out" \
		"$d/metrics.out" | grep -cF -e "$(cat "$secret")" -e "$(cat "$other")")" 0
rm -f "$d/status.out" "$d/metrics.out"
check_eq "after the refusals: still serial 2, still answering" \
	"$(catd_sm recipients carol@example.com)" "OK person"

# A secret file others may read: refused at start, with the fix.
catd_stop
chmod 0644 "$secret"
out=$("$DIRCAT_BIN/catalogd" -c "$CATD_CONF" -t 2>&1)
check_eq "hash_secret readable by others: catalogd -t exits 78" "$?" 78
check_match "... and names file:line and the mode" "$out" \
	"catalogd.conf:[0-9]+: hash_secret: .*corp.hashkey: mode 0644 lets others read"
chmod 0640 "$secret"

# The node's secret replaced under an installed catalog: TEMP, not 550.
catd_conf "hash_secret = $other"
catd_start || exit 1
check_match "secret changed under the installed catalog: TEMP, never NOTFOUND" \
	"$(catd_sm recipients carol@example.com nobody@example.com)" \
	'^TEMP catalog hashed with another secret.*
TEMP '
check_match "... and catalogd says so in its log" "$(cat "$CATD_LOG")" \
	'hashed with another secret than hash_secret: every lookup answers TEMP'
catd_stop

# A clear node receiving a hashed snapshot.
catd_conf
catd_start || exit 1
catd_full corp.5.full.snap -H "$secret"
refused corp.5.full.snap 'keys hashed with secret [0-9a-f]{16}, but this node has no hash_secret'
catd_stop
exit 0
