#!/bin/bash
# install.sh - running dircat as a service: `make install` and
# `make uninstall` (file list, modes, configuration files kept), the
# shipped example configurations pass each program's check, the systemd
# units verify cleanly and keep their security exposure score, the
# aggregate unit's command keeps both exit statuses, catalogd runs as the
# unit runs it (unprivileged, `user` unset, group postfix on its sockets)
# and speaks the sd_notify protocol: READY=1 once its socket listens,
# RELOADING=1 / READY=1 around SIGHUP, STATUS= after an install,
# STOPPING=1 on SIGTERM.  Needs root, systemd-analyze, man, and the
# postfix group (scripts/deps.sh test).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
need systemd-analyze man setpriv
getent group postfix >/dev/null || {
	fail "no postfix group (scripts/deps.sh test installs Postfix)"
	exit 1
}
T=$DIRCAT_TESTBIN/tools
top=$DIRCAT_TOP
d=$(tmpdir)

# Highest exposure scores accepted from `systemd-analyze security
# --offline=true` (0 = best, 10 = worst).  Measured: catalogd.service 0.6,
# dircat-aggregate.service 1.2 (systemd 252).
MAX_EXPOSURE_CATALOGD=1.0
MAX_EXPOSURE_AGGREGATE=1.5
MAX_EXPOSURE_METRICS=1.0
# The fetcher needs the network (outbound only); otherwise as catalogd.
MAX_EXPOSURE_FETCH=1.5

minst() {	# make install/uninstall ARGS..., output in $d/make.out
	make -s --no-print-directory -C "$top" "$@" >"$d/make.out" 2>&1
}

# The files `make install` should put under a root, with their modes,
# computed from the source tree.
expected_files() {	# PREFIX (relative, no leading /)
	local p=$1 f
	{
		echo "755 $p/bin/dircat"
		for f in dircat-aggregator dircat-replicator catalogd dircat-fetch; do
			echo "755 $p/sbin/$f"
		done
		for f in "$top"/man/*.[1578]; do
			[ -e "$f" ] || continue
			echo "644 $p/share/man/man${f##*.}/$(basename "$f")"
		done
		for f in "$top"/schema/*.schema "$top"/schema/*.ldif; do
			echo "644 $p/share/dircat/$(basename "$f")"
		done
		for f in "$top"/schema/*.md; do
			echo "644 $p/share/doc/dircat/schema/$(basename "$f")"
		done
		for f in "$top"/systemd/*.service "$top"/systemd/*.timer; do
			echo "644 $p/lib/systemd/system/$(basename "$f")"
		done
		for f in "$top"/etc/*.conf; do
			echo "644 etc/dircat/$(basename "$f")"
			echo "644 $p/share/doc/dircat/etc/$(basename "$f")"
		done
		for f in README.md CHANGELOG.md "$top"/docs/*.md; do
			echo "644 $p/share/doc/dircat/${f#$top/}"
		done
		for f in "$top"/docs/examples/*; do
			echo "644 $p/share/doc/dircat/docs/examples/$(basename "$f")"
		done
	} | sort
}
installed_files() {	# ROOT
	(cd "$1" && find . -type f -printf '%m %P\n' | sort)
}

# ---- make install into a staging root --------------------------------
dest=$d/dest
minst install DESTDIR="$dest" PREFIX=/usr/local
check "make install DESTDIR=... PREFIX=/usr/local succeeds" test $? -eq 0
check_eq "every file installed where expected, with its mode" \
	"$(installed_files "$dest")" "$(expected_files usr/local)"
for f in dircat-aggregator dircat-replicator catalogd dircat-fetch; do
	check "sbin/$f is the program built" \
		cmp -s "$DIRCAT_BIN/$f" "$dest/usr/local/sbin/$f"
done
check "bin/dircat is the program built" \
	cmp -s "$DIRCAT_BIN/dircat" "$dest/usr/local/bin/dircat"
check_eq "no program left in bin but dircat" \
	"$(ls "$dest/usr/local/bin")" "dircat"
units=$dest/usr/local/lib/systemd/system
check_eq "units: every @PLACEHOLDER@ filled in" \
	"$(grep -l '@[A-Z]*@' "$units"/* 2>/dev/null)" ""
check_match "catalogd.service starts the installed catalogd in the foreground" \
	"$(grep '^ExecStart=' "$units/catalogd.service")" \
	'^ExecStart=/usr/local/sbin/catalogd -f -c /etc/dircat/catalogd.conf$'
check_match "dircat-aggregate.service runs the installed aggregator and replicator" \
	"$(grep '^ExecStart=' "$units/dircat-aggregate.service")" \
	'/usr/local/sbin/dircat-aggregator -c /etc/dircat/aggregator.conf.*/usr/local/sbin/dircat-replicator -c /etc/dircat/replicator.conf'
check_eq "catalogd.service sets no SupplementaryGroups= (the MTA's group comes from the group database)" \
	"$(grep -c '^SupplementaryGroups=' "$units/catalogd.service")" 0
check "catalogd.service waits for a trusted key (ConditionPathExistsGlob=/etc/dircat/keys/*.pub)" \
	grep -qx 'ConditionPathExistsGlob=/etc/dircat/keys/\*.pub' "$units/catalogd.service"
check "catalogd.service may write the upload inbox when there is one" \
	grep -qx 'ReadWritePaths=-/var/lib/dircat-upload/inbox' "$units/catalogd.service"
check "the guides are installed (share/doc/dircat/docs/postfix.md, examples)" \
	test -s "$dest/usr/local/share/doc/dircat/docs/postfix.md" -a \
	     -s "$dest/usr/local/share/doc/dircat/docs/examples/activedirectory.conf"
check "catalogd(8) points to the installed guides, not to the sources" \
	bash -c "grep -q '/usr/share/doc/dircat/docs/catalogd.md' '$top/man/catalogd.8' &&
		! grep -q 'in the dircat sources' '$top/man/catalogd.8'"
check "catalogd.service: Type=notify, RestartPreventExitStatus=78, ReadWritePaths=/var/lib/dircat" \
	bash -c "grep -qx Type=notify '$units/catalogd.service' &&
		grep -qx RestartPreventExitStatus=78 '$units/catalogd.service' &&
		grep -qx ReadWritePaths=/var/lib/dircat '$units/catalogd.service'"
for c in aggregator replicator catalogd; do
	check_eq "etc/dircat/$c.conf is the shipped example" \
		"$(cmp "$top/etc/$c.conf" "$dest/etc/dircat/$c.conf" 2>&1)" ""
done
mp=$dest/usr/local/share/man
for pg in "8 catalogd" "8 dircat-aggregator" "8 dircat-replicator" "1 dircat"; do
	set -- $pg
	check_eq "man -w $1 $2 finds the installed page" \
		"$(MANPATH=$mp man -w "$1" "$2" 2>&1)" "$mp/man$1/$2.$1"
done

# ---- -V on every installed program --------------------------------------
for f in sbin/dircat-aggregator sbin/dircat-replicator sbin/catalogd bin/dircat; do
	p=$(basename "$f")
	out=$("$dest/usr/local/$f" -V 2>&1)
	rc=$?
	check_match "$p -V prints '$p (dircat) VERSION' and exits 0 (status $rc)" \
		"$(head -n 1 <<<"$out")$([ $rc -eq 0 ] || echo " exit $rc")" \
		"^$p \\(dircat\\) [0-9]+\\.[0-9]+(\\.[0-9]+)?\$"
done

# ---- the example configurations pass the programs' own checks ----------
# Paths moved into a private root; the key and password files they name
# made for real.
cfg=$d/cfg
mkdir -p "$cfg/etc/keys" "$cfg/var" "$cfg/upload/inbox" "$cfg/run"
for c in aggregator replicator catalogd; do
	sed -e "s|/etc/dircat|$cfg/etc|g" -e "s|/var/lib/dircat-upload|$cfg/upload|g" \
	    -e "s|/var/lib/dircat|$cfg/var|g" \
	    -e "s|/run/dircat|$cfg/run|g" "$dest/etc/dircat/$c.conf" >"$cfg/$c.conf"
done
(cd "$cfg/etc/keys" && "$DIRCAT_BIN/dircat" keygen signer-2026 >/dev/null)
(umask 077; echo secret >"$cfg/etc/keys/ldap.password"
 echo key >"$cfg/etc/keys/push_ed25519")
: >"$cfg/etc/known_hosts"
out=$("$DIRCAT_BIN/dircat-aggregator" -c "$cfg/aggregator.conf" -t 2>&1)
check_eq "aggregator.conf passes dircat-aggregator -t (status)" "$?" 0
check_match "dircat-aggregator -t: $out" "$out" "configuration OK"
out=$("$DIRCAT_BIN/dircat-replicator" -c "$cfg/replicator.conf" -C 2>&1)
check_eq "replicator.conf passes dircat-replicator -C (status)" "$?" 0
check_match "dircat-replicator -C: $out" "$out" "configuration ok, 2 targets"
out=$("$DIRCAT_BIN/catalogd" -c "$cfg/catalogd.conf" -t 2>&1)
check_eq "catalogd.conf passes catalogd -t (status)" "$?" 0
check_match "catalogd.conf leaves 'user' unset, as catalogd.service needs" \
	"$out" "^user \\(none\\),"
check_match "catalogd.conf: the map socket is mode 0660" "$out" \
	"^\\[socket map\\] socketmap $cfg/run/catalogd.sock mode 0660, max_connections 2048\$"

# ---- a second install keeps the administrator's edit -------------------
sed -i 's/^catalog_id = corp$/catalog_id = edited-here/' "$dest/etc/dircat/catalogd.conf"
minst install DESTDIR="$dest" PREFIX=/usr/local
check "second make install succeeds" test $? -eq 0
check "the edited catalogd.conf is kept" \
	grep -qx "catalog_id = edited-here" "$dest/etc/dircat/catalogd.conf"
check "the new example goes next to it as catalogd.conf.dist" \
	cmp -s "$top/etc/catalogd.conf" "$dest/etc/dircat/catalogd.conf.dist"
check_match "make install says it did not replace catalogd.conf" \
	"$(cat "$d/make.out")" "catalogd.conf: NOT replaced"
check "unedited configurations get no .dist" \
	test ! -e "$dest/etc/dircat/aggregator.conf.dist" -a \
	     ! -e "$dest/etc/dircat/replicator.conf.dist"

# ---- make uninstall -----------------------------------------------------
mkdir -p "$dest/var/lib/dircat/inbox"
echo data >"$dest/var/lib/dircat/catalog.mdb"
echo data >"$dest/var/lib/dircat/inbox/status"
minst uninstall DESTDIR="$dest" PREFIX=/usr/local
check "make uninstall succeeds" test $? -eq 0
check_eq "uninstall leaves only the edited configuration and the state" \
	"$(installed_files "$dest")" \
	"$(printf '644 etc/dircat/catalogd.conf\n644 var/lib/dircat/catalog.mdb\n644 var/lib/dircat/inbox/status\n')"
check_match "make uninstall says it kept catalogd.conf" \
	"$(cat "$d/make.out")" "catalogd.conf: kept"
check "the kept catalogd.conf still has the edit" \
	grep -qx "catalog_id = edited-here" "$dest/etc/dircat/catalogd.conf"
check "no share/dircat directory left" test ! -e "$dest/usr/local/share/dircat"
# Unedited: the configuration directory goes too.
dest2=$d/dest2
minst install DESTDIR="$dest2" PREFIX=/opt/dircat SYSCONFDIR=/opt/dircat/etc \
	SYSTEMDUNITDIR=/opt/dircat/units &&
	minst uninstall DESTDIR="$dest2" PREFIX=/opt/dircat \
		SYSCONFDIR=/opt/dircat/etc SYSTEMDUNITDIR=/opt/dircat/units
check_eq "install and uninstall with other PREFIX/SYSCONFDIR/SYSTEMDUNITDIR leave no file" \
	"$(installed_files "$dest2")" ""

# ---- systemd-analyze verify and security ------------------------------
# Installed with a real PREFIX (no DESTDIR) so that ExecStart= paths and
# man pages exist.  verify exits 0 even on unknown settings: any output
# at all is a failure.
root=$d/root
minst install PREFIX="$root/usr" SYSCONFDIR="$root/etc/dircat"
check "make install PREFIX=$root/usr succeeds" test $? -eq 0
u=$root/usr/lib/systemd/system
out=$(cd "$u" && MANPATH=$root/usr/share/man: SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify "$u"/*.service "$u"/*.timer 2>&1)
check_eq "systemd-analyze verify: every unit, no output" "$out" ""
check_eq "units verified" "$(cd "$u" && ls *.service *.timer | tr '\n' ' ')" \
	"catalogd.service dircat-aggregate.service dircat-aggregate.timer dircat-aggregator-watch.service dircat-fetch.service dircat-metrics.service dircat-metrics.timer dircat-replicator-watch.service "
check_match "dircat-metrics.service runs the installed dircat" \
	"$(grep '^ExecStart=' "$u/dircat-metrics.service")" \
	"^ExecStart=$root/usr/bin/dircat metrics -c $root/etc/dircat/catalogd.conf -o "
for unit in catalogd:$MAX_EXPOSURE_CATALOGD dircat-aggregate:$MAX_EXPOSURE_AGGREGATE \
	dircat-aggregator-watch:$MAX_EXPOSURE_AGGREGATE \
	dircat-replicator-watch:$MAX_EXPOSURE_AGGREGATE \
	dircat-metrics:$MAX_EXPOSURE_METRICS dircat-fetch:$MAX_EXPOSURE_FETCH; do
	name=${unit%%:*} max=${unit#*:}
	out=$(systemd-analyze security --offline=true --no-pager \
		"$u/$name.service" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$out")
	echo "    $name.service: exposure $score (at most $max accepted)"
	check "$name.service exposure ${score:-?} is at most $max" \
		awk -v s="${score:-99}" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }'
done

# The aggregate unit's command: the replicator runs whatever the
# aggregator's status, and the unit fails with the replicator's status
# when it failed, else with the aggregator's.
stub=$d/stub
mkdir -p "$stub"
cmdline=$(sed -n 's/^ExecStart=//p' "$u/dircat-aggregate.service" |
	sed -e 's/\$\$/$/g' -e "s|$root/usr/sbin/|$stub/|g")
agg_rep() {	# AGGREGATOR-STATUS REPLICATOR-STATUS: prints "status ran"
	printf '#!/bin/sh\nexit %s\n' "$1" >"$stub/dircat-aggregator"
	printf '#!/bin/sh\necho replicator-ran >>%s/ran\nexit %s\n' "$stub" "$2" \
		>"$stub/dircat-replicator"
	chmod 755 "$stub"/dircat-*
	rm -f "$stub/ran"
	eval "$cmdline" >/dev/null 2>&1
	echo "$? $(cat "$stub/ran" 2>/dev/null)"
}
check_eq "aggregate unit: both succeed -> 0" "$(agg_rep 0 0)" "0 replicator-ran"
check_eq "aggregate unit: safety gate (65), push ok -> 65, replicator ran" \
	"$(agg_rep 65 0)" "65 replicator-ran"
check_eq "aggregate unit: aggregator ok, a node down (69) -> 69" \
	"$(agg_rep 0 69)" "69 replicator-ran"
check_eq "aggregate unit: both fail -> the replicator's status" \
	"$(agg_rep 69 66)" "66 replicator-ran"

# ---- catalogd as catalogd.service runs it, with sd_notify --------------
# The installed example configuration (paths moved), started as an
# unprivileged account with postfix as a supplementary group, as
# User= and the group database (adduser ACCOUNT postfix) do; the socket directory belongs to that
# account, mode 0755, as RuntimeDirectory= makes it.
run_as=(setpriv --reuid=nobody --regid=nogroup --groups=postfix)
chown nobody:nogroup "$cfg/run" "$cfg/var" "$cfg/upload/inbox"
chmod 755 "$cfg/run"
chmod 755 "$cfg" "$cfg/etc" "$cfg/etc/keys"
chmod 644 "$cfg/catalogd.conf" "$cfg/etc/keys/signer-2026.pub"
nw=$d/notify.out
"$T/notifywait" -t 30 -c "$cfg/run/catalogd.sock" -u STOPPING=1 \
	"$d/notify.sock" >"$nw" 2>&1 &
nwpid=$!
track_pid "$nwpid"
wait_for 5 grep -qx BOUND "$nw" || fail "notifywait binds its socket"
NOTIFY_SOCKET=$d/notify.sock "${run_as[@]}" "$DIRCAT_BIN/catalogd" -f \
	-c "$cfg/catalogd.conf" >"$d/catalogd.log" 2>&1 &
cpid=$!
track_pid "$cpid"
check "READY=1 arrives" wait_for 10 grep -qx "MSG READY=1" "$nw"
check_eq "the map socket accepted connections when READY=1 arrived" \
	"$(grep -m 1 '^LISTENING' "$nw")" "LISTENING yes"
check_eq "every notification comes from catalogd's main process" \
	"$(grep '^PID' "$nw" | sort -u)" "PID $cpid"
check_match "READY=1 comes with a STATUS= line" "$(cat "$nw")" \
	"MSG STATUS=no catalog installed yet: waiting for a snapshot in $cfg/upload/inbox"
check_eq "map socket: owner nobody, group postfix, mode 660" \
	"$(stat -c '%U %G %a' "$cfg/run/catalogd.sock")" "nobody postfix 660"
check_eq "control socket: owner nobody, mode 600" \
	"$(stat -c '%U %a' "$cfg/run/control.sock")" "nobody 600"
check_eq "the postfix account reaches the map socket" \
	"$(setpriv --reuid=postfix --regid=postfix --init-groups \
		"$T/catdclient" sm "$cfg/run/catalogd.sock" recipients a@example.com 2>&1)" \
	"TEMP no catalog installed"

kill -HUP "$cpid"
check "RELOADING=1 on SIGHUP" wait_for 10 grep -qx "MSG RELOADING=1" "$nw"
check "READY=1 again after the reload" \
	wait_for 10 bash -c "sed '1,/^MSG RELOADING=1\$/d' '$nw' | grep -qx 'MSG READY=1'"
check_match "RELOADING=1 carries MONOTONIC_USEC=" "$(cat "$nw")" \
	"^MSG MONOTONIC_USEC=[0-9]+\$"

# An install: STATUS= names the new serial.
echo "a@example.com person" |
	"$T/mkcatalog" -i corp -N "$d/src.mdb" >/dev/null
"$T/mksnap" "$d/src.mdb" "$cfg/etc/keys/signer-2026.key" \
	"$cfg/upload/inbox/.up" >/dev/null &&
	chown nobody "$cfg/upload/inbox/.up" &&
	mv "$cfg/upload/inbox/.up" "$cfg/upload/inbox/corp.1.full.snap"
check "STATUS= after the install names serial 1" \
	wait_for 15 grep -qx "MSG STATUS=serving catalog corp serial 1 (1 records)" "$nw"
check_eq "and the postfix account gets the answer" \
	"$(setpriv --reuid=postfix --regid=postfix --init-groups \
		"$T/catdclient" sm "$cfg/run/catalogd.sock" recipients a@example.com 2>&1)" \
	"OK person"

kill -TERM "$cpid"
wait "$cpid"
check_eq "catalogd exits 0 on SIGTERM" "$?" 0
wait "$nwpid"
check_eq "STOPPING=1 arrives (notifywait saw it)" "$?" 0
check_eq "STOPPING=1 is the last notification" \
	"$(grep '^MSG' "$nw" | grep -v '^MSG STATUS=' | tail -n 1)" "MSG STOPPING=1"
check "catalogd removed its sockets" \
	test ! -e "$cfg/run/catalogd.sock" -a ! -e "$cfg/run/control.sock"
check_eq "READY=1 twice in all: start-up and reload" \
	"$(grep -cx 'MSG READY=1' "$nw")" 2

# An abstract NOTIFY_SOCKET name ("@...").
abs=@dircat-test-notify-$$
"$T/notifywait" -t 20 -u STOPPING=1 "$abs" >"$d/notify2.out" 2>&1 &
nwpid=$!
track_pid "$nwpid"
wait_for 5 grep -qx BOUND "$d/notify2.out" || fail "notifywait binds $abs"
NOTIFY_SOCKET=$abs "${run_as[@]}" "$DIRCAT_BIN/catalogd" -f \
	-c "$cfg/catalogd.conf" >>"$d/catalogd.log" 2>&1 &
cpid=$!
track_pid "$cpid"
check "abstract NOTIFY_SOCKET: READY=1 arrives" \
	wait_for 10 grep -qx "MSG READY=1" "$d/notify2.out"
check "abstract NOTIFY_SOCKET: STATUS= names the installed serial" \
	grep -qx "MSG STATUS=serving catalog corp serial 1 (1 records)" "$d/notify2.out"
kill -TERM "$cpid"
wait "$cpid"
wait "$nwpid"
check_eq "abstract NOTIFY_SOCKET: STOPPING=1 arrives" "$?" 0

# Exit 78 for a configuration catalogd cannot run with, so that
# RestartPreventExitStatus=78 stops the restart loop.
sed 's/^#user = dircat$/user = daemon/' "$cfg/catalogd.conf" >"$cfg/wronguser.conf"
chmod 644 "$cfg/wronguser.conf"
"${run_as[@]}" "$DIRCAT_BIN/catalogd" -f -c "$cfg/wronguser.conf" >"$d/wrong.log" 2>&1
check_eq "'user' naming another account than the one started as: exit 78" "$?" 78
echo "no_such_setting = 1" >>"$cfg/wronguser.conf"
"${run_as[@]}" "$DIRCAT_BIN/catalogd" -f -c "$cfg/wronguser.conf" >"$d/wrong.log" 2>&1
check_eq "an unknown setting: exit 78" "$?" 78

# The syscall filter of catalogd.service: every system call catalogd made
# above (start, reload, install, lookups, stop) must be allowed by it.
# Needs strace; without it this part is reported and skipped.
if command -v strace >/dev/null 2>&1; then
	expand_set() {	# @GROUP or syscall: one syscall a line
		systemd-analyze syscall-filter "$1" 2>/dev/null | sed 1d |
		sed -e 's/^ *//' -e '/^#/d' -e '/^$/d' | while read -r x; do
			case $x in @*) expand_set "$x" ;; *) echo "$x" ;; esac
		done
	}
	allowed() {	# UNIT: its SystemCallFilter= lines, in order
		local line w set=""
		while read -r line; do
			if [ "${line:0:1}" = "~" ]; then
				for w in ${line:1}; do
					set=$(comm -23 <(echo "$set") <(expand_set "$w" | sort -u))
				done
			else
				for w in $line; do
					set=$( (echo "$set"; expand_set "$w"; [ "${w:0:1}" = @ ] || echo "$w") | sort -u)
				done
			fi
		done < <(sed -n 's/^SystemCallFilter=//p' "$1")
		echo "$set" | sed '/^$/d' | sort -u
	}
	allowed "$u/catalogd.service" >"$d/allowed"
	allowed "$u/dircat-metrics.service" >"$d/allowed-metrics"
	mkdir -p "$d/trace"
	chown nobody "$d/trace"	# strace runs as catalogd's account
	rm -f "$d/notify.sock"
	"$T/notifywait" -t 30 -u STOPPING=1 "$d/notify.sock" >"$nw" 2>&1 &
	nwpid=$!
	track_pid "$nwpid"
	wait_for 5 grep -qx BOUND "$nw"
	NOTIFY_SOCKET=$d/notify.sock "${run_as[@]}" strace -f -qq \
		-o "$d/trace/strace.out" "$DIRCAT_BIN/catalogd" -f \
		-c "$cfg/catalogd.conf" >>"$d/catalogd.log" 2>&1 &
	spid=$!
	track_pid "$spid"
	check "under strace: READY=1 arrives" \
		wait_for 20 grep -qx "MSG READY=1" "$nw"
	cpid=$(grep -m 1 '^PID' "$nw" | cut -d' ' -f2)
	[ -n "$cpid" ] || cpid=$spid
	kill -HUP "$cpid"
	wait_for 10 bash -c "sed '1,/^MSG RELOADING=1\$/d' '$nw' | grep -qx 'MSG READY=1'"
	echo "b@example.com person" |
		"$T/mkcatalog" -i corp -N "$d/src.mdb" >/dev/null
	"$T/mksnap" -b 1 "$d/src.mdb" "$cfg/etc/keys/signer-2026.key" \
		"$cfg/upload/inbox/.up" >/dev/null &&
		chown nobody "$cfg/upload/inbox/.up" &&
		mv "$cfg/upload/inbox/.up" "$cfg/upload/inbox/corp.1-2.delta.snap"
	check "under strace: a delta installed (serial 2)" \
		wait_for 15 grep -q "MSG STATUS=serving catalog corp serial 2" "$nw"
	"$T/catdclient" sm "$cfg/run/catalogd.sock" recipients b@example.com >/dev/null
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=x@example.com\n\n' |
		"$T/catdclient" -t 1 raw "$cfg/run/policy.sock" >/dev/null
	"$DIRCAT_BIN/dircat" status -c "$cfg/catalogd.conf" >/dev/null
	# dircat-metrics.service's command, as catalogd's account.
	"${run_as[@]}" strace -f -qq -o "$d/trace/metrics.out" \
		"$DIRCAT_BIN/dircat" metrics -c "$cfg/catalogd.conf" \
		-o "$d/trace/dircat.prom"
	check "under strace: dircat metrics wrote its file, catalogd up" \
		grep -qx 'dircat_catalogd_up 1' "$d/trace/dircat.prom"
	kill -TERM "$cpid"
	wait "$spid"
	wait "$nwpid"
	# From catalogd's execve on (strace -f: "PID syscall(...").
	used=$(sed -n '/execve(".*catalogd"/,$p' "$d/trace/strace.out" |
		sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p; s/^[0-9]* *<\.\.\. \([a-z_0-9]*\) resumed.*/\1/p' |
		grep -vx execve | sort -u)
	check "strace saw catalogd's system calls ($(wc -l <<<"$used"))" \
		test "$(wc -l <<<"$used")" -gt 20
	check_eq "catalogd.service SystemCallFilter= allows every call catalogd made" \
		"$(comm -23 <(echo "$used") "$d/allowed" | tr '\n' ' ')" ""
	used=$(sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p; s/^[0-9]* *<\.\.\. \([a-z_0-9]*\) resumed.*/\1/p' \
		"$d/trace/metrics.out" | grep -vx execve | sort -u)
	check "strace saw dircat metrics' system calls ($(wc -l <<<"$used"))" \
		test "$(wc -l <<<"$used")" -gt 10
	check_eq "dircat-metrics.service SystemCallFilter= allows every call dircat metrics made" \
		"$(comm -23 <(echo "$used") "$d/allowed-metrics" | tr '\n' ' ')" ""
else
	echo "note: strace is not installed: the units' SystemCallFilter= not checked against the programs' calls"
fi
