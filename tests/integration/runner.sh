#!/bin/bash
# runner.sh - tests/run.sh itself, on a small suite of its own: a test
# that leaves a process running (found by its environment tag, by its
# working directory or by its command line) or a file in the run's
# directory fails and is cleaned up by pid; a test that stops what it
# started passes; one that prints only SKIP lines is shown as skipped; the
# run ends with its cleanup check, says "N passed, N failed", and leaves
# neither its directory nor a process behind.  Tests marked "# run.sh:
# beside others" run after the others, two at a time (each waits to see
# the other running), each in a directory of its own: what one of them
# leaves is its own failure, not its neighbour's.
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
# Two tests that pass only when they run at the same time, and one that
# leaves a process and a file behind while they run.
for pair in pair_a:pair_b pair_b:pair_a; do
	cat >"$D/suite/${pair%%:*}.sh" <<EOT
#!/bin/bash
# run.sh: beside others
. "\$DIRCAT_TOP/tests/integration/lib.sh"
echo "\$DIRCAT_TEST_TMP" >"\$RUNNER_PIDS/${pair%%:*}.dir"
check "${pair%%:*}: ${pair#*:} runs at the same time" \
	wait_for 20 test -e "\$RUNNER_PIDS/${pair#*:}.dir"
sleep 1		# the neighbour's leftover check runs meanwhile
EOT
done
cat >"$D/suite/pair_leaky.sh" <<'EOT'
#!/bin/bash
# run.sh: beside others
. "$DIRCAT_TOP/tests/integration/lib.sh"
d=$(tmpdir)
cd "$d" || exit 1
env -i setsid sleep 304 </dev/null >/dev/null 2>&1 &
echo $! >"$RUNNER_PIDS/pair_leaky"
cd / || exit 1
mkdir "$DIRCAT_TEST_TMP/stray2"
pass "left a process and a directory beside the others"
EOT

RUNNER_PIDS=$D/pids DIRCAT_TESTDIR=$D/suite DIRCAT_TESTBIN=$D/bin \
	DIRCAT_TESTLOG=$D/logs TESTS= KEEP_TEST_DIRS= DIRCAT_TEST_JOBS=2 \
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
for t in pair_a pair_b; do
	check_match "$t: ran beside the other and passed" "$out" \
		"^$t +1 passed +0 failed +[0-9]+s  \\(beside others\\)\$"
	check_match "$t: in a directory of its own" \
		"$(cat "$D/pids/$t.dir" 2>/dev/null)" "/dircat-run\\.[A-Za-z0-9]+/[0-9]+\$"
done
check_match "pair_leaky: its process and its directory are its failures" \
	"$out" '^pair_leaky +1 passed +2 failed'
check_match "pair_leaky: its stray directory is named, in its own directory" \
	"$out" 'left in .*/dircat-run\.[A-Za-z0-9]+/[0-9]+: stray2'
pid=$(cat "$D/pids/pair_leaky" 2>/dev/null)
check "pair_leaky: its process was stopped" \
	wait_for 10 sh -c "! kill -0 ${pid:-0} 2>/dev/null"
[ -n "$pid" ] && track_pid "$pid"
check_eq "pair_a and pair_b: not the same directory" \
	"$(sort -u "$D/pids/pair_a.dir" "$D/pids/pair_b.dir" 2>/dev/null | wc -l)" 2
check "the tests run alone come first, the side-by-side ones after" \
	awk '/^skipped / { s = NR } /^pair_a / { a = NR } END { exit !(s && a > s) }' "$D/out"
check_eq "last line" "$(tail -n 1 "$D/out")" "7 passed, 6 failed"
check_eq "the run's directory is gone" \
	"$(find "$TMPDIR" -maxdepth 1 -name 'dircat-run.*' | wc -l)" 0
