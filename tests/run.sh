#!/bin/bash
# run.sh - run every dircat test and print "N passed, N failed".
#
# Unit tests: every program in $DIRCAT_TESTBIN named test_*.
# Integration tests: every tests/integration/*.sh, each printing its own
# "PASS: ..." / "FAIL: ..." lines.  A program that dies without saying
# FAIL counts as one failure.  DIRCAT_LONG=1 adds the long checks
# (fuzzing for a bounded time).  TESTS="name ..." runs only those.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export DIRCAT_BIN=${DIRCAT_BIN:-$top/bin}
export DIRCAT_TESTBIN=${DIRCAT_TESTBIN:-$top/build/std/tests}
export DIRCAT_TOP=$top
export DIRCAT_LONG=${DIRCAT_LONG:-}
logdir=${DIRCAT_TESTLOG:-$top/build/test-logs}
mkdir -p "$logdir"

passed=0 failed=0 failures=()
start=$(date +%s)

run_one() {	# name command...
	local name=$1; shift
	local log="$logdir/$name.log" t0 t1 p f rc
	if [ -n "${TESTS:-}" ] && ! grep -qw -- "$name" <<<"$TESTS"; then
		return
	fi
	t0=$(date +%s)
	# Each test gets at most 10 minutes; it must stop its own servers.
	timeout -k 10 600 "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc" >>"$log"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-28s %4d passed %3d failed  %3ds\n' "$name" "$p" "$f" $((t1 - t0))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep '^FAIL: ' "$log" | head -n 20 | sed 's/^/    /'
	fi
}

for t in "$DIRCAT_TESTBIN"/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in "$here"/integration/*.sh; do
	[ -f "$t" ] || continue
	case $t in *lib.sh) continue ;; esac	# helpers, sourced by tests
	run_one "$(basename "$t" .sh)" bash "$t"
done

end=$(date +%s)
echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (logs in $logdir)"
fi
echo "time: $((end - start))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
