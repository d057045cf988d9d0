#!/bin/bash
# serve_bench.sh - how fast catalogd answers, next to what else could
# answer Postfix, and next to the round-trip limit of this machine, in one
# run.  A benchmark, not a test: it prints figures and says which targets
# were met.
#
#   tests/bench/serve_bench.sh [N] [SECONDS] [RUNS] [KEYS]
#       N        catalog entries (default 1000000)
#       SECONDS  each load-generator run (default 5, after 1 s of warm-up)
#       RUNS     repetitions of each figure; the median is shown (default 3)
#       KEYS     keys per postmap run, half present, half absent
#                (default 100000)
#
# 1. Through Postfix's own client, the same KEYS keys each time:
#    postmap -q - socketmap:unix:SOCK:recipients   against catalogd
#    postmap -q - socketmap:...                    against echoserv (the
#                                                  round-trip limit)
#    postmap -q - lmdb:FILE                        the same addresses
#    postmap -q - ldap:CONF                        a private slapd holding
#                                                  the same addresses (mdb,
#                                                  mail indexed)
# 2. loadgen against catalogd and against echoserv: 1, 8 and 64
#    synchronous clients, and 64 clients pipelining 16 requests each.
#    Beside each catalogd run, the same runs against a second catalogd
#    serving the same catalog in keyed-hash mode (hash_secret; installed
#    from a hashed snapshot), taken right after it, so that both meet the
#    same load: the cost of hashing every key searched.
# 3. Installs while 64 synchronous clients keep asking: a full snapshot of
#    N records onto a small catalog (first install, N inserts), then a full
#    snapshot with 1% of the records changed onto the N-record catalog.
#    Install time as catalogd reports it and from the file's arrival in
#    the inbox to INBOX/status; worst lookup latency meanwhile.
# Peak memory (VmHWM) of both catalogd processes at the end.
# Output: Markdown on stdout and in tests/bench/results/serve-DATE.md
# (SERVE_BENCH_OUT overrides the file; "-" for none).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/slapd-lib.sh"
N=${1:-1000000}
SECS=${2:-5}
RUNS=${3:-3}
K=${4:-100000}
TOOLS=${DIRCAT_TOOLS:-$DIRCAT_TOP/build/std/tests/tools}
OUT=${SERVE_BENCH_OUT:-$DIRCAT_TOP/tests/bench/results/serve-$(date +%F).md}
for t in mkcatalog mksnap loadgen echoserv; do
	[ -x "$TOOLS/$t" ] || { echo "missing $TOOLS/$t: make tests" >&2; exit 1; }
done
for p in catalogd dircat; do
	[ -x "$DIRCAT_BIN/$p" ] || { echo "missing $DIRCAT_BIN/$p: make" >&2; exit 1; }
done
for p in postmap slapd slapadd; do
	command -v "$p" >/dev/null || { echo "missing $p: scripts/deps.sh bench" >&2; exit 1; }
done

d=$(mktemp -d /tmp/dircat-bench.XXXXXX)
chmod 755 "$d"
_test_dirs+=("$d")
cd "$d" || exit 1
say() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
# median of numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
now() { date +%s.%N; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.0f", v }'; }

# --- data ---------------------------------------------------------------------
# Address i: first.lastI@domain (about 27 bytes).  Present: 1..N;
# absent: N+1.. (same shape, so an absent key costs a real search).
say "serve_bench: $N addresses, $K keys"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
addr_awk='BEGIN { split("anna ben carla dan eva finn gina hugo ines jan kim lea max nina otto paul rosa sam tina ugo vera will yara", f, " ");
	split("adler bauer conti dorn eck fink graf hahn iske jung kranz lang moser noll ortiz pohl quast roth stein thiel uhl vogt wolf", l, " ");
	split("example.com example.org example.net", dm, " ") }
function addr(i) { return f[i % 23 + 1] "." l[int(i / 23) % 23 + 1] i "@" dm[i % 3 + 1] }'
awk -v n="$N" "$addr_awk"' BEGIN { for (i = 1; i <= n; i++) print addr(i) }' >addrs
{ printf 'example.com domain\nexample.org domain\nexample.net domain\n'
  awk '{ split($1, a, "@"); print $1, "person", a[1] }' addrs; } >records
# Keys: K/2 present (random), K/2 absent; with the expected answer.
awk -v n="$N" -v k="$K" "$addr_awk"' BEGIN { srand(42); h = int(k / 2)
	for (j = 0; j < h; j++) print addr(1 + int(rand() * n)) " OK"
	for (j = 0; j < k - h; j++) print addr(n + 1 + j) " NOTFOUND" }' | shuf --random-source=<(yes) >keys.exp
cut -d' ' -f1 keys.exp >keys
half=$((K / 2))

say "serve_bench: catalogs and snapshots"
"$DIRCAT_BIN/dircat" keygen signer >/dev/null || exit 1
"$TOOLS/mkcatalog" -N -i bench -s 2 full.mdb <records >/dev/null || exit 1
"$TOOLS/mksnap" full.mdb signer.key bench.2.full.snap >/dev/null || exit 1
# The keyed-hash catalogd's secret and its snapshot of the same catalog.
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >hash.secret)
"$TOOLS/mksnap" -H hash.secret full.mdb signer.key bench.2.hashed.snap >/dev/null || exit 1
# 1% changed: 0.5% removed, 0.5% new addresses.
awk -v n="$N" 'NR > 3 && (NR - 3) % 200 == 0 { next } { print }' records >records2
awk -v n="$N" "$addr_awk"' BEGIN { for (i = 1; i <= n / 200; i++) { a = addr(2 * n + i); split(a, p, "@"); print a, "person", p[1] } }' \
	>>records2
"$TOOLS/mkcatalog" -N -i bench -s 3 changed.mdb <records2 >/dev/null || exit 1
"$TOOLS/mksnap" changed.mdb signer.key bench.3.full.snap >/dev/null || exit 1
rm -f full.mdb* changed.mdb*
head -n 1003 records | "$TOOLS/mkcatalog" -i bench node.mdb >/dev/null || exit 1
snapsize=$(stat -c %s bench.2.full.snap)

# postmap needs a configuration directory: a private, empty one.
mkdir -p pf
echo "compatibility_level = 3.6" >pf/main.cf
awk '{ print $1, "OK" }' addrs >table
postmap -c pf lmdb:table || exit 1

# --- catalogd, echoserv -------------------------------------------------------
mkdir -p inbox run
cat >catalogd.conf <<EOF
catalog = $d/node.mdb
catalog_id = bench
inbox = $d/inbox
trusted_key = $d/signer.pub
[socket map]
path = $d/run/map.sock
protocol = socketmap
mode = 0666
EOF
"$DIRCAT_BIN/catalogd" -c catalogd.conf -f -R >catalogd.log 2>&1 &
CATD=$!
track_pid "$CATD"
wait_for 10 test -S run/map.sock || { echo "catalogd did not start" >&2; cat catalogd.log >&2; exit 1; }
# The keyed-hash catalogd: the same catalog, hashed; installed at once.
mkdir -p inbox-h
cat >catalogd-h.conf <<EOF
catalog = $d/node-h.mdb
catalog_id = bench
inbox = $d/inbox-h
trusted_key = $d/signer.pub
hash_secret = $d/hash.secret
[socket map]
path = $d/run/hmap.sock
protocol = socketmap
mode = 0666
EOF
cp bench.2.hashed.snap inbox-h/.tmp.snap && mv inbox-h/.tmp.snap inbox-h/bench.2.full.snap
"$DIRCAT_BIN/catalogd" -c catalogd-h.conf -f -R >catalogd-h.log 2>&1 &
CATH=$!
track_pid "$CATH"
hashed_ready() { grep -qx 'serial=2' inbox-h/status 2>/dev/null; }
wait_for 300 hashed_ready || { echo "the keyed-hash catalogd did not install its snapshot" >&2; tail catalogd-h.log >&2; exit 1; }
"$TOOLS/echoserv" run/echo.sock 2>echoserv.log &
ECHO=$!
track_pid "$ECHO"
wait_for 10 test -S run/echo.sock || { echo "echoserv did not start" >&2; exit 1; }

# alive WHEN: stop the benchmark, saying why, when catalogd or echoserv
# is gone (figures taken without them would be meaningless).
alive() {
	local p name
	for p in "$CATD:catalogd" ${CATH:+"$CATH:catalogd-hashed"} "$ECHO:echoserv"; do
		name=${p#*:}
		if ! kill -0 "${p%%:*}" 2>/dev/null; then
			wait "${p%%:*}"
			echo "serve_bench: $name exited (status $?) $1; its log:" >&2
			[ "$name" = catalogd ] && tail -n 20 catalogd.log >&2
			[ "$name" = catalogd-hashed ] && tail -n 20 catalogd-h.log >&2
			[ "$name" = echoserv ] && tail -n 20 echoserv.log >&2
			exit 1
		fi
	done
}

status_serial() { sed -n 's/^serial=//p' inbox/status 2>/dev/null; }

# install_under_load NAME SNAPSHOT SERIAL: drop SNAPSHOT into the inbox
# (temporary name, rename) while 64 synchronous clients keep asking for
# 25 s; one line to "installs": name, catalogd's own install time, the
# wall time from the rename to INBOX/status showing SERIAL, the worst
# latency of the 0.1 s intervals overlapping that, the lookups answered
# meanwhile, the run's errors and its worst latency.
install_under_load() {
	local name=$1 snap=$2 serial=$3 t0 t1 lg ctime worst n res
	"$TOOLS/loadgen" -s run/map.sock -k keys -c 64 -d 25 -i 0.1 \
		>"lg.$name" 2>&1 &
	lg=$!
	track_pid "$lg"
	sleep 3
	cp "$snap" "inbox/.$snap.tmp"
	t0=$(now)
	mv "inbox/.$snap.tmp" "inbox/$snap"
	for n in $(seq 400); do
		[ "$(status_serial)" = "$serial" ] && break
		sleep 0.05
	done
	t1=$(now)
	wait "$lg"
	ctime=$(sed -n "s/.*installed $snap: .* in \([0-9.]*\)s.*/\1/p" catalogd.log | tail -n 1)
	worst=$(awk -v a="$t0" -v b="$t1" '/^interval/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["at"] >= a && v["at"] - 0.1 <= b + 0.1 && v["max_us"] > w) w = v["max_us"] }
		END { print w + 0 }' "lg.$name")
	n=$(awk -v a="$t0" -v b="$t1" '/^interval/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["at"] >= a && v["at"] - 0.1 <= b + 0.1) { sub(/\/s$/, "", v["rate"]); r += v["rate"] * 0.1 } }
		END { printf "%.0f", r }' "lg.$name")
	res=$(grep '^RESULT ' "lg.$name")
	echo "$name ${ctime:--} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $worst $n $(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$res") $(sed -n 's/.* max_us=\([0-9.]*\).*/\1/p' <<<"$res")" >>installs
}

: >installs
say "serve_bench: first install: full snapshot of $N records onto 1000"
install_under_load first bench.2.full.snap 2
alive "during the first install"
[ "$(status_serial)" = 2 ] || { echo "the first install did not happen:" >&2; tail -n 5 catalogd.log >&2; exit 1; }

# --- slapd with the same addresses --------------------------------------------
say "serve_bench: slapd: slapadd of $N entries"
awk -v base="$SLAPD_BASE" 'BEGIN { print "dn: ou=people," base; print "objectClass: organizationalUnit"; print "ou: people"; print "" }
	{ print "dn: uid=u" NR ",ou=people," base; print "objectClass: inetOrgPerson"
	  print "uid: u" NR; print "cn: u" NR; print "sn: u" NR; print "mail: " $1; print "" }' addrs >people.ldif
SLAPD_EXTRA_INDEX="mail eq" slapd_start "$d/slapd" unlimited people.ldif >slapd-start.log 2>&1 ||
	{ echo "slapd failed:" >&2; cat slapd-start.log >&2; exit 1; }
cat >ldap.cf <<EOF
server_host = $SLAPD_URI
version = 3
search_base = ou=people,$SLAPD_BASE
scope = one
query_filter = (mail=%s)
result_attribute = mail
bind = yes
bind_dn = $SLAPD_BINDDN
bind_pw = $(cat "$SLAPD_BINDPW")
EOF

# --- placement ----------------------------------------------------------------
# A synchronous round trip costs very different amounts when client and
# server share a core (no cross-core wake-up) or not, and the scheduler
# decides that at random.  So every server is pinned to SERVER_CPU and
# every client to CLIENT_CPU ("cross": the server has a core to itself);
# the single-client figures are also taken with both on one core ("same").
ncpu=$(nproc)
SERVER_CPU=0
CLIENT_CPU=$((ncpu > 1 ? 1 : 0))
pin_servers() {	# CPU list
	local p
	for p in "$CATD" ${CATH:-} "$ECHO" ${SLAPD_PID:-}; do
		taskset -a -p -c "$1" "$p" >/dev/null 2>&1
	done
}
pin_servers "$SERVER_CPU"
placements="cross same"
[ "$ncpu" -gt 1 ] || placements=same
cpu_of() { [ "$1" = same ] && echo "$SERVER_CPU" || echo "$CLIENT_CPU"; }

# --- 1. postmap ---------------------------------------------------------------
# pm NAME PLACEMENT MAP: one timed run over all keys;
# "NAME-PLACEMENT RUN rate found" to pm.results
pm() {
	local t0 t1
	t0=$(now)
	taskset -c "$(cpu_of "$2")" postmap -c pf -q - "$3" <keys >"pm.$1.out" 2>"pm.$1.err"
	t1=$(now)
	echo "$1-$2 $r $(awk -v k="$K" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", k / (b - a) }') $(wc -l <"pm.$1.out")" >>pm.results
}
: >pm.results
say "serve_bench: postmap, $RUNS runs each (warm-up first)"
for m in "socketmap:unix:$d/run/map.sock:recipients" "socketmap:unix:$d/run/hmap.sock:recipients" "socketmap:unix:$d/run/echo.sock:recipients" lmdb:table "ldap:$d/ldap.cf"; do
	head -n 2000 keys | postmap -c pf -q - "$m" >/dev/null 2>&1
done
for r in $(seq "$RUNS"); do
	for pl in $placements; do
		pm echo "$pl" "socketmap:unix:$d/run/echo.sock:recipients"
		pm catalogd "$pl" "socketmap:unix:$d/run/map.sock:recipients"
		pm hashed "$pl" "socketmap:unix:$d/run/hmap.sock:recipients"
		pm lmdb "$pl" lmdb:table
		pm ldap "$pl" "ldap:$d/ldap.cf"
	done
done
alive "during the postmap runs"
pmrate() { awk -v n="$1" '$1 == n { print $3 }' pm.results | median; }
pmrange() { awk -v n="$1" '$1 == n { print $3 }' pm.results | minmax; }
pmfound() { awk -v n="$1" '$1 == n { print $4 }' pm.results | sort -u | paste -sd/; }
# pair_ratio FILE FIELD A B: the median over runs of A/B, each A run
# divided by the B run taken right next to it (other work on the machine
# then weighs on both alike).
pair_ratio() {
	awk -v f="$2" -v a="$3" -v b="$4" '$1 == a { x[$2] = $f } $1 == b { y[$2] = $f }
		END { for (r in x) if (r in y && y[r] > 0) printf "%.4f\n", x[r] / y[r] }' "$1" |
		median | awk '{ if ($1 == "-") print "-"; else printf "%.2f", $1 }'
}

# --- 2. loadgen ---------------------------------------------------------------
# lg NAME PLACEMENT SOCKET KEYS CLIENTS DEPTH
#   -> "NAME-PLACEMENT-CxD RUN rate p50 p99 errors wrong" to lg.results
lg() {
	local res
	res=$(taskset -c "$(cpu_of "$2")" "$TOOLS/loadgen" -q -s "$3" -k "$4" \
		-c "$5" -p "$6" -w 1 -d "$SECS" | grep '^RESULT ')
	echo "$1-$2-$5x$6 $r $(for f in rate p50_us p99_us errors wrong; do sed -n "s/.* $f=\([^ ]*\).*/\1/p" <<<"$res"; done | paste -sd' ')" >>lg.results
}
: >lg.results
# placement:clients:depth; the echo server gets the same clients and keys
# (without expected answers: it finds everything).
CONFIGS="same:1:1 cross:1:1 cross:8:1 cross:64:1 cross:64:16"
[ "$ncpu" -gt 1 ] || CONFIGS="same:1:1 same:8:1 same:64:1 same:64:16"
for r in $(seq "$RUNS"); do
	for c in $CONFIGS; do
		IFS=: read -r pl cl dp <<<"$c"
		say "serve_bench: loadgen ${cl}x$dp ($pl core), run $r of $RUNS"
		lg echo "$pl" run/echo.sock keys "$cl" "$dp"
		lg catalogd "$pl" run/map.sock keys.exp "$cl" "$dp"
		lg hashed "$pl" run/hmap.sock keys.exp "$cl" "$dp"
	done
done
# lgf NAME N: the median of the Nth figure (1 rate, 2 p50, 3 p99,
# 4 errors, 5 wrong); lgsum: their sum over the runs.
alive "during the loadgen runs"
lgf() { awk -v n="$1" -v f="$(($2 + 2))" '$1 == n { print $f }' lg.results | median; }
lgrange() { awk -v n="$1" '$1 == n { print $3 }' lg.results | minmax; }
lgsum() { awk -v n="$1" -v f="$(($2 + 2))" '$1 == n { s += $f } END { print s + 0 }' lg.results; }

# Peak memory of the two catalogd processes so far (the catalog file is
# mapped: pages of it that were read count).
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
HWM_CLEAR=$(hwm "$CATD") HWM_HASHED=$(hwm "$CATH")
FILE_CLEAR=$(stat -c %s node.mdb) FILE_HASHED=$(stat -c %s node-h.mdb)
stop_pid "$CATH"
CATH=

# --- 3. the second install, under load ----------------------------------------
# Unpinned again: the install runs in a child process, on any core.
pin_servers "0-$((ncpu - 1))"
say "serve_bench: full snapshot with 1% changed onto $N records"
install_under_load changed bench.3.full.snap 3
alive "during the second install"
slapd_stop

# --- report -------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
report() {
	local pl e c l x k
	cat <<MD
# Lookup benchmark, $(date +%F)

Machine: $cpu, $ncpu cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; Debian $(cat /etc/debian_version); kernel $(uname -r); Postfix $(postconf -c pf -h mail_version 2>/dev/null); $(slapd -VV 2>&1 | sed -n 's/.*\(slapd [0-9.]*\).*/OpenLDAP \1/p' | head -n 1).
Command: \`tests/bench/serve_bench.sh $N $SECS $RUNS $K\`; every figure is the median of $RUNS runs; a ratio is the median over the runs of catalogd's figure divided by the other server's figure taken right before it.
Load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here).
Catalog: $N addresses (first.lastN@ three domains, about 27 bytes); keys: $K, half present, half absent (same shape), shuffled.
catalogd: one process, one epoll loop; echoserv (tests/tools/echoserv.c): one thread, one epoll loop, the same framing, a fixed reply and no lookup — the round-trip limit.
Placement: servers (catalogd, echoserv, slapd) pinned to CPU $SERVER_CPU; clients pinned to CPU $CLIENT_CPU ("cross core") or to CPU $SERVER_CPU too ("same core").

### 1. Through Postfix's own client: \`postmap -q - MAP < keys\` ($K keys, one connection, synchronous)

| map | placement | lookups/s | min-max | found | × echo | × ldap: |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
MD
	for pl in $placements; do
		e=$(pmrate "echo-$pl") c=$(pmrate "catalogd-$pl") l=$(pmrate "lmdb-$pl") x=$(pmrate "ldap-$pl")
		echo "| socketmap → echoserv (round-trip limit) | $pl core | $(fmt "$e") | $(pmrange "echo-$pl") | $(pmfound "echo-$pl") | 1.00 | $(pair_ratio pm.results 3 "echo-$pl" "ldap-$pl") |"
		echo "| **socketmap → catalogd** | $pl core | **$(fmt "$c")** | $(pmrange "catalogd-$pl") | $(pmfound "catalogd-$pl") | **$(pair_ratio pm.results 3 "catalogd-$pl" "echo-$pl")** | **$(pair_ratio pm.results 3 "catalogd-$pl" "ldap-$pl")** |"
		echo "| lmdb: (postmap lmdb: table, same addresses) | $pl core | $(fmt "$l") | $(pmrange "lmdb-$pl") | $(pmfound "lmdb-$pl") | $(pair_ratio pm.results 3 "lmdb-$pl" "echo-$pl") | $(pair_ratio pm.results 3 "lmdb-$pl" "ldap-$pl") |"
		echo "| ldap: (slapd on 127.0.0.1, mdb, mail indexed) | $pl core | $(fmt "$x") | $(pmrange "ldap-$pl") | $(pmfound "ldap-$pl") | $(pair_ratio pm.results 3 "ldap-$pl" "echo-$pl") | 1.00 |"
	done
	cat <<MD

"found": lines postmap printed; $half of the keys are present (echoserv says OK to everything).  lmdb: is in-process (no round trip at all), shown for scale.

### 2. loadgen (tests/tools/loadgen.c) over the Unix socket, ${SECS} s per run after 1 s of warm-up

| clients × in flight | placement | echoserv req/s (min-max) | catalogd req/s (min-max) | catalogd / echo | catalogd p50 µs | catalogd p99 µs | echo p50 µs | echo p99 µs | catalogd errors / wrong (all runs) |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
MD
	for c in $CONFIGS; do
		IFS=: read -r pl cl dp <<<"$c"
		k=$pl-${cl}x$dp
		e=$(lgf "echo-$k" 1) x=$(lgf "catalogd-$k" 1)
		echo "| $cl × $dp $([ "$dp" = 1 ] && echo "(synchronous)" || echo "(pipelined)") | $pl core | $(fmt "$e") ($(lgrange "echo-$k")) | **$(fmt "$x")** ($(lgrange "catalogd-$k")) | **$(pair_ratio lg.results 3 "catalogd-$k" "echo-$k")** | $(lgf "catalogd-$k" 2) | $(lgf "catalogd-$k" 3) | $(lgf "echo-$k" 2) | $(lgf "echo-$k" 3) | $(lgsum "catalogd-$k" 4) / $(lgsum "catalogd-$k" 5) |"
	done
	cat <<MD

### 2b. Keyed-hash mode: the same catalog, hashed, in a second catalogd, each run right after the clear one

Every key searched (the address, without its extension, the catch-all, the domain) is hashed with HMAC-SHA-256 first: one hash for most lookups, since the lookup cache already knows, per domain, whether it is local and has a catch-all; the in-process cost alone is measured by \`build/std/bench/keyhash_bench\`.

| what | placement | clear lookups/s (min-max) | keyed-hash lookups/s (min-max) | keyed-hash / clear | clear p50 / p99 µs | keyed-hash p50 / p99 µs |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
MD
	for pl in $placements; do
		echo "| postmap -q - socketmap (1 connection) | $pl core | $(fmt "$(pmrate "catalogd-$pl")") ($(pmrange "catalogd-$pl")) | $(fmt "$(pmrate "hashed-$pl")") ($(pmrange "hashed-$pl")) | **$(pair_ratio pm.results 3 "hashed-$pl" "catalogd-$pl")** | | |"
	done
	for c in $CONFIGS; do
		IFS=: read -r pl cl dp <<<"$c"
		k=$pl-${cl}x$dp
		echo "| loadgen $cl × $dp | $pl core | $(fmt "$(lgf "catalogd-$k" 1)") ($(lgrange "catalogd-$k")) | $(fmt "$(lgf "hashed-$k" 1)") ($(lgrange "hashed-$k")) | **$(pair_ratio lg.results 3 "hashed-$k" "catalogd-$k")** | $(lgf "catalogd-$k" 2) / $(lgf "catalogd-$k" 3) | $(lgf "hashed-$k" 2) / $(lgf "hashed-$k" 3) |"
	done
	cat <<MD

Peak memory (VmHWM, after the runs above): clear catalogd $((HWM_CLEAR / 1024)) MiB, keyed-hash catalogd $((HWM_HASHED / 1024)) MiB.  Catalog file: clear $((FILE_CLEAR / 1024 / 1024)) MiB, keyed-hash $((FILE_HASHED / 1024 / 1024)) MiB.  Errors / wrong answers of the keyed-hash catalogd (all runs): $(for c in $CONFIGS; do IFS=: read -r pl cl dp <<<"$c"; echo "$(lgsum "hashed-$pl-${cl}x$dp" 4) $(lgsum "hashed-$pl-${cl}x$dp" 5)"; done | awk '{ e += $1; w += $2 } END { print e " / " w }').

### 3. Installs while 64 synchronous clients keep asking (unpinned)

| snapshot | catalogd's install time s | file in inbox → INBOX/status s | worst lookup latency during it ms | lookups answered during it | errors (whole run) | worst latency (whole 25 s run) ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
MD
	while read -r name ctime wall worst n errs wmax; do
		case $name in
		first) what="full, $N records, onto a 1,000-record catalog" ;;
		changed) what="full, $N records with 1% changed, onto the $N-record catalog" ;;
		esac
		echo "| $what | $ctime | $wall | $(awk -v v="$worst" 'BEGIN { printf "%.1f", v / 1000 }') | $n | $errs | $(awk -v v="$wmax" 'BEGIN { printf "%.1f", v / 1000 }') |"
	done <installs
	echo
	echo "Snapshot file: $((snapsize / 1024 / 1024)) MiB."
	echo
	echo "### Targets"
	echo
	for pl in $placements; do
		target "socketmap via postmap ≥ 80% of the echo round trip ($pl core)" "$(pair_ratio pm.results 3 "catalogd-$pl" "echo-$pl")" 0.80
		target "socketmap via postmap ≥ 2.5 × ldap: ($pl core)" "$(pair_ratio pm.results 3 "catalogd-$pl" "ldap-$pl")" 2.5
	done
	k=$([ "$ncpu" -gt 1 ] && echo cross || echo same)
	target "64 synchronous clients ≥ 70% of echo" "$(pair_ratio lg.results 3 "catalogd-$k-64x1" "echo-$k-64x1")" 0.70
	target "64 clients × 16 pipelined ≥ 50% of echo" "$(pair_ratio lg.results 3 "catalogd-$k-64x16" "echo-$k-64x16")" 0.50
	for pl in $placements; do
		target "keyed-hash via postmap ≥ 90% of clear ($pl core)" "$(pair_ratio pm.results 3 "hashed-$pl" "catalogd-$pl")" 0.90
	done
	target "keyed-hash, 64 synchronous clients ≥ 90% of clear" "$(pair_ratio lg.results 3 "hashed-$k-64x1" "catalogd-$k-64x1")" 0.90
	while read -r name ctime wall worst n errs wmax; do
		target "install ($name) under 5 s, file in inbox → status" "$wall" 5 below
	done <installs
	echo
	echo "### Every run"
	echo
	echo "postmap (map-placement run lookups/s found):"
	echo
	sed 's/^/    /' pm.results
	echo
	echo "loadgen (server-placement-clients×depth run req/s p50 µs p99 µs errors wrong):"
	echo
	sed 's/^/    /' lg.results
}
# target TEXT VALUE LIMIT [below]
target() {
	local ok
	if [ "${4:-}" = below ]; then
		ok=$(awk -v v="$2" -v l="$3" 'BEGIN { print (v != "-" && v + 0 < l) ? "met" : "MISSED" }')
	else
		ok=$(awk -v v="$2" -v l="$3" 'BEGIN { print (v != "-" && v + 0 >= l) ? "met" : "MISSED" }')
	fi
	echo "- $1: $2 — **$ok**"
}
if [ "$OUT" = - ]; then
	report
else
	mkdir -p "$(dirname "$OUT")"
	report | tee "$OUT"
	say "serve_bench: written to $OUT"
fi
