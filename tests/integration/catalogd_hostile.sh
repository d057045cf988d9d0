#!/bin/bash
# catalogd_hostile.sh - clients that misbehave: one that connects and says
# nothing (does not stall the others, is dropped after idle_timeout), one
# that dribbles a byte at a time, oversized requests (limit and limit + 1),
# junk bytes, malformed netstrings, hostile keys for the transport and
# route maps, a client that asks and never reads, more connections than
# allowed.  After each, the daemon still answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

d=$(tmpdir)
catd_init "$d"
catd_conf "idle_timeout = 2s" "request_timeout = 2s" "max_connections = 12" "max_output = 8192" \
	"route_field = mailHost" "route_default = hub.example.com"
sed -i '/^protocol = socketmap/a max_request = 512' "$CATD_CONF"
catd_source >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith mailHost=hub-a.example.com
evil@example.com person - mailHost=hub/../rm
EOF2
catd_start || exit 1
catd_full corp.1.full.snap
catd_wait_serial 1 || { fail "snapshot not installed"; exit 1; }
C=$CATD_TOOLS/catdclient
map=$d/run/map.sock
alive() { [ "$(catd_sm recipients jsmith@example.com)" = "OK person" ]; }

# Silent clients: the others are not delayed; they go after idle_timeout.
"$C" -t 10 hold "$map" & h1=$!
"$C" -t 10 hold "$d/run/policy.sock" & h2=$!
sleep 0.3
t0=$(date +%s%N)
check "answers while silent clients hold connections" alive
t1=$(date +%s%N)
check "and at once (under 0.5 s)" test $(( (t1 - t0) / 1000000 )) -lt 500
wait "$h1"; r1=$?
wait "$h2"; r2=$?
check_eq "silent clients dropped after idle_timeout" "$r1$r2" "00"

# A slow client gets its answer.
got=$("$C" -t 5 drip "$d/run/exim.sock" $'jsmith@example.com\n')
check_eq "byte-by-byte client answered" "$got" "OK person"

# Request size: the limit is 512 bytes of netstring data.
key=$(printf 'a%.0s' $(seq 489))@example.com	# "recipients " + 501 = 512
check_eq "request of exactly max_request answered" "$(catd_sm recipients "$key")" "NOTFOUND "
key=$(printf 'a%.0s' $(seq 490))@example.com	# 513
got=$("$C" -t 3 sm "$map" recipients "$key")
check_eq "request of max_request + 1: PERM" "$got" "PERM bad request"
printf '513:%0513d,' 0 | "$C" -t 3 raw "$map" >"$d/out"
check_eq "oversize netstring: PERM, then closed" "$?:$(cat "$d/out")" "0:16:PERM bad request,"
printf '99999999999999:' | "$C" -t 3 raw "$map" >"$d/out"
check_eq "absurd length: PERM, then closed" "$?:$(cat "$d/out")" "0:16:PERM bad request,"
check "alive after oversize requests" alive

# Junk.
head -c 1000 /dev/urandom | tr '0-9' 'x' | "$C" -t 3 raw "$map" >"$d/out"
rc=$?
check "1000 junk bytes: closed" test "$rc" -eq 0
check_match "1000 junk bytes: PERM or nothing" "$(cat "$d/out")" '^(16:PERM bad request,)?$'
for junk in '05:hello,' '5:hello;' ':x,' '5x:hello,' '-1:,' '\x01\x02\x03'; do
	printf -- "$junk" | "$C" -t 3 raw "$map" >"$d/out"
	check_eq "malformed $(printf '%q' "$junk"): PERM and close" "$?:$(cat "$d/out")" \
		"0:16:PERM bad request,"
done
printf '4:abcd,' | "$C" -t 1 raw "$map" >"$d/out"
check_eq "netstring without a space: PERM, connection kept" "$?:$(cat "$d/out")" \
	"1:35:PERM bad request: expected NAME KEY,"
printf '\0\0\0:x,' | "$C" -t 3 raw "$map" >"$d/out"
check_eq "NUL bytes: PERM and close" "$?:$(cat "$d/out")" "0:16:PERM bad request,"
check "alive after junk" alive

# The transport and route maps with hostile keys: the limit and one byte
# more, a NUL byte, bytes that are not UTF-8, a next hop in the catalog
# that is not a host name.  No crash, no stall, nothing but jsmith's own
# key gets jsmith's hub, the log holds the bytes escaped.
key=$(printf 'a%.0s' $(seq 490))@example.com	# "transport " + 502 = 512
check_eq "transport: a key of exactly max_request (a local part over 64 bytes): not found" \
	"$(catd_sm transport "$key")" "NOTFOUND "
key=$(printf 'a%.0s' $(seq 491))@example.com	# 513
check_eq "transport: max_request + 1: PERM" \
	"$("$C" -t 3 sm "$map" transport "$key")" "PERM bad request"
check_eq "transport: jsmith's hub, an unusable next hop is TEMP" \
	"$(catd_sm transport jsmith@example.com evil@example.com)" \
	"$(printf 'OK relay:[hub-a.example.com]\nTEMP unusable next hop in the catalog')"
printf '33:transport jsmith\0@example.com\0\xff\xfe\x01,' |
	"$C" -t 3 raw "$map" >"$d/out"
check_match "transport: a key with NUL bytes is not jsmith's" \
	"$(tr '\0' '@' <"$d/out")" '^[0-9]+:(NOTFOUND|PERM|TEMP)'
printf '31:transport \xff\xfe\xc0\x80smith@example.com,' |
	"$C" -t 3 raw "$map" >"$d/out"
check_match "transport: a key that is not UTF-8 is no address" \
	"$(cat "$d/out")" '^[0-9]+:(NOTFOUND|PERM) ?[^,]*,$'
got=$(for k in $'\xff@example.com' jsmith@example.com 'jsmith@[127.0.0.1]'; do
	printf 'route %s\n' "$k" | "$C" -t 3 -s raw "$d/run/exim.sock"; done)
check_eq "readsocket route: junk not found, jsmith's hub, a literal not found" \
	"$(echo $got)" 'NOTFOUND OK hub-a.example.com NOTFOUND'
check_eq "the log holds no raw byte over 0x7e or control byte" \
	"$(LC_ALL=C grep -c $'[\x80-\xff\x01]' "$CATD_LOG")" 0
check "alive after hostile transport keys" alive

# Pipelined burst of 2000 requests in one write.
keys=$(for i in $(seq 2000); do echo jsmith@example.com; done)
got=$("$C" -t 10 sm "$map" recipients $keys | sort | uniq -c | awk '{print $1, $2, $3}')
check_eq "2000 pipelined requests all answered" "$got" "2000 OK person"

# Readsocket and policy limits.
got=$(head -c 3000 /dev/zero | tr '\0' 'a' | "$C" -t 3 raw "$d/run/exim.sock")
check_eq "readsocket: over-long line refused" "$?:$got" "0:PERM request too long"
head -c 20000 /dev/zero | tr '\0' 'a' | "$C" -t 3 raw "$d/run/policy.sock" >"$d/out"
check_eq "policy: oversize request closed without reply" "$?:$(cat "$d/out")" "0:"
head -c 1000 /dev/urandom | "$C" -t 3 raw "$d/run/policy.sock" >"$d/out"
check "policy: junk closed" test $? -eq 0
printf 'status\n%s\n' "$(head -c 2000 /dev/zero | tr '\0' 'x')" |
	"$C" -t 3 raw "$d/run/ctl.sock" >"$d/out"
check "control: over-long line closed" test $? -eq 0
check "alive after the protocol limits" alive

# A client that never reads is dropped.
"$C" -t 8 flood "$map" 1000000 2>"$d/flood"
check_eq "client that never reads is disconnected" "$?" 0
check "alive after the flood" alive

check "daemon process still there" kill -0 "$CATD_PID"
check_eq "no crash in the log" "$(grep -ci 'panic\|fatal' "$CATD_LOG")" 0

# Connection limits, per socket (max_connections = 12 for each lookup
# socket, control sockets apart), with the default idle_timeout.
catd_stop
catd_conf "max_connections = 12" "request_timeout = 2s"
catd_start || exit 1
sopen() {	# SOCKET-NAME: "N open (limit L), E evicted" from dircat status
	"$DIRCAT_BIN/dircat" status -c "$CATD_CONF" |
		sed -n "s/^socket $1: [a-z]*, //p"
}
"$C" -t 20 hold "$map" & first=$!
wait_for 5 sh -c "[ \"\$(\"$DIRCAT_BIN/dircat\" status -c \"$CATD_CONF\" | grep -c '^socket map: socketmap, 1 open')\" = 1 ]"
pids=()
for i in $(seq 11); do "$C" -t 20 hold "$map" & pids+=($!); done
_twelve() { [ "$(sopen map)" = "12 open (limit 12), 0 evicted" ]; }
check "12 connections (the limit) held, none closed" wait_for 5 _twelve
check_match "dircat status answers while the map socket is full" \
	"$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")" '^daemon: running'
check_eq "the 13th client (limit + 1) is answered" \
	"$(catd_sm recipients jsmith@example.com)" "OK person"
wait "$first"
check_eq "to make room, the connection idle the longest was closed" "$?" 0
_eleven() { [ "$(sopen map)" = "11 open (limit 12), 1 evicted" ]; }
check "only that one: 11 left, 1 evicted" wait_for 5 _eleven
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || echo gone; done >"$d/gone"
check_eq "the other held connections are still open" "$(cat "$d/gone")" ""
for p in "${pids[@]}"; do stop_pid "$p"; wait "$p" 2>/dev/null; done
check_match "the socket map warned that it was full" "$(cat "$CATD_LOG")" \
	'socket map: max_connections reached: closing the connection idle for the longest'

# request_timeout (2 s) counts from a request's first byte: a request
# dripped in over a third of a second is answered; one a byte every half
# second is closed after 2 s although bytes keep coming, as is a policy
# request whose attribute block never ends.
got=$("$C" -t 5 drip "$d/run/exim.sock" $'jsmith@example.com\n')
check_eq "request completed within request_timeout: answered" "$got" "OK person"
"$CATD_TOOLS/sockattack" -s "$map" -m trickle -c 1 -i 0.5 -d 3.6 -R 5000 >"$d/trickle"
check_match "trickle: still open after 1 s (under request_timeout)" \
	"$(sed -n 's/^at=1\.0 //p' "$d/trickle")" 'closed_by_server=0'
check_match "trickle: closed once request_timeout passed, bytes or not" \
	"$(grep '^RESULT' "$d/trickle")" 'closed_by_server=1 '
"$CATD_TOOLS/sockattack" -s "$d/run/policy.sock" -m policy -c 1 -i 0.5 -d 3.6 \
	-R 5000 >"$d/trickle"
check_match "endless policy request: closed after request_timeout" \
	"$(grep '^RESULT' "$d/trickle")" 'closed_by_server=1 '
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")
check_match "status counts evictions and request timeouts" "$st" \
	"connections: [0-9]+ open, [0-9]+ accepted, 1 evicted, 0 refused, [0-9]+ idle timeouts, 2 request timeouts"
check "daemon process still there" kill -0 "$CATD_PID"

# The connection settings at their limits (catalogd -t: N accepted,
# N + 1 refused with the file and line).
catd_t() { "$DIRCAT_BIN/catalogd" -c "$CATD_CONF" -t 2>&1; }
catd_conf "max_connections = 65536" "request_timeout = 1s"
check_match "max_connections = 65536, request_timeout = 1s: accepted" \
	"$(catd_t)" '\[socket map\] socketmap .* max_connections 65536$'
catd_conf "max_connections = 65537"
check_match "max_connections = 65537: refused" "$(catd_t)" \
	'catalogd.conf:[0-9]+: max_connections: .*65536'
catd_conf "request_timeout = 0s"
check_match "request_timeout = 0s: refused" "$(catd_t)" \
	'request_timeout.*at least 1s'
catd_conf "max_connections = 65536"
printf 'max_connections = 65536\n' >>"$CATD_CONF"	# the control socket
check_match "sockets adding up to 262144 connections: accepted" "$(catd_t)" \
	'262144 connections on all sockets together'
printf '[socket extra]\npath = %s\nprotocol = socketmap\nmax_connections = 1\n' \
	"$d/run/extra.sock" >>"$CATD_CONF"
check_match "262145: refused" "$(catd_t)" \
	'catalogd.conf:[0-9]+: max_connections: the sockets together allow more than 262144'
catd_conf
sed -i '/^protocol = control$/a max_connections = 0' "$CATD_CONF"
check_match "a socket's max_connections = 0: refused" "$(catd_t)" \
	'catalogd.conf:[0-9]+: max_connections'
catd_conf "internal_networks = 10.0.0.0/8, ::/0"
check_match "internal_networks with ::/0: accepted with a warning" "$(catd_t)" \
	'warning: .*internal_networks holds ::/0: every client counts as internal'
catd_conf "internal_networks = 10.0.0.0/8"
check_eq "internal_networks = 10.0.0.0/8: no warning" "$(catd_t | grep -c 'counts as internal')" 0
catd_conf "max_connections = 1000" "request_timeout = 2s"

# Out of file descriptors (hard limit 40, max_connections 1000): the
# daemon warns at start, makes room for new clients by closing the
# connections idle the longest, does not spin, still answers dircat
# status, and serves as before once connections go.
catd_stop
prlimit --nofile=40:40 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$DIRCAT_BIN/catalogd" -c "$CATD_CONF" -f >>"$CATD_LOG" 2>&1 &
CATD_PID=$!
track_pid "$CATD_PID"
wait_for 10 _catd_ready
check_match "warns about a low descriptor limit" "$(cat "$CATD_LOG")" \
	"file descriptor limit 40 is below the sockets' max_connections"
pids=()
for i in $(seq 45); do "$C" -t 6 hold "$map" & pids+=($!); done
sleep 1
cpu1=$(awk '{print $14 + $15}' /proc/$CATD_PID/stat)
sleep 1
cpu2=$(awk '{print $14 + $15}' /proc/$CATD_PID/stat)
check "no busy loop while out of descriptors ($((cpu2 - cpu1)) ticks in 1 s)" \
	test $((cpu2 - cpu1)) -lt 20
check_match "says it ran out" "$(cat "$CATD_LOG")" "out of file descriptors"
check_match "dircat status answers while out of descriptors" \
	"$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")" '^daemon: running'
check "a lookup is answered while out of descriptors" alive
for p in "${pids[@]}"; do wait "$p"; done
check "serves again afterwards" wait_for 5 alive
