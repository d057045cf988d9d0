# catalogd-lib.sh - a private catalogd for the integration tests (sourced
# after lib.sh, not run; as root).
#
#   catd_init DIR               keys, inbox and an empty source catalog
#                               under DIR; sets CATD_DIR, CATD_CONF, CATD_LOG
#   catd_conf [LINE...]         write DIR/catalogd.conf: four sockets
#                               (DIR/run/map.sock, policy.sock, exim.sock,
#                               ctl.sock),
#                               user nobody; extra top-level LINEs first
#   catd_start [ARGS...]        start catalogd -f in the background, wait
#                               until its control socket answers; CATD_PID
#   catd_stop                   SIGTERM, wait
#   catd_source SERIAL-LINES    make the source catalog's content (one
#                               "address kind [owners]" a line on stdin);
#                               prints its serial
#   catd_full NAME [MKSNAP-ARGS...]   full snapshot of the source catalog
#                               delivered into the inbox as NAME (temp name
#                               first, then rename)
#   catd_delta BASE NAME [MKSNAP-ARGS...]   the same, a delta from BASE
#   catd_wait_serial N          wait until INBOX/status says serial=N
#   catd_serving                start catalogd serving serial 1 of the
#                               records on stdin (as catd_source), or
#                               exit the test with a FAIL (not in a
#                               pipeline: CATD_PID must reach the caller)
#   catd_tool NAME...           CATD_TOOLS/NAME exists, or exit with a FAIL
#   catd_sm MAP KEY...          socketmap answers, one a line
: "${DIRCAT_TESTBIN:?}"
CATD_TOOLS=$DIRCAT_TESTBIN/tools

catd_init() {
	CATD_DIR=$1
	CATD_CONF=$CATD_DIR/catalogd.conf
	CATD_LOG=$CATD_DIR/catalogd.log
	mkdir -p "$CATD_DIR/inbox" "$CATD_DIR/var" "$CATD_DIR/src" "$CATD_DIR/run"
	# What catalogd's user writes: the catalog, the inbox, the socket
	# directory (sockets made after a reload, removed at stop).
	chown nobody:nogroup "$CATD_DIR/inbox" "$CATD_DIR/var" "$CATD_DIR/run"
	(cd "$CATD_DIR" && "$DIRCAT_BIN/dircat" keygen signer >/dev/null) ||
		fail "dircat keygen"
	(cd "$CATD_DIR" && "$DIRCAT_BIN/dircat" keygen other >/dev/null) ||
		fail "dircat keygen (second key)"
}

catd_conf() {
	{
		echo "catalog = $CATD_DIR/var/catalog.mdb"
		echo "catalog_id = corp"
		echo "inbox = $CATD_DIR/inbox"
		echo "trusted_key = $CATD_DIR/signer.pub"
		echo "user = nobody"
		for l in "$@"; do echo "$l"; done
		echo "[socket map]"
		echo "path = $CATD_DIR/run/map.sock"
		echo "protocol = socketmap"
		echo "[socket policy]"
		echo "path = $CATD_DIR/run/policy.sock"
		echo "protocol = policy"
		echo "[socket exim]"
		echo "path = $CATD_DIR/run/exim.sock"
		echo "protocol = readsocket"
		echo "[socket control]"
		echo "path = $CATD_DIR/run/ctl.sock"
		echo "protocol = control"
	} >"$CATD_CONF"
}

_catd_ready() {
	printf 'status\n' | "$CATD_TOOLS/catdclient" -t 1 raw "$CATD_DIR/run/ctl.sock" |
		grep -q '^pid=[0-9]'
}

catd_start() {
	"$DIRCAT_BIN/catalogd" -c "$CATD_CONF" -f "$@" >>"$CATD_LOG" 2>&1 &
	CATD_PID=$!
	track_pid "$CATD_PID"
	wait_for 10 _catd_ready || {
		fail "catalogd did not start"
		tail -n 20 "$CATD_LOG"
		return 1
	}
}

catd_stop() {
	stop_pid "$CATD_PID"
	wait "$CATD_PID" 2>/dev/null
	CATD_PID=
}

catd_source() {
	"$CATD_TOOLS/mkcatalog" -i corp -N "$CATD_DIR/src/src.mdb"
}

_catd_deliver() {	# NAME, then mksnap args (after the options)
	local name=$1; shift
	"$CATD_TOOLS/mksnap" "$@" "$CATD_DIR/src/src.mdb" "$CATD_DIR/signer.key" \
		"$CATD_DIR/inbox/.upload-$name" >/dev/null &&
	chown nobody "$CATD_DIR/inbox/.upload-$name" &&
	mv "$CATD_DIR/inbox/.upload-$name" "$CATD_DIR/inbox/$name"
}

catd_full() {
	local name=$1; shift
	_catd_deliver "$name" "$@"
}

catd_delta() {
	local base=$1 name=$2; shift 2
	_catd_deliver "$name" -b "$base" "$@"
}

_catd_serial_is() { grep -qx "serial=$1" "$CATD_DIR/inbox/status"; }

catd_wait_serial() {
	wait_for "${2:-15}" _catd_serial_is "$1"
}

catd_sm() {
	local map=$1; shift
	"$CATD_TOOLS/catdclient" sm "$CATD_DIR/run/map.sock" "$map" "$@"
}

catd_serving() {
	catd_source >/dev/null
	catd_full corp.1.full.snap
	catd_start || exit 1
	catd_wait_serial 1 60 || { fail "first snapshot not installed"; exit 1; }
}

catd_tool() {
	local t
	for t in "$@"; do
		[ -x "$CATD_TOOLS/$t" ] || { fail "missing $CATD_TOOLS/$t (make tests)"; exit 1; }
	done
}
