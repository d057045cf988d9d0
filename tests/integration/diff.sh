#!/bin/bash
# diff.sh - dircat diff between catalogs, full snapshots and a delta:
# the exact lines, the counts, the exit statuses, and that a snapshot is
# read only with the signer's key.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"

tools=$DIRCAT_TESTBIN/tools
dircat=$DIRCAT_BIN/dircat
D=$(tmpdir)
cd "$D" || exit 1

# Serial 1: four addresses and a domain.  Serial 2: one removed, one
# added, one whose owners changed, one whose kind changed.
cat >v1.txt <<'EOF'
example.com domain
alice@example.com person alice
bob@example.com person bob
sales@example.com group bob
old@example.com person old
EOF
cat >v2.txt <<'EOF'
example.com domain
alice@example.com person alice
bob@example.com person bob,admin
sales@example.com mailin bob
new@example.com person new
EOF
"$tools/mkcatalog" -i corp -H 8 cat.mdb <v1.txt >/dev/null
cp cat.mdb v1.mdb
"$tools/mkcatalog" -i corp -H 8 cat.mdb <v2.txt >/dev/null
"$dircat" keygen signer >/dev/null 2>&1
"$dircat" keygen other >/dev/null 2>&1

want='~bob@example.com	person
+new@example.com	person
-old@example.com	person
~sales@example.com	mailin'

out=$("$dircat" diff v1.mdb cat.mdb 2>err)
rc=$?
check_eq "catalogs: exit 1 when they differ" "$rc" 1
check_eq "catalogs: the lines, in key order" "$out" "$want"
check_eq "catalogs: summary on stderr" "$(cat err)" \
	"catalog corp serial 1 (4 addresses, 1 domains) -> catalog corp serial 2 (4 addresses, 1 domains): 1 added, 1 removed, 2 changed"
out=$("$dircat" diff cat.mdb cat.mdb 2>err)
check_eq "same catalog: exit 0, no lines" "$?:$out" "0:"
check_match "same catalog: 0 added" "$(cat err)" ": 0 added, 0 removed, 0 changed$"
out=$("$dircat" diff -s v1.mdb cat.mdb 2>err)
check_eq "-s: only the summary, on stdout" "$?:$out" \
	"1:catalog corp serial 1 (4 addresses, 1 domains) -> catalog corp serial 2 (4 addresses, 1 domains): 1 added, 1 removed, 2 changed"
check_eq "-s: nothing on stderr" "$(cat err)" ""
out=$("$dircat" diff cat.mdb v1.mdb 2>/dev/null)
check_eq "reversed: + and - swap" "$(grep -c '^+old@' <<<"$out"):$(grep -c '^-new@' <<<"$out")" "1:1"

# Full snapshots of both serials, and the delta 1-2.
"$tools/mksnap" v1.mdb signer.key s1.full >/dev/null
"$tools/mksnap" cat.mdb signer.key s2.full >/dev/null
"$tools/mksnap" -b 1 cat.mdb signer.key s2.delta >/dev/null
check "three snapshots written" test -s s1.full -a -s s2.full -a -s s2.delta

out=$("$dircat" diff --key signer.pub s1.full s2.full 2>err)
check_eq "full snapshots: exit 1" "$?" 1
check_eq "full snapshots: same lines as the catalogs" "$out" "$want"
check_match "full snapshots: described" "$(cat err)" \
	"^full snapshot corp serial 1 \\(4 addresses, 1 domains\\) -> full snapshot corp serial 2"
out=$("$dircat" diff --key signer.pub v1.mdb s2.full 2>/dev/null)
check_eq "catalog against a snapshot" "$(sort <<<"$out")" "$(sort <<<"$want")"

out=$("$dircat" diff --key signer.pub v1.mdb s2.delta 2>err)
check_eq "delta on its base: exit 1" "$?" 1
check_eq "delta on its base: what installing it changes" "$out" "$want"
check_match "delta: described with its serials and the result" "$(cat err)" \
	"-> delta snapshot corp 1-2 \\(4 addresses, 1 domains\\): 1 added, 1 removed, 2 changed"
out=$("$dircat" diff --key signer.pub cat.mdb s2.delta 2>err)
check_match "delta on the wrong base: warned" "$(cat err)" \
	"the delta starts from serial 1, OLD is at serial 2: catalogd would refuse it"
check_match "delta on the wrong base: deleting an address OLD lacks is counted" \
	"$(cat err)" "1 deletions of addresses OLD does not hold"

# Trust: a snapshot needs the signer's key, like on a node.
"$dircat" diff v1.mdb s2.full >/dev/null 2>err
check_eq "snapshot without --key: exit 3" "$?" 3
check_match "snapshot without --key: says what to do" "$(cat err)" "s2.full is a snapshot: give the signer's public key with --key PUB"
"$dircat" diff --key other.pub v1.mdb s2.full >/dev/null 2>err
check_eq "snapshot of another signer: exit 3" "$?" 3
check_match "snapshot of another signer: refused" "$(cat err)" "s2.full"
cp s2.full bad.full
printf 'X' | dd of=bad.full bs=1 seek=300 conv=notrunc 2>/dev/null
"$dircat" diff --key signer.pub v1.mdb bad.full >/dev/null 2>err
check_eq "tampered snapshot: exit 3" "$?" 3
"$dircat" diff --key signer.pub s2.delta cat.mdb >/dev/null 2>err
check_eq "delta as OLD: exit 3" "$?" 3
check_match "delta as OLD: says why" "$(cat err)" "OLD must be a catalog or a full snapshot"

# Usage and errors.
"$dircat" diff v1.mdb >/dev/null 2>&1
check_eq "one argument: usage, exit 2" "$?" 2
"$dircat" diff -x v1.mdb cat.mdb >/dev/null 2>&1
check_eq "unknown option: usage, exit 2" "$?" 2
"$dircat" diff v1.mdb cat.mdb v1.mdb >/dev/null 2>&1
check_eq "three arguments: usage, exit 2" "$?" 2
"$dircat" diff v1.mdb "$D/missing.mdb" >/dev/null 2>err
check_eq "missing file: exit 3" "$?" 3
check_match "missing file: named" "$(cat err)" "missing.mdb"
