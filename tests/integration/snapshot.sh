#!/bin/bash
# snapshot.sh - dircat keygen and dircat verify through the real binary.
#
# Snapshots are built here from schema/snapshot.md alone, with printf,
# sha256sum and the openssl command (snapshot-lib.sh: a second,
# independent writer of the format), signed with a key made by "dircat
# keygen", then checked with "dircat verify" as they are and after
# tampering: format version 2, and version 1, still read.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"
need openssl sha256sum od

D=$(tmpdir)
cd "$D" || exit 1

# flip FILE OFFSET: xor one byte with 0x01 (a copy in FILE.out).
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	cp "$1" "$1.out"
	printf "\\x$(printf %02x $(( b ^ 1 )))" |
		dd of="$1.out" bs=1 seek="$2" conv=notrunc status=none
}

# --- keygen -------------------------------------------------------------
out=$(umask 077; "$DIRCAT_BIN/dircat" keygen signer)
check_eq "keygen exit status" "$?" 0
kid=$(sed -n 's/^key id \([0-9a-f]*\)$/\1/p' <<<"$out")
check_match "keygen prints a 16-hex-digit key id" "$kid" '^[0-9a-f]{16}$'
check_eq "NAME.key mode 0600" "$(stat -c %a signer.key)" 600
check_eq "NAME.pub mode 0644 (whatever the umask)" "$(stat -c %a signer.pub)" 644
check_match "NAME.key is PEM PKCS#8" "$(head -1 signer.key)" '^-----BEGIN PRIVATE KEY-----$'
want=$(openssl pkey -pubin -in signer.pub -outform DER | tail -c 32 |
	sha256sum | cut -c1-16)
check_eq "key id = SHA-256 of the raw public key, first 8 bytes" "$kid" "$want"
check_match "openssl reads it as ED25519" \
	"$(openssl pkey -in signer.key -noout -text 2>&1 | head -1)" 'ED25519'
before=$(sha256sum signer.key)
"$DIRCAT_BIN/dircat" keygen signer >/dev/null 2>err.txt
rc=$?
check_eq "keygen refuses to overwrite (exit 3)" "$rc" 3
check_match "and says which file exists" "$(cat err.txt)" 'signer.key: exists already'
check_eq "the old key is untouched" "$(sha256sum signer.key)" "$before"
"$DIRCAT_BIN/dircat" keygen >/dev/null 2>&1
check_eq "keygen without NAME: usage (exit 2)" "$?" 2
"$DIRCAT_BIN/dircat" keygen other >/dev/null
okid=$(openssl pkey -pubin -in other.pub -outform DER | tail -c 32 |
	sha256sum | cut -c1-16)

# --- a valid full snapshot ------------------------------------------------
{
	rec_full "@example.org" 1 "catchall"
	rec_full "alice@example.com" 1 "alice"
	rec_full "bob@example.com" 1 "bob,admin"
	rec_full "example.com" 4 ""
	rec_full "sales@example.com" 2 ""
} >full.pay
spec_snap full.snap signer.key "$kid" 1 7 0 5 full.pay
check "a snapshot built from the specification" test -s full.snap
out=$("$DIRCAT_BIN/dircat" verify full.snap --key signer.pub 2>err.txt)
check_eq "verify a valid snapshot: exit 0" "$?" 0
check_match "prints valid" "$out" '^valid$'
check_match "prints the format version" "$out" '^format +version 2$'
check_match "prints the epoch" "$out" '^epoch +0$'
check_match "prints the type" "$out" '^type +full$'
check_match "prints the catalog id" "$out" '^catalog id +example-corp$'
check_match "prints the serial" "$out" '^serial +7$'
check_match "prints records" "$out" '^records +5$'
check_match "prints the payload size" "$out" "^payload +$(stat -c %s full.pay) bytes$"
check_match "prints the key id" "$out" "^key id +$kid$"
check_match "prints times in ISO UTC" "$out" '^created +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
check_match "prints the payload hash" "$out" \
	"^payload hash +$(sha256sum full.pay | cut -c1-64)$"
"$DIRCAT_BIN/dircat" verify --key other.pub full.snap --key signer.pub \
	>/dev/null 2>&1
check_eq "two trusted keys (rotation), options anywhere: exit 0" "$?" 0

# --- a valid delta ----------------------------------------------------------
{
	rec_put "carol@example.com" 1 "carol"
	rec_del "sales@example.com"
} >delta.pay
spec_snap delta.snap signer.key "$kid" 2 8 7 2 delta.pay
out=$("$DIRCAT_BIN/dircat" verify delta.snap --key signer.pub 2>&1)
check_eq "verify a delta: exit 0" "$?" 0
check_match "delta: type and base" "$out" '^base +7$'

# --- refusals -------------------------------------------------------------
# expect NAME FILE EXIT REGEX [KEY...]
expect() {
	local name=$1 file=$2 want=$3 re=$4 out rc k args=()
	shift 4
	for k in "${@:-signer.pub}"; do args+=(--key "$k"); done
	out=$("$DIRCAT_BIN/dircat" verify "$file" "${args[@]}" 2>&1)
	rc=$?
	check_eq "$name: exit $want" "$rc" "$want"
	check_match "$name: says why" "$out" "$re"
}

size=$(stat -c %s full.snap)
plen=$(stat -c %s full.pay)
check_eq "version 2 layout: 256 + 64 + payload bytes" "$size" $((320 + plen))
flip full.snap $((320 + 3)) && mv full.snap.out t1.snap
expect "payload byte flipped" t1.snap 1 '^invalid: bad payload hash$'
flip full.snap 300 && mv full.snap.out t2.snap
expect "signature byte flipped" t2.snap 1 '^invalid: bad signature$'
flip full.snap 86 && mv full.snap.out t3.snap
expect "serial byte flipped" t3.snap 1 '^invalid: bad signature$'
flip full.snap 130 && mv full.snap.out t4.snap
expect "payload hash byte flipped (it is signed)" t4.snap 1 '^invalid: bad signature$'
flip full.snap 207 && mv full.snap.out t4e.snap
expect "epoch byte flipped" t4e.snap 1 '^invalid: bad signature$'
head -c 100 full.snap >t5.snap
expect "cut mid-header" t5.snap 1 'truncated: 100 bytes'
head -c 288 full.snap >t6.snap
expect "cut mid-signature" t6.snap 1 '^invalid: truncated$'
head -c $((320 + plen / 2)) full.snap >t7.snap
expect "cut mid-payload" t7.snap 1 'truncated'
cp full.snap t8.snap && printf 'x' >>t8.snap
expect "a byte appended" t8.snap 1 'trailing data: 1 byte after the end'
expect "signed by a key not trusted" full.snap 1 \
	"unknown signing key: signed with key id $kid" other.pub
expect "unknown key: the unverified header is shown" full.snap 1 \
	'header NOT verified' other.pub
{ printf 'XIRCATSN'; tail -c +9 full.snap; } >t9.snap
expect "wrong magic" t9.snap 1 'not a dircat snapshot'
printf 'just some text\n' >t10.snap
expect "a text file" t10.snap 1 'bad magic'
spec_snap t11.snap signer.key "$kid" 1 7 0 5 full.pay 0 3
expect "format version 3 (signed)" t11.snap 1 'unsupported format version: version 3'
spec_snap t12.snap signer.key "$kid" 1 7 0 5 full.pay 1
expect "keyed-hash flag with no secret id (signed)" t12.snap 1 \
	'bad header field: keyed-hash field at bytes 168-199 is zero in a keyed-hash snapshot'
spec_snap t12b.snap signer.key "$kid" 1 7 0 5 full.pay 2
expect "flag bit 1 (signed): unknown" t12b.snap 1 'unknown flags: flags 0x0002'
spec_snap t13.snap other.key "$okid" 1 7 0 5 full.pay
expect "signed by the other key, only it trusted: valid" t13.snap 0 \
	'^valid$' other.pub
{
	rec_full "bob@example.com" 1 "bob"
	rec_full "alice@example.com" 1 "alice"
} >unsorted.pay
spec_snap t14.snap signer.key "$kid" 1 7 0 2 unsorted.pay
expect "records out of order (signed)" t14.snap 1 \
	'bad record: record 2 at byte [0-9]+: key "alice@example.com" sorts before'
spec_snap t15.snap signer.key "$kid" 1 7 0 6 full.pay
expect "record count wrong (signed)" t15.snap 1 \
	'payload holds 5 records, the header announces 6'
# A key id that matches the trusted key, but another key signed.
spec_snap t16.snap other.key "$kid" 1 7 0 5 full.pay
expect "signed by another key under the trusted id" t16.snap 1 \
	'^invalid: bad signature$'

# --- an epoch -----------------------------------------------------------
spec_snap e5.snap signer.key "$kid" 1 7 0 5 full.pay 0 2 5
out=$("$DIRCAT_BIN/dircat" verify e5.snap --key signer.pub 2>&1)
check_eq "epoch 5: valid" "$?" 0
check_match "epoch 5: shown" "$out" '^epoch +5$'

# --- format version 1, read for one more release ------------------------
spec_snap v1.snap signer.key "$kid" 1 7 0 5 full.pay 0 1
check_eq "version 1 layout: 256 + payload + 64 bytes" \
	"$(stat -c %s v1.snap)" $((320 + plen))
out=$("$DIRCAT_BIN/dircat" verify v1.snap --key signer.pub 2>&1)
check_eq "version 1: valid" "$?" 0
check_match "version 1: shown, epoch 0" "$out" '^format +version 1$'
check_match "version 1: epoch 0" "$out" '^epoch +0$'
flip v1.snap $((256 + 3)) && mv v1.snap.out v1a.snap
expect "version 1: payload byte flipped" v1a.snap 1 '^invalid: bad payload hash$'
flip v1.snap $((320 + plen - 1)) && mv v1.snap.out v1b.snap
expect "version 1: signature byte flipped" v1b.snap 1 '^invalid: bad signature$'
flip v1.snap 130 && mv v1.snap.out v1c.snap
expect "version 1: payload hash byte flipped" v1c.snap 1 'bad payload hash'

# --- errors that are not about the snapshot ----------------------------
"$DIRCAT_BIN/dircat" verify missing.snap --key signer.pub >/dev/null 2>err.txt
check_eq "missing snapshot: exit 3" "$?" 3
check_match "missing snapshot: named" "$(cat err.txt)" 'missing.snap'
"$DIRCAT_BIN/dircat" verify full.snap --key signer.key >/dev/null 2>err.txt
check_eq "a private key given as --key: exit 3" "$?" 3
check_match "a private key given as --key: says so" "$(cat err.txt)" \
	'not a PEM public key'
"$DIRCAT_BIN/dircat" verify full.snap >/dev/null 2>&1
check_eq "no --key: usage (exit 2)" "$?" 2
"$DIRCAT_BIN/dircat" verify --key signer.pub >/dev/null 2>&1
check_eq "no snapshot: usage (exit 2)" "$?" 2
