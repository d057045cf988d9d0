#!/bin/bash
# catalogd_slowloris.sh - catalogd's sockets under connection-hoarding
# attacks, with catalogd's default limits: 2,000 connections trickling a
# request one byte a second; a flood of 3,000 idle connections; 2,000
# connections that send part of a netstring and then a byte a second; 2,000
# policy clients that never end their attribute block; 2,500 clients that
# are never idle, each request sent one byte at a time.  The attacker
# reopens every connection catalogd closes.
#
# What is checked is what a mail administrator sees: during each attack
# Postfix-style clients (mtaclient: one kept-open connection per smtpd
# process, reconnect and retry once on a closed connection, as Postfix
# does) get every lookup answered, correctly, with a p99 latency under
# SLOW_P99_MS; "dircat status" answers every time it is asked within
# SLOW_STATUS_S seconds; and during the trickle a private Postfix accepts a
# known recipient (250) and rejects an unknown one (550 5.1.1) instead of
# deferring both (451 4.3.0).  The latency figures are printed without
# and with each attack; during the idle flood Postfix is also asked at
# one-second intervals, long enough for its own kept connection to be
# closed to make room.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/postfix-lib.sh"

SLOW_MEASURE=11		# seconds of lookups under each attack (> request_timeout)
SLOW_BASELINE=4		# seconds of lookups without an attack
SLOW_WARMUP=2		# seconds the attack runs before lookups start
SLOW_CLIENTS=16		# smtpd processes
SLOW_P99_MS=500		# honest margin on a loaded, shared 2-core machine
SLOW_STATUS_S=3		# dircat status must answer within this

need postfix postconf smtp-sink swaks
for t in mkcatalog sockattack mtaclient catdclient; do
	[ -x "$CATD_TOOLS/$t" ] || { fail "missing $CATD_TOOLS/$t (make tests)"; exit 1; }
done
echo "load: $(uptime)"

d=$(tmpdir)
catd_init "$d"
catd_conf
# Postfix's smtpd (user postfix) connects to the map and policy sockets.
sed -i '/^protocol = \(socketmap\|policy\)$/a mode = 0666' "$CATD_CONF"
chmod 755 "$d" "$d/run"
{
	echo "example.com domain"
	for i in $(seq 1000); do echo "user$i@example.com person user$i"; done
} | catd_source >/dev/null
catd_start || exit 1
catd_full corp.1.full.snap
catd_wait_serial 1 || { fail "snapshot not installed"; exit 1; }
for i in $(seq 1 2 1000); do
	echo "user$i@example.com OK"
	echo "nobody$i@example.com NOTFOUND"
done | shuf --random-source=<(yes) >"$d/keys"
map=$d/run/map.sock
policy=$d/run/policy.sock

# status_loop OUT N: ask dircat status N times, one a second; one line
# per try: "ok MS" or "fail MS".
status_loop() {
	local i t0 t1 r
	for i in $(seq "$2"); do
		t0=$(date +%s%N)
		timeout "$SLOW_STATUS_S" "$DIRCAT_BIN/dircat" status -c "$CATD_CONF" \
			>"$d/status.out" 2>&1
		r=$?
		t1=$(date +%s%N)
		if [ "$r" -eq 0 ] && grep -q '^serial: 1$' "$d/status.out"; then
			echo "ok $(( (t1 - t0) / 1000000 ))"
		else
			echo "fail $(( (t1 - t0) / 1000000 )) rc=$r"
		fi
		sleep 1
	done >"$1"
}

# lookups NAME SOCKET [-P]: SLOW_MEASURE seconds of Postfix-style lookups
# while dircat status is asked; checks both.
lookups() {
	local name=$1 sock=$2 proto=${3:-} secs=${4:-$SLOW_MEASURE} res val st worst
	local nst=$((secs * 2 / 3))
	status_loop "$d/status.$name" "$nst" &
	local sl=$!
	"$CATD_TOOLS/mtaclient" -s "$sock" -k "$d/keys" -c "$SLOW_CLIENTS" \
		-d "$secs" -z 20 -t 10 $proto >"$d/mta.$name" 2>&1
	wait "$sl"
	res=$(grep '^RESULT ' "$d/mta.$name")
	val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
	echo "    $name: $res"
	check_eq "$name: every lookup answered ($(val requests) lookups, $(val retried) retried after a closed connection)" \
		"$(val failed)/$(val timeouts)/$(val requests)" "0/0/$(val ok)"
	check "$name: lookups were made" test "$(val requests)" -gt 0
	check_eq "$name: every answer right" "$(val wrong)" 0
	check "$name: p99 latency $(val p99_us) us (p50 $(val p50_us) us) under $SLOW_P99_MS ms" \
		test "$(val ok)" -gt 0 -a "$(val p99_us)" -lt $((SLOW_P99_MS * 1000))
	st=$(grep -c '^ok ' "$d/status.$name")
	worst=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$d/status.$name")
	check_eq "$name: dircat status answered $st of $nst times (slowest $worst ms)" \
		"$st" "$nst"
}

# attack NAME MODE SOCKET COUNT INTERVAL: start the attacker; wait until
# it has opened its connections and SLOW_WARMUP more seconds.
ATTACK_PID=
attack() {
	local name=$1 mode=$2 sock=$3 count=$4 interval=$5
	"$CATD_TOOLS/sockattack" -s "$sock" -m "$mode" -c "$count" -i "$interval" \
		-d $((SLOW_WARMUP + SLOW_MEASURE + 30)) >"$d/attack.$name" 2>&1 &
	ATTACK_PID=$!
	track_pid "$ATTACK_PID"
	sleep "$SLOW_WARMUP"
	echo "    $name attacker: $(tail -n 1 "$d/attack.$name")"
}

attack_stop() {
	stop_pid "$ATTACK_PID"
	wait "$ATTACK_PID" 2>/dev/null
	ATTACK_PID=
	# Connections left over go at once (the attacker is gone).
	wait_for 10 sh -c "\"$DIRCAT_BIN/dircat\" status -c \"$CATD_CONF\" | grep -q '^connections: [0-2] open'"
}

# --- without an attack: the baseline --------------------------------------
lookups "no attack (socketmap)" "$map" "" "$SLOW_BASELINE"
lookups "no attack (policy)" "$policy" -P "$SLOW_BASELINE"

# --- 2,000 connections trickling a byte a second ---------------------------
postfix_start "$d/pf" "$map" "example.com" ||
	{ fail "private Postfix did not start"; exit 1; }
smtp_rcpt() {	# ADDRESS: the reply to RCPT TO
	swaks -s 127.0.0.1 -p "$PF_SMTP_PORT" --helo client.dircat-test.invalid \
		--timeout 60 -f someone@sender.test -t "$1" -q RCPT \
		>"$d/swaks.out" 2>&1
	awk '/^ *-> RCPT TO/ { want = 1; next }
	     want && /^ *<[-*~]/ { sub(/^ *<[-*~]+ */, ""); print; want = 0 }' \
		"$d/swaks.out"
	# Why Postfix deferred, when it did.
	grep -q '^ *<[-*~]* *4' "$d/swaks.out" &&
		grep 'socketmap\|warning\|error' "$PF_LOG" | tail -n 3 | sed 's/^/    /' >&2
	return 0
}
attack trickle trickle "$map" 2000 1
lookups "2000 trickling connections" "$map"
check_match "trickle: Postfix accepts a known recipient" \
	"$(smtp_rcpt user7@example.com)" '^250 '
check_match "trickle: Postfix rejects an unknown recipient" \
	"$(smtp_rcpt nobody7@example.com)" '^550 5\.1\.1 '
attack_stop

# --- 3,000 idle connections (more than the socket takes) -------------------
# The attacker reopens each connection closed to make room, so the
# socket's connections turn over many times a second: Postfix's own kept
# connection, idle between two messages, is closed too, and Postfix must
# reconnect and ask again.
attack idle idle "$map" 3000 1
lookups "3000 idle connections" "$map"
for i in 1 2 3; do
	check_match "idle flood: Postfix accepts a known recipient ($i)" \
		"$(smtp_rcpt user$i@example.com)" '^250 '
	sleep 1
done
check_match "idle flood: Postfix rejects an unknown recipient" \
	"$(smtp_rcpt nobody3@example.com)" '^550 5\.1\.1 '
check_match "idle flood: connections were closed to make room" \
	"$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")" \
	'^socket map: socketmap, [0-9]+ open \(limit 2048\), [1-9][0-9]* evicted'
attack_stop
postfix_stop

# --- 2,000 partial netstrings, continued a byte a second -------------------
attack partial partial "$map" 2000 1
lookups "2000 partial netstrings" "$map"
attack_stop

# --- 2,000 policy clients that never end their attribute block -------------
attack policy policy "$policy" 2000 1
lookups "2000 endless policy requests" "$policy" -P
attack_stop

# --- 2,500 clients never idle: each request a byte every 0.2 s -------------
attack slowreq slowreq "$map" 2500 0.2
lookups "2500 never-idle slow clients" "$map"
attack_stop

check "catalogd still running" kill -0 "$CATD_PID"
check_eq "no crash in the log" "$(grep -ci 'panic\|fatal\|sanitizer' "$CATD_LOG")" 0
