#!/bin/bash
# settings.sh - each program's settings table and dircat.conf(5) name the
# same settings: every setting a program lists with --settings is a tag of
# its file's section of the page, and every setting the page's tags name
# is one the program knows.  Also: a misspelt setting gets a suggestion,
# and the example configurations use only known settings.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"

page=$DIRCAT_TOP/man/dircat.conf.5

# The setting names in the .TP tags of one .SH section of the page
# ("catalog = " PATH, "person = " FORMULA ", mailin = " ...).
page_settings() {	# heading
	awk -v h="$1" '
		/^\.SH / { t = $0; sub(/^\.SH +/, "", t); gsub(/"/, "", t)
			   on = (t == h) }
		on && prev == ".TP" { print }
		{ prev = $0 }' "$page" |
		sed 's/\\-/-/g; s/"//g' |
		grep -oE '(^|[ ,])[a-z][a-z0-9_]* = ' |
		sed -E 's/^[ ,]*//; s/ = $//' | sort -u
}

# The names a program's --settings lists.
program_settings() {	# program
	"$DIRCAT_BIN/$1" --settings | awk '/^[a-z][a-z0-9_]* = / { print $1 }' |
		sort -u
}

for pair in dircat-aggregator:AGGREGATOR.CONF \
	    dircat-replicator:REPLICATOR.CONF catalogd:CATALOGD.CONF; do
	prog=${pair%%:*}
	heading=${pair#*:}
	if ! out=$("$DIRCAT_BIN/$prog" --settings) || [ -z "$out" ]; then
		fail "$prog --settings lists the settings"
		continue
	fi
	pass "$prog --settings lists the settings"
	in_prog=$(program_settings "$prog")
	in_page=$(page_settings "$heading")
	check_match "$prog: the page's $heading section names settings" \
		"$in_page" '^catalog$'
	missing=$(comm -23 <(echo "$in_prog") <(echo "$in_page") | tr '\n' ' ')
	check_eq "$prog: every setting it knows is in dircat.conf(5) $heading" \
		"$missing" ""
	unknown=$(comm -13 <(echo "$in_prog") <(echo "$in_page") | tr '\n' ' ')
	check_eq "$prog: every setting dircat.conf(5) $heading names exists" \
		"$unknown" ""
	# Each setting once, with its one line of documentation.
	dups=$(awk '/^\[/ { s = $0 } /^[a-z][a-z0-9_]* = / { print s, $1 }' \
		<<<"$out" | sort | uniq -d)
	check_eq "$prog: no setting listed twice in a section" "$dups" ""
	nodoc=$(awk '/^[a-z][a-z0-9_]* = / { name = $1; getline
		     if ($0 !~ /^    [A-Z.]/) print name }' <<<"$out")
	check_eq "$prog: every setting has a line of documentation" "$nodoc" ""
done

# dircat-fetch's fetch.conf is described in its own page, dircat-fetch(8),
# under CONFIGURATION: one .TP tag per setting (or two, "a", "b").
fetch_page_settings() {
	awk '/^\.SH / { on = ($2 == "CONFIGURATION") }
	     on && prev == ".TP" { print }
	     { prev = $0 }' "$DIRCAT_TOP/man/dircat-fetch.8" |
		sed 's/^\.B[IR]* //; s/\\-/-/g; s/"[^"]*"/ /g' |
		grep -oE '[a-z][a-z0-9_]*' | sort -u
}
if out=$("$DIRCAT_BIN/dircat-fetch" --settings) && [ -n "$out" ]; then
	pass "dircat-fetch --settings lists the settings"
	in_prog=$(program_settings dircat-fetch)
	in_page=$(fetch_page_settings)
	check_match "dircat-fetch: its page's CONFIGURATION names settings" \
		"$in_page" '^manifest_url$'
	check_eq "dircat-fetch: every setting it knows is in dircat-fetch(8)" \
		"$(comm -23 <(echo "$in_prog") <(echo "$in_page") | tr '\n' ' ')" ""
	check_eq "dircat-fetch: every setting dircat-fetch(8) names exists" \
		"$(comm -13 <(echo "$in_prog") <(echo "$in_page") | tr '\n' ' ')" ""
	nodoc=$(awk '/^[a-z][a-z0-9_]* = / { name = $1; getline
		     if ($0 !~ /^    [A-Z.]/) print name }' <<<"$out")
	check_eq "dircat-fetch: every setting has a line of documentation" \
		"$nodoc" ""
else
	fail "dircat-fetch --settings lists the settings"
fi

# A misspelt setting: the file and line, and the setting meant.
d=$(tmpdir)
cat >"$d/agg.conf" <<EOF
catalog = $d/catalog.mdb
catalog_id = corp
local_domains = example.com

[source corp]
uri = ldap://127.0.0.1:1/
base = dc=example,dc=com
pagesize = 100
person = @All
EOF
err=$("$DIRCAT_BIN/dircat-aggregator" -c "$d/agg.conf" -t 2>&1)
check_eq "aggregator: a misspelt setting is a configuration error" "$?" 78
check_match "aggregator: ... named with file:line and a suggestion" "$err" \
	"agg.conf:8: unknown setting 'pagesize' in \\[source corp\\]; did you mean 'page_size'\\?"
sed -i 's/^pagesize = 100$/page_size = 100/; 1i uri = ldap://127.0.0.1:2/' \
	"$d/agg.conf"
err=$("$DIRCAT_BIN/dircat-aggregator" -c "$d/agg.conf" -t 2>&1)
check_match "aggregator: a source's setting at the top: where it belongs" \
	"$err" "agg.conf:1: unknown setting 'uri'; it belongs in a \\[source NAME\\] section"

cat >"$d/rep.conf" <<EOF
catalog = $d/catalog.mdb
signing_key = $d/key
spool_dir = $d/spool
state_dir = $d/state
concurency = 4

[target a]
url = file://$d/inbox/
EOF
err=$("$DIRCAT_BIN/dircat-replicator" -c "$d/rep.conf" -C 2>&1)
check_eq "replicator: a misspelt setting is a configuration error" "$?" 78
check_match "replicator: ... named with file:line and a suggestion" "$err" \
	"rep.conf:5: unknown setting 'concurency'; did you mean 'concurrency'\\?"

sed -i 's|^url = file://.*|url = gopher://node.example/inbox/|; s/^concurency/concurrency/' \
	"$d/rep.conf"
err=$("$DIRCAT_BIN/dircat-replicator" -c "$d/rep.conf" -C 2>&1)
check_match "replicator: an unknown scheme is named as one, with those it takes" \
	"$err" "rep.conf:8: url: scheme gopher is not supported: use sftp://, scp://, https:// or file://"

mkdir -p "$d/inbox"
(cd "$d" && "$DIRCAT_BIN/dircat" keygen node >/dev/null)
cat >"$d/fetch.conf" <<EOF
manifest_url = https://origin.example/dircat/corp.manifest
catalog_id = corp
trusted_key = $d/node.pub
inbox = $d/inbox
state_dir = $d/fstate
poll_intervall = 30s
EOF
err=$("$DIRCAT_BIN/dircat-fetch" -c "$d/fetch.conf" -t 2>&1)
check_eq "dircat-fetch: a misspelt setting is a configuration error" "$?" 78
check_match "dircat-fetch: ... named with file:line and a suggestion" "$err" \
	"fetch.conf:6: unknown setting 'poll_intervall'; did you mean 'poll_interval'\\?"
sed -i 's/^poll_intervall = 30s$/poll_interval = 30s\npoll_jitter = 30s/' "$d/fetch.conf"
err=$("$DIRCAT_BIN/dircat-fetch" -c "$d/fetch.conf" -t 2>&1)
check_match "dircat-fetch: poll_jitter not shorter than poll_interval: named" \
	"$err" "fetch.conf:7: poll_jitter: must be shorter than poll_interval"
sed -i 's/^poll_jitter = 30s$/poll_jitter = 29s/' "$d/fetch.conf"
sed 's|^manifest_url = .*|manifest_url = https:/corp.manifest|' "$d/fetch.conf" \
	>"$d/fetch-url.conf"
err=$("$DIRCAT_BIN/dircat-fetch" -c "$d/fetch-url.conf" -t 2>&1)
check_match "dircat-fetch: a manifest_url without // is refused, named" \
	"$err" "fetch-url.conf:1: manifest_url: must name the manifest itself"
check "dircat-fetch: the corrected file passes -t" \
	"$DIRCAT_BIN/dircat-fetch" -c "$d/fetch.conf" -t

# Without -c each program reads its file in /etc/dircat.
for prog in dircat-aggregator:aggregator.conf:-t \
	    dircat-replicator:replicator.conf:-C dircat-fetch:fetch.conf:-t \
	    catalogd:catalogd.conf:-t; do
	IFS=: read -r p file opt <<<"$prog"
	if [ -e "/etc/dircat/$file" ]; then
		pass "$p: without -c (skipped: /etc/dircat/$file exists here)"
		continue
	fi
	err=$("$DIRCAT_BIN/$p" "$opt" 2>&1)
	check_match "$p: without -c it reads /etc/dircat/$file" "$err" \
		"/etc/dircat/$file: No such file or directory"
done

# dircat status and lookup read catalogd.conf by catalogd's own table:
# a file catalogd would refuse is refused with the same message; what the
# file names on the host (keys, accounts) is catalogd's to check.
cat >"$d/catalogd.conf" <<EOF2
catalog = $d/catalog.mdb
catalog_id = corp
inbox = $d
trusted_key = $d/signing.pub
stale_polcy = serve

[socket control]
path = $d/control.sock
protocol = control
EOF2
(cd "$d" && "$DIRCAT_BIN/dircat" keygen signing >/dev/null)
err=$("$DIRCAT_BIN/catalogd" -c "$d/catalogd.conf" -t 2>&1)
check_match "catalogd: a misspelt setting, with a suggestion" "$err" \
	"catalogd.conf:5: unknown setting 'stale_polcy'; did you mean 'stale_policy'\\?"
err=$("$DIRCAT_BIN/dircat" status -c "$d/catalogd.conf" 2>&1)
check_eq "dircat status: catalogd's refused file is UNKNOWN (3)" "$?" 3
check_match "dircat status: ... with catalogd's message" "$err" \
	"catalogd.conf:5: unknown setting 'stale_polcy'; did you mean 'stale_policy'\\?"
sed -i '/^stale_polcy/d' "$d/catalogd.conf"
rm "$d/signing.pub"
out=$("$DIRCAT_BIN/dircat" status -c "$d/catalogd.conf" 2>&1)
check_match "dircat status: reads the file without loading the keys" \
	"$out" "daemon: NOT RUNNING"
