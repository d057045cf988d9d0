# postfix-lib.sh - a private Postfix instance in front of catalogd, for the
# integration tests and the demo (sourced after lib.sh, not run; as root).
#
#   postfix_start DIR MAPSOCK DOMAINS [POLICYSOCK]
#       Builds a Postfix instance under DIR (config, queue, data, sasl,
#       sink, maillog) and starts it with an smtp-sink behind it.
#       MAPSOCK: catalogd's socketmap socket; DOMAINS: the local domains
#       (relay_domains, space separated); POLICYSOCK: catalogd's policy
#       socket, optional.  Every daemon runs unchrooted, listens on
#       127.0.0.1 only, on free high ports, and trusts no client by
#       address (mynetworks is a documentation range, never contacted).
#       Sets:
#         PF_DIR              DIR
#         PF_CONF             the config_directory (for postconf -c, postmap -c)
#         PF_SMTP_PORT        MX smtpd: relay_recipient_maps =
#                             socketmap:unix:MAPSOCK:recipients
#         PF_POLICY_PORT      MX smtpd asking the policy service at RCPT
#                             (no relay_recipient_maps); with POLICYSOCK only
#         PF_SUBMISSION_PORT  submission: SASL required, sender checked by
#                             smtpd_sender_login_maps = socketmap:...:senders
#                             and reject_sender_login_mismatch
#         PF_SUBMISSION_POLICY_PORT  submission with the sender checked by
#                             the policy service instead; with POLICYSOCK only
#         PF_SINK_PORT, SINK_DIR  the smtp-sink all accepted mail goes to;
#                             one file per message in SINK_DIR
#         PF_LOG              Postfix's log file
#         PF_MASTER_PID, PF_SINK_PID  (both tracked: stopped at exit)
#   postfix_add_user LOGIN PASSWORD
#       A SASL (sasldb) user.  LOGIN "name@realm" makes user name in realm
#       realm; Postfix then reports sasl_username as LOGIN.
#   postfix_stop       stop Postfix (postfix stop, then the master by pid)
#                      and the sink
#   sink_count ADDRESS how many messages the sink got for ADDRESS
#   sink_wait ADDRESS N [SECONDS]  wait until it got at least N
#
# Knobs (environment, before postfix_start): PF_EXTRA_MAIN (more main.cf
# lines), PF_DELIMITER (recipient_delimiter, default "+").
: "${PF_DELIMITER:=+}"

# The sasldb realm and file live in the instance directory.
_pf_sasldb() { echo "$PF_DIR/sasl/sasldb2"; }

postfix_add_user() {
	local login=$1 password=$2 user realm
	user=${login%@*}
	if [ "$user" != "$login" ]; then
		realm=${login#*@}
	else
		realm=$(postconf -c "$PF_CONF" -h myhostname)
	fi
	echo "$password" | saslpasswd2 -f "$(_pf_sasldb)" -p -c -u "$realm" \
		"$user" || return 1
	# smtpd runs as postfix and opens the sasldb itself.
	chown postfix: "$(_pf_sasldb)" && chmod 0600 "$(_pf_sasldb)"
}

# _pf_write_main DIR MAPSOCK DOMAINS
_pf_write_main() {
	local dir=$1 sock=$2 domains=$3
	cat >"$dir/etc/main.cf" <<EOF
# A private test instance: nothing here is contacted but 127.0.0.1.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = mx.dircat-test.invalid
mydomain = dircat-test.invalid
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery is off in this instance
alias_maps =
alias_database =
biff = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Loopback is NOT trusted: every relay test must go through the maps.
mynetworks = 192.0.2.0/24
relay_domains = $domains
relay_recipient_maps = socketmap:unix:$sock:recipients
relay_transport = relay:[127.0.0.1]:$PF_SINK_PORT
default_transport = error:outbound mail is off in this instance
recipient_delimiter = $PF_DELIMITER
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
smtpd_recipient_restrictions =
# Tests send hundreds of bad recipients in one session.
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_error_sleep_time = 0
smtpd_junk_command_limit = 1000
smtpd_recipient_limit = 10000
smtpd_client_connection_count_limit = 0
# SASL for the submission ports (sasldb in this directory).
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/etc/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sender_login_maps = socketmap:unix:$sock:senders
# Mail waits in the queue only for the sink.
minimal_backoff_time = 5s
maximal_backoff_time = 10s
queue_run_delay = 5s
${PF_EXTRA_MAIN:-}
EOF
}

# _pf_write_master DIR POLICYSOCK
_pf_write_master() {
	local dir=$1 policy=$2 m=$1/etc/master.cf
	cat >"$m" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/mx
127.0.0.1:$PF_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
	if [ -n "$policy" ]; then
		cat >>"$m" <<EOF
127.0.0.1:$PF_POLICY_PORT inet n - n - - smtpd
  -o syslog_name=postfix/mxpolicy
  -o relay_recipient_maps=
  -o smtpd_recipient_restrictions=check_policy_service,unix:$policy
127.0.0.1:$PF_SUBMISSION_POLICY_PORT inet n - n - - smtpd
  -o syslog_name=postfix/subpolicy
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sender_login_maps=
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=check_policy_service,unix:$policy
EOF
	fi
	cat >>"$m" <<'EOF'
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	# The command-line "check_policy_service,unix:..." needs no blanks;
	# Postfix splits restriction lists at commas too.
}

# Postfix's master pid, from the lock file it keeps in data_directory.
_pf_master_pid() {
	local f=$PF_DIR/data/master.lock pid
	[ -s "$f" ] || return 1
	pid=$(tr -dc '0-9' <"$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

_pf_listening() {	# port
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free port below the kernel's ephemeral range (so no outgoing
# connection can be holding it) that this instance does not use yet.
_pf_port() {
	local p i
	for i in $(seq 200); do
		p=$((20000 + RANDOM % 12000))
		case " $PF_SMTP_PORT $PF_SUBMISSION_PORT $PF_POLICY_PORT $PF_SUBMISSION_POLICY_PORT $PF_SINK_PORT " in
		*" $p "*) continue ;;
		esac
		_pf_listening "$p" && continue
		echo "$p"
		return 0
	done
	return 1
}

# Start smtp-sink on a free port (another port when a race took it).
_pf_start_sink() {
	local dir=$1 try
	for try in 1 2 3 4 5; do
		PF_SINK_PORT=$(_pf_port) || return 1
		smtp-sink -u postfix -d "$SINK_DIR/%Y%m%d%H%M%S." \
			"127.0.0.1:$PF_SINK_PORT" 100 >"$dir/sink.log" 2>&1 &
		PF_SINK_PID=$!
		if wait_for 5 _pf_listening "$PF_SINK_PORT"; then
			track_pid "$PF_SINK_PID"
			return 0
		fi
		stop_pid "$PF_SINK_PID"
	done
	echo "postfix-lib: smtp-sink would not start:" >&2
	cat "$dir/sink.log" >&2
	return 1
}

postfix_start() {
	local dir=$1 sock=$2 domains=$3 policy=${4:-} p
	PF_DIR=$dir
	PF_CONF=$dir/etc
	PF_LOG=$dir/maillog
	SINK_DIR=$dir/sink
	mkdir -p "$dir/etc/sasl" "$dir/queue" "$dir/data" "$dir/sasl" \
		"$SINK_DIR" || return 1
	chmod 755 "$dir" "$dir/etc" "$dir/etc/sasl" "$dir/sasl"
	chown postfix: "$dir/data" "$SINK_DIR"
	PF_SMTP_PORT= PF_SUBMISSION_PORT= PF_POLICY_PORT=
	PF_SUBMISSION_POLICY_PORT= PF_SINK_PORT=
	for p in PF_SMTP_PORT PF_SUBMISSION_PORT PF_POLICY_PORT \
		 PF_SUBMISSION_POLICY_PORT; do
		printf -v "$p" '%s' "$(_pf_port)" || return 1
	done
	if [ -z "$policy" ]; then
		PF_POLICY_PORT=
		PF_SUBMISSION_POLICY_PORT=
	fi
	# Debian's smtpd reads $config_directory/sasl/smtpd.conf, whatever
	# cyrus_sasl_config_path says; both name the same place here.
	cat >"$dir/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasl/sasldb2
EOF
	# The hub first (main.cf names its port): every message it accepts
	# becomes one file in SINK_DIR.
	_pf_start_sink "$dir" || return 1
	_pf_write_main "$dir" "$sock" "$domains"
	_pf_write_master "$dir" "$policy"


	if ! postfix -c "$PF_CONF" check >"$dir/check.log" 2>&1 ||
	   ! postfix -c "$PF_CONF" start >"$dir/start.log" 2>&1; then
		echo "postfix-lib: postfix would not start:" >&2
		cat "$dir/check.log" "$dir/start.log" >&2
		return 1
	fi
	if ! wait_for 10 _pf_master_pid; then
		echo "postfix-lib: no master process" >&2
		return 1
	fi
	PF_MASTER_PID=$(_pf_master_pid)
	track_pid "$PF_MASTER_PID"
	for p in $PF_SMTP_PORT $PF_SUBMISSION_PORT $PF_POLICY_PORT \
		 $PF_SUBMISSION_POLICY_PORT; do
		if ! wait_for 10 _pf_listening "$p"; then
			echo "postfix-lib: nothing listens on port $p" >&2
			return 1
		fi
	done
	return 0
}

postfix_stop() {
	[ -n "${PF_CONF:-}" ] || return 0
	postfix -c "$PF_CONF" stop >/dev/null 2>&1
	[ -n "${PF_MASTER_PID:-}" ] && stop_pid "$PF_MASTER_PID"
	[ -n "${PF_SINK_PID:-}" ] && stop_pid "$PF_SINK_PID"
	PF_MASTER_PID= PF_SINK_PID=
	return 0
}

# sink_count ADDRESS: messages the sink received for ADDRESS (the whole
# address, case-insensitive, as smtp-sink recorded the RCPT TO).
sink_count() {
	local f n=0
	for f in "$SINK_DIR"/*; do
		[ -f "$f" ] || continue
		# smtp-sink writes "X-Rcpt-Args: <address> ORCPT=..."
		if grep -qiF "X-Rcpt-Args: <$1>" "$f"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}

_sink_has() {	# address n
	[ "$(sink_count "$1")" -ge "$2" ]
}

sink_wait() {
	wait_for "${3:-20}" _sink_has "$1" "$2"
}
