#!/bin/bash
# catalogd_assist.sh - one node, two catalogs (Directory Assistance): two
# business units, each with its own slapd, aggregator, signing key and
# replicator, feed one catalogd with [catalog unitA] and [catalog unitB].
#
#   both answer     recipients, domains and senders of each unit; the
#                   order (overall and [domain example.org]) decides.
#   conflict        an address in both directories: unitA's answer (first
#                   in the order), logged once however often it is asked,
#                   counted in status and metrics; unitB is keyed-hashed,
#                   so the log and status name the address by its hash.
#   independent     a snapshot signed with the other unit's key, or
#                   carrying the other unit's id, is refused by that
#                   catalog only; the other keeps answering.  unitA
#                   expires: its unknown addresses are deferred (4xx),
#                   unitB's domain is answered as before; under tempfail
#                   an address it holds is deferred, never answered by
#                   unitB, which holds it too (its mail would go to
#                   unitB's hub).
#   status          dircat status lists both with the order, serial, age
#                   and state.
#   routing         docs/postfix.md section 8 as written (host names,
#                   ports and paths changed): the aggregator's extra line,
#                   mx-eu's catalogd.conf, the main.cf lines; a private
#                   Postfix, two smtp-sink hubs on 127.0.0.2 and
#                   127.0.0.3, each recipient's mail at its own hub and
#                   none at the default relay; the route map on Exim's
#                   readsocket socket.
#   two PoPs        a second node (mx-us) with the guide's one change:
#                   entries without mailHost go to its own hub.
#   reload          a reload takes a [domain]'s route_default; one that
#                   renames a catalog is refused, the running catalogs
#                   keep answering.
# Needs root (catalogd drops to nobody, Postfix).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd-lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
. "$(dirname "$0")/postfix-lib.sh"

need slapd ldapadd postfix postmap smtp-sink swaks openssl
if [ "$(id -u)" != 0 ]; then
	fail "needs root (catalogd runs as nobody)"
	exit 1
fi
catd_tool catdclient mksnap
T=$(tmpdir)
cd "$T" || exit 1

# doc_block N: the Nth ```conf block of docs/postfix.md's section 8.
doc_block() {
	awk -v n="$1" '/^## 8\. Routing/ { on = 1; next } on && /^## / { exit }
		on && /^```conf$/ { k++; inb = (k == n); next }
		on && /^```$/ { inb = 0; next } inb' "$DIRCAT_TOP/docs/postfix.md"
}
extra_line=$(doc_block 1 | grep '^extra = ')
check_eq "docs/postfix.md section 8: the aggregator's extra line" \
	"$extra_line" "extra = mailHost mailHost"

# --- two directories --------------------------------------------------------
# mailHost: the hubs of docs/postfix.md section 8 (hub-a.example.com,
# hub-b.example.com) are 127.0.0.2 and 127.0.0.3 here.
person() {	# uid mail [mailHost]
	cat <<EOF

dn: uid=$1,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: $1
cn: $1
sn: $1
mail: $2
${3:+mailHost: $3}
EOF
}
{
	printf 'dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n'
	person alice alice@example.com 127.0.0.2
	person bob bob@example.com
	person frank frank@example.com 127.0.0.3
	person shareda shared@example.com
} >a.ldif
{
	printf 'dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n'
	person carol carol@example.org 127.0.0.3
	person dave dave@example.org
	person sharedb shared@example.com 127.0.0.3
} >b.ldif

unit() {	# name uri bindpw domains
	cat >"$1/agg.conf" <<EOF
catalog = $T/$1/catalog.mdb
catalog_id = $1
local_domains = $4
min_records = 1
[source $1]
uri = $2
bind_dn = $SLAPD_BINDDN
bind_password_file = $3
base = ou=people,dc=example,dc=com
filter = (objectClass=inetOrgPerson)
login_attribute = uid
$extra_line
person = SELECT @IsMember("inetOrgPerson"; objectClass)
EOF
	cat >"$1/rep.conf" <<EOF
catalog = $T/$1/catalog.mdb
signing_key = $T/$1/signer.key
$([ "$1" = unitB ] && echo "hash_secret = $T/unitB/hash.key")
lifetime = 7d
spool_dir = $T/$1/spool
state_dir = $T/$1/state
upload_mode = 0644
[target node]
url = file://$T/node/$1-inbox/
[target us]
url = file://$T/us/$1-inbox/
EOF
	(cd "$1" && "$DIRCAT_BIN/dircat" keygen signer >/dev/null) &&
	"$DIRCAT_BIN/dircat-aggregator" -c "$1/agg.conf" >"$1/agg.out" 2>&1 &&
	"$DIRCAT_BIN/dircat-replicator" -c "$1/rep.conf" >"$1/rep.out" 2>&1
}

mkdir -p unitA unitB node/unitA-inbox node/unitB-inbox node/var node/run \
	us/unitA-inbox us/unitB-inbox us/var us/run
chown nobody:nogroup us/unitA-inbox us/unitB-inbox us/var us/run
# Unit B's catalog is keyed-hashed (its own secret, catalogd.md section 7).
(umask 077; openssl rand -hex 32 >unitB/hash.key) && chown nobody unitB/hash.key
chown nobody:nogroup node/unitA-inbox node/unitB-inbox node/var node/run
for u in A B; do
	slapd_start "$T/slapd$u" || { fail "slapd $u starts"; exit 1; }
	slapd_load "$T/$(echo $u | tr AB ab).ldif" || fail "directory $u loaded"
	domains=example.com
	[ $u = B ] && domains="example.org, example.com"
	if unit "unit$u" "$SLAPD_URI" "$SLAPD_BINDPW" "$domains"; then
		pass "unit $u: slapd -> aggregator -> replicator (its own key)"
	else
		fail "unit $u pipeline"; cat "unit$u"/*.out
	fi
	eval "SLAPD_PID_$u=\$SLAPD_PID URI_$u=\$SLAPD_URI"
done
chown nobody node/*-inbox/* us/*-inbox/*

CONF=$T/node/catalogd.conf
HUBPORT=$(free_port) || { fail "a port for the hubs"; exit 1; }
# write_conf [NAME [LINE [TOP]]]: mx-eu's file of docs/postfix.md
# section 8, paths, hub names and port changed; NAME renames the second
# catalog, LINE is added to [domain example.org], TOP to the top level;
# test sockets at the end.
write_conf() {
	{
		echo "rescan_interval = 1s"
		echo "${3:-# nothing added}"
		doc_block 2 | sed -e "s|^user = dircat|user = nobody|" \
			-e "s|/var/lib/dircat/|$T/node/var/|" \
			-e "s|/var/lib/dircat-upload/inbox/\(unit.\)|$T/node/\1-inbox|" \
			-e "s|/etc/dircat/keys/\(unit.\)\.pub|$T/\1/signer.pub|" \
			-e "s|hub-a.example.com|127.0.0.2|; s|hub-b.example.com|127.0.0.3|" \
			-e "s|^\(transport_template = .*\):25$|\1:$HUBPORT|" \
			-e "s|^order = \(.*\)unitB$|order = \1${1:-unitB}|" \
			-e "s|^\[catalog unitB\]|[catalog ${1:-unitB}]\nhash_secret = $T/unitB/hash.key|" \
			-e "/^order = ${1:-unitB}$/a${2:-# nothing added}"
		cat <<EOF
[socket map]
path = $T/node/run/map.sock
protocol = socketmap
group = postfix
[socket exim]
path = $T/node/run/exim.sock
protocol = readsocket
[socket policy]
path = $T/node/run/policy.sock
protocol = policy
[socket control]
path = $T/node/run/ctl.sock
protocol = control
EOF
	} >"$CONF"
}
write_conf
CATD_DIR=$T/node CATD_CONF=$CONF CATD_LOG=$T/node/catalogd.log
out=$("$DIRCAT_BIN/catalogd" -c "$CONF" -t 2>&1)
check_match "catalogd -t shows each catalog" "$out" \
	"^\[catalog unitB\] catalog .*unitB.mdb \(id unitB\), inbox .*unitB-inbox, 1 trusted key$"
check_match "catalogd -t shows the order" "$out" "^order: unitA, unitB$"
check_match "catalogd -t shows the domain's order" "$out" \
	"^\[domain example.org\] order: unitB$"
check_match "catalogd -t shows the routing" "$out" \
	"^routes: field mailHost, default 127.0.0.2, transport relay:\[%s\]:$HUBPORT$"
catd_start || exit 1
installed() { grep -qx 'serial=1' "$T/node/unitA-inbox/status" &&
	      grep -qx 'serial=1' "$T/node/unitB-inbox/status"; }
wait_for 30 installed || { fail "both catalogs installed"; tail "$CATD_LOG"; exit 1; }
pass "both catalogs installed from their own inboxes"

sm() { "$CATD_TOOLS/catdclient" sm "$T/node/run/map.sock" "$@"; }
check_eq "recipients from both units, unknowns of each domain not found" \
	"$(sm recipients alice@example.com carol@example.org Dave+x@Example.ORG nobody@example.com nobody@example.org someone@example.net)" \
	"$(printf 'OK person\nOK person\nOK person\nNOTFOUND \nNOTFOUND \nNOTFOUND ')"
check_eq "domains of both units" \
	"$(sm domains example.com example.org example.net)" \
	"$(printf 'OK domain\nOK domain\nNOTFOUND ')"

# --- a conflict: shared@example.com is in both directories ------------------
check_eq "conflict: unitA (first in the order) answers for the senders map" \
	"$(sm senders shared@example.com shared@example.com shared@example.com)" \
	"$(printf 'OK shareda\nOK shareda\nOK shareda')"
n=$(grep -cE 'conflict: hashed:[A-Za-z0-9_-]{32} is in catalog unitA \(serial 1\) and in catalog unitB \(serial 1\): unitA answers' "$CATD_LOG")
check_eq "the conflict is logged once for three lookups, by unitB's hashed key" "$n" 1
check_eq "the keyed-hash catalog's address is not in the log" \
	"$(grep -c 'shared@example.com' "$CATD_LOG")" 0
status=$("$DIRCAT_BIN/dircat" status -c "$CONF" 2>&1)
check_match "status: the conflict, counted, by its hashed key" "$status" \
	"conflicts: 3, the last .* hashed:[A-Za-z0-9_-]{32} in unitA and unitB"
metrics=$("$DIRCAT_BIN/dircat" metrics -c "$CONF" 2>&1)
check_match "metrics: conflicts by catalog" "$metrics" \
	'dircat_catalogd_conflicts_total\{catalog="unitB"\} 3'

# --- status: the catalogs in their order (SHOW XDIR) -----------------------
check_match "status lists both catalogs in their order" "$status" \
	"catalogs: unitA, unitB .*1 domain with an order of its own"
check_match "status: unitA with its serial, age and state" "$status" \
	"^  unitA: id unitA, serial 1, epoch [0-9]+, age [0-9]+s, 5 records, expires [-0-9T:Z]+, serving"
check_match "status: unitB likewise" "$status" \
	"^  unitB: id unitB, serial 1, epoch [0-9]+, age [0-9]+s, 5 records, expires [-0-9T:Z]+, serving"
st=$("$DIRCAT_BIN/dircat" status -c "$CONF" --nagios)
check_eq "dircat status --nagios: OK while both catalogs are fresh" "$?:${st%% *}" "0:DIRCAT"

# --- routing: docs/postfix.md section 8 through Postfix -------------------
sm_hub() {	# name ip dir
	smtp-sink -u postfix -d "$3/%Y%m%d%H%M%S." "$2:$HUBPORT" 100 \
		>"$3.log" 2>&1 &
	eval "HUB_PID_$1=$!"
	track_pid "$!"
}
hub_listening() { (exec 3<>"/dev/tcp/$1/$HUBPORT") 2>/dev/null; }
mkdir -p hubA hubB && chown postfix hubA hubB
sm_hub A 127.0.0.2 "$T/hubA"
sm_hub B 127.0.0.3 "$T/hubB"
wait_for 5 hub_listening 127.0.0.2 && wait_for 5 hub_listening 127.0.0.3 ||
	{ fail "two smtp-sink hubs on 127.0.0.2 and 127.0.0.3"; exit 1; }
PF_EXTRA_MAIN=$(doc_block 3 | sed "s|/run/dircat/catalogd.sock|$T/node/run/map.sock|")
check_match "docs/postfix.md section 8: the transport_maps line" \
	"$PF_EXTRA_MAIN" '^transport_maps = socketmap:unix:.*:transport$'
postfix_start "$T/pf" "$T/node/run/map.sock" "example.com example.org" ||
	{ fail "private Postfix did not start"; exit 1; }
tm=$(postmap -c "$PF_CONF" -q alice@example.com "socketmap:unix:$T/node/run/map.sock:transport")
check_eq "postmap -q ... :transport, as the guide shows" "$tm" \
	"relay:[127.0.0.2]:$HUBPORT"
for r in alice@example.com bob@example.com frank@example.com \
	 carol@example.org dave@example.org; do
	swaks --silent 2 --server 127.0.0.1 --port "$PF_SMTP_PORT" \
		--from sender@example.net --to "$r" >swaks.out 2>&1 ||
		{ fail "Postfix accepts mail for $r"; cat swaks.out; }
done
hub_count() {	# dir address
	grep -lisF "X-Rcpt-Args: <$2>" "$1"/* 2>/dev/null | wc -l
}
hubs_done() { [ "$(cat hubA/* hubB/* 2>/dev/null | grep -ci '^X-Rcpt-Args:')" -ge 5 ]; }
wait_for 30 hubs_done || { fail "five messages at the hubs"; tail -20 "$PF_LOG"; }
got=""
for r in alice@example.com bob@example.com frank@example.com \
	 carol@example.org dave@example.org; do
	got="$got $r:A$(hub_count hubA "$r")B$(hub_count hubB "$r")"
done
check_eq "each recipient's mail at its own hub (mailHost, else mx-eu's default)" \
	"$got" " alice@example.com:A1B0 bob@example.com:A1B0 frank@example.com:A0B1 carol@example.org:A0B1 dave@example.org:A1B0"
check_eq "nothing went to the default relay" "$(ls "$SINK_DIR" | wc -l)" 0
check_eq "transport: non-local not found, unknown local gets the default" \
	"$(sm transport someone@example.net nobody@example.org Frank+x@Example.COM)" \
	"$(printf 'NOTFOUND \nOK relay:[127.0.0.2]:%s\nOK relay:[127.0.0.3]:%s' "$HUBPORT" "$HUBPORT")"
check_eq "route: the bare next hop" \
	"$(sm route carol@example.org bob@example.com)" \
	"$(printf 'OK 127.0.0.3\nOK 127.0.0.2')"
r=$(printf 'route carol@example.org\n' |
	"$CATD_TOOLS/catdclient" -s raw "$T/node/run/exim.sock")
check_eq "Exim readsocket: route" "$r" "OK 127.0.0.3"
postfix_stop
stop_pid "$HUB_PID_A"
stop_pid "$HUB_PID_B"

# --- the second PoP: "mx-us runs the same file with route_default =
# hub-b.example.com"; the replicators delivered to it too.
doc_block 2 | grep -q '^route_default = hub-a.example.com$' ||
	fail "docs/postfix.md section 8: mx-eu's route_default line"
{
	doc_block 2 | sed -e "s|^user = dircat|user = nobody|" \
		-e "s|^route_default = hub-a.example.com$|route_default = hub-b.example.com|" \
		-e "s|/var/lib/dircat/|$T/us/var/|" \
		-e "s|/var/lib/dircat-upload/inbox/\(unit.\)|$T/us/\1-inbox|" \
		-e "s|/etc/dircat/keys/\(unit.\)\.pub|$T/\1/signer.pub|" \
		-e "s|hub-a.example.com|127.0.0.2|; s|hub-b.example.com|127.0.0.3|" \
		-e "s|^\(transport_template = .*\):25$|\1:$HUBPORT|" \
		-e "s|^\[catalog unitB\]|[catalog unitB]\nhash_secret = $T/unitB/hash.key|"
	printf '[socket map]\npath = %s\nprotocol = socketmap\n' "$T/us/run/map.sock"
} >us/catalogd.conf
"$DIRCAT_BIN/catalogd" -c "$T/us/catalogd.conf" -f >>us/catalogd.log 2>&1 &
US_PID=$!
track_pid "$US_PID"
us_installed() { grep -qx 'serial=1' us/unitA-inbox/status && grep -qx 'serial=1' us/unitB-inbox/status; }
if wait_for 30 us_installed; then
	check_eq "mx-us: mailHost as on mx-eu, no mailHost goes to mx-us's own hub" \
		"$("$CATD_TOOLS/catdclient" sm "$T/us/run/map.sock" transport alice@example.com carol@example.org bob@example.com dave@example.org)" \
		"$(printf 'OK relay:[127.0.0.2]:%s\nOK relay:[127.0.0.3]:%s\nOK relay:[127.0.0.3]:%s\nOK relay:[127.0.0.3]:%s' "$HUBPORT" "$HUBPORT" "$HUBPORT" "$HUBPORT")"
else
	fail "mx-us: both catalogs installed"; tail -n 5 us/catalogd.log
fi
stop_pid "$US_PID"

# --- independence: a bad snapshot for one catalog --------------------------
"$CATD_TOOLS/mksnap" "$T/unitA/catalog.mdb" "$T/unitA/signer.key" \
	"$T/node/unitB-inbox/.x" -i unitB >/dev/null &&
	chown nobody "$T/node/unitB-inbox/.x" &&
	mv "$T/node/unitB-inbox/.x" "$T/node/unitB-inbox/unitB.2.full.snap"
refused() { ls "$T/node/unitB-inbox/rejected/" 2>/dev/null | grep -q 'unitB.2.full.snap'; }
check "unitB refuses a snapshot signed with unitA's key" wait_for 15 refused
check_eq "unitB still serves serial 1, unitA untouched" \
	"$(sm recipients carol@example.org alice@example.com nobody@example.org)" \
	"$(printf 'OK person\nOK person\nNOTFOUND ')"

# --- independence: unitA expires ------------------------------------------
printf 'dn: uid=erin,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: erin\ncn: erin\nsn: erin\nmail: erin@example.com\n' >erin.ldif
SLAPD_URI=$URI_A slapd_load erin.ldif
"$DIRCAT_BIN/dircat-aggregator" -c unitA/agg.conf >unitA/agg2.out 2>&1 ||
	fail "unitA aggregator, second run"
"$CATD_TOOLS/mksnap" -l 6 "$T/unitA/catalog.mdb" "$T/unitA/signer.key" \
	"$T/node/unitA-inbox/.x" >/dev/null &&
	chown nobody "$T/node/unitA-inbox/.x" &&
	mv "$T/node/unitA-inbox/.x" "$T/node/unitA-inbox/unitA.2.full.snap"
stale() { grep -qx 'serial=2' "$T/node/unitA-inbox/status" &&
	  grep -qx 'stale=yes' "$T/node/unitA-inbox/status"; }
check "unitA installs serial 2 (lifetime 6s), which expires" wait_for 30 stale
check_eq "unitA expired: its known pass, its unknown are deferred; unitB's domain as before" \
	"$(sm recipients erin@example.com nobody@example.com carol@example.org nobody@example.org)" \
	"$(printf 'OK person\nTEMP catalog expired\nOK person\nNOTFOUND ')"
status=$("$DIRCAT_BIN/dircat" status -c "$CONF" 2>&1)
st=$("$DIRCAT_BIN/dircat" status -c "$CONF" --nagios)
check_eq "dircat status --nagios: CRITICAL when one of the catalogs is stale" "$?" 2
check_match "dircat status --nagios names the catalog" "$st" \
	"CRITICAL.*catalog unitA: catalog expired \(stale\)"
check_match "status: unitA STALE" "$status" \
	"^  unitA: id unitA, serial 2, .*, STALE \(stale policy defer-unknown\)"
check_match "status: unitB serving, its refusal shown with it" "$status" \
	"^  unitB: id unitB, serial 1, .*, serving .*refused 1, the last: unknown signing key"
out=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=x@example.net\nrecipient=nobody@example.org\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\nsender=x@example.net\nrecipient=nobody@example.com\n\n' |
	"$CATD_TOOLS/catdclient" raw "$T/node/run/policy.sock")
check_match "policy: unitB's unknown rejected, unitA's deferred while it is stale" \
	"$(echo "$out" | tr '\n' ' ')" \
	"action=550 5.1.1 User unknown +action=450 4.1.1"

out=$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=carol@example.org\nsasl_username=carol\nrecipient=alice@example.com\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\nsender=alice@example.com\nsasl_username=carol\nrecipient=carol@example.org\n\n' |
	"$CATD_TOOLS/catdclient" raw "$T/node/run/policy.sock")
check_match "policy: a sender owned in unitB passes, another unit's address is not carol's" \
	"$(echo "$out" | tr '\n' ' ')" \
	"^action=DUNNO +action=553 5.7.1 Sender address not owned"

# --- tempfail: an expired catalog defers its own domains only ---------------
write_conf unitB "# nothing added" "stale_policy = tempfail"
kill -HUP "$CATD_PID"
tempfail() { [ "$(sm recipients erin@example.com)" = "TEMP catalog expired" ]; }
check "a reload makes expired unitA defer every address of its domains (tempfail)" \
	wait_for 10 tempfail
check_eq "tempfail: a domain no catalog holds is still not found, unitB's are answered" \
	"$(sm recipients someone@example.net carol@example.org nobody@example.org)" \
	"$(printf 'NOTFOUND \nOK person\nNOTFOUND ')"
# shared@example.com is unitA's (first in the order) and also in unitB,
# whose mailHost sends it to unitB's hub: while unitA is expired, unitB
# must not answer for it (a later catalog would take over its mail).
check_eq "tempfail: an address the expired first catalog holds is deferred, never answered by a later one" \
	"$(sm recipients shared@example.com; sm senders shared@example.com; sm transport shared@example.com; sm route shared@example.com)" \
	"$(printf 'TEMP catalog expired\nTEMP catalog expired\nTEMP catalog expired\nTEMP catalog expired')"

# --- reload: a domain's route_default; renaming a catalog is refused -------
write_conf unitB "route_default = pop.example.org"
kill -HUP "$CATD_PID"
reloaded() { [ "$(sm transport dave@example.org)" = "OK relay:[pop.example.org]:$HUBPORT" ]; }
check "a reload gives example.org its own route_default, before the top level's" \
	wait_for 10 reloaded
# The [domain] is found however the key spells the domain: a fully
# qualified name's trailing dot or upper case must not fall back to the
# top level's order and defaults.
check_eq "a [domain]'s order and route_default hold for example.org. and EXAMPLE.Org. too" \
	"$(sm transport dave@example.org. Dave@EXAMPLE.Org.)" \
	"$(printf 'OK relay:[pop.example.org]:%s\nOK relay:[pop.example.org]:%s' "$HUBPORT" "$HUBPORT")"
write_conf unitZ
kill -HUP "$CATD_PID"
refusedr() { grep -q 'reload refused.*\[catalog unitZ\] where \[catalog unitB\] runs' "$CATD_LOG"; }
check "a reload renaming a catalog is refused" wait_for 10 refusedr
check_eq "after the refused reload both still answer" \
	"$(sm recipients alice@example.com carol@example.org)" \
	"$(printf 'OK person\nOK person')"
catd_stop
write_conf	# the file as it ran, not the refused renaming
status=$("$DIRCAT_BIN/dircat" status -c "$CONF" 2>&1)
check_match "catalogd stopped: dircat status lists the catalogs from their files" \
	"$status" "^  unitB: id unitB, serial 1, .*, serving \(stale policy defer-unknown\)$"
check_match "catalogd stopped: unitA from its file, STALE" "$status" \
	"^  unitA: id unitA, serial 2, .*, STALE \(stale policy defer-unknown\)$"
stop_pid "$SLAPD_PID_A"
stop_pid "$SLAPD_PID_B"
