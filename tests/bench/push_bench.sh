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
# Each figure is the median wall-clock time of RUNS whole replicator runs,
# runs of one and of TARGETS targets alternating
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
ports=() keys=() khs=() pids=()
for ((s = 0; s * 16 < T; s++)); do
	SSHD_ADDRESSES=$(for ((i = s * 16 + 1; i <= T && i <= s * 16 + 16; i++)); do
		echo "127.0.0.$i"; done)
	sshd_start "$d/s$s" || { say "sshd did not start"; exit 1; }
	ports+=("$SSHD_PORT") keys+=("$SSHD_KEY") khs+=("$SSHD_KNOWN_HOSTS")
	pids+=("$SSHD_PID")
done
for ((i = 1; i <= T; i++)); do mkdir -p "$d/in$i"; done

load0=$(cut -d' ' -f1-3 /proc/loadavg)
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

# CPU seconds used so far by the sshd servers and the connection
# processes they have reaped (utime, stime, cutime, cstime).
sshd_cpu() {
	local p
	for p in "${pids[@]}"; do cat "/proc/$p/stat"; done |
		awk -v hz="$(getconf CLK_TCK)" \
			'{ t += $14 + $15 + $16 + $17 } END { printf "%.2f", t / hz }'
}

# once TARGETS STATUS-SERIAL CMD...: reset, run CMD once, append
# "wall cpu sshd-cpu" (CPU: user+sys of CMD and its children; the sshd
# servers' CPU in the same time) to $d/times.TARGETS.
once() {
	local TIMEFORMAT='%R %U %S' n=$1 st=$2 w u s c0 c1; shift 2
	reset "$n" "$st"
	sync
	sleep 0.2	# the previous run's sshd processes finish
	c0=$(sshd_cpu)
	{ time "$@" 2>"$d/stderr"; } 2>"$d/time" ||
		{ say "run failed: $*"; cat "$d/stderr" >&2; exit 1; }
	sleep 0.2
	c1=$(sshd_cpu)
	read -r w u s <"$d/time"
	echo "$w $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" \
		>>"$d/times.$n"
}

median() {	# column of $d/times.N
	awk -v c="$2" '{ print $c }' "$d/times.$1" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# pair STATUS-SERIAL CMD1 -- CMDT: RUNS runs of one target and of TARGETS
# targets, alternating so that other load on the machine hits both alike;
# prints "wall1 cpu1 wallT cpuT" (medians).
pair() {
	local st=$1 r a=() b=(); shift
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	rm -f "$d/times.1" "$d/times.$T"
	for ((r = 0; r < RUNS; r++)); do
		once 1 "$st" "${a[@]}"
		once "$T" "$st" "${b[@]}"
	done
	echo "$(median 1 1) $(median 1 2) $(median "$T" 1) $(median "$T" 2)" \
		"$(median 1 3) $(median "$T" 3)"
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
read -r f1 c1 fT cT fs1 fsT < <(pair "" rep "$d/one.conf" -- rep "$d/many.conf")
read -r g1 _ f8 c8 _ f8s < <(pair "" rep "$d/one.conf" -- rep "$d/many8.conf")
say "push_bench: scp for comparison"
read -r s1 _ sT scT _ sTs < <(pair "" scp_all 1 "$d/full.snap" seq -- \
	scp_all "$T" "$d/full.snap" seq)
read -r p1 _ pT pcT _ pTs < <(pair "" scp_all 1 "$d/full.snap" par -- \
	scp_all "$T" "$d/full.snap" par)

# 1% churn: half removed, half added.
churn=$((N / 100))
{ rep_records $((churn / 2 + 1)) "$N"; rep_records $((N + 1)) $((N + churn / 2)); } |
	"$DIRCAT_TESTBIN/tools/mkcatalog" -i corp -N "$REP_CAT" >/dev/null
reset 1 1
rep "$d/one.conf" || exit 1
delta=$(stat -c %s "$REP_DIR/spool/corp.1-2.delta.snap")
say "push_bench: delta"
read -r d1 dc1 dT dcT ds1 dsT < <(pair 1 rep "$d/one.conf" -- rep "$d/many.conf")
read -r e1 _ d8 dc8 _ d8s < <(pair 1 rep "$d/one.conf" -- rep "$d/many8.conf")

load0=${load0:-?}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b / a }'; }
cat <<EOF
### Push to $T sftp targets on loopback ($N records, median of $RUNS runs)

$(nproc) CPUs, $(uname -r); $(ssh -V 2>&1 | sed 's/,.*//'), $(curl -V | head -1 | grep -o 'libssh2/[0-9.]*').
Each target has its own address (127.0.0.N) and inbox; one sshd serves
16 addresses.  Wall-clock time of the whole command; CPU = user + sys of
the command itself; sshd CPU = what the servers' connection processes
used meanwhile (on real nodes, each on its own machine).  Runs of one
and of $T targets alternate; load average before: $load0.

| what | bytes each | 1 target | $T targets | ratio | CPU for $T | sshd CPU for 1 | sshd CPU for $T |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| replicator, full snapshot, concurrency 32 (default) | $full | ${f1}s | ${fT}s | $(ratio "$f1" "$fT")x | ${cT}s | ${fs1}s | ${fsT}s |
| replicator, full snapshot, concurrency 8 | $full | ${g1}s | ${f8}s | $(ratio "$g1" "$f8")x | ${c8}s | | ${f8s}s |
| replicator, 1% delta, concurrency 32 (default) | $delta | ${d1}s | ${dT}s | $(ratio "$d1" "$dT")x | ${dcT}s | ${ds1}s | ${dsT}s |
| replicator, 1% delta, concurrency 8 | $delta | ${e1}s | ${d8}s | $(ratio "$e1" "$d8")x | ${dc8}s | | ${d8s}s |
| OpenSSH scp, one target after another | $full | ${s1}s | ${sT}s | $(ratio "$s1" "$sT")x | ${scT}s | | ${sTs}s |
| OpenSSH scp, all at once (&) | $full | ${p1}s | ${pT}s | $(ratio "$p1" "$pT")x | ${pcT}s | | ${pTs}s |

Target: $T targets in at most 3x the time of one.
EOF
