#!/bin/bash
# run.sh - run every dircat test and print "N passed, N failed".
#
# Unit tests: every program in $DIRCAT_TESTBIN named test_*.
# Integration tests: every tests/integration/*.sh, each printing its own
# "PASS: ..." / "FAIL: ..." lines.  A program that dies without saying
# FAIL counts as one failure; a test that prints only "SKIP: ..." lines
# is shown as skipped.  DIRCAT_LONG=1 makes the fuzz smoke run longer.
# TESTS="name ..." runs only those.  DIRCAT_TESTDIR runs the *.sh of
# another directory instead of tests/integration (tests/integration/
# runner.sh checks this runner that way).
#
# Side by side: a test with the line "# run.sh: beside others" in its
# opening comment says it shares nothing with another test (no fixed port,
# no file outside its directories that another test uses) and asserts no
# time or rate.  Such tests run last, DIRCAT_TEST_JOBS at a time
# (default: the number of cores, at most 2); every other test runs alone,
# before them, so that its timings are its own.  Their lines come out in
# their order, "(beside others)" after the time they took.
#
# Leftovers: every test runs with TMPDIR (and DIRCAT_TEST_TMP, where
# lib.sh makes its directories) set to a directory of this run only,
# $TMPDIR/dircat-run.XXXXXX (/tmp when TMPDIR is not set; a test run
# beside others gets a directory of its own in it, 1, 2, ...), and with DIRCAT_TEST_TAG=RUN:TEST in its environment.  After
# each test, a file left in its directory, or a process still running
# that carries the test's tag, was started with that directory on its
# command line or works inside it, is a FAIL for that test (and is then
# removed, or stopped by its pid).  Other runs, from other worktrees, have other
# directories and tags and are never looked at.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export DIRCAT_BIN=${DIRCAT_BIN:-$top/bin}
export DIRCAT_TESTBIN=${DIRCAT_TESTBIN:-$top/build/std/tests}
export DIRCAT_TOP=$top
export DIRCAT_LONG=${DIRCAT_LONG:-}
testdir=${DIRCAT_TESTDIR:-$here/integration}
logdir=${DIRCAT_TESTLOG:-$top/build/test-logs}
mkdir -p "$logdir"

passed=0 failed=0 failures=()
start=$(date +%s)

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/dircat-run.XXXXXX") || exit 1
chmod 755 "$run_dir"
run_id=${run_dir##*/}

# The pids of processes that belong to this run: with a DIRCAT_TEST_TAG
# matching tagre (an extended regular expression) in their environment,
# dir (the run's directory, or a test's own) on their command line, or
# their working directory inside it.  The directory's pattern is written so that it does not match
# the command line of the grep that searches with it.
leftover_pids() {	# tagre dir
	local dir=$2/
	local dirpat="${dir%?}[${dir: -1}]"
	{
		grep -lzE "^DIRCAT_TEST_TAG=$1" \
			/proc/[0-9]*/environ 2>/dev/null
		grep -lzE "$dirpat" /proc/[0-9]*/cmdline 2>/dev/null
		find /proc/[0-9]*/cwd -maxdepth 0 -lname "$dir*" \
			2>/dev/null
	} | sed -n 's|^/proc/\([0-9]*\)/.*|\1|p' | sort -un |
		grep -vx -e "$$" -e "$BASHPID"
}

# What a test left behind in dir, as FAIL lines into its log; then
# removed.
check_leftovers() {	# name tagre log dir
	local name=$1 tag=$2 log=$3 dir=$4 pids p i cmd left
	for i in $(seq 30); do	# a process may still be on its way out
		pids=$(leftover_pids "$tag" "$dir")
		[ -z "$pids" ] && break
		sleep 0.1
	done
	for p in $pids; do
		cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-160)
		[ -n "$cmd" ] || continue	# gone meanwhile, or a zombie
		echo "FAIL: $name: left process $p running: $cmd" >>"$log"
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${KEEP_TEST_DIRS:-}" ] && return 0
	left=$(cd "$dir" && ls -A)
	if [ -n "$left" ]; then
		echo "FAIL: $name: left in $dir:" $left >>"$log"
		rm -rf "${dir:?}"/* "${dir:?}"/.[!.]* 2>/dev/null
	fi
}

wanted() {	# name
	[ -z "${TESTS:-}" ] || grep -qw -- "$1" <<<"$TESTS"
}

# exec_one NAME DIR COMMAND...: run a test with DIR as its TMPDIR, check
# what it left there; "STATUS SECONDS" into its log's .rc file last.
exec_one() {
	local name=$1 dir=$2; shift 2
	local log="$logdir/$name.log" t0 rc
	rm -f "$log.rc"
	t0=$(date +%s)
	# Each test gets at most 10 minutes; it must stop its own servers.
	TMPDIR=$dir DIRCAT_TEST_TMP=$dir \
		DIRCAT_TEST_TAG="$run_id:$name" \
		timeout -k 10 600 "$@" >"$log" 2>&1
	rc=$?
	check_leftovers "$name" "$run_id:$name\$" "$log" "$dir"
	echo "$rc $(($(date +%s) - t0))" >"$log.rc.tmp"
	mv "$log.rc.tmp" "$log.rc"
}

# report_one NAME [NOTE]: count and print a test exec_one ran.
report_one() {
	local name=$1 note=${2:-}
	local log="$logdir/$name.log" p f rc=1 secs=0
	[ -f "$log.rc" ] && read -r rc secs <"$log.rc"
	rm -f "$log.rc"
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited with status $rc" >>"$log"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && grep -q '^SKIP: ' "$log"; then
		printf '%-28s skipped (%s)\n' "$name" \
			"$(sed -n 's/^SKIP: [^:]*: //p' "$log" | head -n 1)"
		return
	fi
	printf '%-28s %4d passed %3d failed  %3ds%s\n' "$name" "$p" "$f" \
		"$secs" "$note"
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep '^FAIL: ' "$log" | head -n 20 | sed 's/^/    /'
	fi
}

run_one() {	# name command...: alone
	local name=$1; shift
	wanted "$name" || return
	exec_one "$name" "$run_dir" "$@"
	report_one "$name"
}

for t in "$DIRCAT_TESTBIN"/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
beside=()
for t in "$testdir"/*.sh; do
	[ -f "$t" ] || continue
	case $t in *lib.sh) continue ;; esac	# helpers, sourced by tests
	name=$(basename "$t" .sh)
	if sed -n '1,/^[^#]/p' "$t" | grep -qx '# run.sh: beside others'; then
		wanted "$name" && beside+=("$name")
		continue
	fi
	run_one "$name" bash "$t"
done

# The tests that may run side by side, jobs at a time, each in a
# directory of its own; reported in their order as they finish.
jobs=${DIRCAT_TEST_JOBS:-$(nproc)}
[ -n "${DIRCAT_TEST_JOBS:-}" ] || [ "$jobs" -le 2 ] || jobs=2
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
running=0 next=0 n=0
for name in "${beside[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	# A short name: socket paths inside it must stay under 108 bytes.
	n=$((n + 1))
	mkdir -m 755 "$run_dir/$n"
	(exec_one "$name" "$run_dir/$n" bash "$testdir/$name.sh"
	 rmdir "$run_dir/$n") &
	running=$((running + 1))
	while [ "$next" -lt ${#beside[@]} ] &&
	      [ -f "$logdir/${beside[$next]}.log.rc" ]; do
		report_one "${beside[$next]}" "  (beside others)"
		next=$((next + 1))
	done
done
wait
while [ "$next" -lt ${#beside[@]} ]; do
	report_one "${beside[$next]}" "  (beside others)"
	next=$((next + 1))
done

# The whole run: nothing of it may be left, whatever test it came from.
cleanup_log="$logdir/cleanup.log"
: >"$cleanup_log"
check_leftovers cleanup "$run_id:" "$cleanup_log" "$run_dir"
if ! grep -q '^FAIL: ' "$cleanup_log"; then
	echo "PASS: cleanup: no process of this run left running" >>"$cleanup_log"
	if [ -z "${KEEP_TEST_DIRS:-}" ] && rmdir "$run_dir"; then
		echo "PASS: cleanup: $run_dir empty and removed" >>"$cleanup_log"
	elif [ -n "${KEEP_TEST_DIRS:-}" ]; then
		echo "PASS: cleanup: kept $run_dir (KEEP_TEST_DIRS)" >>"$cleanup_log"
	else
		echo "FAIL: cleanup: cannot remove $run_dir" >>"$cleanup_log"
	fi
fi
p=$(grep -c '^PASS: ' "$cleanup_log")
f=$(grep -c '^FAIL: ' "$cleanup_log")
passed=$((passed + p))
failed=$((failed + f))
printf '%-28s %4d passed %3d failed\n' cleanup "$p" "$f"
if [ "$f" -gt 0 ]; then
	failures+=(cleanup)
	grep '^FAIL: ' "$cleanup_log" | head -n 20 | sed 's/^/    /'
fi

end=$(date +%s)
echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (logs in $logdir)"
fi
echo "time: $((end - start))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
