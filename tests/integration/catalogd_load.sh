#!/bin/bash
# catalogd_load.sh - catalogd under load: 64 concurrent socketmap clients,
# each pipelining 16 requests, for a bounded time, against a catalog of
# 100,000 addresses; half the keys are in the catalog, half are not, and
# each key carries its expected answer.
#
# Pass: every request answered, none with an error (TEMP, PERM, a broken
# reply, a dropped connection) and none wrong (OK for an absent key or
# NOTFOUND for a present one); catalogd's memory flat: after a warm-up
# (which touches every page of the catalog), its anonymous memory (heap,
# stacks: RssAnon) and its whole resident size (VmRSS, the catalog's
# mapping included) each grow by less than LOAD_GROWTH_KB; and catalogd
# still answers afterwards.  LOAD_SECONDS (default 10) sets the run time.
. "$(dirname "$0")/lib.sh"

LOAD_ENTRIES=100000
LOAD_CLIENTS=64
LOAD_DEPTH=16
LOAD_SECONDS=${LOAD_SECONDS:-10}
LOAD_WARMUP=3
LOAD_GROWTH_KB=10240	# "flat": under 10 MB of growth after the warm-up

tools=$DIRCAT_TESTBIN/tools
for t in mkcatalog loadgen catdclient; do
	[ -x "$tools/$t" ] || { fail "missing $tools/$t (make tests)"; exit 1; }
done

T=$(tmpdir)
cd "$T" || exit 1
mkdir -p inbox run

# Catalog: user1..user100000@example.com; keys: every other present
# address and as many absent ones, shuffled.
awk -v n=$LOAD_ENTRIES 'BEGIN {
	print "example.com domain"
	for (i = 1; i <= n; i++) print "user" i "@example.com person user" i
}' >records
"$tools/mkcatalog" -N -i load catalog.mdb <records >/dev/null ||
	{ fail "mkcatalog"; exit 1; }
awk -v n=$LOAD_ENTRIES 'BEGIN {
	for (i = 1; i <= n; i += 2) {
		print "user" i "@example.com OK"
		print "nouser" i "@example.com NOTFOUND"
	}
}' | shuf --random-source=<(yes) >keys
(umask 077; "$DIRCAT_BIN/dircat" keygen signer >/dev/null) ||
	{ fail "dircat keygen"; exit 1; }

cat >catalogd.conf <<EOF
catalog = $T/catalog.mdb
catalog_id = load
inbox = $T/inbox
trusted_key = $T/signer.pub
[socket map]
path = $T/run/map.sock
protocol = socketmap
mode = 0666
EOF
"$DIRCAT_BIN/catalogd" -c catalogd.conf -f -R >catalogd.log 2>&1 &
pid=$!
track_pid "$pid"
if ! wait_for 10 test -S run/map.sock; then
	fail "catalogd did not start"
	cat catalogd.log
	exit 1
fi

"$tools/loadgen" -s run/map.sock -k keys -m recipients -c $LOAD_CLIENTS \
	-p $LOAD_DEPTH -w $LOAD_WARMUP -d "$LOAD_SECONDS" -i 1 -r "$pid" \
	>load.out 2>&1
rc=$?
sed 's/^/    /' load.out
res=$(grep '^RESULT ' load.out)
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }

check_eq "loadgen ran to the end" "$rc$([ -n "$res" ] && echo ok)" "0ok"
requests=$(val requests)
check "requests answered ($requests in ${LOAD_SECONDS}s, $(val rate)/s)" \
	test "${requests:-0}" -gt 0
check_eq "no errors (TEMP/PERM/broken replies/lost requests)" "$(val errors)" 0
check_eq "no wrong answers (present key NOTFOUND or absent key OK)" \
	"$(val wrong)" 0
check_eq "no dropped connections" "$(val disconnects)" 0
found=$(val found) notfound=$(val notfound)
check "both present and absent keys were asked (found $found, notfound $notfound)" \
	test "${found:-0}" -gt 0 -a "${notfound:-0}" -gt 0

growth() {	# name start end
	local name=$1 a=$2 b=$3
	if [ "${a:--1}" -lt 0 ] || [ "${b:--1}" -lt 0 ]; then
		fail "memory: $name not measured"
	elif [ $((b - a)) -lt $LOAD_GROWTH_KB ]; then
		pass "memory flat: $name ${a} kB after warm-up, ${b} kB at the end (limit +$LOAD_GROWTH_KB kB)"
	else
		fail "memory grew: $name ${a} kB after warm-up, ${b} kB at the end"
	fi
}
growth "RssAnon" "$(val anon_warm_kb)" "$(val anon_end_kb)"
growth "VmRSS" "$(val rss_warm_kb)" "$(val rss_end_kb)"

check "catalogd still running after the load" kill -0 "$pid"
r=$("$tools/catdclient" sm run/map.sock recipients user2@example.com \
	nouser1@example.com USER3@Example.COM 2>&1 | paste -sd'|')
check_eq "catalogd still answers correctly after the load" "$r" \
	"OK person|NOTFOUND |OK person"
exit 0
