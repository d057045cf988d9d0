#!/bin/bash
# catalogd_kill.sh - catalogd killed with SIGKILL in the middle of
# installing a large snapshot: the catalog file is then entirely the old
# version or entirely the new one (never a mix), the install process dies
# with the daemon, and a restart serves the catalog and finishes the job.
# Also: lookups keep being answered while a large install runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

N=${CATD_KILL_RECORDS:-1500000}
d=$(tmpdir)
catd_init "$d"
catd_conf
inbox=$d/inbox

# Two versions that differ in every record: owners change, half of the
# addresses are replaced.
gen() {	# VERSION
	echo "example.com domain"
	seq 1 "$N" | awk -v v="$1" '{
		if (v == 2 && $1 % 2 == 0) printf "new%07d@example.com person n%d\n", $1, $1;
		else printf "user%07d@example.com person v%d-u%d\n", $1, v, $1 }'
}
gen 1 | "$CATD_TOOLS/mkcatalog" -i corp -N -s 1 "$d/src/v1.mdb" >/dev/null
gen 2 | "$CATD_TOOLS/mkcatalog" -i corp -N -s 2 "$d/src/v2.mdb" >/dev/null
"$CATD_TOOLS/mksnap" "$d/src/v1.mdb" "$d/signer.key" "$d/full1.snap" >/dev/null
"$CATD_TOOLS/mksnap" "$d/src/v2.mdb" "$d/signer.key" "$d/full2.snap" >/dev/null
chmod 644 "$d/full1.snap" "$d/full2.snap"
sum1=$("$DIRCAT_BIN/dircat" dump --full "$d/src/v1.mdb" | md5sum)
sum2=$("$DIRCAT_BIN/dircat" dump --full "$d/src/v2.mdb" | md5sum)
check "two different versions prepared" test "$sum1" != "$sum2"

put() { cp "$1" "$inbox/.up" && mv "$inbox/.up" "$inbox/$2"; }

catd_start || exit 1
put "$d/full1.snap" corp.1.full.snap
check "version 1 installed" catd_wait_serial 1 60

# While version 2 installs, lookups go on: count answers during it.
put "$d/full2.snap" corp.2.full.snap
answered=0 temp=0
for i in $(seq 200); do
	r=$(catd_sm recipients user0000001@example.com)
	case $r in "OK person") answered=$((answered + 1)) ;; *) temp=$((temp + 1)) ;; esac
	_catd_serial_is 2 && break
done
check "version 2 installed" catd_wait_serial 2 60
check "lookups answered during the install ($answered)" test "$answered" -gt 0 -a "$temp" -eq 0

# Kill rounds: back to version 1 (a fresh node), deliver version 2,
# SIGKILL the daemon a moment after the install process appears.
mid=0 rounds=0
for delay in 0 0.05 0.15 0.3; do
	rounds=$((rounds + 1))
	catd_stop
	rm -f "$d/var/catalog.mdb" "$d/var/catalog.mdb-lock" "$inbox"/*.snap
	catd_start || exit 1
	put "$d/full1.snap" corp.1.full.snap
	catd_wait_serial 1 60 || { fail "round $rounds: version 1 not installed"; continue; }
	put "$d/full2.snap" corp.2.full.snap
	child=
	for i in $(seq 500); do
		child=$(pgrep -P "$CATD_PID" | head -n 1)
		[ -n "$child" ] && break
		sleep 0.01
	done
	[ -n "$delay" ] && sleep "$delay"
	kill -KILL "$CATD_PID"
	wait "$CATD_PID" 2>/dev/null
	CATD_PID=
	if [ -n "$child" ]; then
		wait_for 5 bash -c "! kill -0 $child 2>/dev/null"
		check "round $rounds: the install process died with the daemon" \
			bash -c "! kill -0 $child 2>/dev/null"
	fi
	sum=$("$DIRCAT_BIN/dircat" dump --full "$d/var/catalog.mdb" | md5sum)
	if [ "$sum" = "$sum1" ]; then
		mid=$((mid + 1))
		pass "round $rounds (delay $delay): killed mid-install, catalog entirely version 1"
	elif [ "$sum" = "$sum2" ]; then
		pass "round $rounds (delay $delay): killed after the commit, catalog entirely version 2"
	else
		fail "round $rounds (delay $delay): catalog is neither version 1 nor version 2"
	fi
	check "round $rounds: snapshot still in the inbox after the kill" \
		test -e "$inbox/corp.2.full.snap" -o "$sum" = "$sum2"
done
check "at least one kill landed during an install ($mid of $rounds)" test "$mid" -gt 0

# Restart: serves at once, finishes the interrupted install.
check "a killed daemon leaves its socket behind" test -S "$d/run/map.sock"
put "$d/full2.snap" corp.2.full.snap 2>/dev/null
catd_start || exit 1
check "the stale socket is replaced at restart" test -S "$d/run/map.sock"
check "restart after kill -9: version 2 installed" catd_wait_serial 2 60
sum=$("$DIRCAT_BIN/dircat" dump --full "$d/var/catalog.mdb" | md5sum)
check_eq "catalog is exactly version 2" "$sum" "$sum2"
check_eq "served" "$(catd_sm recipients new0000002@example.com user0000002@example.com)" \
	"OK person
NOTFOUND "
