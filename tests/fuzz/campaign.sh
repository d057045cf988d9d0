#!/bin/bash
# campaign.sh - the fuzzing campaign behind make fuzz.
#
# Runs every built target (or those named in FUZZ_TARGETS) one after the
# other for FUZZ_RUNS executions (default 10,000,000), or for at most
# FUZZ_MAX_TIME seconds each when that is set (a slow target on a busy
# machine: its line then says how many it did), starting from the
# committed seeds (tests/fuzz/corpus/NAME/, read only) and from what
# earlier campaigns found (build/fuzz/corpus/NAME/, where new inputs go).
# Crashing inputs are kept in build/fuzz-artifacts/.  Prints one line per
# target: executions, time, coverage (cov: edges, ft: features, from
# libFuzzer's final line), corpus size and crashes; each target's latest
# line is kept in build/fuzz/results/NAME, and tests/fuzz/campaign.txt
# (FUZZ_REPORT) gathers them all, with the machine's load when each
# started, to be committed (a later run of some targets replaces only
# theirs).  tests/fuzz/NAME.flags holds a target's own libFuzzer flags.
# Exit status 1 when any target crashed.
# make fuzz runs it under nice -n 19; so should anyone running it by hand.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fd=$top/build/fuzz
runs=${FUZZ_RUNS:-10000000}
maxtime=${FUZZ_MAX_TIME:-0}
art=$top/build/fuzz-artifacts
out=${FUZZ_REPORT:-$top/tests/fuzz/campaign.txt}
res=$fd/results
mkdir -p "$art" "$fd/logs" "$res"

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
	for n in $FUZZ_TARGETS; do targets+=("$fd/$n"); done
else
	for t in "$fd"/fuzz_*; do [ -x "$t" ] && targets+=("$t"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "campaign: no targets built in $fd" >&2; exit 1; }

bad=0
head='%-16s %12s %8s %8s %7s %7s %8s %7s  %s\n'
printf "$head" target executions seconds exec/s cov ft corpus crashes finished
for t in "${targets[@]}"; do
	name=$(basename "$t")
	seeds=$top/tests/fuzz/corpus/$name
	corpus=$fd/corpus/$name
	log=$fd/logs/$name.log
	mkdir -p "$corpus"
	dict=()
	[ -f "$top/tests/fuzz/$name.dict" ] &&
		dict=(-dict="$top/tests/fuzz/$name.dict")
	flags=()
	[ -f "$top/tests/fuzz/$name.flags" ] &&
		read -r -a flags <"$top/tests/fuzz/$name.flags"
	[ "$maxtime" -gt 0 ] && flags+=(-max_total_time="$maxtime")
	before=$(find "$art" -name "$name-*" -type f | wc -l)
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s)
	# A target that needs a scratch directory gets one of its own.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dircat-fuzz.XXXXXX")
	TMPDIR=$tmp "$t" "${dict[@]}" "${flags[@]}" -runs="$runs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/$name-" "$corpus" "$seeds" \
		>"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	t1=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	crashes=$(( $(find "$art" -name "$name-*" -type f | wc -l) - before ))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="exit$rc"
	[ "$rc" -ne 0 ] && bad=1
	# Stopped by FUZZ_MAX_TIME before FUZZ_RUNS: said on its line.
	note=
	[ -n "$execs" ] && [ "$execs" -lt "$runs" ] && note=", time cap ${maxtime}s"
	printf "$head" "$name" "${execs:-?}" $((t1 - t0)) "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "$(find "$corpus" -type f | wc -l)" \
		"$crashes" "$(date -u +%H:%M:%SZ) (load $load at start$note)" |
		tee "$res/$name"
done
{
	echo "# dircat fuzz campaign (make fuzz, tests/fuzz/campaign.sh): each"
	echo "# target's latest run, for $runs executions unless its line says"
	echo "# a time cap stopped it; load: the 1-minute load average when the"
	echo "# target started (the machine is shared; the campaign runs niced)."
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, nice $(nice)"
	printf "$head" target executions seconds exec/s cov ft corpus crashes finished
	cat "$res"/*
} >"$out"
echo "campaign: $out; logs in $fd/logs/, crashes in $art/"
exit $bad
