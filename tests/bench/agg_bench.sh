#!/bin/bash
# agg_bench.sh - the aggregator side by side with what administrators use
# instead, in one run, against the same private slapd:
#   pull:  ldapsearch -E pr=1000/noprompt of the same attributes > /dev/null
#   pipe:  ldapsearch | awk | sort -u | postmap lmdb:   (the usual cron job)
#   agg:   dircat-aggregator, whole run into a new catalog
#   agg2:  dircat-aggregator again, nothing changed (pull + diff)
#   build: catalog write (mkcatalog) vs postmap lmdb: on the same addresses
# Each figure: median of RUNS runs (min-max), peak RSS from /usr/bin/time.
#
#   tests/bench/agg_bench.sh [N] [RUNS]     (defaults 100000 3)
# Output: a Markdown table on stdout; with BENCH_CSV set, also lines
# "agg,N,what,median_s,min_s,max_s,rss_mb" appended to that file.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/slapd-lib.sh"
N=${1:-100000}
RUNS=${2:-3}
BENCHBIN=${DIRCAT_BENCHBIN:-$DIRCAT_TOP/build/std/bench}
TOOLS=${DIRCAT_TOOLS:-$DIRCAT_TOP/build/std/tests/tools}
d=$(mktemp -d /tmp/dircat-bench.XXXXXX)
_test_dirs+=("$d")

say() { [ -t 2 ] && printf '%s\n' "$*" >&2; printf '%s\n' "$*" >>"$d/progress.log"; }

say "agg_bench: generating $N entries"
"$BENCHBIN/gendir" "$N" 42 >"$d/dir.ldif"
say "agg_bench: loading slapd (slapadd)"
t0=$(date +%s.%N)
slapd_start "$d/slapd" unlimited "$d/dir.ldif" || { echo "slapd failed" >&2; exit 1; }
load=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
say "agg_bench: loaded in ${load}s"

FILTER='(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))'
ATTRS="mail mailLocalAddress objectClass employeeType uid owner"
cat >"$d/agg.conf" <<CONF
catalog = $d/catalog.mdb
catalog_id = bench
local_domains = example.com, example.org, example.net
min_records = 1
max_shrink = 100%
[source bench]
uri = $SLAPD_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = $SLAPD_BASE
filter = $FILTER
page_size = 1000
address_attributes = mail, mailLocalAddress
login_attribute = uid
owner_attribute = owner
select = SELECT @IsAvailable(mail) & employeeType != "disabled"
person = SELECT @IsMember("inetOrgPerson"; objectClass) & !@IsMember("dircatMailIn"; objectClass)
group = SELECT @IsMember("groupOfNames"; objectClass)
mailin = SELECT @IsMember("dircatMailIn"; objectClass)
CONF

# timeit NAME CMD... : run CMD, append "NAME seconds maxrss_kb" to results.
timeit() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$d/time.out" "$@" >/dev/null 2>"$d/cmd.err" ||
		{ echo "$name failed:" >&2; cat "$d/cmd.err" >&2; }
	echo "$name $(cat "$d/time.out")" >>"$d/results"
}
pipeline() {
	ldapsearch -LLL -x -H "$SLAPD_URI" -D "$SLAPD_BINDDN" -y "$SLAPD_BINDPW" \
		-b "$SLAPD_BASE" -E pr=1000/noprompt "$FILTER" mail mailLocalAddress |
		awk '/^(mail|mailLocalAddress): /{print tolower($2) " OK"}' |
		sort -u >"$d/pipe.txt" && postmap lmdb:"$d/pipe.txt"
}
# postmap wants a Postfix configuration directory; a private empty one.
mkdir -p "$d/postfix"
echo "compatibility_level = 3.6" >"$d/postfix/main.cf"
export MAIL_CONFIG=$d/postfix
export -f pipeline
export SLAPD_URI SLAPD_BINDDN SLAPD_BINDPW SLAPD_BASE FILTER d

# Warm the server's caches once, untimed.
ldapsearch -x -H "$SLAPD_URI" -D "$SLAPD_BINDDN" -y "$SLAPD_BINDPW" \
	-b "$SLAPD_BASE" -E pr=1000/noprompt "$FILTER" $ATTRS >/dev/null
: >"$d/results"
for r in $(seq "$RUNS"); do
	say "agg_bench: round $r of $RUNS"
	timeit ldapsearch ldapsearch -x -H "$SLAPD_URI" -D "$SLAPD_BINDDN" \
		-y "$SLAPD_BINDPW" -b "$SLAPD_BASE" -E pr=1000/noprompt "$FILTER" $ATTRS
	timeit pipeline bash -c pipeline
	rm -f "$d/catalog.mdb" "$d/catalog.mdb-lock"
	timeit aggregator "$DIRCAT_BIN/dircat-aggregator" -c "$d/agg.conf"
	timeit aggregator_nochange "$DIRCAT_BIN/dircat-aggregator" -c "$d/agg.conf"
done
# The catalog write alone against postmap, on the same address list.
"$DIRCAT_BIN/dircat" dump "$d/catalog.mdb" | awk '$2 != "domain"' >"$d/records.txt"
awk '{print $1 " OK"}' "$d/records.txt" >"$d/postmap.txt"
naddr=$(wc -l <"$d/records.txt")
for r in $(seq "$RUNS"); do
	rm -f "$d/w.mdb" "$d/w.mdb-lock" "$d/postmap.txt.lmdb"
	timeit catalog_write bash -c "'$TOOLS/mkcatalog' -i bench '$d/w.mdb' <'$d/records.txt'"
	timeit postmap_lmdb postmap lmdb:"$d/postmap.txt"
done
catsize=$(stat -c %s "$d/w.mdb")
pmsize=$(stat -c %s "$d/postmap.txt.lmdb")
txtsize=$(stat -c %s "$d/postmap.txt")

# stats NAME -> "median min max rss_median_mb"
stats() {
	local t m
	t=$(awk -v n="$1" '$1 == n {print $2}' "$d/results" | sort -n)
	m=$(awk -v n="$1" '$1 == n {print $3}' "$d/results" | sort -n)
	[ -n "$t" ] || { echo "- - - -"; return; }
	awk 'NR == FNR { t[NR] = $1; nt = NR; next } { m[FNR] = $1; nm = FNR }
	     END { printf "%.2f %.2f %.2f %d\n", t[int((nt+1)/2)], t[1], t[nt], m[int((nm+1)/2)] / 1024 }' \
		<(echo "$t") <(echo "$m")
}
read -r ls_med ls_min ls_max ls_rss <<<"$(stats ldapsearch)"
read -r pp_med pp_min pp_max pp_rss <<<"$(stats pipeline)"
read -r ag_med ag_min ag_max ag_rss <<<"$(stats aggregator)"
read -r a2_med a2_min a2_max a2_rss <<<"$(stats aggregator_nochange)"
read -r cw_med cw_min cw_max cw_rss <<<"$(stats catalog_write)"
read -r pm_med pm_min pm_max pm_rss <<<"$(stats postmap_lmdb)"
if [ -n "${BENCH_CSV:-}" ]; then
	for w in ldapsearch pipeline aggregator aggregator_nochange catalog_write postmap_lmdb; do
		echo "agg,$N,$w,$(stats "$w" | tr ' ' ',')" >>"$BENCH_CSV"
	done
	echo "agg,$N,addresses,$naddr,,," >>"$BENCH_CSV"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

cat <<MD
### Pull and build: $N directory entries, $naddr addresses (median of $RUNS, min-max)

| what | seconds | min-max | peak RSS MB | ratio |
| --- | ---: | ---: | ---: | --- |
| ldapsearch -E pr=1000/noprompt > /dev/null | $ls_med | $ls_min-$ls_max | $ls_rss | 1.00 (reference) |
| ldapsearch \| awk \| sort -u \| postmap lmdb: | $pp_med | $pp_min-$pp_max | $pp_rss | $(ratio "$pp_med" "$ls_med") × ldapsearch |
| dircat-aggregator, new catalog | $ag_med | $ag_min-$ag_max | $ag_rss | $(ratio "$ag_med" "$ls_med") × ldapsearch, $(ratio "$ag_med" "$pp_med") × pipeline |
| dircat-aggregator, nothing changed | $a2_med | $a2_min-$a2_max | $a2_rss | $(ratio "$a2_med" "$ls_med") × ldapsearch |
| catalog write (mkcatalog, $naddr records) | $cw_med | $cw_min-$cw_max | $cw_rss | $(ratio "$cw_med" "$pm_med") × postmap |
| postmap lmdb: (same addresses) | $pm_med | $pm_min-$pm_max | $pm_rss | 1.00 |

Files: catalog $((catsize / 1024)) KiB, postmap lmdb $((pmsize / 1024)) KiB, text list $((txtsize / 1024)) KiB.
slapadd of the directory: ${load}s (not part of any figure).
MD
slapd_stop
