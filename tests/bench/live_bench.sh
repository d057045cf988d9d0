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
# before the LDAP write) to the first lookup that answers the new value:
# socketmap via catalogd, or ldap: on the consumer, asked every
# millisecond over one kept connection (tests/bench/lookpoll.c, as
# Postfix's smtpd and proxymap keep theirs), started and answering the old
# value before the write; `postmap -q` then confirms each answer.  Single
# changes (adds, then deletes) one at a time with a quiet second between
# them, one unmeasured change first on every path; then a burst of 1,000
# adds in one ldapmodify.  For each single add through the watch mode,
# where the time went: LDAP write -> the aggregator has the change ->
# serial committed (watch_status_file) -> signed delta in the spool ->
# file in the node's inbox -> installed (INBOX/status rewritten) ->
# answered, the middle three from inotify (tests/bench/stepwatch.c).
# Also: the watch's initial full refresh (time, peak memory), its memory,
# CPU and the operations the directory server carries out (cn=Monitor)
# while nothing changes, and the triggered batch cycle.
#
# The syncrepl consumer is loaded with slapadd from the provider's own
# entries (slapcat, the consumer's filter and attributes) and the
# provider's contextCSN: syncrepl then starts from that cookie, as a
# consumer that had copied the directory itself would restart, instead
# of copying 1,000,000 entries one by one.  As root; data generation
# under nice.  STRACE=1: strace -f -ttt -T logs of the replicator,
# catalogd and the aggregator in the kept directory (with KEEP_BENCH;
# figures not to quote).  PATHS: some of "sftp https batch ldap"; IDLE:
# seconds of the idle measurement (30); FIGS: a directory for the raw
# figures.
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
# PATHS: which of sftp https batch ldap to measure (all by default; the
# others' rows then say "-")
PATHS=" ${PATHS:-sftp https batch ldap} "
want() { [[ $PATHS == *" $1 "* ]]; }
BENCHBIN=${DIRCAT_BENCHBIN:-$DIRCAT_TOP/build/std/bench}
export LC_ALL=C	# a dot in $EPOCHREALTIME
[ "$(id -u)" = 0 ] || { echo "live_bench: run as root" >&2; exit 2; }
for t in gendir lookpoll stepwatch; do
	[ -x "$BENCHBIN/$t" ] || [ -n "${DIRCAT_BENCHBIN:-}" ] ||
		make -s -C "$DIRCAT_TOP" "build/std/bench/$t" >&2 || exit 1
	[ -x "$BENCHBIN/$t" ] || { echo "live_bench: no $BENCHBIN/$t" >&2; exit 1; }
done
d=$(mktemp -d /tmp/dircat-livebench.XXXXXX)
chmod 755 "$d"
[ -n "${KEEP_BENCH:-}" ] || _test_dirs+=("$d")
say() { printf '%s live_bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { echo "$EPOCHREALTIME"; }
B=dc=example,dc=com
FILTER='(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))'
mkdir -p "$d/pfq"
echo "compatibility_level = 3.6" >"$d/pfq/main.cf"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the internal side -------------------------------------------------
say "generating $N entries (nice)"
t_start=$(now)
nice -n 19 "$BENCHBIN/gendir" "$N" 42 >"$d/dir.ldif"
say "loading the provider (slapadd)"
SLAPD_SYNCPROV=1 SLAPD_MONITOR=1 SLAPD_EXTRA_INDEX="mail eq" \
	slapd_start "$d/slapd" unlimited "$d/dir.ldif" >"$d/slapd-start.log" 2>&1 ||
	{ echo "live_bench: slapd failed" >&2; cat "$d/slapd-start.log" >&2; exit 1; }
PROV_URI=$SLAPD_URI PROV_PORT=$SLAPD_PORT PROV_ROOTPW=$SLAPD_ROOTPW
provider_load_s=$(awk -v a="$(now)" -v b="$t_start" 'BEGIN { printf "%.0f", a - b }')
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
# STRACE=1: follow a process (it ends with it)
trace() {	# PID NAME
	[ -n "${STRACE:-}" ] || return 0
	strace -f -ttt -T -o "$d/$2.strace" -p "$1" 2>/dev/null &
	sleep 0.5
}
trace "$PL_CATD_PID" catalogd
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
wait_for 900 grep -qx serial=1 "$PL_NODE/inbox/status" ||
	{ echo "live_bench: the node did not install serial 1" >&2; exit 1; }
MAP="socketmap:unix:$PL_MAPSOCK:recipients"

# --- the anchor: a filtered syncrepl consumer in the "DMZ" -----------------
say "the syncrepl consumer: the provider's entries through its filter (slapcat | slapadd)"
CONS=$d/consumer
mkdir -p "$CONS/db"
CONS_PORT=$(free_port)
CONS_ATTRS="mail,objectClass,uid"
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
	searchbase="$B" filter="(&$FILTER(mail=*))" attrs="$CONS_ATTRS"
	bindmethod=simple binddn="cn=admin,$B" credentials=rootsecret
	retry="1 +"
access to * by * read
CONF
t0=$(now)
# What the consumer would have copied: the entries its filter selects,
# with its attributes and the two syncrepl keeps (entryUUID, entryCSN),
# and the containers above them; on the suffix, the provider's
# contextCSN, the cookie syncrepl starts from (nothing has been written
# since slapadd).
ctxcsn() {	# URI [BIND OPTIONS]
	ldapsearch -x -LLL -H "$@" -b "$B" -s base contextCSN 2>/dev/null | sed -n 's/^contextCSN: //p'
}
# slapadd leaves the provider without one until its first write.
printf 'dn: %s\nchangetype: modify\nreplace: description\ndescription: benchmark\n\n' "$SLAPD_BINDDN" |
	ldapmodify -x -H "$PROV_URI" -D "$SLAPD_ROOTDN" -y "$PROV_ROOTPW" >/dev/null
prov_csn=$(ctxcsn "$PROV_URI" -D "$SLAPD_ROOTDN" -y "$PROV_ROOTPW")
[ -n "$prov_csn" ] || { echo "live_bench: the provider has no contextCSN" >&2; exit 1; }
slapcat -f "$d/slapd/slapd.conf" -b "$B" -o ldif_wrap=no \
	-a "(|(&$FILTER(mail=*))(objectClass=organizationalUnit)(objectClass=dcObject))" 2>"$CONS/slapcat.log" |
	awk -v keep="dn,objectclass,mail,uid,ou,dc,o,entryuuid,entrycsn" -v base="dn: $B" -v csn="$prov_csn" '
		BEGIN { n = split(keep, k, ","); for (i = 1; i <= n; i++) want[k[i]] = 1 }
		/^$/ { print; next }
		/^ / { if (on) print; next }
		{ a = tolower($0); sub(/[:;].*/, "", a); on = (a in want); if (on) print
		  if ($0 == base) print "contextCSN: " csn }' >"$CONS/consumer.ldif"
nice -n 10 slapadd -q -s -f "$CONS/slapd.conf" -l "$CONS/consumer.ldif" >"$CONS/slapadd.log" 2>&1 ||
	{ echo "live_bench: consumer slapadd failed" >&2; cat "$CONS/slapadd.log" >&2; exit 1; }
slapd -f "$CONS/slapd.conf" -h "ldap://127.0.0.1:$CONS_PORT/" >"$CONS/slapd.log" 2>&1
wait_for 10 test -s "$CONS/slapd.pid"
track_pid "$(cat "$CONS/slapd.pid")"
wait_for 60 ldapsearch -x -H "ldap://127.0.0.1:$CONS_PORT/" -b "" -s base
cat >"$d/ldap.cf" <<CONF
server_host = ldap://127.0.0.1:$CONS_PORT/
version = 3
search_base = $B
query_filter = (mail=%s)
result_attribute = mail
CONF
cons_entries=$(grep -c '^dn: ' "$CONS/consumer.ldif")
cons_sync=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.0f", a - b }')
cons_size=$(du -sm "$CONS/db" | cut -f1)
[ "$(ctxcsn "ldap://127.0.0.1:$CONS_PORT/")" = "$prov_csn" ] ||
	{ echo "live_bench: the consumer's contextCSN is not the provider's" >&2; exit 1; }

# --- helpers --------------------------------------------------------------
# The two instruments (they sleep in poll or nanosleep, and do little
# when awake) run with a real-time priority, so that on a busy machine
# they see an answer or a file when it comes, not when the scheduler
# gets round to them.
RT=
chrt -f 1 true 2>/dev/null && RT="chrt -f 1"
ldapw() { ldapmodify -x -H "$PROV_URI" -D "$SLAPD_ROOTDN" -y "$PROV_ROOTPW" >>"$d/ldap.log" 2>&1; }
found() {	# MAP ADDRESS: 0 when the map answers it
	postmap -c "$d/pfq" -q "$2" "$1" >/dev/null 2>&1
}
# The lookups, for lookpoll and for postmap: sm (catalogd's socketmap)
# or ldap (the consumer).
poll_args() {	# KIND
	case $1 in
	sm) echo "socketmap $PL_MAPSOCK recipients" ;;
	ldap) echo "ldap ldap://127.0.0.1:$CONS_PORT/ $B" ;;
	esac
}
map_of() { case $1 in sm) echo "$MAP" ;; ldap) echo "ldap:$d/ldap.cf" ;; esac; }
# poll_start KIND ADDRESS found|gone SECONDS: a poller asking until the
# answer is there, already answering (the old value) on return.
poll_start() {
	local i
	rm -f "$d/poll.out" "$d/poll.rdy"
	# shellcheck disable=SC2046
	$RT "$BENCHBIN/lookpoll" $(poll_args "$1") "$2" "$3" "$4" >"$d/poll.out" 2>"$d/poll.rdy" &
	POLL_PID=$!
	for i in $(seq 5000); do
		grep -q ready "$d/poll.rdy" 2>/dev/null && return 0
		kill -0 "$POLL_PID" 2>/dev/null || break
		sleep 0.001
	done
	echo "live_bench: lookpoll did not start: $(cat "$d/poll.rdy")" >&2
	exit 1
}
# poll_end KIND ADDRESS found|gone: TANS, the Unix time of the answer (or
# of giving up: then a line in $d/timeouts); postmap -q must agree.  Not
# in a subshell: the poller is this shell's child.
poll_end() {
	local rc=0
	wait "$POLL_PID" || rc=$?
	[ "$rc" = 0 ] || echo "$1 $2 $3 rc=$rc" >>"$d/timeouts"
	if [ "$3" = found ]; then found "$(map_of "$1")" "$2" || echo "$1 $2 $3" >>"$d/postmap-disagrees"
	else ! found "$(map_of "$1")" "$2" || echo "$1 $2 $3" >>"$d/postmap-disagrees"; fi
	TANS=$(cat "$d/poll.out")
}
add_ldif() { printf 'dn: uid=%s,ou=people,%s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: %s\ncn: L\nsn: L\nmail: %s@example.com\n\n' "$1" "$B" "$1" "$1"; }
del_ldif() { printf 'dn: uid=%s,ou=people,%s\nchangetype: delete\n\n' "$1" "$B"; }
stat_of() { sed -n "s/^$1=//p" "$PL_INT/watch.status"; }
# stats FILE [DECIMALS]: "p50 p95 min max n" of one number (seconds) a
# line, in ms
stats() {
	sort -n "$1" | awk -v dec="${2:-0}" '{ v[NR] = $1 } END { if (!NR) { print "- - - - 0"; exit }
		p50 = v[int((NR + 1) / 2)]; i95 = int(NR * 0.95 + 0.999); if (i95 > NR) i95 = NR
		f = "%." dec "f"
		printf f " " f " " f " " f " %d\n", p50 * 1000, v[i95] * 1000, v[1] * 1000, v[NR] * 1000, NR }'
}
# step_at LABEL REGEX AFTER: the first time stepwatch saw a name matching
# REGEX in LABEL's directory at or after AFTER (empty: none)
step_at() {
	awk -v l="$1" -v re="$2" -v t="$3" '$2 == l && $3 ~ re && $1 >= t { print $1; exit }' "$d/steps.log"
}

# one KIND NAME ADDRESS found|gone LDIF: one change, timed; appends the
# latency to NAME and the write's own time to NAME.write; sets T0, TANS.
one() {
	local t1
	poll_start "$1" "$3" "$4" 60
	T0=$(now)
	ldapw <"$5"
	t1=$(now)
	poll_end "$1" "$3" "$4"
	awk -v a="$TANS" -v b="$T0" 'BEGIN { printf "%.6f\n", a - b }' >>"$d/$2"
	awk -v a="$t1" -v b="$T0" 'BEGIN { printf "%.6f\n", a - b }' >>"$d/$2.write"
}

# singles NAME KIND [parts]: one unmeasured add, then SINGLES adds and
# SINGLES deletes, one at a time, a quiet second apart; latencies into
# NAME.add and NAME.del, and with "parts" where each add's time went
# into NAME.parts (seconds: write->arrival, ->commit, ->the replicator
# starts writing the delta, ->signed in the spool, ->in the inbox,
# ->answered).
singles() {
	local name=$1 kind=$2 i a ser arr pub tp sp ib
	: >"$d/$name.add"; : >"$d/$name.del"; : >"$d/$name.parts"
	: >"$d/$name.add.write"; : >"$d/$name.del.write"
	add_ldif "${name}warm" >"$d/one.ldif"
	one "$kind" "$name.warm" "${name}warm@example.com" found "$d/one.ldif"
	sleep 1
	for i in $(seq "$SINGLES"); do
		a=$name$i
		add_ldif "$a" >"$d/one.ldif"
		[ -n "${3:-}" ] && ser=$(stat_of serial)
		one "$kind" "$name.add" "$a@example.com" found "$d/one.ldif"
		if [ -n "${3:-}" ]; then
			# The aggregator writes its status file after telling the
			# replicator: the node can answer first.
			for _ in $(seq 500); do [ "$(stat_of serial)" != "$ser" ] && break; sleep 0.01; done
			ser=$(stat_of serial) arr=$(stat_of last_change) pub=$(stat_of last_publish)
			# the delta's temporary file appears, is renamed into
			# the spool signed, appears complete in the inbox
			tp=$(step_at spool "[.-]$ser[.](delta|full)[.]snap[.]tmp[.]" "$pub")
			sp=$(step_at spool "[.-]$ser[.](delta|full)[.]snap\$" "${tp:-$pub}")
			ib=$(step_at inbox "[.-]$ser[.](delta|full)[.]snap\$" "${sp:-$pub}")
			awk -v t0="$T0" -v arr="$arr" -v pub="$pub" -v tp="${tp:-}" -v sp="${sp:-}" \
			    -v ib="${ib:-}" -v ans="$TANS" 'BEGIN {
				printf "%.6f %.6f", arr - t0, pub - arr
				if (tp == "" || sp == "" || ib == "") printf " - - - -\n"
				else printf " %.6f %.6f %.6f %.6f\n", tp - pub, sp - tp, ib - sp, ans - ib }' >>"$d/$name.parts"
		fi
		sleep 1
	done
	for i in $(seq "$SINGLES"); do
		a=$name$i
		del_ldif "$a" >"$d/one.ldif"
		one "$kind" "$name.del" "$a@example.com" gone "$d/one.ldif"
		sleep 1
	done
}
# burst NAME KIND: BURST adds in one ldapmodify; NAME.burst gets "seconds
# to the last answer, seconds ldapmodify took"
burst() {
	local t0 t1 i
	for i in $(seq "$BURST"); do add_ldif "${1}b$i"; done >"$d/burst.ldif"
	poll_start "$2" "${1}b$BURST@example.com" found 600
	t0=$(now)
	ldapw <"$d/burst.ldif"
	t1=$(now)
	poll_end "$2" "${1}b$BURST@example.com" found
	awk -v a="$TANS" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.6f %.6f\n", a - t0, t1 - t0 }' >"$d/$1.burst"
}
mem() {	# PID: "VmHWM RssAnon RssFile" in MB
	awk '/^(VmHWM|RssAnon|RssFile):/ { v[$1] = int($2 / 1024) }
		END { print v["VmHWM:"], v["RssAnon:"], v["RssFile:"] }' "/proc/$1/status"
}
# Operations the provider has started (cn=Monitor), this search included:
# "searches writes" (writes: add, modify, delete, modrdn).
ops() {
	ldapsearch -x -LLL -o ldif_wrap=no -H "$PROV_URI" -D "$SLAPD_ROOTDN" -y "$PROV_ROOTPW" \
		-b "cn=Operations,cn=Monitor" -s one monitorOpInitiated 2>/dev/null |
		awk '/^dn: / { op = tolower($2) } /^monitorOpInitiated: / { n[op] = $2 }
			END { print n["cn=search,cn=operations,cn=monitor"] + 0, n["cn=add,cn=operations,cn=monitor"] + n["cn=modify,cn=operations,cn=monitor"] + n["cn=delete,cn=operations,cn=monitor"] + n["cn=modrdn,cn=operations,cn=monitor"] }'
}

# --- watch mode ----------------------------------------------------------
$RT "$BENCHBIN/stepwatch" spool="$PL_INT/spool" inbox="$PL_NODE/inbox" >"$d/steps.log" 2>"$d/stepwatch.err" &
track_pid "$!"
wait_for 10 grep -q ready "$d/stepwatch.err" || { echo "live_bench: stepwatch failed" >&2; exit 1; }
say "watch mode: initial full refresh of $N entries"
t0=$(now)
"$DIRCAT_BIN/dircat-aggregator" -c "$WATCH_CONF" --watch >"$d/watch.log" 2>&1 &
AGG_PID=$!
track_pid "$AGG_PID"
wait_for 3600 grep -q '^source.bench=following' "$PL_INT/watch.status"
wait_for 3600 grep -q 'refresh done' "$d/watch.log"
refresh_s=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
sleep 1
read -r refresh_hwm refresh_anon refresh_file <<<"$(mem "$AGG_PID")"
trace "$AGG_PID" aggregator
catalog_mb=$(du -m "$PL_INT/catalog.mdb" | cut -f1)

# single changes and a burst through one replicator transport
run_watch() {	# NAME REPLICATOR-CONF
	local name=$1 conf=$2 c0
	printf 'notify_socket = %s\nwatch_interval = 1m\n' "$NOTIFY" | cat - "$conf" >"$conf.w"
	"$DIRCAT_BIN/dircat-replicator" -c "$conf.w" -w >"$d/rep-$name.log" 2>&1 &
	REP_PID=$!
	track_pid "$REP_PID"
	trace "$REP_PID" "replicator-$name"
	wait_for 10 test -S "$NOTIFY"
	sleep 2
	singles "$name" sm parts
	c0=$(stat_of commits)
	burst "$name" sm
	# serials the burst took, and how far the commit of the last one
	# trailed its change's arrival
	echo "$(( $(stat_of commits) - c0 )) $(awk -v a="$(stat_of last_publish)" -v b="$(stat_of last_change)" 'BEGIN { printf "%.4f", a - b }')" >>"$d/$name.burst"
	stop_pid "$REP_PID"
}
say "watch mode over sftp: $SINGLES adds, $SINGLES deletes, a burst of $BURST"
want sftp && run_watch sftp "$REP_SFTP"
want https && say "watch mode over https" && run_watch https "$REP_HTTPS"

# idle: CPU, memory, and what the directory server does meanwhile
IDLE=${IDLE:-30}
say "idle for $IDLE s"
sleep 2
cpu0=$(awk '{ print $14 + $15 }' "/proc/$AGG_PID/stat")
# bytes acknowledged and received on the aggregator's connections (ss -i
# puts them on the line after the one naming the process)
bytes() {
	ss -tnpi "dport = :$PROV_PORT" 2>/dev/null | awk -v p="pid=$AGG_PID," '
		index($0, p) { g = 1; next }
		g { for (i = 1; i <= NF; i++) if ($i ~ /^bytes_(acked|received):/) { split($i, a, ":"); s += a[2] }; g = 0 }
		END { print s + 0 }'
}
conns=$(ss -tnp "dport = :$PROV_PORT" 2>/dev/null | grep -c "pid=$AGG_PID,")
read -r s0 w0 <<<"$(ops)"
b0=$(bytes)
sleep "$IDLE"
cpu1=$(awk '{ print $14 + $15 }' "/proc/$AGG_PID/stat")
b1=$(bytes)
read -r s1 w1 <<<"$(ops)"
idle_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v s="$IDLE" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
idle_ticks=$((cpu1 - cpu0))
idle_bytes=$((b1 - b0))
# the second count of searches includes the first one (cn=Monitor)
idle_searches=$((s1 - s0 - 1)) idle_writes=$((w1 - w0))
read -r hwm anon file <<<"$(mem "$AGG_PID")"
stop_pid "$AGG_PID"

# --- the batch cycle, triggered right after the write --------------------
say "batch: $BATCH_RUNS triggered cycles (a full read each)"
: >"$d/batch.add"
runs=$BATCH_RUNS
want batch || runs=0
for i in $(seq "$runs"); do
	add_ldif "batch$i" >"$d/one.ldif"
	poll_start sm "batch$i@example.com" found 600
	t0=$(now)
	ldapw <"$d/one.ldif"
	"$DIRCAT_BIN/dircat-aggregator" -c "$PL_AGG_CONF" >>"$d/agg.log" 2>&1
	"$DIRCAT_BIN/dircat-replicator" -c "$REP_SFTP" >>"$d/rep.log" 2>&1
	poll_end sm "batch$i@example.com" found
	awk -v a="$TANS" -v b="$t0" 'BEGIN { printf "%.6f\n", a - b }' >>"$d/batch.add"
done

# --- the anchor ------------------------------------------------------------
say "syncrepl consumer + ldap: table: $SINGLES adds, $SINGLES deletes, a burst"
if want ldap; then
	singles ldap ldap
	burst ldap ldap
fi
stop_pid "$(cat "$CONS/slapd.pid")"

# --- report ------------------------------------------------------------------
row() {	# LABEL FILE
	touch "$2" "$2.write"
	read -r p50 p95 mn mx n <<<"$(stats "$2")"
	echo "| $1 | $p50 | $p95 | $mn-$mx | $n | $(stats "$2.write" | cut -d' ' -f1) |"
}
burst_row() {	# LABEL FILE
	local tot wr ser trail
	[ -s "$2" ] || { echo "| $1 | - | - | - | - | - |"; return; }
	{ read -r tot wr; read -r ser trail; } <"$2"
	awk -v l="$1" -v t="$tot" -v w="$wr" -v s="${ser:--}" -v tr="${trail:-}" 'BEGIN {
		printf "| %s | %.0f | %.0f | %.0f | %s | %s |\n", l, t * 1000, w * 1000, (t - w) * 1000, s,
			tr == "" ? "-" : sprintf("%.0f", tr * 1000) }'
}
parts() {	# FILE: "| median | median ..." of each column, and of their sum
	local c
	touch "$1"
	# 7: from the aggregator having the change to the answer
	awk '$3 != "-" { print $0, $2 + $3 + $4 + $5 + $6 }' "$1" >"$1.ok"
	for c in 1 2 3 4 5 6 7; do
		printf ' %s |' "$(awk -v c="$c" '{ print $c }' "$1.ok" | { cat >"$1.col"; stats "$1.col" 1; } | cut -d' ' -f1)"
	done
	printf ' %s of %s |\n' "$(wc -l <"$1.ok")" "$(wc -l <"$1")"
}
# FIGS=DIR: the raw figures (seconds, one a line) kept there
if [ -n "${FIGS:-}" ]; then
	mkdir -p "$FIGS" && cp "$d"/*.add "$d"/*.del "$d"/*.write "$d"/*.parts "$d"/*.burst "$d/steps.log" "$FIGS/" 2>/dev/null
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cat <<MD
# Live mode: LDAP change to the lookup answering, $(date -u +%Y-%m-%d)

Machine: $cpu, $(nproc) cores; load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`tests/bench/live_bench.sh $N $SINGLES $BATCH_RUNS\` ($(awk -v a="$(now)" -v b="$t_start" 'BEGIN { printf "%.0f", (a - b) / 60 }') minutes).
Directory: $N entries (tests/bench/gendir.c), $records addresses in the catalog.
Latency: from just before ldapmodify starts to the first lookup that
answers the new value (catalogd's socketmap, or ldap: on the consumer;
asked every millisecond over one kept connection by lookpoll, then
confirmed by \`postmap -q\`: $(cat "$d/postmap-disagrees" 2>/dev/null | wc -l) disagreed, $(cat "$d/timeouts" 2>/dev/null | wc -l) timed out), in ms.
"write" is ldapmodify's own time (start, bind, the write, exit).

| path | p50 ms | p95 ms | min-max ms | changes | write p50 ms |
| --- | ---: | ---: | ---: | ---: | ---: |
$(row "watch, sftp: add" "$d/sftp.add")
$(row "watch, sftp: delete" "$d/sftp.del")
$(row "watch, https: add" "$d/https.add")
$(row "watch, https: delete" "$d/https.del")
$(row "batch (aggregator + replicator, triggered at once): add" "$d/batch.add")
$(row "syncrepl consumer + ldap: table: add" "$d/ldap.add")
$(row "syncrepl consumer + ldap: table: delete" "$d/ldap.del")

Burst of $BURST adds in one ldapmodify (one connection, one after another):

| path | last address answered, ms from the first write | ldapmodify itself, ms | after ldapmodify ended, ms | serials | last change's arrival to its commit, ms |
| --- | ---: | ---: | ---: | ---: | ---: |
$(burst_row "watch, sftp" "$d/sftp.burst")
$(burst_row "watch, https" "$d/https.burst")
$(burst_row "syncrepl consumer + ldap:" "$d/ldap.burst")

Where a single add's time goes through the watch mode (medians of each
step, ms; they need not add up to the total's median).  Arrival and
commit: the aggregator's watch_status_file; the other steps: when
stepwatch saw the delta's temporary file created in the replicator's
spool, renamed there signed, and complete in the node's inbox.

| transport | LDAP write -> aggregator has it | -> serial committed | -> replicator writing the delta (wake-up, node status read) | -> delta signed in the spool | -> in the node's inbox (upload, rename) | -> answered (catalogd wake-up, verify, install; lookup) | aggregator has it -> answered | changes with every step seen |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| sftp |$(parts "$d/sftp.parts")
| https |$(parts "$d/https.parts")

Watch mode at $N entries: initial full refresh ${refresh_s} s, peak
memory then ${refresh_hwm} MB (VmHWM; RssAnon ${refresh_anon} MB, RssFile ${refresh_file} MB: the
catalog's pages, mapped from the page cache); catalog file with
provenance ${catalog_mb} MB.  After the runs: peak ${hwm} MB (RssAnon ${anon} MB, RssFile ${file} MB).
Idle for ${IDLE} s: the aggregator used ${idle_ticks} CPU ticks (${idle_cpu}% of a CPU); the
directory server carried out ${idle_searches} searches and ${idle_writes} writes (cn=Monitor),
${idle_bytes} bytes went over ${conns} connection(s) to it (the persistent search).
First batch run: $(cut -d' ' -f1 "$d/batch0.time") s, peak RSS
$(( $(cut -d' ' -f2 "$d/batch0.time") / 1024 )) MB.  Provider loaded (gendir + slapadd) in ${provider_load_s} s.
The consumer: $cons_entries entries, loaded in ${cons_sync} s (slapcat | slapadd);
its database is ${cons_size} MB (the DMZ copy the watch mode avoids).
MD
