#!/bin/bash
# fuzz.sh - every libFuzzer target, run on its committed seed corpus.
#
# make check builds the targets into build/fuzz/ when clang can link a
# libFuzzer program (make fuzz-probe); when it cannot, it leaves the
# reason in build/fuzz/unavailable and this test says "skipped".  Each
# target tests/fuzz/fuzz_NAME.c must have been built and must have a seed
# corpus tests/fuzz/corpus/fuzz_NAME/ (a copy is fuzzed, so the committed
# one never changes).  Each runs DIRCAT_FUZZ_SECONDS (default 3; 60 under
# DIRCAT_LONG=1, make check-long), after replaying every seed; a crash,
# leak, sanitizer report or timeout is a FAIL, its input kept in
# build/fuzz-artifacts/.  Targets run DIRCAT_FUZZ_JOBS at a time (default
# the number of cores: each libFuzzer run is one process on one core), and
# their lines are printed in the targets' order.  The long campaign is
# make fuzz (tests/fuzz/campaign.sh).
. "$(dirname "$0")/lib.sh"

fd=$DIRCAT_TOP/build/fuzz
if [ -f "$fd/unavailable" ]; then
	echo "SKIP: $_test_name: $(cat "$fd/unavailable")"
	exit 0
fi
srcs=("$DIRCAT_TOP"/tests/fuzz/fuzz_*.c)
if [ ! -d "$fd" ]; then
	echo "SKIP: $_test_name: targets not built (make check or make fuzz-build builds them)"
	exit 0
fi

secs=${DIRCAT_FUZZ_SECONDS:-3}
[ "${DIRCAT_LONG:-}" = 1 ] && secs=${DIRCAT_FUZZ_SECONDS:-60}
art="$DIRCAT_TOP/build/fuzz-artifacts"
mkdir -p "$art"
D=$(tmpdir)

# fuzz_one SRC: one target; its PASS/FAIL lines on stdout.
fuzz_one() {
	local src=$1 name t seeds nseeds corpus dict flags rc runs cov
	name=$(basename "$src" .c)
	t=$fd/$name
	seeds=$DIRCAT_TOP/tests/fuzz/corpus/$name
	if [ ! -x "$t" ]; then
		fail "$name: not built ($t missing)"
		return
	fi
	nseeds=$(find "$seeds" -type f 2>/dev/null | wc -l)
	if [ "$nseeds" -eq 0 ]; then
		fail "$name: no seed corpus in tests/fuzz/corpus/$name/"
		return
	fi
	corpus=$D/$name
	mkdir -p "$corpus"
	cp -r "$seeds/." "$corpus/"
	dict=()
	[ -f "$DIRCAT_TOP/tests/fuzz/$name.dict" ] &&
		dict=(-dict="$DIRCAT_TOP/tests/fuzz/$name.dict")
	flags=()	# the target's own libFuzzer flags
	[ -f "$DIRCAT_TOP/tests/fuzz/$name.flags" ] &&
		read -r -a flags <"$DIRCAT_TOP/tests/fuzz/$name.flags"
	timeout -k 10 $((secs + 120)) "$t" "${dict[@]}" "${flags[@]}" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/$name-" \
		"$corpus" >"$D/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$D/$name.log")
	cov=$(sed -n 's/.*\(INITED\|DONE\) *cov: \([0-9]*\) ft: \([0-9]*\).*/cov \2, ft \3/p' \
		"$D/$name.log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		pass "$name: $nseeds seeds, ${runs} inputs in ${secs}s (${cov:-cov ?}), no crash"
	else
		fail "$name: exit $rc after ${runs:-?} inputs (inputs kept in $art)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ *in ' "$D/$name.log" |
			head -n 20
	fi
}

jobs=${DIRCAT_FUZZ_JOBS:-$(nproc)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
running=0
for src in "${srcs[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$src" >"$D/$(basename "$src" .c).result" 2>&1 &
	running=$((running + 1))
done
wait
for src in "${srcs[@]}"; do
	name=$(basename "$src" .c)
	cat "$D/$name.result"
	grep -Eq "^(PASS|FAIL): $_test_name: $name: " "$D/$name.result" ||
		fail "$name: said nothing (its run was cut short)"
done
