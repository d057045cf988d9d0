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
# exists (right after mkcatalog has made it; the time that takes is shown
# apart), so the figure is publishing, cache expiry, polls, fetches and
# installs; the median node's time and the publication's are shown too.
# Origin requests are shown as the new serial causes them (the snapshot
# files each cache fetches once, and the manifest each cache gets anew:
# 200 instead of 304) apart from the caches' revalidations of the
# manifest, which come every max-age whether anything changed or not
# (counted over one quiet poll interval after the serials).  Goals: every
# node current within POLL + 10 s; origin GETs per new serial under
# 2x CACHES.  Output: a Markdown section on stdout; progress on stderr.
# Runs unattended as root (nginx, runuser); everything it starts is
# stopped by pid and its directory removed at exit.
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else printf "-" }'; }
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

# half_at SERIAL LOG T1: seconds from T1 to the install of SERIAL by the
# median node.
half_at() {
	awk -v s="$1" -v t1="$3" '$3 == s { t[++n] = $1 }
		END { if (n) printf "%.1f", t[int((n + 1) / 2)] - t1 }' "$2"
}

# origin_split FROM [TO]: the caches' GETs at the origin after line FROM
# of its log (up to line TO; the replicator's own left out), as
# "FILES M200 M304".
origin_split() {
	head -n "${2:-999999999}" "$ORIGIN_LOG" | tail -n +$(($1 + 1)) |
		grep '"GET /pub/' | grep -v 'dircat-replicator' |
		awk '{ st = $9 }
			$7 ~ /\.snap$/ { f++ }
			$7 ~ /\.manifest$/ && st == 200 { m2++ }
			$7 ~ /\.manifest$/ && st == 304 { m3++ }
			END { print f + 0, m2 + 0, m3 + 0 }'
}

# polls_sum DIR: the polls the nodes under DIR have made (one process:
# reading a thousand state files one by one takes seconds).
polls_sum() {
	find "$1" -path '*/state/corp.state' -print0 |
		xargs -0 awk '$1 == "polls" { t += $3 } END { print t + 0 }'
}

echo "## Fleet convergence: pull through $CACHES caches vs push ($RECORDS records, a one-address delta per serial)"
echo
echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg); poll_interval ${POLL}s, poll_jitter $((POLL / 4))s, manifest max-age ${FLEET_MAX_AGE}s; medians of $RUNS new serials (min-max)."
echo
echo "Times from the moment the new serial exists on the internal host (the catalog written) to the last node serving it (its install logged); making the serial (mkcatalog, $RECORDS records) is shown apart and is the same for pull and push. Origin GETs a new serial causes: snapshot files (.snap) fetched by the caches, and the changed manifest each cache gets in full (a 200 where its revalidation would have had a 304). Between serials the caches revalidate the manifest once per max-age each, when nodes ask: counted over one quiet poll interval, with the nodes' polls in that time."
echo
echo "| nodes | pull: all current | median node | goal (poll + 10 s) | of which publishing | origin GETs per new serial: files + changed manifest | goal (< 2 x caches) | between serials: origin GETs per poll interval (nodes' polls) | fetcher peak RSS | push (file://): all current | pull / push time | replicator CPU, peak RSS | making the serial |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"

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
	pull=() half=() pubt=() files=() mans=() make=()
	for ((r = 1; r <= RUNS; r++)); do
		mark=$(wc -l <"$ORIGIN_LOG")
		t0=$(date +%s.%N)
		new_serial
		t1=$(date +%s.%N)
		rep_run -c "$d/pub.conf"
		tp=$(date +%s.%N)
		last=$(wait_all "$N" "$serial" "$nd/installs" $((POLL * 3 + 60)))
		make+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')")
		pubt+=("$(awk -v a="$t1" -v b="$tp" 'BEGIN { printf "%.1f", b - a }')")
		if [ -z "$last" ]; then
			pull+=(timeout)
		else
			pull+=("$(awk -v a="$t1" -v b="$last" 'BEGIN { printf "%.1f", b - a }')")
		fi
		half+=("$(half_at "$serial" "$nd/installs" "$t1")")
		# Let the last fetches' log lines land, then split what the
		# caches asked the origin for: files, changed manifest, 304s.
		sleep 1
		read -r f m2 m3 <<<"$(origin_split "$mark")"
		files+=("$f") mans+=("$m2")
		say "  pull run $r: serial $serial, all ${pull[-1]}s (median node ${half[-1]}s, publishing ${pubt[-1]}s), origin: $f files, $m2 manifests 200, $m3 revalidations 304"
	done
	# One poll interval without a new serial: what reaches the origin,
	# and the nodes' polls meanwhile (both scaled to exactly POLL).
	p0=$(polls_sum "$nd")
	mark=$(wc -l <"$ORIGIN_LOG")
	q0=$(date +%s.%N)
	sleep "$POLL"
	q1=$(date +%s.%N)
	mark1=$(wc -l <"$ORIGIN_LOG")
	p1=$(polls_sum "$nd")
	read -r qf q2 q3 <<<"$(origin_split "$mark" "$mark1")"
	per() { awk -v n="$1" -v a="$q0" -v b="$q1" -v p="$POLL" 'BEGIN { printf "%.0f", n * p / (b - a) }'; }
	quiet="$(per $((qf + q2 + q3))) ($(per $((p1 - p0))))"
	say "  quiet $(awk -v a="$q0" -v b="$q1" 'BEGIN { printf "%.1f", b - a }')s: $((p1 - p0)) polls by the nodes (counted around it); origin: $q3 revalidations 304, $q2 manifests 200, $qf files"
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
	push=() pcpu=() prss=()
	for ((r = 1; r <= RUNS; r++)); do
		t0=$(date +%s.%N)
		new_serial
		t1=$(date +%s.%N)
		/usr/bin/time -f '%U %S %M' -o "$nd/time" \
			"$DIRCAT_BIN/dircat-replicator" -c "$d/push$N.conf" 2>"$nd/push.err" >/dev/null
		last=$(wait_all "$N" "$serial" "$nd/installs" 120)
		[ -n "$last" ] || say "  push: $(tail -n 3 "$nd/push.err")"
		push+=("$(awk -v a="$t1" -v b="${last:-0}" 'BEGIN { printf "%.1f", (b > 0 ? b - a : -1) }')")
		pcpu+=("$(awk '{ printf "%.2f", $1 + $2 }' "$nd/time")")
		prss+=("$(awk '{ printf "%d", $3 / 1024 }' "$nd/time")")
		say "  push run $r: serial $serial, ${push[-1]}s"
		rep_run -c "$d/pub.conf"	# keep the origin at this serial
	done
	stop_pid "$fake"
	mp=$(printf '%s\n' "${pull[@]}" | median)
	mq=$(printf '%s\n' "${push[@]}" | median)
	mf=$(printf '%s\n' "${files[@]}" | median)
	mm=$(printf '%s\n' "${mans[@]}" | median)
	printf '| %d | %s s (%s) | %s s | %d s | %s s | %s + %s = %s | < %d | %s | %d MB | %s s (%s) | %s | %s s, %s MB | %s s |\n' \
		"$N" "$mp" "$(printf '%s\n' "${pull[@]}" | minmax)" \
		"$(printf '%s\n' "${half[@]}" | median)" $((POLL + 10)) \
		"$(printf '%s\n' "${pubt[@]}" | median)" \
		"$mf" "$mm" $((mf + mm)) $((2 * CACHES)) "$quiet" $((rss / 1024)) \
		"$mq" "$(printf '%s\n' "${push[@]}" | minmax)" "$(ratio "$mp" "$mq")" \
		"$(printf '%s\n' "${pcpu[@]}" | median)" "$(printf '%s\n' "${prss[@]}" | median)" \
		"$(printf '%s\n' "${make[@]}" | median)"
	rm -rf "$nd"
done
echo
echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)."
