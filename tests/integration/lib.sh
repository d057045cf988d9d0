# lib.sh - shared helpers for the integration tests (sourced, not run).
#
#   pass NAME / fail NAME / check NAME CMD... / check_eq NAME GOT WANT
#   tmpdir            a fresh directory, removed at exit (works inside
#                     $(...): every one lives under this test's own
#                     directory, made and registered when lib.sh is
#                     sourced; TMPDIR points there too)
#   free_port         a TCP port nobody listens on, 20000-32767 (below
#                     the kernel's ephemeral range, so no outgoing
#                     connection can be holding it)
#   track_pid PID     stop this process (by pid) at exit
#   wait_for N CMD... retry CMD for at most N seconds
#   need PROG...      skip (one PASS-less note) when a program is missing
set -u
: "${DIRCAT_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${DIRCAT_BIN:=$DIRCAT_TOP/bin}"
: "${DIRCAT_TESTBIN:=$DIRCAT_TOP/build/std/tests}"
export PATH="$DIRCAT_BIN:$PATH:/usr/sbin:/sbin"
# Sanitizer builds: keep going after leaks in forked children of tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

_test_pids=()
_test_dirs=()
_test_name=$(basename "$0" .sh)

# This test's directory: under the runner's directory for this run
# (DIRCAT_TEST_TMP, which tests/run.sh checks is empty once the test has
# ended), or /tmp when a test is run by hand.  Made here, in the test's own
# shell, so that it is registered for removal even though tmpdir is called
# inside $(...), a subshell whose variables are lost.
_test_root=$(mktemp -d "${DIRCAT_TEST_TMP:-/tmp}/dircat-test.$_test_name.XXXXXX") || {
	echo "FAIL: $_test_name: cannot make a temporary directory"
	exit 1
}
chmod 755 "$_test_root"
_test_dirs+=("$_test_root")
export TMPDIR=$_test_root

pass() { echo "PASS: $_test_name: $*"; }
fail() { echo "FAIL: $_test_name: $*"; }

# check NAME CMD...: pass when CMD succeeds.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1"
		echo "    got:  $(printf '%q' "$2" | head -c 2000)"
		echo "    want: $(printf '%q' "$3" | head -c 2000)"
	fi
}

# check_match NAME TEXT REGEX
check_match() {
	if grep -Eq -- "$3" <<<"$2"; then
		pass "$1"
	else
		fail "$1"
		echo "    text: $(head -c 2000 <<<"$2")"
		echo "    want match: $3"
	fi
}

tmpdir() {
	local d
	d=$(mktemp -d "$_test_root/d.XXXXXX") || return 1
	chmod 755 "$d"
	echo "$d"
}

track_pid() { _test_pids+=("$1"); }

# Stop one process by pid: TERM, wait up to 5 s, then KILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# At exit: every tracked process is sent TERM at once; those still there
# after 5 s get KILL (as stop_pid does, but the waits overlap: a test
# with twenty servers waits for the slowest, not for the sum).
_test_cleanup() {
	local p d i left=
	for p in "${_test_pids[@]}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	for i in $(seq 50); do
		left=
		for p in "${_test_pids[@]}"; do
			[ -n "$p" ] && kill -0 "$p" 2>/dev/null && { left=$p; break; }
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -n "$left" ] && for p in "${_test_pids[@]}"; do
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	for d in "${_test_dirs[@]}"; do
		[ -n "${KEEP_TEST_DIRS:-}" ] || rm -rf "$d"
	done
}
trap _test_cleanup EXIT
# A signal (the runner's timeout, ^C) ends the test through the EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

free_port() {
	local p i
	for i in $(seq 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_for SECONDS CMD...: 0 as soon as CMD succeeds.
wait_for() {
	local secs=$1 i; shift
	for i in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

need() {
	local p
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			fail "required program $p is missing (run scripts/deps.sh)"
			exit 1
		fi
	done
}
