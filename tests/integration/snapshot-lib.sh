# snapshot-lib.sh - build snapshots from schema/snapshot.md alone, with
# printf, sha256sum and the openssl command: a second, independent writer
# of the format (sourced by tests, not run).
#
#   spec_snap OUT KEYFILE KEYID TYPE SERIAL BASE RECORDS PAYLOADFILE
#             [FLAGS [VERSION [EPOCH [CREATED [PAYLOAD-LENGTH]]]]]
#       a signed snapshot of catalog example-corp in OUT: version 2 (the
#       default: header, Ed25519 signature over the header, payload) or 1
#       (header, payload, signature over both); CREATED defaults to now,
#       expiry one day later; PAYLOAD-LENGTH to the payload file's size
#   spec_header ...   the same arguments: only the 256 header bytes, on
#       stdout, for headers that claim what the file is not
#   rec_full KEY KIND OWNERS / rec_put ... / rec_del KEY   records, stdout
# Big-endian integers and hex as raw bytes.
be16() { printf "\\x$(printf %02x $(( ($1 >> 8) & 255 )))\\x$(printf %02x $(( $1 & 255 )))"; }
be64() {
	local s
	for s in 56 48 40 32 24 16 8 0; do
		printf "\\x$(printf %02x $(( ($1 >> s) & 255 )))"
	done
}
hexbytes() { local h=$1 i; for ((i = 0; i < ${#h}; i += 2)); do printf "\\x${h:i:2}"; done; }
zeros() { head -c "$1" /dev/zero; }

# A catalog value: [kind u8][u16 owners len][owners][u16 extra len][extra].
value() {	# kind owners
	printf "\\x$(printf %02x "$1")"; be16 ${#2}; printf '%s' "$2"; be16 0
}
# A full-snapshot record: [u16 key len][u16 value len][key][value].
rec_full() {	# key kind owners
	be16 ${#1}; be16 $((5 + ${#3})); printf '%s' "$1"; value "$2" "$3"
}
# A delta record: [u8 op][u16 key len][u16 value len][key][value].
rec_put() { printf '\x01'; rec_full "$@"; }
rec_del() { printf '\x02'; be16 ${#1}; be16 0; printf '%s' "$1"; }

spec_header() {
	local out=$1 key=$2 kid=$3 type=$4 serial=$5 base=$6 n=$7 pay=$8
	local flags=${9:-0} version=${10:-2} epoch=${11:-0}
	local now=${12:-$(date +%s)} plen=${13:-} id=example-corp hash
	[ -n "$plen" ] || plen=$(stat -c %s "$pay")
	hash=$(sha256sum "$pay" | cut -c1-64)
	printf 'DIRCATSN'; be16 "$version"; be16 "$flags"; be16 "$type"
	be16 0
	printf '%s' "$id"; zeros $((64 - ${#id}))
	be64 "$serial"; be64 "$base"
	be64 "$now"; be64 $((now + 86400))
	be64 "$n"; be64 "$plen"
	hexbytes "$hash"; hexbytes "$kid"
	zeros 32
	if [ "$version" = 1 ]; then
		zeros 56
	else
		be64 "$epoch"; zeros 48
	fi
}

spec_snap() {
	local out=$1 key=$2 pay=$8 version=${10:-2}
	spec_header "$@" >"$out.head" || return 1
	if [ "$version" = 1 ]; then
		cat "$out.head" "$pay" >"$out.body"
	else
		cp "$out.head" "$out.body"
	fi
	openssl pkeyutl -sign -inkey "$key" -rawin -in "$out.body" \
		-out "$out.sig" 2>/dev/null || return 1
	if [ "$version" = 1 ]; then
		cat "$out.body" "$out.sig" >"$out"
	else
		cat "$out.head" "$out.sig" "$pay" >"$out"
	fi
	rm -f "$out.head" "$out.body" "$out.sig"
}
