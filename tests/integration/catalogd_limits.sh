#!/bin/bash
# catalogd_limits.sh - what an unsigned file may cost, and the limits
# around an install.  The inbox writer, without the signing key, drops
# sparse 1 GiB and 4 GiB files whose header is consistent with their size (version
# 2, and version 1, which is signed as a whole); then a genuine snapshot
# follows.  The largest file catalogd reads (max_snapshot_size) is tried
# at N and N + 1 bytes, and an install longer than install_timeout is
# stopped.
#
# Pass: the forged version 2 file is refused within LIMITS_REFUSE_WITHIN
# seconds (its header signature, from its first 320 bytes); a version 1
# file is refused unread where version 1 is not accepted, and, where it
# is, the install that hashes it is stopped at install_timeout, reported
# (log, dircat status, metrics), moved aside, and the genuine snapshot
# after it installs; a snapshot of exactly max_snapshot_size bytes
# installs and one byte more is refused as too large.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/snapshot-lib.sh"
need openssl sha256sum

WITHIN=${LIMITS_REFUSE_WITHIN:-3}
BIG=$((4 << 30))
d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1s" "install_timeout = 3s"
inbox=$d/inbox
kid=$(openssl pkey -pubin -in "$d/signer.pub" -outform DER | tail -c 32 |
	sha256sum | cut -c1-16)

catd_serving <<'EOF2'
example.com domain
alice@example.com person alice
EOF2

# sparse NAME VERSION [SIZE]: a SIZE-byte file (default BIG) with a header
# that claims exactly that size (and a payload of SIZE - 320 bytes),
# signed by nobody we trust.
sparse() {
	local name=$1 version=$2 size=${3:-$BIG}
	: >"$d/empty.pay"
	{
		spec_header x x "$kid" 1 9 0 $(( (size - 320) / 100 )) "$d/empty.pay" \
			0 "$version" 0 "$(date +%s)" $((size - 320))
		head -c 64 /dev/urandom
	} >"$inbox/.up"
	truncate -s "$size" "$inbox/.up"
	mv "$inbox/.up" "$inbox/$name"
}
refused_within() {	# NAME SECONDS: prints the milliseconds it took
	local t0 t1
	t0=$(date +%s%N)
	wait_for "$2" test -e "$inbox/rejected/$1.reason" || return 1
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

# Version 2, consistent header, no valid signature.
sparse corp.2.full.snap 2
ms=$(refused_within corp.2.full.snap 30)
echo "sparse 4 GiB, version 2 header: refused after ${ms:-?} ms"
check "sparse 4 GiB with a forged version 2 header: refused within ${WITHIN}s (${ms:-no} ms)" \
	test -n "$ms" -a "${ms:-99999}" -lt $((WITHIN * 1000))
check_match "... as a bad signature" \
	"$(cat "$inbox/rejected/corp.2.full.snap.reason" 2>/dev/null)" 'reason=.*bad signature'

# The same at 1 GiB (a size the old reader hashed for 3.3 s before
# refusing it).
sparse corp.1000.full.snap 2 $((1 << 30))
ms=$(refused_within corp.1000.full.snap 30)
echo "sparse 1 GiB, version 2 header: refused after ${ms:-?} ms"
check "sparse 1 GiB with a forged version 2 header: refused within ${WITHIN}s (${ms:-no} ms)" \
	test -n "$ms" -a "${ms:-99999}" -lt $((WITHIN * 1000))
check_match "... as a bad signature" \
	"$(cat "$inbox/rejected/corp.1000.full.snap.reason" 2>/dev/null)" 'reason=.*bad signature'

# Version 1, not accepted (the default): refused unread.
sparse corp.3.full.snap 1
ms=$(refused_within corp.3.full.snap 30)
echo "sparse 4 GiB, version 1 header, version 1 not accepted: refused after ${ms:-?} ms"
check "sparse 4 GiB version 1 file: refused within ${WITHIN}s (${ms:-no} ms)" \
	test -n "$ms" -a "${ms:-99999}" -lt $((WITHIN * 1000))
check_match "... as a format version not accepted" \
	"$(cat "$inbox/rejected/corp.3.full.snap.reason" 2>/dev/null)" \
	'reason=.*unsupported format version: version 1'

# Version 1 accepted: hashing 4 GiB outlasts install_timeout (3 s).
catd_stop
sed -i 's/^install_timeout = 3s$/install_timeout = 3s\naccept_snapshot_v1 = yes/' "$CATD_CONF"
catd_start || exit 1
sparse corp.4.full.snap 1
t0=$(date +%s%N)
wait_for 60 test -e "$inbox/rejected/corp.4.full.snap.reason"
t1=$(date +%s%N)
echo "sparse 4 GiB, version 1 accepted, install_timeout 3s: moved aside after $(( (t1 - t0) / 1000000 )) ms"
check_match "the install longer than install_timeout is stopped" \
	"$(cat "$inbox/rejected/corp.4.full.snap.reason" 2>/dev/null)" \
	'reason=.*did not finish within 3s \(install_timeout\)'
check_match "logged" "$(cat "$CATD_LOG")" 'install of corp.4.full.snap .*install_timeout'
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")
check_match "shown by dircat status" "$st" '^install_timeouts: 1 since start'
check_match "counted in the metrics" \
	"$(printf 'metrics\n' | "$CATD_TOOLS/catdclient" -t 2 raw "$d/run/ctl.sock")" \
	'dircat_catalogd_install_timeouts_total 1'
s=$(catd_source <<'EOF2'
example.com domain
alice@example.com person alice
bob@example.com person bob
EOF2
)
catd_full "corp.$s.full.snap"
check "the next snapshot goes ahead" catd_wait_serial "$s" 20
check_eq "and is served" "$(catd_sm recipients bob@example.com)" "OK person"

# max_snapshot_size at N and N + 1.
s=$(catd_source <<'EOF2'
example.com domain
alice@example.com person alice
bob@example.com person bob
carol@example.com person carol
EOF2
)
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/n.snap" >/dev/null
chmod 644 "$d/n.snap"
size=$(stat -c %s "$d/n.snap")
catd_stop
sed -i '/^max_snapshot_size/d' "$CATD_CONF"
sed -i "s/^install_timeout = 3s$/install_timeout = 3s\nmax_snapshot_size = $((size - 1))/" "$CATD_CONF"
catd_start || exit 1
big=corp.$((s + 100)).full.snap	# a name of its own, for its .reason
cp "$d/n.snap" "$inbox/.up" && mv "$inbox/.up" "$inbox/$big"
wait_for 15 test -e "$inbox/rejected/$big.reason"
check_match "a snapshot of max_snapshot_size + 1 bytes: too large" \
	"$(cat "$inbox/rejected/$big.reason" 2>/dev/null)" \
	"reason=.*too large: $size bytes, at most $((size - 1))"
catd_stop
sed -i "s/^max_snapshot_size = .*/max_snapshot_size = $size/" "$CATD_CONF"
catd_start || exit 1
cp "$d/n.snap" "$inbox/.up" && mv "$inbox/.up" "$inbox/corp.$s.full.snap"
check "a snapshot of exactly max_snapshot_size bytes: installed" \
	catd_wait_serial "$s" 15
check_eq "and served" "$(catd_sm recipients carol@example.com)" "OK person"
check "daemon process still there" kill -0 "$CATD_PID"
