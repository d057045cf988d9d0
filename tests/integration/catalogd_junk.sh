#!/bin/bash
# catalogd_junk.sh - the inbox writer floods the inbox: 10,000 junk
# *.snap files at once, half under names that are not snapshot names,
# half under this catalog's snapshot names (corp.1.full.snap ..) with
# junk inside, all sorting before the genuine snapshot that follows.
#
# Pass: while the flood is being handled, lookups keep being answered
# (4 synchronous clients, like 4 smtpd processes) with no error, in every
# second, a 99th percentile latency under JUNK_P99_MS and none over
# JUNK_MAX_MS; the genuine snapshot
# delivered after the flood is installed within JUNK_INSTALL_WITHIN
# seconds; the junk is out of the inbox; dircat status reports how many
# files the inbox scan looked at.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

FILES=${JUNK_FILES:-10000}
P99_MS=${JUNK_P99_MS:-50}
MAX_MS=${JUNK_MAX_MS:-1000}
WITHIN=${JUNK_INSTALL_WITHIN:-60}
d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1s"
inbox=$d/inbox
attack=$CATD_TOOLS/inboxattack
catd_tool inboxattack loadgen

catd_serving <<'EOF2'
example.com domain
alice@example.com person alice
EOF2
printf 'alice@example.com OK\nnobody@example.com NOTFOUND\n' >"$d/keys"

# The genuine snapshot: serial 100000, above every junk name.
printf 'example.com domain\nalice@example.com person alice\nbob@example.com person bob\n' |
	"$CATD_TOOLS/mkcatalog" -i corp -N -s 100000 "$d/src/src.mdb" >/dev/null
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$d/good.snap" >/dev/null
chmod 644 "$d/good.snap"

"$CATD_TOOLS/loadgen" -s "$d/run/map.sock" -k "$d/keys" -c 4 -p 1 \
	-d "${JUNK_LOAD_SECONDS:-20}" -i 1 >"$d/load.out" 2>&1 &
lpid=$!
track_pid "$lpid"
sleep 1
t0=$(date +%s%N)
half=$((FILES / 2))
"$attack" junk "$inbox" "$half" junk- .snap 300 &&
	"$attack" junk "$inbox" $((FILES - half)) corp. .full.snap 300
check_eq "$FILES junk files written" "$?" 0
t1=$(date +%s%N)
cp "$d/good.snap" "$inbox/.up" && mv "$inbox/.up" "$inbox/corp.100000.full.snap"
catd_wait_serial 100000 "$WITHIN"
rc=$?
t2=$(date +%s%N)
echo "junk written in $(( (t1 - t0) / 1000000 )) ms; genuine snapshot installed=$((rc == 0)) $(( (t2 - t1) / 1000000 )) ms after it arrived"
check "genuine snapshot installed within ${WITHIN}s of the flood ($(( (t2 - t1) / 1000000 )) ms after it arrived)" test "$rc" -eq 0
check_eq "its records are served" "$(catd_sm recipients bob@example.com)" "OK person"
wait "$lpid"
sed 's/^/    /' "$d/load.out"
res=$(grep '^RESULT ' "$d/load.out")
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
p99=$(val p99_us) max=$(val max_us)
echo "lookups during the flood: $(val requests) requests, p99 ${p99} us, max ${max} us, errors $(val errors)"
check "lookups answered during the flood ($(val requests))" test "$(val requests)" -gt 0
check_eq "no lookup errors during the flood" "$(val errors)" 0
check "lookup p99 under ${P99_MS} ms during the flood (${p99} us, max ${max} us)" \
	awk -v p="${p99:-999999999}" -v l="$P99_MS" 'BEGIN { exit !(p < l * 1000) }'
# Synchronous clients send little while they wait, so a stall hardly
# moves the p99: every lookup under MAX_MS, and answers in every second.
check "no lookup waited ${MAX_MS} ms or more (max ${max} us)" \
	awk -v p="${max:-999999999}" -v l="$MAX_MS" 'BEGIN { exit !(p < l * 1000) }'
idle=$(grep -c '^interval .* rate=0/s' "$d/load.out")
check_eq "lookups answered in every second of the flood" "$idle" 0

# The junk goes, at a bounded pace; what is left is reported.
left() { find "$inbox" -maxdepth 1 -name '*.snap' | wc -l; }
wait_for "$WITHIN" test "$(left)" -eq 0
check_eq "every junk file is out of the inbox within ${WITHIN}s" "$(left)" 0
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")
check_match "status reports the inbox scan" "$st" \
	'^inbox: .*[0-9]+ files? looked at'
check_match "status counts the refusals" "$st" \
	"^installs: [0-9]+ installed, [0-9]{4,} refused"
reasons() { find "$inbox/rejected" -name '*.reason' | wc -l; }
wait_for 30 test "$(reasons)" -le 20
check_eq "rejected/ stays bounded (rejected_keep 20)" "$(reasons)" 20
check "daemon process still there" kill -0 "$CATD_PID"
