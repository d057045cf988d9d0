# pipeline-lib.sh - the whole dircat pipeline on one machine, on private
# servers (sourced by scripts/demo.sh and tests/bench/live_bench.sh, after
# tests/integration/lib.sh, slapd-lib.sh, sshd-lib.sh and postfix-lib.sh).
# As root: catalogd drops to "nobody", Postfix runs as "postfix".
#
#   pipeline_internal DIR    slapd with the sample organisation, the
#                            aggregator's configuration, a signing key;
#                            sets PL_INT (DIR/internal), PL_AGG_CONF
#   pipeline_node DIR        the DMZ node: an sshd for uploads and catalogd
#                            (sockets in DIR/node/run); sets PL_NODE,
#                            PL_MAPSOCK, PL_POLICYSOCK, PL_CATD_PID,
#                            PL_CATD_CONF
#   pipeline_replicator      the replicator's configuration: one sftp
#                            target, the node; sets PL_REP_CONF
#   pipeline_postfix DIR     a private Postfix in front of the node's
#                            catalogd (postfix_start: PF_SMTP_PORT ...)
#   pipeline_watch           the live path: the aggregator in watch mode
#                            (slapd must run with SLAPD_SYNCPROV=1) and the
#                            replicator in watch mode, told of each serial
#                            on a datagram socket; sets PL_WATCH_CONF,
#                            PL_AGG_PID, PL_REP_PID, PL_NOTIFY
#   pipeline_watch_stop      stop both by pid
#   pl_aggregate [ARGS]      run the aggregator (quietly unless ARGS)
#   pl_replicate [ARGS]      run the replicator
#   pl_node_serial           the serial the node reports in INBOX/status
#   pl_rcpt PORT FROM TO     the SMTP answer to RCPT TO, one line (swaks)
#   pl_lookup ADDRESS        catalogd's socketmap answer via postmap -q

pipeline_internal() {
	local dir=$1
	PL_INT=$dir/internal
	mkdir -p "$PL_INT"
	slapd_start "$dir/slapd" || return 1
	slapd_load "$DIRCAT_TOP/tests/integration/data/sample.ldif" || return 1
	PL_AGG_CONF=$PL_INT/aggregator.conf
	sed -e "s|@DIR@|$PL_INT|g" -e "s|@URI@|$SLAPD_URI|g" \
	    -e "s|@BINDPW@|$SLAPD_BINDPW|g" \
	    "$DIRCAT_TOP/tests/integration/data/sample.conf.in" >"$PL_AGG_CONF"
	(cd "$PL_INT" && "$DIRCAT_BIN/dircat" keygen signer >/dev/null)
}

pipeline_node() {
	local dir=$1
	PL_NODE=$dir/node
	PL_MAPSOCK=$PL_NODE/run/map.sock
	PL_POLICYSOCK=$PL_NODE/run/policy.sock
	PL_CATD_CONF=$PL_NODE/catalogd.conf
	mkdir -p "$PL_NODE/inbox" "$PL_NODE/run" "$PL_NODE/keys"
	mkdir -p "$dir/pfq"
	echo "compatibility_level = 3.6" >"$dir/pfq/main.cf"	# postmap -q alone
	PL_PFQ=$dir/pfq
	cp "$PL_INT/signer.pub" "$PL_NODE/keys/"
	sshd_start "$dir/dmz" || return 1
	cat >"$PL_CATD_CONF" <<CONF
catalog = $PL_NODE/catalog.mdb
catalog_id = example
inbox = $PL_NODE/inbox
trusted_key = $PL_NODE/keys/signer.pub
user = nobody
extension_delimiter = +
[socket map]
path = $PL_MAPSOCK
protocol = socketmap
group = postfix
mode = 0660
[socket policy]
path = $PL_POLICYSOCK
protocol = policy
group = postfix
mode = 0660
[socket control]
path = $PL_NODE/run/control.sock
protocol = control
mode = 0600
CONF
	# catalogd's user owns its catalog and inbox; root keeps the rest.
	chown nobody "$PL_NODE" "$PL_NODE/inbox"
	${PL_CATD_WRAP:-} "$DIRCAT_BIN/catalogd" -c "$PL_CATD_CONF" -f >"$PL_NODE/catalogd.log" 2>&1 &
	PL_CATD_PID=$!
	track_pid "$PL_CATD_PID"
	# Ready when it has written INBOX/status: by then it watches the inbox.
	wait_for 10 test -S "$PL_MAPSOCK" && wait_for 10 test -s "$PL_NODE/inbox/status"
}

pipeline_replicator() {
	PL_REP_CONF=$PL_INT/replicator.conf
	cat >"$PL_REP_CONF" <<CONF
catalog = $PL_INT/catalog.mdb
catalog_id = example
signing_key = $PL_INT/signer.key
lifetime = 7d
spool_dir = $PL_INT/spool
state_dir = $PL_INT/state
report_json = $PL_INT/replicator.json
ssh_private_key = $SSHD_KEY
ssh_known_hosts = $SSHD_KNOWN_HOSTS
upload_mode = 0644
[target dmz1]
url = sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT$PL_NODE/inbox/
CONF
}

pipeline_postfix() {
	postfix_start "$1/postfix" "$PL_MAPSOCK" "example.com example.org" "$PL_POLICYSOCK"
}

pipeline_watch() {
	PL_NOTIFY=$PL_INT/notify.sock
	PL_WATCH_CONF=$PL_INT/watch.conf
	# One base for the live session: the sample's three are under it.
	sed -e '/^base = ou=groups/d' -e '/^base = ou=mailin/d' \
	    -e "s|^base = ou=people,|base = |" "$PL_AGG_CONF" >"$PL_WATCH_CONF"
	cat >>"$PL_WATCH_CONF.top" <<CONF
notify_socket = $PL_NOTIFY
watch_status_file = $PL_INT/watch.status
publish_interval = 100ms
CONF
	# Top-level settings go before the first [section].
	awk -v top="$PL_WATCH_CONF.top" '/^\[/ && !done { while ((getline l < top) > 0) print l; done = 1 } { print }' \
		"$PL_WATCH_CONF" >"$PL_WATCH_CONF.new" && mv "$PL_WATCH_CONF.new" "$PL_WATCH_CONF"
	rm -f "$PL_WATCH_CONF.top"
	printf 'notify_socket = %s\nwatch_interval = 1m\n' "$PL_NOTIFY" |
		cat - "$PL_REP_CONF" >"$PL_REP_CONF.watch"
	"$DIRCAT_BIN/dircat-replicator" -c "$PL_REP_CONF.watch" -w >"$PL_INT/replicator-watch.log" 2>&1 &
	PL_REP_PID=$!
	track_pid "$PL_REP_PID"
	wait_for 10 test -S "$PL_NOTIFY" || return 1
	"$DIRCAT_BIN/dircat-aggregator" -c "$PL_WATCH_CONF" --watch >"$PL_INT/aggregator-watch.log" 2>&1 &
	PL_AGG_PID=$!
	track_pid "$PL_AGG_PID"
	wait_for 30 grep -q '^source.*=following' "$PL_INT/watch.status"
}

pipeline_watch_stop() {
	stop_pid "${PL_AGG_PID:-}"
	stop_pid "${PL_REP_PID:-}"
}

pl_aggregate() { "$DIRCAT_BIN/dircat-aggregator" -c "$PL_AGG_CONF" "$@"; }
pl_replicate() { "$DIRCAT_BIN/dircat-replicator" -c "$PL_REP_CONF" "$@"; }
pl_node_serial() { sed -n 's/^serial=//p' "$PL_NODE/inbox/status" 2>/dev/null; }

pl_rcpt() {
	swaks --server 127.0.0.1 --port "$1" --from "$2" --to "$3" \
		--helo client.example --timeout 20 --quit-after RCPT 2>&1 |
		awk '/^ *[-~*]*> RCPT TO/ { rcpt = 1; next }
		     rcpt && /^<[-~*]* +[0-9][0-9][0-9]/ { sub(/^<[-~*]* +/, ""); print; exit }'
}

pl_lookup() {
	postmap -c "$PL_PFQ" -q "$1" "socketmap:unix:$PL_MAPSOCK:recipients" 2>&1 ||
		echo "(not found)"
}
