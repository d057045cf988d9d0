#!/bin/bash
# guides.sh - the exchanges the MTA guides configure, played against a
# real catalogd byte for byte (Exim and Sendmail cannot be installed next
# to Postfix on Debian, so their side is emulated exactly):
#
#   docs/exim.md      ${readsocket} on the socketmap socket: one netstring
#                     request whose length is ${strlen:...}, then a
#                     half-close, then read to EOF (nc -U -N does the
#                     same); the ACL's three outcomes (accept, deny 550,
#                     defer) for known, unknown, invalid and malformed
#                     requests, nothing installed yet and catalogd down;
#                     catalogd closes after EOF, and only then.  The same
#                     for the line-protocol socket.
#   docs/sendmail.md  the socket map: "mapname key" netstrings, lower-cased,
#                     several requests one after another on one connection,
#                     as sendmail keeps it; the PERM answers (misspelt map
#                     name, broken framing) and when catalogd closes.
#   docs/postfix.md   the postmap -q commands and their exit codes.
#   docs/firewall.md  the nftables and iptables examples load (nft -c,
#                     iptables-restore --test) when those tools are here.
# Needs root (catalogd's privilege drop).
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/catalogd-lib.sh"
need nc postmap timeout
export LC_ALL=C	# lengths in bytes, as Exim's ${strlen:} and netstrings

docs=$DIRCAT_TOP/docs
d=$(tmpdir)
catd_init "$d"
catd_source >/dev/null <<'EOF'
example.com domain
example.org domain
jsmith@example.com person jsmith
john.smith@example.com person jsmith
sales@example.com group jsmith,mjones
helpdesk@example.org mailin mjones
EOF
catd_conf "extension_delimiter = +"
catd_start || exit 1
MAP=$d/run/map.sock
LINE=$d/run/exim.sock
NOCAT_REPLY=$(printf '29:recipients jsmith@example.com,' | timeout 5 nc -U -N "$MAP")
catd_full corp.1.full.snap
catd_wait_serial 1 || { fail "catalogd installed the test catalog"; exit 1; }
pass "catalogd serves a test catalog (serial 1)"

# open_connections: the connections_open figure of catalogd's status
# reply (the status request itself is one of them).
open_connections() {
	printf 'status\n' | "$CATD_TOOLS/catdclient" -t 1 raw "$d/run/ctl.sock" |
		sed -n 's/^connections_open=\([0-9]*\)$/\1/p'
}

# --- Exim: ${readsocket} on the socketmap socket ---------------------------
# These are the expressions of docs/exim.md; the test fails when the guide
# no longer shows them.
EXIM_REQ='${strlen:recipients $local_part@$domain}:recipients $local_part@$domain,'
EXIM_DENY='\N^[0-9]+:NOTFOUND \N'
EXIM_OK='\N^[0-9]+:OK \N'
for s in "$EXIM_REQ" "$EXIM_DENY" "$EXIM_OK" '{5s}{}{socket-failure}'; do
	if grep -qF -- "$s" "$docs/exim.md"; then
		pass "docs/exim.md shows $s"
	else
		fail "docs/exim.md shows $s"
	fi
done

# exim_request LOCAL DOMAIN: the request string Exim's expansion makes.
exim_request() {
	local body="recipients $1@$2"
	printf '%d:%s,' "${#body}" "$body"
}
# readsocket SOCKET REQUEST: what ${readsocket{SOCKET}{REQUEST}{5s}{}{F}}
# yields, in RS_REPLY: write, shut down the write side, read to EOF,
# newlines replaced by the empty eol string; the fail string when it
# cannot connect or read in time.  RS_CLOSED=yes when catalogd closed the
# connection (nc returned before the 5 s timeout).
readsocket() {
	local rc
	RS_REPLY=$(printf '%s' "$2" | timeout 5 nc -U -N "$1" 2>/dev/null)
	rc=$?
	RS_CLOSED=no
	if [ "$rc" = 124 ] || { [ "$rc" != 0 ] && [ -z "$RS_REPLY" ]; }; then
		RS_REPLY=socket-failure
		return
	fi
	RS_CLOSED=yes
	RS_REPLY=$(printf '%s' "$RS_REPLY" | tr -d '\n')
}
# exim_acl REPLY: what the ACL of docs/exim.md does with the reply.
exim_acl() {
	local deny=${EXIM_DENY#\\N} ok=${EXIM_OK#\\N}
	deny=${deny%\\N}; ok=${ok%\\N}
	if grep -qP -- "$deny" <<<"$1"; then echo deny
	elif ! grep -qP -- "$ok" <<<"$1"; then echo defer
	else echo accept
	fi
}
# exim_case NAME LOCAL DOMAIN WANT-REPLY WANT-ACTION
exim_case() {
	local r a
	readsocket "$MAP" "$(exim_request "$2" "$3")"
	r=$RS_REPLY
	a=$(exim_acl "$r")
	check_eq "exim (socketmap): $1: reply '$4', ACL $5" "$r $a" "$4 $5"
	check_eq "exim (socketmap): $1: catalogd closed after the half-close" \
		"$RS_CLOSED" yes
}
exim_case "known address" jsmith example.com "9:OK person," accept
exim_case "case and extension (JSmith+lists@Example.COM)" \
	JSmith+lists Example.COM "9:OK person," accept
exim_case "group address" sales example.com "8:OK group," accept
exim_case "unknown address" nobody example.com "9:NOTFOUND ," deny
exim_case "invalid address (local part 'john smith')" \
	"john smith" example.com "9:NOTFOUND ," deny
exim_case "address in a domain the catalog does not hold" \
	someone elsewhere.test "9:NOTFOUND ," deny

readsocket "$MAP" "$(exim_request jsmith example.com | sed 's/^[0-9]*/99/')"; r=$RS_REPLY
check_eq "exim (socketmap): request longer than announced: no reply, ACL defer" \
	"$r $(exim_acl "$r") $RS_CLOSED" " defer yes"
readsocket "$MAP" "5:recipients jsmith@example.com,"; r=$RS_REPLY
check_eq "exim (socketmap): request shorter than announced: PERM, ACL defer" \
	"$r $(exim_acl "$r") $RS_CLOSED" "16:PERM bad request, defer yes"
readsocket "$MAP" "28:recipient jsmith@example.com,"; r=$RS_REPLY
check_eq "exim (socketmap): misspelt map name: PERM, ACL defer" \
	"$r $(exim_acl "$r")" "16:PERM unknown map, defer"
readsocket "$d/run/absent.sock" "$(exim_request jsmith example.com)"; r=$RS_REPLY
check_eq "exim (socketmap): catalogd not listening: fail string, ACL defer" \
	"$r $(exim_acl "$r")" "socket-failure defer"

check_eq "exim (socketmap): nothing installed yet: TEMP, ACL defer" \
	"$NOCAT_REPLY $(exim_acl "$NOCAT_REPLY")" "25:TEMP no catalog installed, defer"

# Without the half-close the socketmap socket keeps the connection, as
# Postfix wants: Exim's shutdown is what ends it.
printf '%s' "$(exim_request jsmith example.com)" |
	"$CATD_TOOLS/catdclient" -t 2 raw "$MAP" >/dev/null
check_eq "socketmap socket: no half-close, connection kept open" "$?" 1

# --- Exim: the line-protocol socket (protocol = readsocket) --------------
for s in '{recipients $local_part@$domain}' '\N^NOTFOUND\N' '\N^OK \N'; do
	if grep -qF -- "$s" "$docs/exim.md"; then
		pass "docs/exim.md shows $s"
	else
		fail "docs/exim.md shows $s"
	fi
done
line_acl() {
	if grep -qP '^NOTFOUND' <<<"$1"; then echo deny
	elif ! grep -qP '^OK ' <<<"$1"; then echo defer
	else echo accept
	fi
}
line_case() {	# NAME REQUEST WANT-REPLY WANT-ACTION
	local r
	readsocket "$LINE" "$2"
	r=$RS_REPLY
	check_eq "exim (line socket): $1: reply '$3', ACL $4, closed" \
		"$r $(line_acl "$r") $RS_CLOSED" "$3 $4 yes"
}
line_case "known address" "recipients jsmith@example.com" "OK person" accept
line_case "unknown address" "recipients nobody@example.com" "NOTFOUND" deny
line_case "invalid address" "recipients john smith@example.com" "NOTFOUND" deny
line_case "senders map" "senders sales@example.com" "OK jsmith,mjones" accept

# --- Sendmail: the socket map ----------------------------------------------
for s in 'Krecipients socket -T<TMPF> local:/run/dircat/catalogd.sock' \
	 '$(recipients $1@$2 $: NOTFOUND $)'; do
	if grep -qF -- "$s" "$docs/sendmail.md"; then
		pass "docs/sendmail.md shows $s"
	else
		fail "docs/sendmail.md shows $s"
	fi
done
# One connection, requests one after another, as sendmail's socket map
# client does: "LEN:MAPNAME key," with the key lower-cased, then wait for
# the reply netstring.
coproc SM { exec nc -U -N "$MAP"; }
sm_in=${SM[0]} sm_out=${SM[1]} sm_pid=$SM_PID
sm_ask() {	# MAPNAME KEY: prints the reply's data
	local req len data comma
	req="$1 ${2,,}"
	printf '%d:%s,' "${#req}" "$req" >&"$sm_out" || return 1
	IFS= read -r -t 5 -d : len <&"$sm_in" || return 1
	IFS= read -r -t 5 -N "$len" data <&"$sm_in" || return 1
	IFS= read -r -t 5 -N 1 comma <&"$sm_in" || return 1
	[ "$comma" = , ] || return 1
	printf '%s\n' "$data"
}
got=$(
	sm_ask recipients jsmith@example.com
	sm_ask recipients JOHN.SMITH+Lists@Example.com
	sm_ask recipients nobody@example.com
	sm_ask senders sales@example.com
	sm_ask domains example.org
	sm_ask recipients not-an-address
	sm_ask recipient jsmith@example.com
	sm_ask recipients helpdesk@example.org
)
check_eq "sendmail: eight requests in turn on one connection" "$got" "OK person
OK person
NOTFOUND 
OK jsmith,mjones
OK domain
NOTFOUND 
PERM unknown map
OK mailin"
check_eq "sendmail: the connection stays open between requests (2 open: it and the status request)" \
	"$(open_connections)" 2
exec {sm_out}>&-
wait "$sm_pid" 2>/dev/null
check_eq "sendmail: closed once the client closes (1 open: the status request)" \
	"$(open_connections)" 1

# Framing lost: PERM bad request, then catalogd hangs up; sendmail then
# sees EOF, closes the map and returns a temporary failure (-T<TMPF>).
coproc SM { exec nc -U -N "$MAP"; }
sm_in=${SM[0]} sm_out=${SM[1]} sm_pid=$SM_PID
printf '12:recipients x;' >&"$sm_out"
IFS= read -r -t 5 -d '' got <&"$sm_in"
rc=$?	# 1: end of file (catalogd closed); above 128: timed out
check_eq "sendmail: malformed netstring: PERM bad request, then closed" \
	"$got $rc" "16:PERM bad request, 1"
exec {sm_out}>&- 2>/dev/null
wait "$sm_pid" 2>/dev/null

# --- Postfix: the postmap -q commands of docs/postfix.md --------------------
mkdir -p "$d/pf" && : >"$d/pf/main.cf"
pq() { postmap -c "$d/pf" -q "$1" "socketmap:unix:$MAP:$2" 2>"$d/pq.err"; }
got=$(pq jsmith@example.com recipients)
check_eq "postmap -q recipients: found, exit 0" "$?:$got" "0:person"
got=$(pq nobody@example.com recipients)
check_eq "postmap -q recipients: not found, exit 1, no output" "$?:$got" "1:"
got=$(pq sales@example.com senders)
check_eq "postmap -q senders: the owners" "$?:$got" "0:jsmith,mjones"
got=$(pq example.org domains)
check_eq "postmap -q domains" "$?:$got" "0:domain"
postmap -c "$d/pf" -q x@example.com "socketmap:unix:$d/run/absent.sock:recipients" \
	>/dev/null 2>"$d/pq.err"
rc=$?
check_eq "postmap -q with catalogd down: exit 1, like not found" "$rc" 1
check_match "postmap -q with catalogd down: but says 'query error' on stderr" \
	"$(cat "$d/pq.err")" 'fatal: table socketmap:unix:.*: query error: No such file or directory'

catd_stop

# --- firewall examples ---------------------------------------------------------
# Each ```nft / ```iptables block of docs/firewall.md, loaded in check mode.
blocks() {	# LANG: print the fenced blocks of that language, NUL-separated
	awk -v lang="$1" '
		$0 == "```" lang { inb = 1; buf = ""; next }
		inb && $0 == "```" { inb = 0; printf "%s%c", buf, 0; next }
		inb { buf = buf $0 "\n" }' "$docs/firewall.md"
}
if command -v nft >/dev/null && nft -c -f /dev/null 2>/dev/null; then
	n=0
	while IFS= read -r -d '' b; do
		n=$((n + 1))
		printf '%s' "$b" >"$d/fw$n.nft"
		if err=$(nft -c -f "$d/fw$n.nft" 2>&1); then
			pass "docs/firewall.md: nftables example $n loads (nft -c)"
		else
			fail "docs/firewall.md: nftables example $n loads (nft -c)"
			echo "$err" | head -n 5 | sed 's/^/    /'
		fi
	done < <(blocks nft)
	check "docs/firewall.md has nftables examples" test "$n" -gt 0
else
	echo "SKIP: $(basename "$0" .sh): nft missing or not allowed here; nftables examples not checked"
fi
if command -v iptables-restore >/dev/null &&
	printf '*filter\nCOMMIT\n' | iptables-restore --test 2>/dev/null; then
	n=0
	while IFS= read -r -d '' b; do
		n=$((n + 1))
		printf '%s' "$b" >"$d/fw$n.ipt"
		if err=$(iptables-restore --test <"$d/fw$n.ipt" 2>&1); then
			pass "docs/firewall.md: iptables example $n loads (iptables-restore --test)"
		else
			fail "docs/firewall.md: iptables example $n loads (iptables-restore --test)"
			echo "$err" | head -n 5 | sed 's/^/    /'
		fi
	done < <(blocks iptables)
	check "docs/firewall.md has iptables examples" test "$n" -gt 0
else
	echo "SKIP: $(basename "$0" .sh): iptables-restore missing or not allowed here; iptables examples not checked"
fi
exit 0
