#!/bin/bash
# catalogd_names.sh - file names chosen by the inbox writer: a newline,
# a carriage return and a terminal escape inside names that end in .snap,
# so that an unescaped name would forge lines in dircat status, in the
# .reason file beside a refused file and in the log.
#
# Pass: dircat status shows each line once, with the names escaped
# (\x0a for a newline); each .reason file holds exactly its three lines;
# no forged line appears in the log; the catalog keeps being served.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

d=$(tmpdir)
catd_init "$d"
catd_conf "rescan_interval = 1s"
inbox=$d/inbox
catd_serving <<'EOF2'
example.com domain
alice@example.com person alice
EOF2

status() { "$DIRCAT_BIN/dircat" status -c "$CATD_CONF"; }
lines_starting() { grep -c "^$2" <<<"$1"; }

# A name that is not a snapshot name, one of another catalog, one with an
# escape sequence, and one that looks like a delta's (BASE-SERIAL) with
# lines inside its base.
n1=$'evil\nserial: 999\nstale: yes\nreason=accepted.snap'
n2=$'corp.5.full.snap\rlast_install: forged\n.x.full.snap'
n3=$'corp.6.full\e[2J\e]0;owned\a.snap'
n4=$'corp.1\nstale: yes\n-2.delta.snap'
for n in "$n1" "$n2" "$n3" "$n4"; do
	printf 'junk\n' >"$inbox/.up" && mv "$inbox/.up" "$inbox/$n"
done
for n in "$n1" "$n2" "$n3" "$n4"; do
	wait_for 15 test -e "$inbox/rejected/$n.reason"
	check "refused: $(printf '%q' "$n")" test -e "$inbox/rejected/$n.reason"
	r=$(cat "$inbox/rejected/$n.reason" 2>/dev/null)
	check_eq "$(printf '%q' "$n"): .reason holds three lines" "$(wc -l <<<"$r")" 3
	check_eq "$(printf '%q' "$n"): one reason= line" "$(lines_starting "$r" 'reason=')" 1
	check_eq "$(printf '%q' "$n"): one file= line" "$(lines_starting "$r" 'file=')" 1
	check "$(printf '%q' "$n"): no control character in it" \
		test -z "$(tr -d '\n' <<<"$r" | tr -d '[:print:]')"
done
r=$(cat "$inbox/rejected/$n1.reason")
check_match "the name is shown escaped in .reason" "$r" \
	'^file=evil\\x0aserial: 999\\x0astale: yes\\x0areason=accepted\.snap$'

st=$(status)
check_eq "status: one serial line" "$(lines_starting "$st" 'serial:')" 1
check_eq "status: one stale line" "$(lines_starting "$st" 'stale:')" 1
check_eq "status: one last_install line" "$(lines_starting "$st" 'last_install:')" 1
check_match "status: the serial is the real one" "$st" '^serial: 1$'
check "status: no control character" \
	test -z "$(tr -d '\n' <<<"$st" | tr -d '[:print:]')"
# Whichever of the four was refused last, it is shown escaped.
check_match "status: the last refused name is escaped ($(grep '^last_refusal:' <<<"$st"))" "$st" \
	'^last_refusal: [^ ]+ (evil\\x0aserial: 999\\x0astale: yes\\x0areason=accepted|corp\.5\.full\.snap\\x0dlast_install: forged\\x0a\.x\.full|corp\.6\.full\\x1b\[2J\\x1b\]0;owned\\x07|corp\.1\\x0astale: yes\\x0a-2\.delta)\.snap: '

log=$(cat "$CATD_LOG")
check_eq "log: no forged line" "$(grep -c -e '^serial: 999' -e '^stale: yes' \
	-e '^reason=accepted' -e '^last_install: forged' <<<"$log")" 0
check "log: no escape character" test -z "$(tr -d '\n\t' <<<"$log" | tr -d '[:print:]')"
check_eq "catalog still served" "$(catd_sm recipients alice@example.com)" "OK person"
