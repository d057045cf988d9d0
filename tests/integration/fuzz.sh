#!/bin/bash
# fuzz.sh - the long checks: run every libFuzzer target for a bounded time.
#
# Only with DIRCAT_LONG=1 (make check-long, which builds them first) and
# only for targets that exist as build/fuzz/fuzz_*; otherwise it prints
# nothing and succeeds.  Each target runs from an empty corpus (plus
# tests/fuzz/corpus/NAME/ if present) for DIRCAT_FUZZ_SECONDS (default 60,
# shortened so that all of them fit in 8 minutes); a crash, leak or
# timeout is a FAIL, its input kept in build/fuzz-artifacts/.
. "$(dirname "$0")/lib.sh"

[ "${DIRCAT_LONG:-}" = 1 ] || exit 0
targets=()
for t in "$DIRCAT_TOP"/build/fuzz/fuzz_*; do
	[ -x "$t" ] && targets+=("$t")
done
[ ${#targets[@]} -gt 0 ] || exit 0

secs=${DIRCAT_FUZZ_SECONDS:-60}
budget=$((480 / ${#targets[@]}))
[ "$secs" -le "$budget" ] || secs=$budget
[ "$secs" -ge 5 ] || secs=5
art="$DIRCAT_TOP/build/fuzz-artifacts"
mkdir -p "$art"
D=$(tmpdir)

for t in "${targets[@]}"; do
	name=$(basename "$t")
	corpus="$D/$name"
	mkdir -p "$corpus"
	seeds="$DIRCAT_TOP/tests/fuzz/corpus/$name"
	[ -d "$seeds" ] && cp -r "$seeds/." "$corpus/"
	timeout -k 10 $((secs + 60)) "$t" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/$name-" "$corpus" >"$D/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$D/$name.log")
	if [ "$rc" -eq 0 ]; then
		pass "$name: ${runs:-?} inputs in ${secs}s, no crash"
	else
		fail "$name: exit $rc after ${runs:-?} inputs (inputs kept in $art)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$D/$name.log" | head -n 20
	fi
done
