#!/bin/bash
# assist_bench.sh - what serving several catalogs costs a lookup: the same
# addresses served by one catalog, and split between two catalogs, side
# by side in one run.  A benchmark, not a test: it prints figures and
# says whether the goal (two catalogs within 10% of one) was met.
#
#   tests/bench/assist_bench.sh [N] [SECONDS] [RUNS]
#       N        addresses (default 200000), over three domains
#       SECONDS  each loadgen run (default 5, after 1 s of warm-up)
#       RUNS     repetitions; medians with min-max (default 5)
#
# Three catalogd processes run at once, each serving the same addresses:
#   one       one catalog (a file without [catalog] sections)
#   two       two catalogs, unitA (example.com, example.org) and unitB
#             (example.net), top-level order unitA, unitB and no [domain]
#             sections: every key of example.net asks unitA first, every
#             key found in unitA asks unitB too (the conflict check)
#   two+dom   the same two, with a [domain] order naming one catalog for
#             each domain: one catalog asked per key
# loadgen asks each in turn (one, two, two+dom, then again), RUNS times,
# with 1 and with 8 synchronous clients (smtpd processes keep one
# connection each and wait for each answer), half the keys present, half
# absent; catalogds pinned to CPU 0, clients to CPU 1.  Throughput and
# latency depend on how busy the machine is; so each run also counts the
# CPU time catalogd spends (/proc/PID/schedstat) on a fixed number of
# requests: the cost of a lookup, which other work barely moves.
# Output: Markdown on stdout and in tests/bench/results/assist-DATE.md
# (ASSIST_BENCH_OUT overrides the file; "-" for none).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
source "$DIRCAT_TOP/tests/integration/lib.sh"
N=${1:-200000}
SECS=${2:-5}
RUNS=${3:-5}
TOOLS=${DIRCAT_TOOLS:-$DIRCAT_TOP/build/std/tests/tools}
OUT=${ASSIST_BENCH_OUT:-$DIRCAT_TOP/tests/bench/results/assist-$(date +%F).md}
for t in mkcatalog mksnap loadgen; do
	[ -x "$TOOLS/$t" ] || { echo "missing $TOOLS/$t: make tests" >&2; exit 1; }
done
for p in catalogd dircat; do
	[ -x "$DIRCAT_BIN/$p" ] || { echo "missing $DIRCAT_BIN/$p: make" >&2; exit 1; }
done

d=$(mktemp -d /tmp/dircat-bench.XXXXXX)
chmod 755 "$d"
_test_dirs+=("$d")
cd "$d" || exit 1
say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi; else print "-" }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.0f", v }'; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- data ---------------------------------------------------------------------
say "assist_bench: $N addresses"
addr_awk='BEGIN { split("anna ben carla dan eva finn gina hugo ines jan kim lea max nina otto paul rosa sam tina ugo vera will yara", f, " ");
	split("adler bauer conti dorn eck fink graf hahn iske jung kranz lang moser noll ortiz pohl quast roth stein thiel uhl vogt wolf", l, " ");
	split("example.com example.org example.net", dm, " ") }
function addr(i) { return f[i % 23 + 1] "." l[int(i / 23) % 23 + 1] i "@" dm[i % 3 + 1] }'
awk -v n="$N" "$addr_awk"' BEGIN { for (i = 1; i <= n; i++) print addr(i) }' >addrs
awk -v n="$N" "$addr_awk"' BEGIN { srand(42); k = 100000; h = int(k / 2)
	for (j = 0; j < h; j++) print addr(1 + int(rand() * n)) " OK"
	for (j = 0; j < k - h; j++) print addr(n + 1 + j) " NOTFOUND" }' |
	shuf --random-source=<(yes) >keys.exp
rec() { awk '{ split($1, a, "@"); print $1, "person", a[1] }'; }
{ printf 'example.com domain\nexample.org domain\nexample.net domain\n'; rec <addrs; } >all.rec
{ printf 'example.com domain\nexample.org domain\n'; grep -v '@example.net$' addrs | rec; } >a.rec
{ printf 'example.net domain\n'; grep '@example.net$' addrs | rec; } >b.rec
"$DIRCAT_BIN/dircat" keygen signer >/dev/null || exit 1
for c in all:one a:unitA b:unitB; do
	"$TOOLS/mkcatalog" -N -i "${c#*:}" -s 1 "src-${c%%:*}.mdb" <"${c%%:*}.rec" >/dev/null &&
	"$TOOLS/mksnap" "src-${c%%:*}.mdb" signer.key "${c#*:}.1.full.snap" >/dev/null || exit 1
done

# --- three catalogds ------------------------------------------------------------
# node NAME BODY: a node directory NAME with its inboxes filled and the
# configuration BODY (its sockets appended).
node() {
	mkdir -p "$1/run" "$1/var" "$1/in-one" "$1/in-unitA" "$1/in-unitB"
	cp one.1.full.snap "$1/in-one/"
	cp unitA.1.full.snap "$1/in-unitA/"
	cp unitB.1.full.snap "$1/in-unitB/"
	{ printf '%s\n' "$2"; printf '[socket map]\npath = %s/run/map.sock\nprotocol = socketmap\nmode = 0666\n' "$d/$1"; } >"$1/catalogd.conf"
	"$DIRCAT_BIN/catalogd" -c "$1/catalogd.conf" -f -R >"$1/log" 2>&1 &
	eval "PID_${1//[^a-z]/}=$!"
	track_pid "$!"
}
two_conf() {	# extra
	cat <<EOF
order = unitA, unitB
[catalog unitA]
catalog = $d/$1/var/unitA.mdb
catalog_id = unitA
inbox = $d/$1/in-unitA
trusted_key = $d/signer.pub
[catalog unitB]
catalog = $d/$1/var/unitB.mdb
catalog_id = unitB
inbox = $d/$1/in-unitB
trusted_key = $d/signer.pub
EOF
}
node one "catalog = $d/one/var/one.mdb
catalog_id = one
inbox = $d/one/in-one
trusted_key = $d/signer.pub"
node two "$(two_conf two)"
node twodom "$(two_conf twodom)
[domain example.com]
order = unitA
[domain example.org]
order = unitA
[domain example.net]
order = unitB"
installed() { grep -qx serial=1 "$1" 2>/dev/null; }
for f in one/in-one two/in-unitA two/in-unitB twodom/in-unitA twodom/in-unitB; do
	wait_for 120 installed "$f/status" || { echo "$f: not installed" >&2; cat "${f%%/*}/log" >&2; exit 1; }
done
ncpu=$(nproc)
CLIENT_CPU=$((ncpu > 1 ? 1 : 0))
for p in "$PID_one" "$PID_two" "$PID_twodom"; do
	taskset -a -p -c 0 "$p" >/dev/null 2>&1
done

# --- runs -----------------------------------------------------------------------
CPUN=40000	# requests of a CPU-time pass
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# cpu NAME: CPUN requests from 8 clients; "NAME RUN ns-per-request" to cpu.results
cpu() {
	local pid t0 t1
	pid=$(eval echo "\$PID_$1")
	t0=$(cpu_ns "$pid")
	taskset -c "$CLIENT_CPU" "$TOOLS/loadgen" -q -s "$1/run/map.sock" \
		-k keys.exp -c 8 -p 1 -n "$CPUN" >/dev/null
	t1=$(cpu_ns "$pid")
	echo "$1 $r $(( (t1 - t0) / CPUN ))" >>cpu.results
}
: >cpu.results
# lg NAME CLIENTS: one run -> "NAME CLIENTS RUN rate p50 p99 errors wrong"
lg() {
	local res
	res=$(taskset -c "$CLIENT_CPU" "$TOOLS/loadgen" -q -s "$1/run/map.sock" \
		-k keys.exp -c "$2" -p 1 -w 1 -d "$SECS" | grep '^RESULT ')
	echo "$1 $2 $r $(for f in rate p50_us p99_us errors wrong; do sed -n "s/.* $f=\([^ ]*\).*/\1/p" <<<"$res"; done | paste -sd' ')" >>lg.results
}
: >lg.results
for r in $(seq "$RUNS"); do
	for n in one two twodom; do
		cpu "$n"
	done
	for c in 1 8; do
		for n in one two twodom; do
			say "assist_bench: $n, $c client(s), run $r of $RUNS"
			lg "$n" "$c"
		done
	done
done
for n in one two twodom; do
	kill -0 "$(eval echo "\$PID_$n")" 2>/dev/null ||
		{ echo "catalogd $n exited during the runs" >&2; tail "$n/log" >&2; exit 1; }
done
f() { awk -v n="$1" -v c="$2" -v k="$3" '$1 == n && $2 == c { print $k }' lg.results; }
# ratio N C: the median over runs of N's rate / one's rate in the same run
ratio() {
	awk -v n="$1" -v c="$2" '$1 == n && $2 == c { x[$3] = $4 } $1 == "one" && $2 == c { y[$3] = $4 }
		END { for (r in x) if (r in y && y[r] > 0) printf "%.4f\n", x[r] / y[r] }' lg.results |
		median | awk '{ if ($1 == "-") print "-"; else printf "%.3f", $1 }'
}

# cpuratio N: the median over runs of N's CPU per lookup / one's
cpuratio() {
	awk -v n="$1" '$1 == n { x[$2] = $3 } $1 == "one" { y[$2] = $3 }
		END { for (r in x) if (r in y && y[r] > 0) printf "%.4f\n", x[r] / y[r] }' cpu.results |
		median | awk '{ if ($1 == "-") print "-"; else printf "%.3f", $1 }'
}
cpuf() { awk -v n="$1" '$1 == n { print $3 }' cpu.results; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
report() {
	local n c worst=1
	cat <<MD
# Several catalogs: lookup cost, $(date +%F)

Machine: $cpu, $ncpu cores; kernel $(uname -r).
Command: \`tests/bench/assist_bench.sh $N $SECS $RUNS\`; $RUNS runs, the three setups asked in turn within each run; figures are medians with min-max; "× one" is the median over runs of the setup's rate divided by one catalog's rate in the same run.
Load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here).
Addresses: $N over example.com, .org, .net; keys: 100000, half present, half absent, shuffled; map recipients; catalogds on CPU 0, loadgen on CPU $CLIENT_CPU, synchronous clients (one request in flight each, as smtpd).
Setups: **one** catalog; **two** catalogs (unitA: .com and .org, unitB: .net), top-level order only (every .net key and every key found in unitA asks both); **two+dom**, the same with a [domain] order of one catalog per domain.

| setup | clients | req/s | min-max | × one | p50 µs | p99 µs (min-max) | errors / wrong |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
MD
	for c in 1 8; do
		for n in one two twodom; do
			echo "| $n | $c | $(fmt "$(f "$n" "$c" 4 | median)") | $(f "$n" "$c" 4 | minmax) | $([ "$n" = one ] && echo 1.000 || ratio "$n" "$c") | $(f "$n" "$c" 5 | median) | $(f "$n" "$c" 6 | median) ($(f "$n" "$c" 6 | minmax)) | $(f "$n" "$c" 7 | awk '{ s += $1 } END { print s + 0 }') / $(f "$n" "$c" 8 | awk '{ s += $1 } END { print s + 0 }') |"
		done
	done
	cat <<MD

catalogd's CPU time per lookup ($CPUN requests from 8 synchronous clients, each run; /proc/PID/schedstat), the figure other work on the machine barely moves:

| setup | CPU µs per lookup | min-max | × one |
| --- | ---: | ---: | ---: |
MD
	for n in one two twodom; do
		echo "| $n | $(cpuf "$n" | median | awk '{ printf "%.2f", $1 / 1000 }') | $(cpuf "$n" | minmax | awk -F- '{ printf "%.2f-%.2f", $1 / 1000, $2 / 1000 }') | $([ "$n" = one ] && echo 1.000 || cpuratio "$n") |"
	done
	echo
	for c in 1 8; do
		for n in two twodom; do
			x=$(ratio "$n" "$c")
			awk -v x="$x" 'BEGIN { exit !(x != "-" && x >= 0.9) }' || worst=0
		done
	done
	cw=1
	for n in two twodom; do
		x=$(cpuratio "$n")
		awk -v x="$x" 'BEGIN { exit !(x != "-" && x <= 1.1) }' || cw=0
	done
	echo "Goal (two catalogs within 10% of one): by throughput **$([ "$worst" = 1 ] && echo met || echo not met)** in every row; by catalogd's CPU per lookup **$([ "$cw" = 1 ] && echo met || echo not met)**."
}
report | tee /dev/stderr >"$d/report.md"
[ "$OUT" = - ] || cp "$d/report.md" "$OUT"
