#!/bin/sh
# deps.sh - install the Debian packages dircat needs to build, test and
# benchmark, skipping those already present.  Non-interactive, idempotent.
#
# Usage: scripts/deps.sh [build|package|test|bench]   (default: test)
#   package: what `dpkg-buildpackage -us -uc -b` needs, and lintian
#
# Daemons installed here (slapd, nginx, sshd, postfix, samba, 389-ds-base) are NOT started by
# the package installation: the tests and the demo start private instances
# of their own on loopback and high ports.
set -eu

what=${1:-test}

build="make gcc pkg-config libldap-dev liblmdb-dev libcurl4-openssl-dev
libssl-dev libidn2-dev"
package="$build debhelper dpkg-dev lintian"
test="$package slapd ldap-utils lmdb-utils openssh-server openssh-client nginx
postfix postfix-lmdb postfix-ldap swaks sasl2-bin libsasl2-modules clang
libclang-rt-14-dev procps time openssl curl binutils mandoc systemd
netcat-openbsd strace nftables iptables bc iproute2
samba samba-ad-dc samba-ad-provision samba-dsdb-modules krb5-user
libsasl2-modules-gssapi-mit 389-ds-base bubblewrap debootstrap
swift swift-proxy swift-account swift-container swift-object python3-swift"
bench="$test gnuplot-nox hyperfine"

case $what in
build) pkgs=$build ;;
package) pkgs=$package ;;
test) pkgs=$test ;;
bench) pkgs=$bench ;;
*) echo "usage: $0 [build|package|test|bench]" >&2; exit 2 ;;
esac

# The Debian 12 root that the package tests install into (debootstrap,
# with Exim's and Sendmail's packages in its apt cache), fetched from the
# mirror once and kept in build/debroot; tests/integration/debroot-lib.sh.
fetch_debroot() {
	case $what in build|package) return 0 ;; esac
	[ "$(id -u)" = 0 ] || return 0
	top=$(cd "$(dirname "$0")/.." && pwd)
	echo "deps.sh: the Debian 12 root for the package tests (build/debroot)"
	DIRCAT_TOP=$top bash -c '. "$DIRCAT_TOP/tests/integration/debroot-lib.sh" && debroot_base'
}

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	fetch_debroot
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; a bare install is what we want.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Keep the packages' own daemons from starting: dircat runs private ones.
policy=/usr/sbin/policy-rc.d
ours=
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' > $policy
	chmod 755 $policy
	ours=1
fi
trap '[ -n "$ours" ] && rm -f $policy' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
fetch_debroot
echo "deps.sh: done"
