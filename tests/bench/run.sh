#!/bin/bash
# run.sh - every benchmark, side by side with what administrators would use
# instead, in one run; a Markdown report and PNG plots in
# tests/bench/results/.  Run by `make bench` (BENCH_ARGS="--full ...").
#
#   tests/bench/run.sh [--full] [--sizes "N N ..."] [--runs R] [--quick]
#     default sizes 10000 100000; --full adds 1000000 (about half an hour)
#     --runs R  repetitions of each figure (default 3; the median is shown
#               with min and max)
#     --quick   sizes 10000 only, 2 runs (a smoke run of the machinery)
#
# What it runs, for each size N (a synthetic directory of N entries, the
# same seed every time; tests/bench/gendir.c says what is in it):
#   pull/build  agg_bench.sh: dircat-aggregator vs ldapsearch -E pr=1000,
#               vs ldapsearch | awk | sort -u | postmap lmdb:, and the
#               catalog write vs postmap lmdb:
#   ship        snapshot_bench: full snapshot write+sign, open+verify,
#               install; delta sizes for 0.1%, 1% and 10% churn
#   serve       serve_bench.sh: postmap -q through socketmap (catalogd)
#               vs lmdb: vs ldap: (slapd), loadgen with 1, 8, 64 clients
# once:
#   push        push_bench.sh: 1 vs 5 and 1 vs 20 sftp targets
#   freshness   live_bench.sh at the largest size: LDAP change to postmap -q
#               answering, watch mode (sftp, https) vs the triggered batch
#               cycle vs a filtered syncrepl consumer queried through ldap:
#   fleet       fleet_bench.sh: 100, 500, 1000 nodes pulling through 4
#               caches vs push to as many, with the origin's requests
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export DIRCAT_TOP=$top
export DIRCAT_BIN=${DIRCAT_BIN:-$top/bin}
export DIRCAT_BENCHBIN=${DIRCAT_BENCHBIN:-$top/build/std/bench}
export DIRCAT_TESTBIN=${DIRCAT_TESTBIN:-$top/build/std/tests}
sizes="10000 100000"
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--full) sizes="10000 100000 1000000" ;;
	--sizes) sizes=$2; shift ;;
	--runs) runs=$2; shift ;;
	--quick) sizes=10000; runs=2 ;;
	*) echo "usage: $0 [--full] [--sizes \"N ...\"] [--runs R] [--quick]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench: run as root (private Postfix, catalogd)" >&2; exit 2; }

date=$(date -u +%Y-%m-%d)
out=$here/results
mkdir -p "$out"
work=$(mktemp -d /tmp/dircat-benchrun.XXXXXX)
trap 'rm -rf "$work"' EXIT
export BENCH_CSV=$work/figures.csv
: >"$BENCH_CSV"
report=$work/report.md
t_start=$(date +%s)
say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
	echo "# dircat benchmarks, $date"
	echo
	echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB;" \
		"Debian $(cat /etc/debian_version); kernel $(uname -r);" \
		"OpenLDAP $(slapd -VV 2>&1 | grep -o 'slapd [0-9.]*' | head -n 1 | cut -d' ' -f2);" \
		"Postfix $(postconf -d -h mail_version 2>/dev/null)."
	echo "Command: \`tests/bench/run.sh ${sizes:+--sizes \"$sizes\"} --runs $runs\`;" \
		"each figure is the median of $runs runs, with min-max; ratios are to the peer" \
		"measured in the same run.  Sizes N are directory entries (about 90% persons" \
		"with 1-3 addresses, groups, mail-in entries, disabled and address-less entries," \
		"four domains, one foreign)."
	echo
} >"$report"

# snapshot_bench once: print "write verify install full_bytes delta_bytes"
snap_once() {	# N CHURN
	"$DIRCAT_BENCHBIN/snapshot_bench" -n "$1" -c "$2" 2>/dev/null | awk '
		/^full: write \+ sign/ { fb = $5; w = $6 }
		/^full: open \+ verify/ { v = $7 }
		/^full: install into an empty node/ { i = $7 }
		/^delta: write/ { db = $5 }
		END { print w, v, i, fb, db }'
}
med() { sort -n | awk '{v[NR] = $1} END { if (NR) printf "%s %s %s", v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -" }'; }

for n in $sizes; do
	say "N=$n: pull and build (agg_bench.sh)"
	echo "## N = $n" >>"$report"
	echo >>"$report"
	bash "$here/agg_bench.sh" "$n" "$runs" >>"$report" 2>"$work/agg.err" ||
		{ echo "agg_bench failed:" >>"$report"; tail -n 5 "$work/agg.err" >>"$report"; }
	echo >>"$report"

	say "N=$n: ship (snapshot_bench)"
	: >"$work/snap"
	for r in $(seq "$runs"); do
		for c in 0.1 1 10; do
			echo "$c $(snap_once "$n" "$c")" >>"$work/snap"
		done
	done
	{
		echo "### Ship: snapshots of the $n-record catalog (snapshot_bench)"
		echo
		echo "| step | median | min-max |"
		echo "| --- | ---: | ---: |"
		for f in "2 full snapshot: write + sign, s" "3 full snapshot: open + verify, s" \
			"4 full snapshot: install on an empty node, s" "5 full snapshot, bytes"; do
			col=${f%% *}; label=${f#* }
			read -r m lo hi <<<"$(awk -v c="$col" '$1 == "1" {print $c}' "$work/snap" | med)"
			echo "| $label | $m | $lo-$hi |"
			key=$(echo "$label" | tr -cs 'a-z0-9' '_' | sed 's/_$//')
			echo "ship,$n,$key,$m,$lo,$hi," >>"$BENCH_CSV"
		done
		for c in 0.1 1 10; do
			read -r m lo hi <<<"$(awk -v c="$c" '$1 == c {print $6}' "$work/snap" | med)"
			full=$(awk '$1 == "1" {print $5}' "$work/snap" | med | cut -d' ' -f1)
			pct=$(awk -v a="$m" -v b="$full" 'BEGIN { if (b > 0) printf "%.2f", 100 * a / b }')
			echo "| delta for $c% churn, bytes ($pct% of the full) | $m | $lo-$hi |"
			echo "ship,$n,delta_${c}pct_bytes,$m,$lo,$hi," >>"$BENCH_CSV"
		done
		echo
	} >>"$report"

	say "N=$n: serve (serve_bench.sh)"
	SERVE_BENCH_OUT=- bash "$here/serve_bench.sh" "$n" 3 "$runs" 50000 >"$work/serve.md" 2>"$work/serve.err" ||
		{ echo "serve_bench failed:" >>"$report"; tail -n 5 "$work/serve.err" >>"$report"; }
	# Its section headings one level down, under this size's heading.
	sed -e 's/^# .*//' -e 's/^### /#### /' "$work/serve.md" >>"$report"
	# Lookups/s through postmap -q, cross core, for the plot.
	awk -v n="$n" -F'|' '/cross core/ && /postmap|socketmap|lmdb|ldap/ {
		what = $2; gsub(/[*` ]/, "", what); v = $4; gsub(/[* ]/, "", v)
		if (what ~ /echoserv/) k = "echo"; else if (what ~ /catalogd/) k = "catalogd";
		else if (what ~ /^lmdb/) k = "lmdb"; else if (what ~ /^ldap/) k = "ldap"; else next
		if (!(k in seen)) { seen[k] = 1; print "serve," n "," k "," v ",,," } }' \
		"$work/serve.md" >>"$BENCH_CSV"
	echo >>"$report"
done

say "push (push_bench.sh, 1 vs 5 and 1 vs 20 targets)"
{
	echo "## Push to several sftp targets (100,000-record snapshot, one private sshd on loopback)"
	echo
	for t in 5 20; do
		bash "$here/push_bench.sh" 100000 "$t" "$runs" 2>>"$work/push.err" ||
			echo "push_bench $t failed: $(tail -n 3 "$work/push.err")"
		echo
	done
} >>"$report"

say "fleet (fleet_bench.sh, 100, 500 and 1000 nodes)"
{
	bash "$here/fleet_bench.sh" "100 500 1000" 4 "$runs" 30 2>>"$work/fleet.err" ||
		echo "fleet_bench failed: $(tail -n 3 "$work/fleet.err")"
	echo
} >>"$report"

live_n=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -n 1)
say "freshness (live_bench.sh, $live_n entries)"
{
	echo "## Freshness"
	echo
	bash "$here/live_bench.sh" "$live_n" 20 "$runs" 2>>"$work/fresh.err" |
		sed '1,2d' || echo "live_bench failed: $(tail -n 3 "$work/fresh.err")"
	echo
} >>"$report"

# Plots: time and throughput against N.
if command -v gnuplot >/dev/null && [ "$(echo "$sizes" | wc -w)" -gt 1 ]; then
	say "plots (gnuplot)"
	for w in ldapsearch pipeline aggregator catalog_write postmap_lmdb; do
		awk -F, -v w="$w" '$1 == "agg" && $3 == w { print $2, $4 }' "$BENCH_CSV" >"$work/t_$w.dat"
	done
	awk -F, '$1 == "ship" && $3 == "full_snapshot_write_sign_s" { print $2, $4 }' "$BENCH_CSV" >"$work/t_snapw.dat"
	awk -F, '$1 == "ship" && $3 == "full_snapshot_open_verify_s" { print $2, $4 }' "$BENCH_CSV" >"$work/t_snapv.dat"
	for k in catalogd echo lmdb ldap; do
		awk -F, -v k="$k" '$1 == "serve" && $3 == k { print $2, $4 }' "$BENCH_CSV" >"$work/s_$k.dat"
	done
	gnuplot <<GP 2>>"$work/gnuplot.err"
set terminal png size 900,600
set logscale xy
set grid
set key left top
set xlabel "directory entries (N)"
set output "$out/time-$date.png"
set ylabel "seconds (median)"
set title "dircat: time against directory size"
plot "$work/t_ldapsearch.dat" w lp t "ldapsearch -E pr=1000 > /dev/null", \
     "$work/t_pipeline.dat" w lp t "ldapsearch | awk | sort -u | postmap lmdb:", \
     "$work/t_aggregator.dat" w lp t "dircat-aggregator (whole run)", \
     "$work/t_catalog_write.dat" w lp t "catalog write", \
     "$work/t_postmap_lmdb.dat" w lp t "postmap lmdb:", \
     "$work/t_snapw.dat" w lp t "snapshot write + sign", \
     "$work/t_snapv.dat" w lp t "snapshot open + verify"
set output "$out/lookups-$date.png"
set ylabel "lookups per second (median, postmap -q, one client)"
set title "dircat: lookup throughput against catalog size"
plot "$work/s_catalogd.dat" w lp t "socketmap: catalogd", \
     "$work/s_echo.dat" w lp t "socketmap: bare echo server (round-trip limit)", \
     "$work/s_lmdb.dat" w lp t "lmdb: table (in-process)", \
     "$work/s_ldap.dat" w lp t "ldap: table against slapd"
GP
	{
		echo "## Plots"
		echo
		echo "![time against N](time-$date.png)"
		echo
		echo "![lookups per second against N](lookups-$date.png)"
		echo
	} >>"$report"
fi

echo "Whole run: $(( $(date +%s) - t_start )) s." >>"$report"
cp "$report" "$out/bench-$date.md"
cp "$BENCH_CSV" "$out/bench-$date.csv"
cat "$report"
say "report: $out/bench-$date.md"
