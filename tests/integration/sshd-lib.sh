# sshd-lib.sh - a private OpenSSH server for tests, demos and benchmarks
# (sourced after lib.sh, whose free_port, track_pid, stop_pid and wait_for
# it uses).
#
#   sshd_start DIR        start sshd on 127.0.0.1 and a free high port, with
#                         a throwaway host key, user key and known_hosts, all
#                         under DIR/sshd/ (config, pid file, log too).  Sets:
#     SSHD_PORT           the port
#     SSHD_PID            its pid (also tracked: stopped at exit)
#     SSHD_USER           the login name (the user running the test)
#     SSHD_KEY            the user's private key (mode 0600)
#     SSHD_PUBKEY         the user's public key
#     SSHD_KNOWN_HOSTS    a known_hosts file naming the host key
#     SSHD_WRONG_KNOWN_HOSTS  a known_hosts file naming another host key
#     SSHD_LOG            the server's log
#   sshd_stop             stop it (by pid)
#   sshd_restart          start it again on the same port with the same keys
#                         (after sshd_stop: a node that comes back)
#
# Settings read when set: SSHD_KEYTYPE (ed25519, ecdsa or rsa; default
# ed25519), SSHD_MAX_STARTUPS (default 200: benchmarks open many
# connections at once), SSHD_ADDRESSES (loopback addresses to listen on,
# default "127.0.0.1"; Linux routes all of 127.0.0.0/8 to lo, so several
# addresses look like several hosts; known_hosts lists each; sshd takes
# at most 16), SSHD_FLAGS (extra sshd options, e.g. -r for benchmarks:
# no re-exec per connection).  The server allows only key authentication,
# for SSHD_USER only; sftp is served in-process (internal-sftp) and scp
# uses the system's scp.  It runs in the foreground (-D) as a child of the
# test, so stopping the pid stops it.

: "${SSHD_KEYTYPE:=ed25519}"
: "${SSHD_MAX_STARTUPS:=200}"
: "${SSHD_ADDRESSES:=127.0.0.1}"

# An SSH banner on the port (of the first address)?
_sshd_ready() {
	local line addr
	addr=$(echo $SSHD_ADDRESSES | cut -d' ' -f1)
	exec 5<>"/dev/tcp/$addr/$1" || return 1
	read -r -t 2 line <&5
	exec 5<&- 5>&-
	[[ $line == SSH-2.0-* ]]
}

sshd_start() {
	local dir=$1/sshd sshd try a kt_opts=()
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || { echo "sshd_start: no sshd" >&2; return 1; }
	mkdir -p "$dir" || return 1
	chmod 700 "$dir"
	[ "$SSHD_KEYTYPE" = rsa ] && kt_opts=(-b 3072)
	rm -f "$dir"/host_key* "$dir"/other_host_key* "$dir"/user_key*
	ssh-keygen -q -t "$SSHD_KEYTYPE" "${kt_opts[@]}" -N '' -m PEM \
		-f "$dir/host_key" -C dircat-test-host || return 1
	ssh-keygen -q -t "$SSHD_KEYTYPE" "${kt_opts[@]}" -N '' -m PEM \
		-f "$dir/other_host_key" -C dircat-test-other || return 1
	ssh-keygen -q -t "$SSHD_KEYTYPE" "${kt_opts[@]}" -N '' -m PEM \
		-f "$dir/user_key" -C dircat-test-user || return 1
	cp "$dir/user_key.pub" "$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys" "$dir/user_key"
	SSHD_USER=$(id -un)
	SSHD_KEY=$dir/user_key
	SSHD_PUBKEY=$dir/user_key.pub
	SSHD_LOG=$dir/sshd.log
	# Running as root, sshd wants its privilege separation directory
	# (normally made by the system's service unit).
	if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 755 /run/sshd
	fi
	for try in 1 2 3; do
		SSHD_PORT=$(free_port) || return 1
		for a in $SSHD_ADDRESSES; do
			echo "ListenAddress $a"
		done >"$dir/sshd_config"
		cat >>"$dir/sshd_config" <<-EOF
		Port $SSHD_PORT
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/authorized_keys
		AllowUsers $SSHD_USER
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PrintMotd no
		MaxStartups $SSHD_MAX_STARTUPS
		MaxSessions 50
		LogLevel VERBOSE
		Subsystem sftp internal-sftp
		EOF
		: >"$SSHD_LOG"
		"$sshd" -D -e ${SSHD_FLAGS:-} -f "$dir/sshd_config" >>"$SSHD_LOG" 2>&1 &
		SSHD_PID=$!
		track_pid "$SSHD_PID"
		if wait_for 10 _sshd_ready "$SSHD_PORT"; then
			break
		fi
		stop_pid "$SSHD_PID"
		SSHD_PID=
	done
	if [ -z "$SSHD_PID" ]; then
		echo "sshd_start: sshd did not start; log:" >&2
		tail -n 20 "$SSHD_LOG" >&2
		return 1
	fi
	SSHD_KNOWN_HOSTS=$dir/known_hosts
	SSHD_WRONG_KNOWN_HOSTS=$dir/wrong_known_hosts
	: >"$SSHD_KNOWN_HOSTS"
	: >"$SSHD_WRONG_KNOWN_HOSTS"
	for a in $SSHD_ADDRESSES; do
		echo "[$a]:$SSHD_PORT $(cut -d' ' -f1-2 "$dir/host_key.pub")" \
			>>"$SSHD_KNOWN_HOSTS"
		echo "[$a]:$SSHD_PORT $(cut -d' ' -f1-2 "$dir/other_host_key.pub")" \
			>>"$SSHD_WRONG_KNOWN_HOSTS"
	done
	export SSHD_PORT SSHD_PID SSHD_USER SSHD_KEY SSHD_PUBKEY \
		SSHD_KNOWN_HOSTS SSHD_WRONG_KNOWN_HOSTS SSHD_LOG
	return 0
}

sshd_restart() {
	local dir=$(dirname "$SSHD_LOG") sshd
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	"$sshd" -D -e ${SSHD_FLAGS:-} -f "$dir/sshd_config" >>"$SSHD_LOG" 2>&1 &
	SSHD_PID=$!
	track_pid "$SSHD_PID"
	export SSHD_PID
	wait_for 10 _sshd_ready "$SSHD_PORT"
}

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] && stop_pid "$SSHD_PID"
	SSHD_PID=
}
