#!/bin/bash
# fresh_bench.sh - freshness: seconds from adding a user in the directory
# to Postfix accepting mail for it, with the aggregator and the replicator
# run back to back (as one cron line would) and catalogd installing the
# delta on the node.  The whole pipeline runs on private servers (the
# demo's set-up); as root.
#
#   tests/bench/fresh_bench.sh [RUNS]     (default 5)
# Output: one Markdown table row on stdout.  Each run adds a new user,
# then times: aggregator, replicator, and until a RCPT TO for the new
# address gets 250 from Postfix (polled every 50 ms, at most 30 s).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
export DIRCAT_BIN=${DIRCAT_BIN:-$DIRCAT_TOP/bin}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/slapd-lib.sh"
source "$DIRCAT_TOP/tests/integration/sshd-lib.sh"
source "$DIRCAT_TOP/tests/integration/postfix-lib.sh"
source "$DIRCAT_TOP/scripts/pipeline-lib.sh"
RUNS=${1:-5}
d=$(tmpdir)
[ -n "${KEEP_BENCH:-}" ] && _test_dirs=()
now() { date +%s.%N; }

pipeline_internal "$d" >"$d/setup.log" 2>&1 || { echo "fresh_bench: slapd failed" >&2; exit 1; }
pl_aggregate >>"$d/setup.log" 2>&1
pipeline_node "$d" >>"$d/setup.log" 2>&1 || { echo "fresh_bench: node failed" >&2; exit 1; }
pipeline_replicator
pl_replicate >>"$d/setup.log" 2>&1
if ! wait_for 30 test "$(pl_node_serial)" = 1; then
	echo "fresh_bench: the node did not install serial 1 within 30 s" >&2
	tail -n 20 "$d/setup.log" "$PL_NODE/catalogd.log" >&2
	exit 1
fi
pipeline_postfix "$d" >>"$d/setup.log" 2>&1 || { echo "fresh_bench: Postfix failed" >&2; exit 1; }

: >"$d/times"
for r in $(seq "$RUNS"); do
	addr=fresh$r@example.com
	printf 'dn: uid=fresh%d,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: fresh%d\ncn: Fresh\nsn: Fresh\nmail: %s\n' \
		"$r" "$r" "$addr" >"$d/add.ldif"
	slapd_ldapmodify "$d/add.ldif"
	t0=$(now)
	pl_aggregate >>"$d/run.log" 2>&1
	t1=$(now)
	pl_replicate >>"$d/run.log" 2>&1
	t2=$(now)
	ok=
	for i in $(seq 600); do
		case $(pl_rcpt "$PF_SMTP_PORT" sender@outside.example "$addr") in
		250*) ok=1; break ;;
		esac
		sleep 0.05
	done
	t3=$(now)
	[ -n "$ok" ] || echo "fresh_bench: $addr not accepted within 30 s" >&2
	echo "$t0 $t1 $t2 $t3" | awk '{ printf "%.3f %.3f %.3f\n", $2 - $1, $3 - $2, $4 - $1 }' >>"$d/times"
done
postfix_stop >/dev/null 2>&1
# column -> "median min max"
col() { awk -v c="$1" '{print $c}' "$d/times" | sort -n |
	awk '{v[NR] = $1} END { printf "%.2f %.2f %.2f", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
read -r am amin amax <<<"$(col 1)"
read -r rm rmin rmax <<<"$(col 2)"
read -r tm tmin tmax <<<"$(col 3)"
cat <<MD
| directory change to Postfix accepting the address ($RUNS runs) | median s | min-max s |
| --- | ---: | ---: |
| dircat-aggregator (sample directory) | $am | $amin-$amax |
| dircat-replicator (delta over sftp) | $rm | $rmin-$rmax |
| from the LDAP add to "250" at RCPT TO, in all | $tm | $tmin-$tmax |
MD
