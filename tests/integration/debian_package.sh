#!/bin/bash
# debian_package.sh - `dpkg-buildpackage -us -uc -b` makes the three
# binary packages; lintian finds no error and no warning (the info tags
# it prints are listed in the log); each package holds what it should and
# nothing of the other kind of host: dircat (admin tool, guides and
# examples in /usr/share/doc/dircat), dircat-internal (aggregator,
# replicator, their timer and configurations), dircat-node (catalogd, its
# units and configuration, no libldap or libcurl); configurations are
# conffiles; the units are enabled but not started by the maintainer
# scripts; the accounts and directories are made by them.  Installing
# and using the packages is quickstart.sh.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debian-lib.sh"
need dpkg-buildpackage dh lintian

t0=$(date +%s)
if deb_build; then
	pass "dpkg-buildpackage -us -uc -b builds ($(($(date +%s) - t0))s)"
else
	fail "dpkg-buildpackage -us -uc -b builds"
	exit 1
fi
cd "$DEB_DIR" || exit 1
for p in dircat dircat-internal dircat-node dircat-fetch; do
	check "$p package made" bash -c "ls ${p}_*.deb >/dev/null"
done
deb() { ls "$DEB_DIR/${1}"_*_*.deb | grep -v dbgsym | head -n 1; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{ print $6 }' | sed 's|^\./|/|'; }

# --- lintian ------------------------------------------------------------
lintian -I --pedantic --tag-display-limit 0 ./*.changes >lintian.out 2>&1
sed 's/^/    lintian: /' lintian.out
check_eq "lintian: no error and no warning" \
	"$(grep -E '^[EW]: ' lintian.out)" ""
check_eq "lintian: the only info tag is the documented one (no init.d script: systemd units only)" \
	"$(grep -E '^[IP]: ' lintian.out | sed 's/^[IP]: [^:]*: \([^ ]*\).*/\1/' | sort -u)" \
	"package-supports-alternative-init-but-no-init.d-script"

# --- contents -------------------------------------------------------------
common=$(files dircat) internal=$(files dircat-internal) node=$(files dircat-node)
fetchpkg=$(files dircat-fetch)
for f in /usr/sbin/dircat-fetch /lib/systemd/system/dircat-fetch.service \
	/etc/dircat/fetch.conf /usr/share/man/man8/dircat-fetch.8.gz; do
	check "dircat-fetch ships $f" grep -qx -- "$f" <<<"$fetchpkg"
done
for f in /usr/bin/dircat /usr/share/man/man1/dircat.1.gz \
	/usr/share/man/man5/dircat.conf.5.gz /usr/share/man/man7/dircat-formula.7.gz \
	/usr/share/doc/dircat/README.md /usr/share/doc/dircat/docs/postfix.md \
	/usr/share/doc/dircat/docs/exim.md /usr/share/doc/dircat/docs/sendmail.md \
	/usr/share/doc/dircat/docs/submission.md \
	/usr/share/doc/dircat/docs/examples/activedirectory.conf \
	/usr/share/doc/dircat/docs/examples/sshd-dircat-upload.conf \
	/usr/share/doc/dircat/etc/catalogd.conf /usr/share/doc/dircat/schema/snapshot.md \
	/usr/share/dircat/dircat.schema /usr/share/doc/dircat/copyright; do
	check "dircat ships $f" grep -qx -- "$f" <<<"$common"
done
for f in /usr/sbin/dircat-aggregator /usr/sbin/dircat-replicator \
	/lib/systemd/system/dircat-aggregate.service \
	/lib/systemd/system/dircat-aggregate.timer /etc/dircat/aggregator.conf \
	/lib/systemd/system/dircat-aggregator-watch.service \
	/etc/dircat/replicator.conf /usr/share/man/man8/dircat-aggregator.8.gz; do
	check "dircat-internal ships $f" grep -qx -- "$f" <<<"$internal"
done
for f in /usr/sbin/catalogd /lib/systemd/system/catalogd.service \
	/lib/systemd/system/dircat-metrics.timer /etc/dircat/catalogd.conf \
	/usr/share/man/man8/catalogd.8.gz; do
	check "dircat-node ships $f" grep -qx -- "$f" <<<"$node"
done
check_eq "dircat-node ships nothing of the internal host" \
	"$(grep -E 'aggregat|replicat' <<<"$node")" ""
check_eq "dircat-internal ships nothing of the node" \
	"$(grep -E 'catalogd' <<<"$internal")" ""
check_eq "every file of the install is in exactly one package" \
	"$(printf '%s\n' "$common" "$internal" "$node" "$fetchpkg" | grep -v '/$' | sort | uniq -d)" ""
dep_node=$(dpkg-deb -f "$(deb dircat-node)" Depends)
check_eq "dircat-node needs neither libldap nor libcurl ($dep_node)" \
	"$(grep -oE 'libldap[^,]*|libcurl[^,]*' <<<"$dep_node")" ""
check_match "dircat-internal depends on the same dircat" \
	"$(dpkg-deb -f "$(deb dircat-internal)" Depends)" 'dircat \(= [0-9]'
check_eq "the guides stay uncompressed (they link to one another)" \
	"$(grep -E '^/usr/share/doc/dircat/.*\.md\.gz$' <<<"$common")" ""

# --- control files --------------------------------------------------------
ctl=$(tmpdir)
for p in dircat dircat-internal dircat-node dircat-fetch; do
	mkdir -p "$ctl/$p" && dpkg-deb -e "$(deb $p)" "$ctl/$p"
done
check_eq "dircat-fetch: fetch.conf is a conffile" \
	"$(cat "$ctl/dircat-fetch/conffiles")" "/etc/dircat/fetch.conf"
check_match "dircat-fetch postinst makes its account in group dircat" \
	"$(cat "$ctl/dircat-fetch/postinst")" 'adduser --system --ingroup dircat --home /var/lib/dircat-fetch'
check_eq "dircat-fetch postinst starts nothing (enabled only where the administrator did)" \
	"$(grep -E "deb-systemd-invoke (start|restart)" "$ctl/dircat-fetch/postinst")" ""
check_eq "dircat-node: catalogd.conf is a conffile" \
	"$(cat "$ctl/dircat-node/conffiles")" "/etc/dircat/catalogd.conf"
check_eq "dircat-internal: aggregator.conf and replicator.conf are conffiles" \
	"$(sort "$ctl/dircat-internal/conffiles")" "/etc/dircat/aggregator.conf
/etc/dircat/replicator.conf"
check_match "dircat postinst makes the dircat system account" \
	"$(cat "$ctl/dircat/postinst")" 'adduser --system --group --home /var/lib/dircat'
check_match "dircat-node postinst makes the upload account in group dircat" \
	"$(cat "$ctl/dircat-node/postinst")" 'adduser --system --ingroup dircat --home /var/lib/dircat-upload'
check_match "dircat-node postinst enables catalogd.service" \
	"$(cat "$ctl/dircat-node/postinst")" "deb-systemd-helper enable 'catalogd.service'"
check_eq "dircat-node postinst does not start catalogd (only try-restart on upgrade)" \
	"$(grep -E 'deb-systemd-invoke (start|restart)' "$ctl/dircat-node/postinst")" ""
check_match "dircat-internal postinst enables the aggregate timer" \
	"$(cat "$ctl/dircat-internal/postinst")" "deb-systemd-helper enable 'dircat-aggregate.timer'"
check_eq "dircat-internal postinst starts nothing" \
	"$(grep -E 'deb-systemd-invoke (start|restart)' "$ctl/dircat-internal/postinst")" ""
check_eq "dircat-node: the metrics timer is enabled only if the administrator did (node_exporter is optional)" \
	"$(grep -c "if deb-systemd-helper debian-installed 'dircat-metrics.timer'" "$ctl/dircat-node/postinst")" 1
exit 0
