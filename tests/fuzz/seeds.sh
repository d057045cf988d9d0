#!/bin/bash
# seeds.sh - write the seed corpora tests/fuzz/corpus/fuzz_NAME/.
#
#   tests/fuzz/seeds.sh [NAME...]      (default: every corpus below)
#
# Each seed is a file named after the SHA-1 of its content, as libFuzzer
# names the inputs it keeps, so running this again changes nothing unless
# a seed changed.  Seeds come from the project itself (the example
# configurations, the formulas of the documentation, snapshots written by
# dircat-replicator from a catalog made by mkcatalog) and from the short
# lists below: valid inputs, each limit and a few typical mistakes.
# Needs a built tree (make) for the snapshot seeds.  Existing seeds are
# kept: the directory only grows; delete files by hand to drop them.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
corpus=tests/fuzz/corpus

# seed NAME < data: one seed of corpus NAME.
seed() {
	local tmp sum
	mkdir -p "$corpus/$1"
	tmp=$(mktemp)
	cat >"$tmp"
	sum=$(sha1sum "$tmp" | cut -c1-40)
	mv "$tmp" "$corpus/$1/$sum"
	chmod 644 "$corpus/$1/$sum"
}
# seedf NAME FORMAT ARGS...: one seed from printf.
seedf() { local n=$1; shift; printf "$@" | seed "$n"; }

names=("$@")
want_name() { [ ${#names[@]} -eq 0 ] || [[ " ${names[*]} " == *" $1 "* ]]; }

if want_name fuzz_cidr; then
	# internal_networks values: valid lists, each limit, typical mistakes.
	for l in '10.0.0.0/8' '10.0.0.0/8, 192.168.0.0/16 2001:db8:1::/48' \
		'0.0.0.0/0' '::/0' '203.0.113.7' '::ffff:10.1.2.3' \
		'0000:0000:0000:0000:0000:ffff:255.255.255.255/128' \
		'10.1.2.3/8' '10.0.0.0/33' '10.0.0.0/08' 'example.com' ',, ,' ''; do
		printf '%s' "$l" | seed fuzz_cidr
	done
	for ((i = 0; i < 65; i++)); do printf '10.%d.0.0/16,' "$i"; done | seed fuzz_cidr
fi

if want_name fuzz_addr; then
	# First byte: flags (1 case-sensitive, 2 catch-all, 4 brackets) and
	# delimiters (bits 4-5).
	for a in 'jsmith@example.com' 'J.Smith@Example.COM' \
		' <Anna.Lee+news@EXAMPLE.org> ' '"john doe"@example.com' \
		'"a\\"b"@example.com' '@example.com' 'j\xc3\xb6rg@b\xc3\xbccher.example' \
		'user@xn--bcher-kva.example' 'a@b' 'no-at-sign' 'a@@b' \
		'a..b@example.com' '.a@example.com' 'a@-bad-.example' \
		'a@example..com' 'x@[192.0.2.1]' 'tab\tin@example.com' \
		'a@b.c.d.e.f.g.h.i.j.k.l.m.n.o.p' 'user+tag-x@example.com'; do
		for f in '\x00' '\x07' '\x16'; do
			seedf fuzz_addr "$f$a"
		done
	done
	# The limits: a local part of 64 and 65 bytes, a domain label of 63
	# and 64, an address of 254 and 255.
	l64=$(printf 'a%.0s' $(seq 64)); l65=${l64}a
	lab63=$(printf 'b%.0s' $(seq 63)); lab64=${lab63}b
	seedf fuzz_addr '\x00%s@example.com' "$l64"
	seedf fuzz_addr '\x00%s@example.com' "$l65"
	seedf fuzz_addr '\x00x@%s.example' "$lab63"
	seedf fuzz_addr '\x00x@%s.example' "$lab64"
	seedf fuzz_addr '\x00%s@%s.%s.%s.%s' "$l64" "$lab63" "$lab63" "$lab63" \
		"${lab63:0:58}"
	seedf fuzz_addr '\x00%s@%s.%s.%s.%s' "$l64" "$lab63" "$lab63" "$lab63" \
		"${lab63:0:59}"
fi

if want_name fuzz_lookup; then
	# First byte: options (bits 0-1 delimiters, 2 case-sensitive, 3-4
	# stale policy, 5 stale, 6 refuse unauthenticated local senders).
	for r in 'recipients jsmith@example.com' \
		'recipients JSmith+news@Example.COM' \
		'recipients someone@catchall.example' \
		'recipients info@catchall.example' \
		'recipients nobody@example.com' 'recipients x@elsewhere.net' \
		'recipients anna@b\xc3\xbccher.example' \
		'recipients y@deep.sub.example.org' \
		'recipients "a b"@example.com' 'recipients a+b@example.com' \
		'recipients <jsmith@example.com>' 'recipients ' \
		'senders sales@example.com' 'senders nobody-owns@example.com' \
		'domains example.com' 'domains x.sub.example.org' \
		'domains B\xc3\xbccher.example' 'virtual jsmith@example.com' \
		'recipients j\xc3\xb6rg@example.com'; do
		for o in '\x00' '\x01' '\x24' '\x28' '\x41'; do
			seedf fuzz_lookup "$o$r"
		done
	done
fi

if want_name fuzz_config; then
	# First byte: 0 the format's own API; 4 the aggregator's loader, 5
	# the replicator's, 6 catalogd's, 7 dircat-fetch's.
	for f in etc/*.conf docs/examples/*.conf docs/*.example; do
		[ -f "$f" ] || continue
		case $f in
		*aggregator*|docs/examples/*) p='\x04' ;;
		*replicator*) p='\x05' ;;
		*catalogd*) p='\x06' ;;
		*fetch*) p='\x07' ;;
		*) p='\x04' ;;
		esac
		{ printf "$p"; cat "$f"; } | seed fuzz_config
		{ printf '\x00'; cat "$f"; } | seed fuzz_config
	done
	seedf fuzz_config '\x00a = 1\n[source s]\nx = 2\n  continued\n\ta = yes\n'
	seedf fuzz_config '\x00mode = 0660\ntimeout = 5m\nretries = -3\nurl = a, b  c\n'
	seedf fuzz_config '\x00[target x]\n[target x]\n'
	seedf fuzz_config '\x00  indented first\n'
	seedf fuzz_config '\x00[source]\n'
	seedf fuzz_config '\x00no equals sign\n'
	seedf fuzz_config '\x00a = 1\r\nb = 2\r\n'
	seedf fuzz_config '\x00x = %s\n' "$(head -c 8200 /dev/zero | tr '\0' v)"
	seedf fuzz_config '\x05concurency = 4\n[target one]\nurl = file:///tmp/in/\n'
	seedf fuzz_config '\x04page_size = 0\n[source a]\nuri = ldap://x\nselect = SELECT (\n'
	seedf fuzz_config '\x06catalog = relative\n[socket s]\nprotocol = nope\n'
	# Several catalogs: sections, orders (good, unknown, repeated), a
	# domain, routing settings, and the mistakes conf.c refuses.
	seedf fuzz_config '\x06order = b, a\nroute_field = mailHost\ntransport_template = relay:[%%s]\n[socket s]\npath = /s\nprotocol = socketmap\n[catalog a]\ncatalog = /a.mdb\ncatalog_id = a\ninbox = /ia\ntrusted_key = /k\nroute_default = hub-a\n[catalog b]\ncatalog = /b.mdb\ncatalog_id = b\ninbox = /ib\ntrusted_key = /k\nstale_policy = tempfail\n[domain Example.ORG]\norder = b\nroute_default = [192.0.2.1]:25\n'
	seedf fuzz_config '\x06order = a, a, zz\n[socket s]\npath = /s\nprotocol = socketmap\n[catalog a]\ncatalog = /a.mdb\ncatalog_id = a\ninbox = /i\ntrusted_key = /k\n[catalog b]\ncatalog = /a.mdb\ncatalog_id = a\ninbox = /i\ntrusted_key = /k\n'
	seedf fuzz_config '\x06catalog = /c.mdb\ncatalog_id = c\ninbox = /i\ntrusted_key = /k\ntransport_template = %%s%%s\nroute_default = a b\n[socket s]\npath = /s\nprotocol = socketmap\n[domain x]\norder = c\n[domain X]\n'
	seedf fuzz_config '\x07manifest_url = https://user:pw@origin.example/m?x=1\ncatalog_id = corp\n'
	# Accepted by libcurl, yet not SCHEME://HOST/... as written (undefined
	# behaviour in the URL check once).
	seedf fuzz_config '\x07manifest_url = http:/host/corp.manifest\ncatalog_id = corp\n'
	seedf fuzz_config '\x07manifest_url = ftp://origin.example/m\ninbox = /nonexistent\npoll_jitter = 2m\npoll_interval = 1m\n'
	# The dictionary: every setting the programs' tables name, the
	# section types and words of values.
	d=tests/fuzz/fuzz_config.dict
	echo '# written by tests/fuzz/seeds.sh from the settings tables' >$d
	{
		for p in dircat-aggregator dircat-replicator; do
			"bin/$p" --settings 2>/dev/null |
				sed -n 's/^\([a-z_][a-z0-9_]*\) = .*/\1/p'
		done
		sed -n 's/^#\{0,1\}\([a-z_][a-z0-9_]*\) *=.*/\1/p' etc/catalogd.conf etc/fetch.conf
		printf '%s\n' '[source ' '[target ' '[socket ' '[catalog ' \
			'[domain ' ']' ' = ' yes no relay:[%s] mailHost \
			0640 30s 7d 10% 'SELECT ' 'ldap://' 'sftp://' 'file:///'
	} | awk '!seen[$0]++' | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/' >>$d
	[ "$(wc -l <$d)" -gt 20 ]
fi

if want_name fuzz_formula; then
	grep -h '^select *=\|^ *SELECT\|^kind_' docs/examples/*.conf etc/*.conf \
		2>/dev/null | sed 's/^[a-z_]* *= *//' | while IFS= read -r f; do
		printf '%s' "$f" | seed fuzz_formula
	done
	for f in 'SELECT @IsAvailable(mail)' \
		'SELECT (@IsMember("inetOrgPerson"; objectClass) | @IsMember("groupOfNames"; objectClass)) & @IsAvailable(mail) & employeeType != "disabled"' \
		'SELECT @Contains(mail; "@example.com") & !@IsMember("disabled"; employeeType)' \
		'SELECT uidNumber > 1000 & uidNumber <= 60000' \
		'SELECT @Begins(uid; "svc-") | @Ends(mail; ".org")' \
		'SELECT @BitAnd(userAccountControl; 2) = 0' \
		'SELECT (' 'SELECT "unterminated' 'SELECT @Unknown(x)'; do
		printf '%s' "$f" | seed fuzz_formula
	done
fi

if want_name fuzz_netstring; then
	for n in '0:,' '3:abc,' '24:recipients a@example.com,3:abc,' \
		'10:' '5:abc,' '00:,' '99999999999:x,' 'x:,' '3:abcd'; do
		printf '%s' "$n" | seed fuzz_netstring
	done
fi

if want_name fuzz_policy; then
	seedf fuzz_policy 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.1\nhelo_name=mx.example.net\nsender=alice@example.net\nrecipient=jsmith@example.com\nsasl_username=\n\n'
	seedf fuzz_policy 'protocol_state=RCPT\nsender=a@b\nrecipient=c@d\n\nprotocol_state=RCPT\nrecipient=e@f\n\n'
	seedf fuzz_policy 'no equals sign\n\n'
	seedf fuzz_policy 'a=b\r\n\r\n'
	seedf fuzz_policy 'recipient=%s\n\n' "$(head -c 5000 /dev/zero | tr '\0' r)"
fi

if want_name fuzz_nodestatus; then
	# First byte: 0 INBOX/status, 1 a .reason file.
	st='catalog_id=corp\nserial=1482\ncreated=1795413604\nexpires=1796018404\ninstalled=1795413609\nkey_id=5104ef91f50f128a\nstale=no\n'
	seedf fuzz_nodestatus "\\x00$st"
	seedf fuzz_nodestatus "\\x00version=1\n$st"
	seedf fuzz_nodestatus '\x00version=2\nserial=7\nepoch=3\nstale=yes\n'
	seedf fuzz_nodestatus '\x00# comment\r\nserial=1\r\n\r\n'
	seedf fuzz_nodestatus '\x00serial=18446744073709551615\ncreated=-9223372036854775808\n'
	seedf fuzz_nodestatus '\x00serial=1\nserial=2\n'
	seedf fuzz_nodestatus '\x00serial=1\ncatalog_id=a\\x0aserial=2\n'
	seedf fuzz_nodestatus '\x01time=1795413604\nfile=corp.9.full.snap\\x0aforged=1\nreason=bad signature \\\\ \\x1b[2J\n'
	seedf fuzz_nodestatus '\x01time=1 (2026-11-23T06:00:04Z)\nfile=a\nreason=b\n'
fi

if want_name fuzz_ctlproto; then
	# Status replies as catalogd writes them (test_ctlproto's own), the
	# text of catalogd 1.0, and a few broken ones.
	seedf fuzz_ctlproto 'version=1\npid=812\nnow=1795500004\nstarted=1795413604\ncatalog=/var/lib/dircat/catalog.mdb\ncatalog_id=corp\nserial=1482\ncreated=1795413604\nexpires=1796018404\nstale=no\nstale_policy=defer-unknown\nrecords=48211\nrecords_person=45102\nkey_id=5104ef91f50f128a\nlast_install=1795413609\nlast_install_type=delta\nlast_install_base=1481\nlast_install_us=10250\nlast_refusal=1795413700\nlast_refusal_file=corp.7\\x0aserial=9.snap\nlast_refusal_reason=bad signature \\\\ end\ninstalling=\ninbox=/var/lib/dircat/inbox\ninbox_waiting=2\nrecipients_ok=1\nsenders_perm=2\nconnections_evicted=3\nsockets=2\nsocket_name.0=map\nsocket_protocol.0=socketmap\nsocket_open.0=5\nsocket_limit.0=2048\nsocket_name.1=control\nsocket_limit.1=16\nsocket_open.15=1\n\n'
	seedf fuzz_ctlproto 'version=1\npid=1\nserial=0\n\n'
	seedf fuzz_ctlproto 'version=2\npid=1\nserial=0\n\n'
	seedf fuzz_ctlproto 'daemon: running, pid 812, up 86400s\ncatalog_id: corp\nserial: 1482\ncreated: 2026-11-23T06:00:04Z (age 14410s)\n\n'
	seedf fuzz_ctlproto 'version=1\npid=1\nserial=1\nserial=2\n'
	seedf fuzz_ctlproto 'error unknown command (status, metrics, lookup, quit)\n\n'
fi

if want_name fuzz_snapshot; then
	# Real snapshots, full and delta, written by dircat-replicator
	# (format version 2: header, its signature, payload).  The target's
	# first byte picks its mode: 0 the file as it is (signed by a key the
	# target does not trust, so refused at the signature); 1 and 3 the
	# header and the payload without the signature, re-signed by the
	# target with its own key as version 2 (3 also makes the header's
	# fixed fields valid); 5 and 7 the same re-signed as version 1.
	[ -x bin/dircat-replicator ] && [ -x build/std/tests/tools/mkcatalog ] || {
		echo "seeds.sh: fuzz_snapshot needs a built tree (make, make tests)" >&2
		exit 1
	}
	w=$(mktemp -d)
	trap 'rm -rf "$w"' EXIT
	(cd "$w" && "$top/bin/dircat" keygen k >/dev/null)
	mkdir -p "$w/in" "$w/spool" "$w/state"
	cat >"$w/r.conf" <<-EOF
	catalog = $w/c.mdb
	signing_key = $w/k.key
	lifetime = 7d
	spool_dir = $w/spool
	state_dir = $w/state
	[target t]
	url = file://$w/in/
	EOF
	printf 'a@example.com person alice\nb@example.com group\nexample.com domain\n' |
		build/std/tests/tools/mkcatalog -i corp "$w/c.mdb" >/dev/null
	bin/dircat-replicator -c "$w/r.conf" >/dev/null
	printf 'serial=1\n' >"$w/in/status"
	printf 'a@example.com person alice,adm\nc@example.com mailin\nexample.com domain\n' |
		build/std/tests/tools/mkcatalog -i corp "$w/c.mdb" >/dev/null
	bin/dircat-replicator -c "$w/r.conf" >/dev/null
	for s in "$w"/in/*.snap; do
		{ printf '\x00'; cat "$s"; } | seed fuzz_snapshot
		for m in '\x01' '\x03' '\x05' '\x07'; do
			{ printf "$m"; head -c 256 "$s"; tail -c +321 "$s"; } |
				seed fuzz_snapshot
		done
	done
fi

if want_name fuzz_json; then
	# First byte: bit 0 one member a line, bit 1 indented, bit 2 spaced.
	# Then strings cut at NUL: DNs, control characters, UTF-8 at its
	# edges and broken in each way utf8.h refuses.
	for style in '\x00' '\x03' '\x07'; do
		seedf fuzz_json "${style}uid=jsmith,ou=people,dc=example,dc=com\\0cn=M\\xfcller,o=Latin-1"
		seedf fuzz_json "${style}a\"b\\\\c\\0tab\\there\\0nl\\nx\\x01\\x7f"
		seedf fuzz_json "${style}J\\xc3\\xb6rg \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80 \\xf4\\x8f\\xbf\\xbf"
		seedf fuzz_json "${style}\\xc0\\xaf\\0\\xed\\xa0\\x80\\0\\xf4\\x90\\x80\\x80\\0\\xe2\\x82\\0\\x80\\xff"
	done
fi

if want_name fuzz_knownhosts; then
	# ssh-keyscan's order (RSA first), -t ed25519, hashed lines (-H),
	# plain names with ports, comments, markers, CR LF, and each limit.
	ed='AAAAC3NzaC1lZDI1NTE5AAAAIBq2sT6mVj0Qh9bN0pZ6k2wq3XyqYH1a1dN8cKfJrXh'
	rsa='AAAAB3NzaC1yc2EAAAADAQABAAABgQC7'
	seedf fuzz_knownhosts '[127.0.0.1]:2222 ssh-rsa %s\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNh\n[127.0.0.1]:2222 ssh-ed25519 %s\n' "$rsa" "$ed"
	seedf fuzz_knownhosts 'mx1.dmz.example.com ssh-ed25519 %s\n' "$ed"
	seedf fuzz_knownhosts '|1|c2FsdHNhbHRzYWx0c2FsdHNhbA==|aGFzaGhhc2hoYXNoaGFzaGg= ssh-rsa %s\n' "$rsa"
	seedf fuzz_knownhosts '# comment\n\n@cert-authority *.example.com ssh-rsa %s\n@revoked mx1 ssh-rsa %s\nmx9,mx1,127.0.0.1 ssh-ed25519 %s\r\n' "$rsa" "$rsa" "$ed"
	seedf fuzz_knownhosts '[mx1]:22x ssh-dss AAAA\n[mx1] ssh-rsa k\n[mx1]: ssh-rsa k\n[mx1]:99999999999999 ssh-rsa k\nmx1\n mx1 \n'
	seedf fuzz_knownhosts 'mx1 %s k\n' "$(printf 'a%.0s' $(seq 65))"
	{ printf '#'; head -c 8192 /dev/zero | tr '\0' x; printf '\nmx1 ssh-rsa k\n'; } |
		seed fuzz_knownhosts
fi

if want_name fuzz_inboxname; then
	# First byte: the catalog id's length (low four bits); then the id
	# and the file name.  Names of each kind catalogd meets, each number
	# spelt the wrong ways, and names that would forge lines.
	for n in corp.7.full.snap corp.6-7.delta.snap \
		corp.9223372036854775807.full.snap corp.9223372036854775808.full.snap \
		corp.0.full.snap corp.-7.full.snap corp.+7.full.snap 'corp. 7.full.snap' \
		corp.07.full.snap corp.06-7.delta.snap corp.6-+7.delta.snap \
		corp.7.delta.snap corp.7-.delta.snap corp..full.snap \
		other.7.full.snap corpx.7.full.snap cor.7.full.snap 7.full.snap \
		.full.snap corp.7.full corp.7.full.snap.tmp .corp.7.full.snap.part \
		'evil\nserial: 999\nreason=accepted.snap' 'corp.1\n-2.delta.snap' \
		'corp.6.full\e[2J\e]0;owned\a.snap' 'a\\x0ab.full.snap' '\xff\xfe.full.snap'; do
		seedf fuzz_inboxname "\\x04corp$n"
	done
	seedf fuzz_inboxname '\x06a.b-cd\x2ea.b-cd.3-4.delta.snap'
	seedf fuzz_inboxname '\x00.1.full.snap'
fi

if want_name fuzz_watchstat; then
	# First byte: 1 the Nagios line.  The watch status file as the
	# aggregator writes it (running, held, a source retrying), and lines
	# that try to forge others.
	for m in '\x00' '\x01'; do
		seedf fuzz_watchstat "${m}mode=watch\nstate=running\nserial=1482\nlast_publish=1795413604\nsource.corp=connected\nsource.ad=retrying in 30s: Can't contact LDAP server\n"
		seedf fuzz_watchstat "${m}mode=watch\nstate=held\nheld_reason=more than 10%% of the catalog would change (12034 of 48211)\nserial=1482\n"
		seedf fuzz_watchstat "${m}state=running\nserial=18446744073709551616\nsource.x\x1b[2J=retrying\x07\rforged=1\n"
		seedf fuzz_watchstat "${m}no equals sign\n=\n==\nsource.=retrying\n"
	done
fi

if want_name fuzz_fetch; then
	# First byte: 0 response headers, 1 a state file, 2 two manifests
	# separated by a line "=====".
	seedf fuzz_fetch '\x00HTTP/1.1 200 OK\r\nETag: "5f3a-1c2"\r\nLast-Modified: Mon, 23 Nov 2026 06:00:04 GMT\r\nContent-Length: 912\r\n\r\n'
	seedf fuzz_fetch '\x00HTTP/1.1 100 Continue\r\nETag: "old"\r\n\r\nHTTP/1.1 304 Not Modified\r\netag:   W/"x y"  \r\n\r\n'
	seedf fuzz_fetch '\x00ETag: "a\x01b"\r\nLast-Modified: \xff\r\nETag:\r\nETag: %s\r\n' "$(head -c 201 /dev/zero | tr '\0' e)"
	seedf fuzz_fetch '\x00ETag: %s\r\n' "$(head -c 200 /dev/zero | tr '\0' e)"
	st='# dircat-fetch: the state of catalog corp on this node; rewritten after every poll\nmanifest_epoch = 3\nmanifest_serial = 1482\nmanifest_published = 1795413604\nmanifest_expires = 1795420804\netag = "5f3a-1c2"\nlast_modified = Mon, 23 Nov 2026 06:00:04 GMT\ndelivered_epoch = 3\ndelivered_serial = 1482\ndelivered_full = 0\ndelivered_at = 1795413610\nnode_epoch = 3\nnode_serial = 1482\nlast_poll = 1795413700\nlast_success = 1795413700\nlast_change = 1795413610\nlast_outcome = current\nlast_error = manifest: HTTP 503\nlast_error_at = 1795413000\npolls = 1200\nnot_modified = 1100\nfiles = 30\nbytes = 123456\nrefused_bad_manifest = 1\nrefused_wrong_catalog = 0\nrefused_stale = 2\nrefused_replay = 3\nrefused_bad_file = 0\nerrors_origin = 4\nerrors_refused = 6\nerrors_node = 0\nerrors_local = 0\n'
	seedf fuzz_fetch "\\x01$st"
	seedf fuzz_fetch '\x01manifest_serial = 9223372036854775808\n'
	seedf fuzz_fetch '\x01etag = \nlast_error = a\n  continued # not a comment\n\tand more\nlast_outcome = nonsense\n'
	seedf fuzz_fetch '\x01[section x]\nmanifest_serial = 1\n'
	m1='dircat-manifest 1\ncatalog corp\nprojection all\nepoch 0\nserial 3\npublished 1700000000\nexpires 1700007200\nkey 0123456789abcdef\nfull corp.e0.3.full.snap 3 4000 1700600000 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ndelta corp.e0.2-3.delta.snap 2 3 400 1700600000 cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n'
	m2='dircat-manifest 1\ncatalog corp\nprojection all\nepoch 0\nserial 2\npublished 1699999000\nexpires 1700007200\nkey 0123456789abcdef\nfull corp.e0.2.full.snap 2 4000 1700600000 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n'
	m3='dircat-manifest 1\ncatalog corp\nprojection all\nepoch 1\nserial 1\npublished 1700001000\nexpires 1700002000\nkey 0123456789abcdef\nfull corp.e1.1.full.snap 1 4000 1700600000 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n'
	m4='dircat-manifest 1\ncatalog other\nprojection mx\nepoch 0\nserial 9\npublished 1700000000\nexpires 1700007200\nkey 0123456789abcdef\nfull other.e0.9.full.snap 9 4000 1700600000 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n'
	seedf fuzz_fetch "\\x02$m1=====\\n$m2"	# a replay after the newer one
	seedf fuzz_fetch "\\x02$m2=====\\n$m1"	# in order
	seedf fuzz_fetch "\\x02$m1=====\\n$m3"	# a new epoch, already expired
	seedf fuzz_fetch "\\x02$m4=====\\n$m1"	# another catalog first
	seedf fuzz_fetch "\\x02$m1=====\\n$m1"	# the same twice
fi

if want_name fuzz_keyhash; then
	# First byte: 0 a secret file's text, 1 a sealed record to open, 2
	# clear fields to seal and open again.  Secrets at each length limit
	# (63, 64, 128, 129 digits), with a line end, and not hex.
	for n in 63 64 65 128 129; do
		seedf fuzz_keyhash '\x00%s' "$(head -c "$n" /dev/zero | tr '\0' a)"
	done
	seedf fuzz_keyhash '\x00%s\n' "$(head -c 64 /dev/zero | tr '\0' 7)"
	seedf fuzz_keyhash '\x00%s\r\n' "$(head -c 64 /dev/zero | tr '\0' F)"
	seedf fuzz_keyhash '\x00%sg' "$(head -c 63 /dev/zero | tr '\0' 0)"
	seedf fuzz_keyhash '\x00 %s' "$(head -c 64 /dev/zero | tr '\0' 1)"
	seedf fuzz_keyhash '\x01\x0ejsmith@ex.comAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0BBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
	seedf fuzz_keyhash '\x01\x0c@example.com\0'
	seedf fuzz_keyhash '\x02\x0ejsmith@ex.comjsmith,adm\0name=J Smith\nou=x'
	seedf fuzz_keyhash '\x02\x0bexample.com\0'
	seedf fuzz_keyhash '\x02\x00%s' "$(head -c 1520 /dev/zero | tr '\0' o)"
fi
