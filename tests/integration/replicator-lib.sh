# replicator-lib.sh - shared by the replicator tests (sourced after lib.sh).
#
#   rep_setup DIR            signing key, catalog path, spool/state dirs
#                            under DIR; sets REP_DIR REP_KEY REP_PUB REP_CAT
#                            REP_REPORT
#   rep_records FROM TO      "userN@example.org person" lines, N in FROM..TO
#   rep_catalog              stdin records become the catalog's content
#                            (one new serial when something changed);
#                            prints the serial
#   rep_status INBOX SERIAL [ID]   write INBOX/status as catalogd does
#   rep_conf FILE            the common top of a configuration, then stdin
#   rep_run ARGS...          run the replicator; sets REP_RC, REP_OUT, REP_ERR
#   rep_json TARGET FIELD    a field of TARGET in the last JSON report
#   rep_serial               the catalog serial of the last JSON report
#   rep_verify FILE          `dircat verify FILE --key REP_PUB` output

rep_setup() {
	REP_DIR=$1
	REP_KEY=$REP_DIR/signing.key
	REP_PUB=$REP_DIR/signing.pub
	REP_CAT=$REP_DIR/catalog.mdb
	REP_REPORT=$REP_DIR/report.json
	mkdir -p "$REP_DIR"
	(cd "$REP_DIR" && "$DIRCAT_BIN/dircat" keygen signing >/dev/null) ||
		{ echo "rep_setup: keygen failed" >&2; return 1; }
}

rep_records() {
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "user$i@example.org person"
	done
}

rep_catalog() {
	"$DIRCAT_TESTBIN/tools/mkcatalog" -i corp "$REP_CAT"
}

rep_status() {
	local inbox=$1 serial=$2 id=${3:-corp} now
	now=$(date +%s)
	printf 'catalog_id=%s\nserial=%s\ncreated=%s\nexpires=%s\ninstalled=%s\nkey_id=0000000000000000\nstale=no\n' \
		"$id" "$serial" "$now" $((now + 604800)) "$now" \
		>"$inbox/.status.tmp" && mv "$inbox/.status.tmp" "$inbox/status"
}

rep_conf() {
	{
		cat <<-EOF
		catalog = $REP_CAT
		signing_key = $REP_KEY
		lifetime = 7d
		spool_dir = $REP_DIR/spool
		state_dir = $REP_DIR/state
		report_json = $REP_REPORT
		EOF
		cat
	} >"$1"
}

rep_run() {
	local out err
	out=$(mktemp "$REP_DIR/out.XXXXXX")
	err=$(mktemp "$REP_DIR/err.XXXXXX")
	"$DIRCAT_BIN/dircat-replicator" "$@" >"$out" 2>"$err"
	REP_RC=$?
	REP_OUT=$(cat "$out")
	REP_ERR=$(cat "$err")
	rm -f "$out" "$err"
	if [ -n "${REP_DEBUG:-}" ]; then
		echo "--- dircat-replicator $* (exit $REP_RC)"
		echo "$REP_OUT"
		echo "$REP_ERR"
	fi
	return 0
}

# A field of one target's line in the JSON report (one target a line).
rep_json() {
	grep -F "{\"name\":\"$1\"" "$REP_REPORT" |
		sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

rep_serial() {
	head -n 1 "$REP_REPORT" | sed -n 's/^{"catalog_id":"[^"]*","serial":\([0-9]*\),.*/\1/p'
}

rep_verify() {
	"$DIRCAT_BIN/dircat" verify "$1" --key "$REP_PUB" 2>&1
}
