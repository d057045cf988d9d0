#!/bin/bash
# catalogd_stale.sh - a catalog past its expiry: what each stale_policy
# answers over socketmap and policy, what INBOX/status and dircat status
# say, and recovery when a fresh snapshot arrives.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"

d=$(tmpdir)
catd_init "$d"
catd_conf "stale_policy = defer-unknown"
catd_source >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith
EOF2
catd_start || exit 1
catd_full corp.1.full.snap -l 3
check "short-lived snapshot installed" catd_wait_serial 1
check_eq "fresh: unknown is NOTFOUND" "$(catd_sm recipients nobody@example.com)" "NOTFOUND "
_stale() { grep -qx 'stale=yes' "$d/inbox/status"; }
check "INBOX/status turns stale=yes after expiry" wait_for 8 _stale
check_match "expiry logged" "$(cat "$CATD_LOG")" "has expired: stale policy defer-unknown"

preq() {
	printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b.example\nrecipient=%s\n\n' "$1" |
		"$CATD_TOOLS/catdclient" -t 1 raw "$d/run/policy.sock"
}
check_eq "defer-unknown: known still found" \
	"$(catd_sm recipients jsmith@example.com jsmith+x@example.com)" "OK person
OK person"
check_eq "defer-unknown: unknown local is TEMP" \
	"$(catd_sm recipients nobody@example.com)" "TEMP catalog expired"
check_eq "defer-unknown: foreign is NOTFOUND" \
	"$(catd_sm recipients x@elsewhere.net)" "NOTFOUND "
check_eq "defer-unknown: policy defers unknown with 450" \
	"$(preq nobody@example.com)" \
	"action=450 4.1.1 User unknown here for now: directory catalog out of date, try again later"
check_eq "defer-unknown: policy passes known" "$(preq jsmith@example.com)" "action=DUNNO"
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF")
check_eq "dircat status exits 2 (CRITICAL) when stale" "$?" 2
check_match "dircat status says STALE" "$st" "^expires: .* STALE$"
check_match "dircat status says why it is CRITICAL" "$st" "^check: catalog expired"
st=$("$DIRCAT_BIN/dircat" status -c "$CATD_CONF" --nagios)
check_eq "dircat status --nagios: CRITICAL when stale" "$?" 2
check_match "dircat status --nagios: one line saying so" "$st" \
	"^DIRCAT CRITICAL - catalog expired \(stale\); catalog corp serial 1, age [0-9]+s, 2 records \| age=[0-9]+s;; records=2$"
check_match "dircat metrics: dircat_catalog_stale 1" \
	"$("$DIRCAT_BIN/dircat" metrics -c "$CATD_CONF")" "^dircat_catalog_stale 1$"

sed -i 's/^stale_policy = .*/stale_policy = tempfail/' "$CATD_CONF"
kill -HUP "$CATD_PID"
wait_for 5 grep -q "configuration reloaded" "$CATD_LOG"
check_eq "tempfail: even known is TEMP" \
	"$(catd_sm recipients jsmith@example.com)" "TEMP catalog expired"
check_eq "tempfail: policy defers" "$(preq jsmith@example.com)" \
	"action=DEFER_IF_PERMIT directory catalog expired"

sed -i 's/^stale_policy = .*/stale_policy = serve/' "$CATD_CONF"
kill -HUP "$CATD_PID"
wait_for 5 bash -c "[ \$(grep -c 'configuration reloaded' '$CATD_LOG') -ge 2 ]"
check_eq "serve: answers as usual" \
	"$(catd_sm recipients jsmith@example.com nobody@example.com)" "OK person
NOTFOUND "
check_eq "serve: policy rejects unknown" "$(preq nobody@example.com)" \
	"action=550 5.1.1 User unknown"

# A fresh snapshot ends it.
catd_source >/dev/null <<'EOF2'
example.com domain
jsmith@example.com person jsmith
new@example.com person new
EOF2
catd_full corp.2.full.snap
check "fresh snapshot installed" catd_wait_serial 2
check "INBOX/status back to stale=no" grep -qx 'stale=no' "$d/inbox/status"
"$DIRCAT_BIN/dircat" status -c "$CATD_CONF" >/dev/null
check_eq "dircat status exits 0 again" "$?" 0
