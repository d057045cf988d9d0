#!/bin/bash
# fleet_bench.sh - fleet convergence: the time from a new serial on the
# internal host to N simulated nodes all serving it, pulled through a
# caching tier (nginx origin, CACHES nginx proxy_caches, N dircat-fetch
# daemons polling every POLL seconds), with the origin's request count;
# side by side with the replicator pushing the same serial to N file://
# targets (the cheapest push there is: no network, no ssh).
#
#   tests/bench/fleet_bench.sh [COUNTS] [CACHES] [RUNS] [POLL]
#                              ("100 500 1000" 4 3 30)
#
# A simulated node is a dircat-fetch daemon (as nobody, its own inbox,
# state and configuration) and tests/tools/fakecatd standing in for its
# catalogd: one process for all nodes that verifies each snapshot in full
# against the signing key, installs the lowest serial first, writes
# INBOX/status and logs the time.  The clock starts before the new serial
# is made (mkcatalog), so the figure includes making it, publishing,
# cache expiry, polls, fetches and installs.  Goals: every node current
# within POLL + 10 s; origin GETs per new serial under 2x CACHES.
# Output: a Markdown section on stdout; progress on stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/nginx-lib.sh"
source "$DIRCAT_TOP/tests/integration/replicator-lib.sh"
source "$DIRCAT_TOP/tests/integration/fleet-lib.sh"
COUNTS=${1:-100 500 1000}
CACHES=${2:-4}
RUNS=${3:-3}
POLL=${4:-30}
RECORDS=100000

say() { printf '%s\n' "$*" >&2; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%s", a[int((NR + 1) / 2)] }'; }
minmax() { sort -n | awk 'NR == 1 { m = $1 } { x = $1 } END { if (NR) printf "%s-%s", m, x }'; }

d=$(tmpdir)
rep_setup "$d/rep" || exit 1
fleet_origin "$d" "$d/www" || { say "origin did not start"; exit 1; }
mkdir -p "$d/www/pub"
caches=()
for ((c = 1; c <= CACHES; c++)); do
	fleet_cache "$d" "c$c" "$ORIGIN_HTTP" || { say "cache $c did not start"; exit 1; }
	caches+=("$CACHE_URL")
done
rep_records 1 "$RECORDS" | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -N "$REP_CAT" >/dev/null
rep_conf "$d/pub.conf" <<EOF
ca_file = $ORIGIN_CA
[publish origin]
url = ${ORIGIN_URL}pub/
EOF
rep_run -c "$d/pub.conf" || true
[ "$REP_RC" = 0 ] || { say "publish failed: $REP_ERR"; exit 1; }
serial=1

# new_serial: one more address, a new serial; then publish (or push).
churn=$RECORDS
new_serial() {
	churn=$((churn + 1))
	rep_records 1 "$churn" | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -N "$REP_CAT" >/dev/null
	serial=$((serial + 1))
}

# wait_all N SERIAL LOG SECONDS: until LOG shows N installs of SERIAL;
# prints the time of the last one (Unix, with ms), or nothing.
wait_all() {
	local n=$1 s=$2 log=$3 end=$((SECONDS + $4)) got
	while [ $SECONDS -lt $end ]; do
		got=$(awk -v s="$s" '$3 == s { n++; t = $1 } END { print n + 0, t }' "$log")
		if [ "${got%% *}" -ge "$n" ]; then
			echo "${got#* }"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

echo "## Fleet convergence: pull through $CACHES caches vs push ($RECORDS records, a one-address delta per serial)"
echo
echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg); poll_interval ${POLL}s, poll_jitter $((POLL / 4))s, manifest max-age ${FLEET_MAX_AGE}s; medians of $RUNS new serials (min-max)."
echo
echo "Times from before the new serial is made (making it, 100,000 records, included), and in brackets from the moment it exists."
echo
echo "| nodes | pull: all current | goal (poll + 10 s) | origin GETs per serial (files + manifest) | goal (< 2 x caches) | fetcher peak RSS | push (file://): all current | replicator CPU, peak RSS |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"

for N in $COUNTS; do
	say "fleet_bench: $N nodes"
	nd=$d/n$N
	mkdir -p "$nd"
	: >"$nd/inboxes"
	pids=()
	for ((i = 1; i <= N; i++)); do
		c=${caches[$(( (i - 1) % CACHES ))]}
		fleet_node "$nd/node$i" "$c/pub/corp.manifest" "$REP_PUB" \
			"poll_interval = ${POLL}s" "poll_jitter = $((POLL / 4))s" \
			"connect_timeout = 30s"
		echo "$nd/node$i/inbox" >>"$nd/inboxes"
	done
	"$DIRCAT_TESTBIN/tools/fakecatd" -k "$REP_PUB" -i corp -t 7200 "$nd/inboxes" \
		>"$nd/installs" 2>"$nd/fakecatd.err" &
	fake=$!
	track_pid "$fake"
	for ((i = 1; i <= N; i++)); do
		runuser -u nobody -- "$DIRCAT_BIN/dircat-fetch" -c "$nd/node$i/fetch.conf" \
			2>>"$nd/fetch.log" &
		pids+=($!)
		track_pid $!
	done
	# Everyone at the current serial first (full snapshots).
	if ! wait_all "$N" "$serial" "$nd/installs" $((POLL * 4 + 60)) >/dev/null; then
		say "fleet_bench: $N nodes did not all reach serial $serial"
	fi
	pull=() pulld=() gets=()
	for ((r = 1; r <= RUNS; r++)); do
		mark=$(wc -l <"$ORIGIN_LOG")
		t0=$(date +%s.%N)
		new_serial
		t1=$(date +%s.%N)
		rep_run -c "$d/pub.conf"
		last=$(wait_all "$N" "$serial" "$nd/installs" $((POLL * 3 + 60)))
		if [ -z "$last" ]; then
			pull+=(timeout)
			pulld+=(timeout)
		else
			pull+=("$(awk -v a="$t0" -v b="$last" 'BEGIN { printf "%.1f", b - a }')")
			pulld+=("$(awk -v a="$t1" -v b="$last" 'BEGIN { printf "%.1f", b - a }')")
		fi
		# Requests the caches made for this serial (the replicator's
		# own manifest GET and PUTs left out).
		g=$(tail -n +$((mark + 1)) "$ORIGIN_LOG" | grep '"GET /pub/' |
			grep -vc 'dircat-replicator')
		gets+=("$g")
		say "  pull run $r: serial $serial, ${pull[-1]}s, $g origin GETs"
	done
	rss=0
	for p in "${pids[@]::10}"; do
		v=$(awk '/VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ "${v:-0}" -gt "$rss" ] && rss=$v
	done
	kill -TERM "${pids[@]}" 2>/dev/null
	for ((w = 0; w < 300; w++)); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null
	# Push the same kind of serial to N file:// targets, same stand-in.
	{
		echo "concurrency = 64"
		echo "retries = 0"
		for ((i = 1; i <= N; i++)); do
			echo "[target t$i]"
			echo "url = file://$nd/node$i/inbox/"
			echo "upload_mode = 0644"
		done
	} | rep_conf "$d/push$N.conf"
	rep_run -c "$d/push$N.conf" -n	# warm: reads every status
	push=() pushd=() pcpu=() prss=()
	for ((r = 1; r <= RUNS; r++)); do
		t0=$(date +%s.%N)
		new_serial
		t1=$(date +%s.%N)
		/usr/bin/time -f '%U %S %M' -o "$nd/time" \
			"$DIRCAT_BIN/dircat-replicator" -c "$d/push$N.conf" 2>"$nd/push.err" >/dev/null
		last=$(wait_all "$N" "$serial" "$nd/installs" 120)
		[ -n "$last" ] || say "  push: $(tail -n 3 "$nd/push.err")"
		push+=("$(awk -v a="$t0" -v b="${last:-0}" 'BEGIN { printf "%.1f", (b > 0 ? b - a : -1) }')")
		pushd+=("$(awk -v a="$t1" -v b="${last:-0}" 'BEGIN { printf "%.1f", (b > 0 ? b - a : -1) }')")
		pcpu+=("$(awk '{ printf "%.2f", $1 + $2 }' "$nd/time")")
		prss+=("$(awk '{ printf "%d", $3 / 1024 }' "$nd/time")")
		say "  push run $r: serial $serial, ${push[-1]}s"
		rep_run -c "$d/pub.conf"	# keep the origin at this serial
	done
	stop_pid "$fake"
	printf '| %d | %s s (%s) [%s s] | %d s | %s (%s) | < %d | %d MB | %s s (%s) [%s s] | %s s, %s MB |\n' \
		"$N" "$(printf '%s\n' "${pull[@]}" | median)" "$(printf '%s\n' "${pull[@]}" | minmax)" \
		"$(printf '%s\n' "${pulld[@]}" | median)" $((POLL + 10)) \
		"$(printf '%s\n' "${gets[@]}" | median)" "$(printf '%s\n' "${gets[@]}" | minmax)" \
		$((2 * CACHES)) $((rss / 1024)) \
		"$(printf '%s\n' "${push[@]}" | median)" "$(printf '%s\n' "${push[@]}" | minmax)" \
		"$(printf '%s\n' "${pushd[@]}" | median)" \
		"$(printf '%s\n' "${pcpu[@]}" | median)" "$(printf '%s\n' "${prss[@]}" | median)"
	rm -rf "$nd"
done
echo
echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)."
