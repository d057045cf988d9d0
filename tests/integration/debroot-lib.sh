# debroot-lib.sh - a throwaway Debian 12 root for the tests that install
# the packages (sourced after lib.sh).
#
#   debroot_base        make, once, build/debroot/base: `debootstrap
#                       --variant=minbase bookworm` from the system's own
#                       Debian mirror, with the packages dircat's need and
#                       the quick start's (sshd, Postfix, swaks, bubblewrap);
#                       sets DEBROOT_BASE.  About 2 minutes the first time;
#                       kept for the following tests and runs.
#   debroot_new DIR     a fresh root at DIR/root: an overlay on the base
#                       (nothing is copied), with /proc, /dev, /run and /tmp
#                       of its own.  Only inside a private mount namespace
#                       (the mounts end with it).
#   debroot_run DIR CMD...  run CMD as root inside that root
DEBROOT_PKGS="openssh-server openssh-client postfix swaks bubblewrap adduser
ca-certificates libldap-2.5-0 liblmdb0 libcurl4 libidn2-0 libssl3 procps
netcat-openbsd"

debroot_mirror() {
	local m
	m=$(sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n 1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

debroot_base() {
	local top=$DIRCAT_TOP want
	DEBROOT_BASE=$top/build/debroot/base
	want=$(echo $DEBROOT_PKGS)
	mkdir -p "$top/build/debroot" || return 1
	(
		flock 9
		[ -e "$top/build/debroot/ok" ] &&
			[ "$(cat "$top/build/debroot/ok")" = "$want" ] && exit 0
		rm -rf "$DEBROOT_BASE" "$top/build/debroot/ok"
		debootstrap --variant=minbase --include="$(echo $want | tr ' ' ,)" \
			bookworm "$DEBROOT_BASE" "$(debroot_mirror)" \
			>"$top/build/debroot/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$top/build/debroot/debootstrap.log"; exit 1; }
		# apt resolves `apt install ./x.deb` against what is installed;
		# the package lists make it quiet about it.
		chroot "$DEBROOT_BASE" apt-get update -qq \
			>>"$top/build/debroot/debootstrap.log" 2>&1 || true
		# No daemon of the base starts by itself inside a root.
		printf '#!/bin/sh\nexit 101\n' >"$DEBROOT_BASE/usr/sbin/policy-rc.d"
		chmod 755 "$DEBROOT_BASE/usr/sbin/policy-rc.d"
		echo "$want" >"$top/build/debroot/ok"
	) 9>"$top/build/debroot/lock"
}

debroot_new() {
	local d=$1
	mkdir -p "$d/upper" "$d/work" "$d/root" || return 1
	mount -t overlay overlay \
		-o "lowerdir=$DEBROOT_BASE,upperdir=$d/upper,workdir=$d/work" \
		"$d/root" || return 1
	mount -t proc proc "$d/root/proc" &&
	mount --rbind /dev "$d/root/dev" &&
	mount -t tmpfs -o mode=0755 tmpfs "$d/root/run" &&
	mount -t tmpfs -o mode=1777 tmpfs "$d/root/tmp"
}

debroot_run() {
	local d=$1; shift
	chroot "$d/root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$@"
}
