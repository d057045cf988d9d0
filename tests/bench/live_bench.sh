#!/bin/bash
# live_bench.sh - freshness of the watch mode at directory sizes that
# matter, side by side in one run with what sites use instead:
#
#   watch (sftp)   slapd+syncprov -> dircat-aggregator --watch ->
#                  dircat-replicator -w (sftp, connection kept) -> catalogd
#   watch (https)  the same, the replicator pushing over https (nginx)
#   batch          today's triggered cycle: dircat-aggregator (a full read)
#                  then dircat-replicator, started right after the write
#   syncrepl+ldap: a filtered syncrepl consumer slapd (the "DMZ" copy),
#                  queried by Postfix's ldap: table (the anchor)
#
# Each latency is from just before ldapmodify starts (the clock starts
# before the LDAP write) to the first `postmap -q` that answers the new
# value (socketmap via catalogd, or ldap: on the consumer), polled
# every 2 ms plus postmap's own start-up (about 3 ms).  Single changes
# (adds, then deletes) one at a time with a quiet second between them;
# then a burst of 1,000 adds in one ldapmodify.  Also: the watch's
# initial full refresh (time, peak memory), its memory and CPU while idle
# and the bytes it exchanges with the directory meanwhile, and for each
# single change where the time went (LDAP notification, catalog commit,
# then signing + transfer + install + lookup), from the aggregator's own
# status file.  As root; data generation under nice.
#
#   tests/bench/live_bench.sh [N] [SINGLES] [BATCH_RUNS]   (100000 20 3)
# Output: a Markdown report on stdout (and the raw figures in
# $KEEP_BENCH's directory when set).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
export DIRCAT_BIN=${DIRCAT_BIN:-$DIRCAT_TOP/bin}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/slapd-lib.sh"
source "$DIRCAT_TOP/tests/integration/sshd-lib.sh"
source "$DIRCAT_TOP/tests/integration/nginx-lib.sh"
source "$DIRCAT_TOP/scripts/pipeline-lib.sh"
N=${1:-100000}
SINGLES=${2:-20}
BATCH_RUNS=${3:-3}
BURST=${BURST:-1000}
BENCHBIN=${DIRCAT_BENCHBIN:-$DIRCAT_TOP/build/std/bench}
[ "$(id -u)" = 0 ] || { echo "live_bench: run as root" >&2; exit 2; }
d=$(mktemp -d /tmp/dircat-livebench.XXXXXX)
chmod 755 "$d"
_test_dirs+=("$d")
[ -n "${KEEP_BENCH:-}" ] && _test_dirs=()
say() { printf '%s live_bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
B=dc=example,dc=com
FILTER='(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))'
mkdir -p "$d/pfq"
echo "compatibility_level = 3.6" >"$d/pfq/main.cf"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the internal side -------------------------------------------------
say "generating $N entries (nice)"
nice -n 19 "$BENCHBIN/gendir" "$N" 42 >"$d/dir.ldif"
say "loading the provider (slapadd)"
SLAPD_SYNCPROV=1 SLAPD_EXTRA_INDEX="mail eq" \
	slapd_start "$d/slapd" unlimited "$d/dir.ldif" >"$d/slapd-start.log" 2>&1 ||
	{ echo "live_bench: slapd failed" >&2; cat "$d/slapd-start.log" >&2; exit 1; }
PROV_URI=$SLAPD_URI PROV_PORT=$SLAPD_PORT PROV_ROOTPW=$SLAPD_ROOTPW
PL_INT=$d/internal
mkdir -p "$PL_INT"
(cd "$PL_INT" && "$DIRCAT_BIN/dircat" keygen signer >/dev/null)
mkagg() {	# FILE [top-level lines]
	cat >"$1" <<CONF
catalog = $PL_INT/catalog.mdb
catalog_id = example
local_domains = example.com, example.org, example.net
min_records = 1
max_shrink = 100%
${2:-}
[source bench]
uri = $PROV_URI
bind_dn = $SLAPD_BINDDN
bind_password_file = $SLAPD_BINDPW
base = $B
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
}
PL_AGG_CONF=$d/batch.conf
mkagg "$PL_AGG_CONF"
WATCH_CONF=$d/watch.conf
NOTIFY=$PL_INT/notify.sock
mkagg "$WATCH_CONF" "notify_socket = $NOTIFY
watch_status_file = $PL_INT/watch.status
publish_interval = 100ms
reconcile_interval = 0"
say "first batch run"
t0=$(now)
/usr/bin/time -f "%e %M" -o "$d/batch0.time" "$DIRCAT_BIN/dircat-aggregator" -c "$PL_AGG_CONF" >>"$d/agg.log" 2>&1
records=$("$DIRCAT_BIN/dircat" dump "$PL_INT/catalog.mdb" | grep -c @)

# --- the node: catalogd, its inbox by sftp and by https ------------------
pipeline_node "$d" >"$d/node.log" 2>&1 || { echo "live_bench: node failed" >&2; tail "$d/node.log" >&2; exit 1; }
# catalogd (nobody) must read what nginx (root here) writes.
NGINX_DAV_ACCESS="user:rw group:r all:r" nginx_start "$d" "$PL_NODE/inbox" >"$d/nginx.log" 2>&1 ||
	{ echo "live_bench: nginx failed" >&2; exit 1; }
pipeline_replicator
REP_SFTP=$PL_REP_CONF
REP_HTTPS=$PL_INT/replicator-https.conf
sed -e '/^ssh_/d' -e '/^\[target/,$d' -e "s|^state_dir = .*|state_dir = $PL_INT/state-https|" \
	"$REP_SFTP" >"$REP_HTTPS"
printf '[target dmz1]\nurl = %s\nca_file = %s\n' "$NGINX_URL" "$NGINX_CA" >>"$REP_HTTPS"
say "first replication (full snapshot, $records addresses)"
"$DIRCAT_BIN/dircat-replicator" -c "$REP_SFTP" >>"$d/rep.log" 2>&1
wait_for 120 grep -qx serial=1 "$PL_NODE/inbox/status" ||
	{ echo "live_bench: the node did not install serial 1" >&2; exit 1; }
MAP="socketmap:unix:$PL_MAPSOCK:recipients"

# --- the anchor: a filtered syncrepl consumer in the "DMZ" -----------------
say "starting the syncrepl consumer (it copies the directory)"
CONS=$d/consumer
mkdir -p "$CONS/db"
CONS_PORT=$(free_port)
cat >"$CONS/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/misc.schema
include $DIRCAT_TOP/schema/dircat.schema
include $DIRCAT_TOP/tests/integration/data/test-extra.schema
pidfile $CONS/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
sizelimit unlimited
database mdb
suffix "$B"
rootdn "cn=admin,$B"
directory $CONS/db
maxsize 8589934592
index objectClass,mail,entryUUID,entryCSN eq
syncrepl rid=001 provider=$PROV_URI type=refreshAndPersist
	searchbase="$B" filter="(&$FILTER(mail=*))" attrs="mail,objectClass,uid"
	bindmethod=simple binddn="cn=admin,$B" credentials=rootsecret
	retry="1 +"
access to * by * read
CONF
slapd -f "$CONS/slapd.conf" -h "ldap://127.0.0.1:$CONS_PORT/" >"$CONS/slapd.log" 2>&1
wait_for 10 test -s "$CONS/slapd.pid"
track_pid "$(cat "$CONS/slapd.pid")"
cat >"$d/ldap.cf" <<CONF
server_host = ldap://127.0.0.1:$CONS_PORT/
version = 3
search_base = $B
query_filter = (mail=%s)
result_attribute = mail
CONF
cons_n() { ldapsearch -x -LLL -H "ldap://127.0.0.1:$CONS_PORT/" -b "$B" -E pr=1000/noprompt '(mail=*)' 1.1 2>/dev/null | grep -c '^dn:'; }
t0=$(now)
prev=-1
for i in $(seq 900); do
	cur=$(cons_n)
	[ "$cur" -gt 0 ] && [ "$cur" = "$prev" ] && break	# settled
	prev=$cur
	sleep 2
done
cons_entries=$cur
cons_sync=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.0f", a - b }')
cons_size=$(du -sm "$CONS/db" | cut -f1)

# --- helpers --------------------------------------------------------------
ldapw() { ldapmodify -x -H "$PROV_URI" -D "$SLAPD_ROOTDN" -y "$PROV_ROOTPW" >>"$d/ldap.log" 2>&1; }
found() {	# MAP ADDRESS: 0 when the map answers it
	postmap -c "$d/pfq" -q "$2" "$1" >/dev/null 2>&1
}
# lat MAP ADDRESS WANT(found|gone) T0: seconds from T0 to the answer
lat() {
	local i end
	end=$(awk -v t="$4" 'BEGIN { printf "%d", t + 30 }')
	for i in $(seq 15000); do
		[ "$(date +%s)" -ge "$end" ] && break	# 30 s: give up
		if [ "$3" = found ]; then found "$1" "$2" && break
		else found "$1" "$2" || break; fi
		sleep 0.002
	done
	awk -v a="$(now)" -v b="$4" 'BEGIN { printf "%.4f", a - b }'
}
add_ldif() { printf 'dn: uid=%s,ou=people,%s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: %s\ncn: L\nsn: L\nmail: %s@example.com\n\n' "$1" "$B" "$1" "$1"; }
del_ldif() { printf 'dn: uid=%s,ou=people,%s\nchangetype: delete\n\n' "$1" "$B"; }
stat_of() { sed -n "s/^$1=//p" "$PL_INT/watch.status"; }
# stats FILE: "p50 p95 min max n" of one number a line
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { if (!NR) { print "- - - - 0"; exit }
		p50 = v[int((NR + 1) / 2)]; i95 = int(NR * 0.95 + 0.999); if (i95 > NR) i95 = NR
		printf "%.0f %.0f %.0f %.0f %d\n", p50 * 1000, v[i95] * 1000, v[1] * 1000, v[NR] * 1000, NR }'
}

# singles NAME MAP [parts]: SINGLES adds then SINGLES deletes, one at a
# time, a quiet second apart; latencies into NAME.add and NAME.del, and
# with "parts" where each add's time went into NAME.parts.
singles() {
	local name=$1 map=$2 i t0 a
	: >"$d/$name.add"; : >"$d/$name.del"; : >"$d/$name.parts"
	for i in $(seq "$SINGLES"); do
		a=$name$i
		add_ldif "$a" >"$d/one.ldif"
		t0=$(now)
		ldapw <"$d/one.ldif"
		lat "$map" "$a@example.com" found "$t0" >>"$d/$name.add"
		echo >>"$d/$name.add"
		# LDAP (write -> arrival), commit (arrival -> publish), the
		# rest (publish -> answer)
		[ -n "${3:-}" ] && awk -v t0="$t0" -v arr="$(stat_of last_change)" \
		    -v pub="$(stat_of last_publish)" -v tot="$(tail -n 1 "$d/$name.add")" \
		    'BEGIN { printf "%.4f %.4f %.4f\n", arr - t0, pub - arr, t0 + tot - pub }' >>"$d/$name.parts"
		sleep 1
	done
	for i in $(seq "$SINGLES"); do
		a=$name$i
		del_ldif "$a" >"$d/one.ldif"
		t0=$(now)
		ldapw <"$d/one.ldif"
		lat "$map" "$a@example.com" gone "$t0" >>"$d/$name.del"
		echo >>"$d/$name.del"
		sleep 1
	done
}
# burst NAME MAP: BURST adds in one ldapmodify; NAME.burst gets "seconds
# to the last answer, seconds ldapmodify took"
burst() {
	local t0 t1 i
	for i in $(seq "$BURST"); do add_ldif "${1}b$i"; done >"$d/burst.ldif"
	t0=$(now)
	ldapw <"$d/burst.ldif"
	t1=$(now)
	lat "$2" "${1}b$BURST@example.com" found "$t0" >"$d/$1.burst"
	awk -v a="$t1" -v b="$t0" 'BEGIN { printf " %.4f", a - b }' >>"$d/$1.burst"
}

# --- watch mode ----------------------------------------------------------
say "watch mode: initial full refresh of $N entries"
t0=$(now)
"$DIRCAT_BIN/dircat-aggregator" -c "$WATCH_CONF" --watch >"$d/watch.log" 2>&1 &
AGG_PID=$!
track_pid "$AGG_PID"
wait_for 1800 grep -q '^source.bench=following' "$PL_INT/watch.status"
wait_for 1800 bash -c "grep -q 'refresh done' '$d/watch.log'"
sleep 1
refresh_s=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
refresh_rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$AGG_PID/status")
catalog_mb=$(du -m "$PL_INT/catalog.mdb" | cut -f1)

# single changes and a burst through one replicator transport
run_watch() {	# NAME REPLICATOR-CONF
	local name=$1 conf=$2
	printf 'notify_socket = %s\nwatch_interval = 1m\n' "$NOTIFY" | cat - "$conf" >"$conf.w"
	"$DIRCAT_BIN/dircat-replicator" -c "$conf.w" -w >"$d/rep-$name.log" 2>&1 &
	REP_PID=$!
	track_pid "$REP_PID"
	wait_for 10 test -S "$NOTIFY"
	sleep 2
	singles "$name" "$MAP" parts
	burst "$name" "$MAP"
	stop_pid "$REP_PID"
}
say "watch mode over sftp: $SINGLES adds, $SINGLES deletes, a burst of $BURST"
run_watch sftp "$REP_SFTP"
say "watch mode over https"
run_watch https "$REP_HTTPS"

# idle: CPU, memory and what goes over the wire to the directory
say "idle for 10 s"
sleep 2
cpu0=$(awk '{ print $14 + $15 }' "/proc/$AGG_PID/stat")
bytes() { ss -tni "dport = :$PROV_PORT" 2>/dev/null | grep -o 'bytes_\(acked\|received\):[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'; }
conns=$(ss -tnp "dport = :$PROV_PORT" 2>/dev/null | grep -c "pid=$AGG_PID,")
b0=$(bytes)
sleep 10
cpu1=$(awk '{ print $14 + $15 }' "/proc/$AGG_PID/stat")
b1=$(bytes)
idle_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz / 10 * 100 }')
idle_bytes=$((b1 - b0))
rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$AGG_PID/status")
hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$AGG_PID/status")
stop_pid "$AGG_PID"

# --- the batch cycle, triggered right after the write --------------------
say "batch: $BATCH_RUNS triggered cycles (a full read each)"
: >"$d/batch.add"
for i in $(seq "$BATCH_RUNS"); do
	add_ldif "batch$i" >"$d/one.ldif"
	t0=$(now)
	ldapw <"$d/one.ldif"
	"$DIRCAT_BIN/dircat-aggregator" -c "$PL_AGG_CONF" >>"$d/agg.log" 2>&1
	"$DIRCAT_BIN/dircat-replicator" -c "$REP_SFTP" >>"$d/rep.log" 2>&1
	lat "$MAP" "batch$i@example.com" found "$t0" >>"$d/batch.add"
	echo >>"$d/batch.add"
done

# --- the anchor ------------------------------------------------------------
say "syncrepl consumer + ldap: table: $SINGLES adds, $SINGLES deletes, a burst"
singles ldap "ldap:$d/ldap.cf"
burst ldap "ldap:$d/ldap.cf"

# --- report ------------------------------------------------------------------
row() {	# LABEL FILE
	read -r p50 p95 mn mx n <<<"$(stats "$2")"
	echo "| $1 | $p50 | $p95 | $mn-$mx | $n |"
}
burst_row() {	# LABEL FILE
	read -r tot wr <"$2"
	awk -v l="$1" -v t="$tot" -v w="$wr" 'BEGIN { printf "| %s | %.0f | %.0f | %.0f |\n", l, t * 1000, w * 1000, (t - w) * 1000 }'
}
parts() {	# FILE: medians of the three parts
	for c in 1 2 3; do awk -v c="$c" '{ print $c }' "$1" >"$1.$c"; done
	echo "$(stats "$1.1" | cut -d' ' -f1) $(stats "$1.2" | cut -d' ' -f1) $(stats "$1.3" | cut -d' ' -f1)"
}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cat <<MD
# Live mode: LDAP change to postmap -q answering, $(date -u +%Y-%m-%d)

Machine: $cpu, $(nproc) cores; load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`tests/bench/live_bench.sh $N $SINGLES $BATCH_RUNS\`.  Directory: $N entries
(tests/bench/gendir.c), $records addresses in the catalog.  Latency: from
just before ldapmodify starts to the first \`postmap -q\` that answers
(polled every 2 ms + postmap's start-up), milliseconds.

| path | p50 ms | p95 ms | min-max ms | changes |
| --- | ---: | ---: | ---: | ---: |
$(row "watch, sftp: add" "$d/sftp.add")
$(row "watch, sftp: delete" "$d/sftp.del")
$(row "watch, https: add" "$d/https.add")
$(row "watch, https: delete" "$d/https.del")
$(row "batch (aggregator + replicator, triggered at once): add" "$d/batch.add")
$(row "syncrepl consumer + ldap: table: add" "$d/ldap.add")
$(row "syncrepl consumer + ldap: table: delete" "$d/ldap.del")

Burst of $BURST adds in one ldapmodify (one connection, one after another):

| path | last address answered, ms from the first write | ldapmodify itself, ms | after ldapmodify ended, ms |
| --- | ---: | ---: | ---: |
$(burst_row "watch, sftp" "$d/sftp.burst")
$(burst_row "watch, https" "$d/https.burst")
$(burst_row "syncrepl consumer + ldap:" "$d/ldap.burst")

Where a single add's time goes (medians, ms; from the aggregator's status
file: the wall clock when the change arrived and when its serial was
committed):

| transport | LDAP write -> notification | notification -> serial committed (incl. batching) | signing + transfer + install + lookup |
| --- | ---: | ---: | ---: |
| sftp | $(parts "$d/sftp.parts" | awk '{ print $1 " | " $2 " | " $3 }') |
| https | $(parts "$d/https.parts" | awk '{ print $1 " | " $2 " | " $3 }') |

Watch mode at $N entries: initial full refresh ${refresh_s} s (peak RSS
${refresh_rss} MB); catalog file with provenance ${catalog_mb} MB; after the runs
RSS ${rss} MB, peak ${hwm} MB; idle for 10 s: ${idle_cpu}% of a CPU, ${idle_bytes}
bytes exchanged with the directory over ${conns} connection(s) (the
persistent search).  First batch run: $(cut -d' ' -f1 "$d/batch0.time") s, peak RSS
$(( $(cut -d' ' -f2 "$d/batch0.time") / 1024 )) MB.  The consumer copied $cons_entries entries in about
${cons_sync} s; its database is ${cons_size} MB (the DMZ copy the watch mode avoids).
MD
