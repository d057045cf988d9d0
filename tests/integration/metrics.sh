#!/bin/bash
# metrics.sh - monitoring: `dircat metrics` with catalogd's live counters
# (known lookups and refusals counted exactly) and, catalogd stopped, from
# the files with dircat_catalogd_up 0; `-o` replacing its file atomically;
# `dircat status` as a Nagios plugin (OK, WARNING, CRITICAL, UNKNOWN); the
# aggregator's and the replicator's metrics_file after successful and
# failing runs.  Every exposition goes through a strict format check, and
# through promtool as well when it is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/replicator-lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
need awk slapd ldapadd flock

# prom_format FILE: the exposition rules node_exporter's textfile
# collector and Prometheus apply, strictly; prints what is wrong.
# Every line is "# HELP", "# TYPE" or a sample "name{l="v",...} value"
# (no timestamp, no other comments, no empty lines); names match
# [a-zA-Z_:][a-zA-Z0-9_:]* and start with dircat_; label names are unique
# in a sample; each family has one HELP then one TYPE (gauge or counter,
# counters ending in _total) before its samples, which follow without
# another family in between; no series twice; the file ends in a newline.
prom_format() {
	if [ ! -s "$1" ]; then echo "empty"; return 1; fi
	if [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "no newline at the end"
		return 1
	fi
	awk '
	function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; errs++ }
	/^# HELP / {
		name = $3
		if (name !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("bad name")
		if (name in help) bad("second HELP")
		help[name] = 1; pending = name; next
	}
	/^# TYPE / {
		name = $3
		if (NF != 4) bad("TYPE needs a name and a type")
		if (name != pending) bad("TYPE without its HELP right before")
		if (name in type) bad("second TYPE")
		if ($4 != "gauge" && $4 != "counter") bad("type " $4)
		if ($4 == "counter" && name !~ /_total$/) bad("counter not _total")
		if (name !~ /^dircat_/) bad("not dircat_")
		type[name] = $4; family = name; pending = ""; next
	}
	/^#/ { bad("other comment"); next }
	/^$/ { bad("empty line"); next }
	{
		line = $0
		if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { bad("no name"); next }
		name = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
		if (name != family) bad("sample outside its family " family)
		labels = " "
		if (substr(rest, 1, 1) == "{") {
			rest = substr(rest, 2)
			for (;;) {
				if (!match(rest, /^[a-zA-Z_][a-zA-Z0-9_]*="/)) {
					bad("bad label"); next
				}
				ln = substr(rest, 1, RLENGTH - 2)
				if (index(labels, " " ln " ")) bad("label twice")
				labels = labels ln " "
				rest = substr(rest, RLENGTH + 1)
				if (!match(rest, /^([^"\\\n]|\\[\\"n])*"/)) {
					bad("bad label value"); next
				}
				rest = substr(rest, RLENGTH + 1)
				c = substr(rest, 1, 1); rest = substr(rest, 2)
				if (c == "}") break
				if (c != ",") { bad("bad label list"); next }
			}
		}
		if (rest !~ /^ [-+]?([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|Inf)$/)
			bad("bad value (or a timestamp)")
		series = substr(line, 1, length(line) - length(rest))
		if (series in seen) bad("series twice")
		seen[series] = 1
	}
	END {
		if (pending != "") { NR++; bad("HELP without TYPE") }
		exit errs > 0
	}' "$1"
}

PROMTOOL=$(command -v promtool || true)
# prom_check NAME FILE
prom_check() {
	local out
	out=$(prom_format "$2" 2>&1)
	check_eq "$1: exposition format" "$out" ""
	if [ -n "$PROMTOOL" ]; then
		out=$("$PROMTOOL" check metrics <"$2" 2>&1)
		check_eq "$1: promtool check metrics" "$?:$out" "0:"
	fi
}

# mval FILE SERIES: the sample's value, or "absent".
mval() {
	awk -v s="$2" '$1 == s { print $2; f = 1; exit } END { if (!f) print "absent" }' "$1"
}

# mcheck NAME FILE SERIES=VALUE...: every series has that value.
mcheck() {
	local name=$1 file=$2 want got pair
	shift 2
	want=$(printf '%s\n' "$@")
	got=$(for pair in "$@"; do echo "${pair%=*}=$(mval "$file" "${pair%=*}")"; done)
	check_eq "$name" "$got" "$want"
}

top=$(tmpdir)
d=$top/node
catd_init "$d"
catd_conf "rescan_interval = 2s"
catd_source >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith
mjones@example.com person mjones
sales@example.com group jsmith,adm
info@example.com mailin
EOF2
dircat=$DIRCAT_BIN/dircat
metrics() { "$dircat" metrics -c "$CATD_CONF" >"$1"; }

# --- catalogd running, nothing installed yet --------------------------------
catd_start || exit 1
metrics "$top/m0.prom"
check_eq "metrics exit 0" "$?" 0
prom_check "nothing installed" "$top/m0.prom"
mcheck "nothing installed: up, serial 0, no age" "$top/m0.prom" \
	dircat_catalogd_up=1 dircat_catalog_serial=0 \
	dircat_catalog_age_seconds=absent dircat_catalog_stale=0 \
	'dircat_catalog_info{catalog_id="corp",key_id=""}=1'
out=$("$dircat" status -c "$CATD_CONF" --nagios)
check_eq "nagios: nothing installed is CRITICAL (2)" "$?:$out" \
	"2:DIRCAT CRITICAL - no catalog installed yet | records=0"

# --- a snapshot made two hours ago, known lookups ---------------------------
now=$(date +%s)
catd_full corp.1.full.snap -C $((now - 7200))
check "snapshot installed" catd_wait_serial 1
catd_sm recipients jsmith@example.com JSMITH@Example.COM info@example.com \
	nobody@example.com x@elsewhere.net >/dev/null
catd_sm senders sales@example.com nobody@example.com >/dev/null
catd_sm domains example.com example.net >/dev/null
catd_sm virtual x@example.com >/dev/null
"$dircat" lookup -c "$CATD_CONF" mjones@example.com >/dev/null
printf 'nobody@example.com\n' | "$CATD_TOOLS/catdclient" raw "$d/run/exim.sock" >/dev/null
preq() {
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b.example\nrecipient=%s\n\n' "$1"
}
{ preq jsmith@example.com; preq nobody@example.com; preq x@elsewhere.net; } |
	"$CATD_TOOLS/catdclient" -t 1 raw "$d/run/policy.sock" >/dev/null
metrics "$top/m1.prom"
prom_check "installed" "$top/m1.prom"
mcheck "lookups counted by map and result" "$top/m1.prom" \
	'dircat_catalogd_lookups_total{map="recipients",result="ok"}=4' \
	'dircat_catalogd_lookups_total{map="recipients",result="notfound"}=3' \
	'dircat_catalogd_lookups_total{map="recipients",result="temp"}=0' \
	'dircat_catalogd_lookups_total{map="recipients",result="perm"}=0' \
	'dircat_catalogd_lookups_total{map="senders",result="ok"}=1' \
	'dircat_catalogd_lookups_total{map="senders",result="notfound"}=1' \
	'dircat_catalogd_lookups_total{map="domains",result="ok"}=1' \
	'dircat_catalogd_lookups_total{map="domains",result="notfound"}=1' \
	'dircat_catalogd_lookups_total{map="unknown",result="perm"}=1'
mcheck "policy results counted" "$top/m1.prom" \
	'dircat_catalogd_policy_total{result="pass"}=2' \
	'dircat_catalogd_policy_total{result="reject"}=1' \
	'dircat_catalogd_policy_total{result="defer"}=0' \
	'dircat_catalogd_policy_total{result="noreply"}=0'
mcheck "catalog: serial and records by kind" "$top/m1.prom" \
	dircat_catalogd_up=1 dircat_catalog_serial=1 dircat_catalog_stale=0 \
	'dircat_catalog_records{kind="person"}=2' \
	'dircat_catalog_records{kind="group"}=1' \
	'dircat_catalog_records{kind="mailin"}=1' \
	'dircat_catalog_records{kind="domain"}=1' \
	'dircat_catalogd_installs_total{type="full"}=1' \
	'dircat_catalogd_installs_total{type="delta"}=0' \
	dircat_inbox_status_serial=1 dircat_inbox_snapshots=0 \
	dircat_inbox_rejected=0
check_eq "catalog: created timestamp" \
	"$(mval "$top/m1.prom" dircat_catalog_created_timestamp_seconds)" $((now - 7200))
age=$(mval "$top/m1.prom" dircat_catalog_age_seconds)
check "catalog: age about two hours ($age)" test "$age" -ge 7200 -a "$age" -le 7260
check_eq "catalog: expiry seven days after creation" \
	"$(mval "$top/m1.prom" dircat_catalog_expires_timestamp_seconds)" $((now - 7200 + 604800))
started=$(mval "$top/m1.prom" dircat_catalogd_start_timestamp_seconds)
check "start time is when catalogd started" test "$started" -ge $((now - 60)) -a "$started" -le "$now"
accepted=$(mval "$top/m1.prom" dircat_catalogd_connections_accepted_total)
check "connections counted ($accepted)" test "$accepted" -ge 8
check_match "info: key id of the installed snapshot" "$(cat "$top/m1.prom")" \
	'^dircat_catalog_info\{catalog_id="corp",key_id="[0-9a-f]{16}"\} 1$'

# --- refusals, each counted under its reason --------------------------------
put() {	# FILE NAME
	cp "$1" "$d/inbox/.up" && chmod 644 "$d/inbox/.up" && mv "$d/inbox/.up" "$d/inbox/$2"
}
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$top/good.snap" >/dev/null
"$CATD_TOOLS/mkcatalog" -i corp -N "$d/src/src.mdb" >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith
EOF2
"$CATD_TOOLS/mksnap" "$d/src/src.mdb" "$d/signer.key" "$top/good2.snap" >/dev/null
cp "$top/good2.snap" "$top/badsig.snap"
# The last byte of the signature, which follows the 256-byte header.
last=$(od -An -tx1 -j 319 -N 1 "$top/good2.snap" | tr -d ' ')
printf "\\x$([ "$last" = 00 ] && echo 01 || echo 00)" |
	dd of="$top/badsig.snap" bs=1 seek=319 conv=notrunc 2>/dev/null
put "$top/badsig.snap" corp.2.full.snap
check "bad signature refused" wait_for 15 test -e "$d/inbox/rejected/corp.2.full.snap.reason"
"$CATD_TOOLS/mksnap" -i other "$d/src/src.mdb" "$d/signer.key" "$top/other.snap" >/dev/null
put "$top/other.snap" corp.3.full.snap
check "another catalog's snapshot refused" wait_for 15 test -e "$d/inbox/rejected/corp.3.full.snap.reason"
metrics "$top/m2.prom"
prom_check "after refusals" "$top/m2.prom"
mcheck "refusals counted by reason" "$top/m2.prom" \
	'dircat_catalogd_refusals_total{reason="bad_signature"}=1' \
	'dircat_catalogd_refusals_total{reason="wrong_catalog"}=1' \
	'dircat_catalogd_refusals_total{reason="rollback"}=0' \
	'dircat_catalogd_refusals_total{reason="unknown_key"}=0' \
	'dircat_catalogd_refusals_total{reason="expired"}=0' \
	'dircat_catalogd_installs_total{type="full"}=1' \
	dircat_catalog_serial=1 dircat_inbox_rejected=2
check_eq "refusals: no other reason counted" \
	"$(awk '/^dircat_catalogd_refusals_total/ { s += $2 } END { print s }' "$top/m2.prom")" 2
check "refusals: time of the last one" \
	test "$(mval "$top/m2.prom" dircat_catalogd_last_refusal_timestamp_seconds)" -ge "$now"
check "refusals: newest file in rejected/" \
	test "$(mval "$top/m2.prom" dircat_inbox_last_rejected_timestamp_seconds)" -ge "$now"

# --- -o: the file is replaced whole ------------------------------------------
mkdir -p "$top/textfile"
"$dircat" metrics -c "$CATD_CONF" -o "$top/textfile/dircat.prom"
check_eq "-o: exit 0, nothing on stdout" "$?" 0
prom_check "-o file" "$top/textfile/dircat.prom"
check_eq "-o: same families as stdout" \
	"$(grep '^# TYPE' "$top/textfile/dircat.prom")" "$(grep '^# TYPE' "$top/m2.prom")"
check_eq "-o: mode 0644, no temporary file left" \
	"$(stat -c %a "$top/textfile/dircat.prom") $(ls "$top/textfile")" "644 dircat.prom"
# Readers never see half a file while it is rewritten again and again.
families=$(grep -c '^# TYPE' "$top/m2.prom")
( for i in $(seq 40); do
	"$dircat" metrics -c "$CATD_CONF" -o "$top/textfile/dircat.prom" || exit 1
done ) &
writer=$!
track_pid "$writer"
torn=0 reads=0
for i in $(seq 400); do
	kill -0 "$writer" 2>/dev/null || break
	n=$(grep -c '^# TYPE' "$top/textfile/dircat.prom")
	reads=$((reads + 1))
	[ "$n" = "$families" ] || torn=$((torn + 1))
done
wait "$writer"
check_eq "-o: $reads reads during 40 rewrites, none incomplete" "$?:$torn" "0:0"
"$dircat" metrics -c "$CATD_CONF" -o "$top/nosuchdir/x.prom" 2>/dev/null
check_eq "-o into a missing directory: exit 3" "$?" 3

# --- Nagios -----------------------------------------------------------------
out=$("$dircat" status -c "$CATD_CONF" --nagios)
check_eq "nagios OK (0)" "$?" 0
check_match "nagios OK line with performance data" "$out" \
	'^DIRCAT OK - catalog corp serial 1, age 72[0-9][0-9]s, 5 records \| age=72[0-9][0-9]s;; records=5$'
out=$("$dircat" status -c "$CATD_CONF" --nagios -w 1h)
check_eq "nagios: -w below the age is WARNING (1)" "$?" 1
check_match "nagios WARNING line" "$out" \
	'^DIRCAT WARNING - catalog age 72[0-9]+s over 3600s; catalog corp serial 1, .* \| age=72[0-9]+s;3600; records=5$'
out=$("$dircat" status -c "$CATD_CONF" --nagios -w 1h -C 90m)
check_eq "nagios: -C below the age is CRITICAL (2)" "$?" 2
check_match "nagios CRITICAL line" "$out" '^DIRCAT CRITICAL - catalog age .* over 5400s; .*;3600;5400 records=5$'
"$dircat" status -c "$CATD_CONF" --nagios --warning 3h --critical 1d >/dev/null
check_eq "nagios: thresholds above the age are OK (long options)" "$?" 0
out=$("$dircat" status -c "$CATD_CONF" -w 1h)
check_eq "detailed output, same exit status (1)" "$?" 1
check_match "detailed output says why" "$out" '^check: catalog age [0-9]+s over 3600s$'
check_match "detailed output is still the status" "$out" '^serial: 1$'
out=$("$dircat" status -c "$CATD_CONF" --nagios --bogus 2>/dev/null)
check_eq "nagios: unknown option is UNKNOWN (3)" "$?:$out" \
	"3:DIRCAT UNKNOWN - usage: dircat status [-c FILE] [-w AGE] [-C AGE] [--nagios]"
"$dircat" status -c "$CATD_CONF" -w soon >/dev/null 2>&1
check_eq "nagios: bad duration is UNKNOWN (3)" "$?" 3
"$dircat" status -c "$CATD_CONF" -w 2h -C 1h >/dev/null 2>&1
check_eq "nagios: -w longer than -C is UNKNOWN (3)" "$?" 3
grep -v '^\[socket control\]' "$CATD_CONF" | grep -v "ctl.sock\|protocol = control" >"$top/noctl.conf"
out=$("$dircat" status -c "$top/noctl.conf" --nagios)
check_eq "nagios: no control socket to ask is UNKNOWN (3)" "$?" 3
check_match "nagios: says so, with the catalog file's state" "$out" \
	'^DIRCAT UNKNOWN - catalogd not asked \(no control socket configured\); catalog corp serial 1, age [0-9]+s, 5 records \|'
out=$("$dircat" status -c "$top/nosuch.conf" --nagios 2>/dev/null)
check_eq "nagios: unreadable configuration is UNKNOWN (3)" "$?:${out%% -*}" "3:DIRCAT UNKNOWN"

# --- catalogd stopped: still the files --------------------------------------
catd_stop
metrics "$top/m3.prom"
check_eq "daemon down: metrics still exit 0" "$?" 0
prom_check "daemon down" "$top/m3.prom"
mcheck "daemon down: up 0, catalog from the file" "$top/m3.prom" \
	dircat_catalogd_up=0 dircat_catalog_serial=1 dircat_catalog_stale=0 \
	'dircat_catalog_records{kind="person"}=2' \
	'dircat_catalog_records{kind="group"}=1' \
	'dircat_catalog_records{kind="mailin"}=1' \
	'dircat_catalog_records{kind="domain"}=1' \
	dircat_inbox_status_serial=1 dircat_inbox_rejected=2
check "daemon down: no live counters" bash -c "! grep -q '^dircat_catalogd_lookups' '$top/m3.prom'"
check_eq "daemon down: created from the file" \
	"$(mval "$top/m3.prom" dircat_catalog_created_timestamp_seconds)" $((now - 7200))
out=$("$dircat" status -c "$CATD_CONF" --nagios)
check_eq "nagios: daemon down is CRITICAL (2)" "$?" 2
check_match "nagios: says the daemon is down, with the file's serial" "$out" \
	'^DIRCAT CRITICAL - catalogd not running \(connect .*\); catalog corp serial 1, age [0-9]+s, 5 records \|'
"$dircat" status -c "$CATD_CONF" >/dev/null
check_eq "detailed: daemon down is CRITICAL (2)" "$?" 2

# --- aggregator metrics_file -------------------------------------------------
data=$DIRCAT_TOP/tests/integration/data
ad=$top/agg
mkdir -p "$ad"
slapd_start "$ad/slapd" || { fail "slapd starts"; exit 1; }
slapd_load "$data/sample.ldif" || fail "sample directory loaded"
mkagg() {	# OUT [sed expressions]
	local out=$1; shift
	sed -e "s|@DIR@|$ad|g" -e "s|@URI@|$SLAPD_URI|g" \
	    -e "s|@BINDPW@|$SLAPD_BINDPW|g" "$@" "$data/sample.conf.in" >"$out"
	echo "metrics_file = $ad/aggregator.prom" | cat - "$out" >"$out.tmp" &&
		mv "$out.tmp" "$out"
}
mkagg "$ad/agg.conf"
am=$ad/aggregator.prom
jnum() { sed -n "s/.*\"$1\": \\([0-9]*\\).*/\\1/p" "$ad/report.json" | head -n 1; }
"$DIRCAT_BIN/dircat-aggregator" -c "$ad/agg.conf"
check_eq "aggregator: first run exit 0" "$?" 0
prom_check "aggregator success" "$am"
mcheck "aggregator success: status, catalog, source" "$am" \
	dircat_aggregator_last_run_exit_status=0 \
	dircat_aggregator_catalog_serial=1 \
	'dircat_aggregator_catalog_records{kind="person"}=10' \
	'dircat_aggregator_catalog_records{kind="group"}=1' \
	'dircat_aggregator_catalog_records{kind="mailin"}=3' \
	'dircat_aggregator_catalog_records{kind="domain"}=2' \
	dircat_aggregator_safety_gate_refused=0 \
	'dircat_aggregator_source_ok{source="corp"}=1' \
	"dircat_aggregator_source_entries{source=\"corp\"}=$(jnum entries)" \
	"dircat_aggregator_last_run_changes{change=\"added\"}=$(jnum added)" \
	'dircat_aggregator_last_run_changes{change="removed"}=0' \
	'dircat_aggregator_last_run_conflicts=1' \
	'dircat_aggregator_last_run_left_out{reason="foreign_domain"}=1' \
	'dircat_aggregator_last_run_left_out{reason="not_selected"}=5'
ok1=$(mval "$am" dircat_aggregator_last_success_timestamp_seconds)
check_eq "aggregator success: last success is this run" \
	"$(mval "$am" dircat_aggregator_last_run_timestamp_seconds)" "$ok1"
check "aggregator: some entries read" test "$(jnum entries)" -gt 0
sleep 1.1
mkagg "$ad/down.conf" -e "s|^uri = .*|uri = ldap://127.0.0.1:$(free_port)/|"
"$DIRCAT_BIN/dircat-aggregator" -c "$ad/down.conf" 2>/dev/null
check_eq "aggregator: source down exits 69" "$?" 69
prom_check "aggregator failure" "$am"
mcheck "aggregator failure: status 69, source not ok, last success kept" "$am" \
	dircat_aggregator_last_run_exit_status=69 \
	'dircat_aggregator_source_ok{source="corp"}=0' \
	"dircat_aggregator_last_success_timestamp_seconds=$ok1" \
	dircat_aggregator_catalog_serial=1 \
	'dircat_aggregator_catalog_records{kind="person"}=10' \
	dircat_aggregator_safety_gate_refused=0
check "aggregator failure: last run is later than the last success" \
	test "$(mval "$am" dircat_aggregator_last_run_timestamp_seconds)" -gt "$ok1"
mkagg "$ad/gate.conf" -e 's/^min_records = .*/min_records = 1000/'
"$DIRCAT_BIN/dircat-aggregator" -c "$ad/gate.conf" 2>/dev/null
check_eq "aggregator: gate refuses, exit 65" "$?" 65
mcheck "aggregator gate: refused 1, last success kept" "$am" \
	dircat_aggregator_last_run_exit_status=65 \
	dircat_aggregator_safety_gate_refused=1 \
	'dircat_aggregator_source_ok{source="corp"}=1' \
	"dircat_aggregator_last_success_timestamp_seconds=$ok1"
"$DIRCAT_BIN/dircat-aggregator" -c "$ad/agg.conf" -n >/dev/null
check_eq "aggregator: a dry run leaves the metrics file alone" \
	"$(mval "$am" dircat_aggregator_last_run_exit_status)" 65
"$DIRCAT_BIN/dircat-aggregator" -c "$ad/agg.conf"
check_eq "aggregator: success again" "$(mval "$am" dircat_aggregator_last_run_exit_status)" 0
check "aggregator: last success moves on" \
	test "$(mval "$am" dircat_aggregator_last_success_timestamp_seconds)" -gt "$ok1"
slapd_stop

# --- replicator metrics_file -------------------------------------------------
rep_setup "$top/rep" || { fail "replicator setup"; exit 1; }
mkdir -p "$top/in1" "$top/in2"
rep_records 1 20 | rep_catalog >/dev/null
rm=$top/rep/replicator.prom
rep_conf "$top/rep.conf" <<EOF
retries = 0
metrics_file = $rm
[target one]
url = file://$top/in1/
[target two]
url = file://$top/in2/
EOF
rep_run -c "$top/rep.conf"
check_eq "replicator: first run exit 0" "$REP_RC" 0
prom_check "replicator success" "$rm"
snap=$(stat -c %s "$REP_DIR/spool/corp.1.full.snap")
mcheck "replicator success: per target" "$rm" \
	dircat_replicator_last_run_exit_status=0 \
	dircat_replicator_catalog_serial=1 \
	dircat_replicator_targets_configured=2 \
	'dircat_replicator_targets{result="sent"}=2' \
	"dircat_replicator_sent_bytes=$((2 * snap))" \
	'dircat_replicator_target_ok{target="one"}=1' \
	'dircat_replicator_target_node_serial{target="one"}=0' \
	'dircat_replicator_target_result{target="one",result="sent"}=1' \
	'dircat_replicator_target_result{target="one",result="failed"}=0' \
	'dircat_replicator_target_sent{target="one",mode="full"}=1' \
	'dircat_replicator_target_sent{target="one",mode="delta"}=0' \
	"dircat_replicator_target_sent_bytes{target=\"one\"}=$snap" \
	'dircat_replicator_target_consecutive_failures{target="two"}=0' \
	'dircat_replicator_target_attempts{target="two"}=1'
rok=$(mval "$rm" dircat_replicator_last_success_timestamp_seconds)
check_eq "replicator success: target last success is this run" \
	"$(mval "$rm" 'dircat_replicator_target_last_success_timestamp_seconds{target="two"}')" "$rok"
sleep 1.1
# Node one installed serial 1; node two's inbox is gone (a file is there).
rep_status "$top/in1" 1
rm -rf "$top/in2" && touch "$top/in2"
rep_run -c "$top/rep.conf"
check_eq "replicator: a target failing exits 69" "$REP_RC" 69
prom_check "replicator failure" "$rm"
mcheck "replicator failure: current one, failed two" "$rm" \
	dircat_replicator_last_run_exit_status=69 \
	"dircat_replicator_last_success_timestamp_seconds=$rok" \
	'dircat_replicator_targets{result="current"}=1' \
	'dircat_replicator_targets{result="failed"}=1' \
	'dircat_replicator_target_current{target="one"}=1' \
	'dircat_replicator_target_node_serial{target="one"}=1' \
	'dircat_replicator_target_result{target="one",result="current"}=1' \
	'dircat_replicator_target_sent{target="one",mode="none"}=1' \
	'dircat_replicator_target_sent_bytes{target="one"}=0' \
	'dircat_replicator_target_ok{target="two"}=0' \
	'dircat_replicator_target_current{target="two"}=0' \
	'dircat_replicator_target_node_serial{target="two"}=absent' \
	'dircat_replicator_target_result{target="two",result="failed"}=1' \
	'dircat_replicator_target_sent{target="two",mode="none"}=1' \
	'dircat_replicator_target_consecutive_failures{target="two"}=1' \
	"dircat_replicator_target_last_success_timestamp_seconds{target=\"two\"}=$rok"
check "replicator failure: target one's last success moves on" \
	test "$(mval "$rm" 'dircat_replicator_target_last_success_timestamp_seconds{target="one"}')" -gt "$rok"
rep_run -c "$top/rep.conf"
mcheck "replicator: failures counted run after run" "$rm" \
	'dircat_replicator_target_consecutive_failures{target="two"}=2' \
	'dircat_replicator_target_consecutive_failures{target="one"}=0'
cp "$rm" "$top/rep-before.prom"
rep_run -c "$top/rep.conf" -n
rep_run -c "$top/rep.conf" -t one
check "replicator: -n and -t runs leave the metrics file alone" \
	cmp -s "$rm" "$top/rep-before.prom"
cp "$rm" "$top/rep-before.prom"
( flock -x 9; rep_run -c "$top/rep.conf"; echo "$REP_RC" >"$top/locked.rc" ) \
	9>"$REP_DIR/state/replicator.lock"
check_eq "replicator: lock held exits 75" "$(cat "$top/locked.rc")" 75
check "replicator: and leaves the metrics file to the run holding it" \
	cmp -s "$rm" "$top/rep-before.prom"
chmod 644 "$REP_KEY"
rep_run -c "$top/rep.conf"
chmod 600 "$REP_KEY"
check_eq "replicator: signing key readable by others exits 78" "$REP_RC" 78
mcheck "replicator: a configuration failure is in the metrics too" "$rm" \
	dircat_replicator_last_run_exit_status=78 \
	'dircat_replicator_target_consecutive_failures{target="two"}=2'
sed "s|^catalog = .*|catalog = $top/rep/nosuch.mdb|" "$top/rep.conf" >"$top/nocat.conf"
rep_run -c "$top/nocat.conf"
check_eq "replicator: no catalog exits 66" "$REP_RC" 66
prom_check "replicator without catalog" "$rm"
mcheck "replicator without catalog: status 66, targets carried over" "$rm" \
	dircat_replicator_last_run_exit_status=66 \
	"dircat_replicator_last_success_timestamp_seconds=$rok" \
	'dircat_replicator_target_consecutive_failures{target="two"}=2' \
	"dircat_replicator_target_last_success_timestamp_seconds{target=\"two\"}=$rok" \
	'dircat_replicator_target_ok{target="one"}=absent' \
	dircat_replicator_catalog_serial=absent
