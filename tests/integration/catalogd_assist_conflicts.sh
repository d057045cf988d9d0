#!/bin/bash
# catalogd_assist_conflicts.sh - a second catalog's entries must not
# override what the first catalog of the order says about an address it
# holds.  Two catalogs from snapshots (no directory needed): unitB first
# in the order holds list@example.org with no owners (nobody may send as
# it) and bob@example.org; unitA, whose signing key an attacker holds,
# publishes the same addresses owned by its own login mallory.
#   senders    list@example.org: NOTFOUND (unitB's answer), never
#              mallory; bob@example.org: bob.
#   recipients, transport   unitB's answers for both.
#   policy     mallory, authenticated, sending as list@example.org: 553.
#   flood      unitA's inbox full of junk and a FIFO: unitB still installs
#              its next snapshot, lookups answered.
# Needs root (catalogd runs as nobody).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
catd_tool mkcatalog mksnap catdclient

d=$(tmpdir)
CATD_DIR=$d CATD_CONF=$d/catalogd.conf CATD_LOG=$d/catalogd.log
mkdir -p "$d/run" "$d/var" "$d/inbox-a" "$d/inbox-b"
for u in a b; do
	(cd "$d" && "$DIRCAT_BIN/dircat" keygen "key-$u" >/dev/null) ||
		{ fail "dircat keygen"; exit 1; }
done
"$CATD_TOOLS/mkcatalog" -i unitA "$d/a.mdb" >/dev/null <<'EOF'
example.org domain
list@example.org group mallory mailHost=evil.example.net
bob@example.org person mallory mailHost=evil.example.net
EOF
"$CATD_TOOLS/mkcatalog" -i unitB "$d/b.mdb" >/dev/null <<'EOF'
example.org domain
list@example.org group -
bob@example.org person bob mailHost=hub-b.example.org
EOF
for u in a b; do
	"$CATD_TOOLS/mksnap" "$d/$u.mdb" "$d/key-$u.key" "$d/inbox-$u/.x" >/dev/null &&
		mv "$d/inbox-$u/.x" "$d/inbox-$u/unit${u^^}.1.full.snap" ||
		{ fail "snapshot for unit$u"; exit 1; }
done
chown nobody:nogroup "$d/run" "$d/var" "$d/inbox-a" "$d/inbox-b" "$d"/inbox-?/*
cat >"$CATD_CONF" <<EOF
user = nobody
order = unitB, unitA
route_field = mailHost
route_default = hub.example.org
[catalog unitA]
catalog = $d/var/a.mdb
catalog_id = unitA
inbox = $d/inbox-a
trusted_key = $d/key-a.pub
[catalog unitB]
catalog = $d/var/b.mdb
catalog_id = unitB
inbox = $d/inbox-b
trusted_key = $d/key-b.pub
[socket map]
path = $d/run/map.sock
protocol = socketmap
[socket policy]
path = $d/run/policy.sock
protocol = policy
[socket control]
path = $d/run/ctl.sock
protocol = control
EOF
catd_start || exit 1
installed() { grep -qx 'serial=1' "$d/inbox-a/status" 2>/dev/null &&
	      grep -qx 'serial=1' "$d/inbox-b/status" 2>/dev/null; }
wait_for 20 installed || { fail "both catalogs installed"; tail "$CATD_LOG"; exit 1; }
pass "both catalogs installed"

sm() { "$CATD_TOOLS/catdclient" sm "$d/run/map.sock" "$@"; }
check_eq "senders: unitB (first) holds list@ without owners: not found, never unitA's mallory" \
	"$(sm senders list@example.org List+x@Example.ORG bob@example.org)" \
	"$(printf 'NOTFOUND \nNOTFOUND \nOK bob')"
check_eq "recipients and transport: unitB's answers" \
	"$(sm recipients list@example.org; sm transport bob@example.org list@example.org)" \
	"$(printf 'OK group\nOK relay:[hub-b.example.org]\nOK relay:[hub.example.org]')"
out=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=list@example.org\nsasl_username=mallory\nrecipient=someone@example.net\n\n' |
	"$CATD_TOOLS/catdclient" raw "$d/run/policy.sock")
check_match "policy: mallory sending as list@example.org is refused" "$out" \
	"^action=553 5\.7\.1 "
check_match "the conflict is logged" "$(cat "$CATD_LOG")" \
	"conflict: list@example.org is in catalog unitB \(serial 1\) and in catalog unitA"
# unitA's uploader floods unitA's inbox (300 junk snapshots, a FIFO named
# like one): unitB's next snapshot is installed all the same, and
# lookups go on being answered.
mkfifo "$d/inbox-a/unitA.9.full.snap"
for i in $(seq 10 309); do
	head -c 3000 /dev/urandom >"$d/inbox-a/unitA.$i.full.snap"
done
printf '%s\n' "example.org domain" "list@example.org group -" \
	"bob@example.org person bob mailHost=hub-b.example.org" \
	"carol@example.org person carol" |
	"$CATD_TOOLS/mkcatalog" -i unitB -s 2 "$d/b2.mdb" >/dev/null
"$CATD_TOOLS/mksnap" "$d/b2.mdb" "$d/key-b.key" "$d/inbox-b/.x" >/dev/null &&
	chown nobody "$d/inbox-b/.x" &&
	mv "$d/inbox-b/.x" "$d/inbox-b/unitB.2.full.snap"
b2() { grep -qx 'serial=2' "$d/inbox-b/status"; }
check "unitB installs its next snapshot while unitA's inbox is flooded" wait_for 30 b2
check_eq "both still answer during the flood" \
	"$(sm recipients carol@example.org bob@example.org)" \
	"$(printf 'OK person\nOK person')"
catd_stop
exit 0
