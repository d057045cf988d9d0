#!/bin/bash
# runner.sh - tests/run.sh itself, on a small suite of its own: a test
# that leaves a process running (found by its environment tag, by its
# working directory or by its command line) or a file in the run's
# directory fails and is cleaned up by pid; a test that stops what it
# started passes; one that prints only SKIP lines is shown as skipped; the
# run ends with its cleanup check, says "N passed, N failed", and leaves
# neither its directory nor a process behind.
. "$(dirname "$0")/lib.sh"

D=$(tmpdir)
mkdir -p "$D/suite" "$D/bin" "$D/logs" "$D/pids"
cat >"$D/suite/clean.sh" <<'EOT'
. "$DIRCAT_TOP/tests/integration/lib.sh"
d=$(tmpdir)
echo x >"$d/file"
sleep 300 &
track_pid $!
pass "started a process and a directory, both its own"
EOT
cat >"$D/suite/leaky.sh" <<'EOT'
. "$DIRCAT_TOP/tests/integration/lib.sh"
d=$(tmpdir)
echo x >"$d/config"
sleep 301 &			# carries the test's tag
echo $! >"$RUNNER_PIDS/tagged"
# No environment at all: found by its working directory...
cd "$d" || exit 1
env -i setsid sleep 302 </dev/null >/dev/null 2>&1 &
echo $! >"$RUNNER_PIDS/cwd"
# ... or by its command line (a daemon started with its directory's path).
cd / || exit 1
env -i setsid bash -c 'exec -a "$0" sleep 303' "$d/daemon" \
	</dev/null >/dev/null 2>&1 &
echo $! >"$RUNNER_PIDS/cmdline"
mkdir "$DIRCAT_TEST_TMP/stray"
pass "left three processes and a directory"
EOT
cat >"$D/suite/skipped.sh" <<'EOT'
echo "SKIP: skipped: nothing to run here"
EOT

RUNNER_PIDS=$D/pids DIRCAT_TESTDIR=$D/suite DIRCAT_TESTBIN=$D/bin \
	DIRCAT_TESTLOG=$D/logs TESTS= KEEP_TEST_DIRS= \
	timeout -k 10 120 "$DIRCAT_TOP/tests/run.sh" >"$D/out" 2>&1
rc=$?
out=$(cat "$D/out")
check "the run fails (exit $rc)" test "$rc" -ne 0
check_match "the clean test passes" "$out" '^clean +1 passed +0 failed'
check_match "the leaky test fails: 1 passed, 4 failed" "$out" \
	'^leaky +1 passed +4 failed'
for what in tagged cwd cmdline; do
	pid=$(cat "$D/pids/$what" 2>/dev/null)
	check_match "leaky: its $what process is named" "$out" \
		"left process ${pid:-none} running"
	check "leaky: its $what process was stopped" \
		wait_for 10 sh -c "! kill -0 ${pid:-0} 2>/dev/null"
	[ -n "$pid" ] && track_pid "$pid"	# in case it was not
done
check_match "leaky: the stray directory is named" "$out" \
	'left in .*/dircat-run\.[A-Za-z0-9]+: stray'
check_match "skipped test shown as skipped, with its reason" "$out" \
	'^skipped +skipped \(nothing to run here\)$'
check_match "the run's cleanup check passes" "$out" \
	'^cleanup +2 passed +0 failed'
check_eq "last line" "$(tail -n 1 "$D/out")" "4 passed, 4 failed"
check_eq "the run's directory is gone" \
	"$(find "$TMPDIR" -maxdepth 1 -name 'dircat-run.*' | wc -l)" 0
