#!/bin/bash
# catalogd_rewrite.sh - the inbox writer rewrites a snapshot after
# catalogd has started to read it.  The upload account delivers a genuine,
# signed full snapshot of 300,000 records, keeps a write descriptor on it,
# and a moment after catalogd opens the file it overwrites the last
# record's key (zz-victim@example.com becomes zz-forged@example.com).
# Repeated REWRITE_RUNS times with the moment spread over the install.
#
# Pass: the forged address is never served (NOTFOUND after every run), and
# each run ends with either the genuine snapshot installed (the victim
# answers OK person) or nothing installed (the previous serial stays).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

RUNS=${REWRITE_RUNS:-10}
N=${REWRITE_RECORDS:-300000}
d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1s"
inbox=$d/inbox
attack=$CATD_TOOLS/inboxattack
catd_tool inboxattack

records() {	# RUN
	echo "example.com domain"
	seq 1 "$N" | awk '{ printf "user%07d@example.com person u%d\n", $1, $1 }'
	echo "run$1@example.com person r$1"
	echo "zz-victim@example.com person victim"
}

records 0 >"$d/records0"
catd_serving <"$d/records0"

forged=0 installed=0 refused=0 other=0
for run in $(seq 1 "$RUNS"); do
	serial=$((run + 1))
	name=corp.$serial.full.snap
	records "$run" | "$CATD_TOOLS/mkcatalog" -i corp -N "$d/src/src.mdb" >/dev/null
	"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$inbox/.up-$name" >/dev/null ||
		{ fail "run $run: mksnap"; continue; }
	chown nobody "$inbox/.up-$name"
	off=$(grep -obUa 'zz-victim@example.com' "$inbox/.up-$name" | tail -n 1 | cut -d: -f1)
	check_eq "run $run: the victim's key is where the test expects it" \
		"$(dd if="$inbox/.up-$name" bs=1 skip="$off" count=9 status=none)" "zz-victim"
	# The writer holds the file open across the rename into the inbox.
	delay=$(( 10 + (run - 1) * 150 / RUNS ))
	"$attack" rewrite "$inbox/.up-$name" "$off" "zz-forged" "$delay" 60 \
		>"$d/attack.out" 2>&1 &
	apid=$!
	track_pid "$apid"
	sleep 0.2
	mv "$inbox/.up-$name" "$inbox/$name"
	done_run() { _catd_serial_is "$serial" || test -e "$inbox/rejected/$name.reason"; }
	wait_for 90 done_run
	wait "$apid"
	got=$(catd_sm recipients zz-forged@example.com zz-victim@example.com "run$run@example.com")
	if [ "$(head -n 1 <<<"$got")" != "NOTFOUND " ]; then
		forged=$((forged + 1))
		echo "run $run (delay ${delay} ms): forged record served: $(tr '\n' '|' <<<"$got")"
	elif _catd_serial_is "$serial"; then
		if [ "$got" = $'NOTFOUND \nOK person\nOK person' ]; then
			installed=$((installed + 1))
		else
			other=$((other + 1))
			echo "run $run: serial $serial installed but answers: $(tr '\n' '|' <<<"$got")"
		fi
	elif [ -e "$inbox/rejected/$name.reason" ]; then
		refused=$((refused + 1))
		echo "run $run: refused: $(grep '^reason=' "$inbox/rejected/$name.reason")"
		# Nothing installed: the genuine snapshot goes again, untouched.
		"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$inbox/.up-$name" >/dev/null
		chown nobody "$inbox/.up-$name"
		mv "$inbox/.up-$name" "$inbox/corp.$serial.full.snap"
		catd_wait_serial "$serial" 90 ||
			{ other=$((other + 1)); echo "run $run: the genuine retry was not installed"; }
	else
		other=$((other + 1))
		echo "run $run: neither installed nor refused within 90 s"
	fi
	sed "s/^/    run $run: /" "$d/attack.out"
done
echo "rewrite race: $RUNS runs of $N records: $forged forged, $installed genuine installed, $refused refused, $other other"
check_eq "forged record never served: $forged forged in $RUNS runs ($installed genuine installed, $refused refused and then installed)" "$forged" 0
check_eq "every run ends with the genuine snapshot or nothing" "$other" 0
check_eq "the signed record is served" "$(catd_sm recipients zz-victim@example.com)" "OK person"
