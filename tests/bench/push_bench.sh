#!/bin/bash
# push_bench.sh - how the replicator's push time grows with the number of
# sftp targets: one target against TARGETS targets, all on one private
# sshd on loopback (each target its own inbox directory and its own
# address 127.0.0.N, so no two targets share an ssh connection), for a full
# snapshot of RECORDS records and for a 1% delta.  Target: TARGETS=20 in at
# most 3x the time of one.
#
#   tests/bench/push_bench.sh [RECORDS] [TARGETS] [RUNS]   (100000 20 5)
#
# Each figure is the median wall-clock time of RUNS whole replicator runs
# (status read, decision, upload, rename; the snapshot itself is made once
# beforehand and reused from the spool, so its verification is in every
# run).  Before each run the inboxes and the state are emptied, so every
# target really receives the file.  Output: a Markdown table on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export DIRCAT_TOP=${DIRCAT_TOP:-$(cd "$here/../.." && pwd)}
source "$DIRCAT_TOP/tests/integration/lib.sh"
source "$DIRCAT_TOP/tests/integration/sshd-lib.sh"
source "$DIRCAT_TOP/tests/integration/replicator-lib.sh"
N=${1:-100000}
T=${2:-20}
RUNS=${3:-5}

say() { printf '%s\n' "$*" >&2; }

d=$(tmpdir)
rep_setup "$d/rep" || exit 1
SSHD_MAX_STARTUPS=$((T * 4))
# sshd listens on at most 16 addresses: one server per 16 targets.
ports=() keys=() khs=()
for ((s = 0; s * 16 < T; s++)); do
	SSHD_ADDRESSES=$(for ((i = s * 16 + 1; i <= T && i <= s * 16 + 16; i++)); do
		echo "127.0.0.$i"; done)
	sshd_start "$d/s$s" || { say "sshd did not start"; exit 1; }
	ports+=("$SSHD_PORT") keys+=("$SSHD_KEY") khs+=("$SSHD_KNOWN_HOSTS")
done
for ((i = 1; i <= T; i++)); do mkdir -p "$d/in$i"; done

say "push_bench: catalog of $N records"
rep_records 1 "$N" | "$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -N "$REP_CAT" \
	>/dev/null

# conf FILE TARGETS CONCURRENCY
conf() {
	local i s
	{
		echo "concurrency = $3"
		echo "retries = 0"
		for ((i = 1; i <= $2; i++)); do
			s=$(((i - 1) / 16))
			echo "[target t$i]"
			echo "url = sftp://$SSHD_USER@127.0.0.$i:${ports[s]}$d/in$i/"
			echo "ssh_private_key = ${keys[s]}"
			echo "ssh_known_hosts = ${khs[s]}"
		done
	} | rep_conf "$1"
}

# reset TARGETS [STATUS-SERIAL]: empty inboxes and state.
reset() {
	local i
	rm -rf "$REP_DIR/state"
	for ((i = 1; i <= $1; i++)); do
		rm -f "$d/in$i"/*
		[ -n "${2:-}" ] && rep_status "$d/in$i" "$2"
	done
}

# measure TARGETS STATUS-SERIAL CMD...: run CMD RUNS times, each after a
# reset; prints "median-wall median-cpu" (CPU: user+sys of CMD and its
# children, from bash's time).
measure() {
	local TIMEFORMAT='%R %U %S' n=$1 st=$2 r walls=() cpus=() w u s; shift 2
	for ((r = 0; r < RUNS; r++)); do
		reset "$n" "$st"
		sync
		{ time "$@" 2>"$d/stderr"; } 2>"$d/time" ||
			{ say "run failed: $*"; cat "$d/stderr" >&2; exit 1; }
		read -r w u s <"$d/time"
		walls+=("$w")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
	done
	echo "$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 }
		END { print v[int((NR + 1) / 2)] }')" \
	     "$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ v[NR] = $1 }
		END { print v[int((NR + 1) / 2)] }')"
}

# The cron-script way: OpenSSH's scp to each target, in turn or all at
# once (&).  scp_all TARGETS FILE seq|par
scp_all() {
	local i s
	for ((i = 1; i <= $1; i++)); do
		s=$(((i - 1) / 16))
		scp -q -B -i "${keys[s]}" -o UserKnownHostsFile="${khs[s]}" \
			-o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null \
			-P "${ports[s]}" "$2" "$SSHD_USER@127.0.0.$i:$d/in$i/" &
		[ "$3" = seq ] && { wait $! || return 1; }
	done
	wait
}

rep() { "$DIRCAT_BIN/dircat-replicator" -c "$1"; }

conf "$d/one.conf" 1 1
conf "$d/many.conf" "$T" 32
conf "$d/many8.conf" "$T" 8

say "push_bench: making the snapshots"
reset 1
rep "$d/one.conf" || exit 1
fullf=$REP_DIR/spool/corp.1.full.snap
full=$(stat -c %s "$fullf")
cp "$fullf" "$d/full.snap"

say "push_bench: full snapshot"
read -r f1 c1 < <(measure 1 "" rep "$d/one.conf")
read -r fT cT < <(measure "$T" "" rep "$d/many.conf")
read -r f8 c8 < <(measure "$T" "" rep "$d/many8.conf")
say "push_bench: scp for comparison"
read -r s1 sc1 < <(measure 1 "" scp_all 1 "$d/full.snap" seq)
read -r sT scT < <(measure "$T" "" scp_all "$T" "$d/full.snap" seq)
read -r pT pcT < <(measure "$T" "" scp_all "$T" "$d/full.snap" par)

# 1% churn: half removed, half added.
churn=$((N / 100))
{ rep_records $((churn / 2 + 1)) "$N"; rep_records $((N + 1)) $((N + churn / 2)); } |
	"$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -N "$REP_CAT" >/dev/null
reset 1 1
rep "$d/one.conf" || exit 1
delta=$(stat -c %s "$REP_DIR/spool/corp.1-2.delta.snap")
say "push_bench: delta"
read -r d1 dc1 < <(measure 1 1 rep "$d/one.conf")
read -r dT dcT < <(measure "$T" 1 rep "$d/many.conf")
read -r d8 dc8 < <(measure "$T" 1 rep "$d/many8.conf")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b / a }'; }
cat <<EOF
### Push to $T sftp targets on loopback ($N records, median of $RUNS runs)

$(nproc) CPUs, $(uname -r); $(ssh -V 2>&1 | sed 's/,.*//'), $(curl -V | head -1 | grep -o 'libssh2/[0-9.]*').
Each target has its own address (127.0.0.N) and inbox; one sshd serves
16 addresses.  Wall-clock time of the whole command; CPU = user + sys of
the command itself (the sshd processes are not counted).

| what | bytes each | 1 target | $T targets | ratio | CPU for $T |
| --- | ---: | ---: | ---: | ---: | ---: |
| replicator, full snapshot, concurrency 32 (default) | $full | ${f1}s | ${fT}s | $(ratio "$f1" "$fT")x | ${cT}s |
| replicator, full snapshot, concurrency 8 | $full | ${f1}s | ${f8}s | $(ratio "$f1" "$f8")x | ${c8}s |
| replicator, 1% delta, concurrency 32 (default) | $delta | ${d1}s | ${dT}s | $(ratio "$d1" "$dT")x | ${dcT}s |
| replicator, 1% delta, concurrency 8 | $delta | ${d1}s | ${d8}s | $(ratio "$d1" "$d8")x | ${dc8}s |
| OpenSSH scp, one target after another | $full | ${s1}s | ${sT}s | $(ratio "$s1" "$sT")x | ${scT}s |
| OpenSSH scp, all at once (&) | $full | ${s1}s | ${pT}s | $(ratio "$s1" "$pT")x | ${pcT}s |

Target: $T targets in at most 3x the time of one.
EOF
