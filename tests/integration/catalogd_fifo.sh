#!/bin/bash
# catalogd_fifo.sh - the inbox writer swaps a FIFO in under a snapshot's
# name, over and over, so that catalogd may check a regular file and then
# open a FIFO that nobody writes to.  Then a genuine snapshot arrives.
#
# Pass: lookups are answered during the attack, the genuine snapshot is
# installed within FIFO_INSTALL_WITHIN seconds after the attack, the FIFO
# name ends up moved aside with a reason, and nothing in the inbox keeps
# catalogd from installing a second genuine snapshot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

SWAP_SECONDS=${FIFO_SWAP_SECONDS:-5}
WITHIN=${FIFO_INSTALL_WITHIN:-10}
d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1s"
inbox=$d/inbox
attack=$CATD_TOOLS/inboxattack
catd_tool inboxattack

catd_serving <<'EOF2'
example.com domain
alice@example.com person alice
EOF2
alive() { [ "$(catd_sm recipients alice@example.com)" = "OK person" ]; }

# The attack: a FIFO and a junk file trade places under corp.2.full.snap.
"$attack" fifoswap "$inbox" corp.2.full.snap "$SWAP_SECONDS" >"$d/attack.out" 2>&1 &
apid=$!
track_pid "$apid"
answered=0 failed=0
while kill -0 "$apid" 2>/dev/null; do
	if alive; then answered=$((answered + 1)); else failed=$((failed + 1)); fi
	sleep 0.2
done
wait "$apid"
echo "attack: $(cat "$d/attack.out")"
check "lookups answered during the swapping ($answered answered, $failed not)" \
	test "$answered" -gt 0 -a "$failed" -eq 0

# A genuine snapshot after the attack (named above the attacked name).
s=$(catd_source <<'EOF2'
example.com domain
alice@example.com person alice
bob@example.com person bob
EOF2
)
t0=$(date +%s%N)
catd_full "corp.$((s + 1)).full.snap"
catd_wait_serial "$s" "$WITHIN"
rc=$?
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "genuine snapshot after the FIFO swap: installed=$((rc == 0)) after $ms ms"
check "genuine snapshot installed within ${WITHIN}s of the attack (after $ms ms)" test "$rc" -eq 0
check_eq "its records are served" "$(catd_sm recipients bob@example.com)" "OK person"
wait_for 10 test ! -e "$inbox/corp.2.full.snap"
check "the attacked name is moved out of the inbox" test ! -e "$inbox/corp.2.full.snap"
check_match "and why is recorded" \
	"$(cat "$inbox/rejected/corp.2.full.snap.reason" 2>/dev/null)" \
	'reason=.*(not a regular file|not a dircat snapshot|bad magic|truncated)'
rm -f "$inbox/.fifo-corp.2.full.snap"

# A FIFO that sits under a snapshot name from the start.
mkfifo "$inbox/corp.4.full.snap"
s=$(catd_source <<'EOF2'
example.com domain
alice@example.com person alice
carol@example.com person carol
EOF2
)
catd_full corp.5.full.snap
check "a FIFO under a lower serial does not hold up the next install" \
	catd_wait_serial "$s" "$WITHIN"
check_match "the FIFO is moved aside, not a regular file" \
	"$(cat "$inbox/rejected/corp.4.full.snap.reason" 2>/dev/null)" \
	'reason=.*not a regular file'
check "daemon process still there" kill -0 "$CATD_PID"
