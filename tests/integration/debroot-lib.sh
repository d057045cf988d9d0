# debroot-lib.sh - a throwaway Debian 12 root for the tests that install
# the packages (sourced after lib.sh).
#
#   debroot_base        make, once, build/debroot/base: `debootstrap
#                       --variant=minbase bookworm` from the system's own
#                       Debian mirror, with the packages dircat needs and
#                       the quick start's (sshd, Postfix, swaks, bubblewrap),
#                       and Exim's and Sendmail's in its apt cache;
#                       sets DEBROOT_BASE.  About 2 minutes the first time;
#                       kept for the following tests and runs.
#   debroot_new DIR     a fresh root at DIR/root: an overlay on the base
#                       (nothing is copied), with /proc, /dev, /run and /tmp
#                       of its own.  Only inside a private mount namespace
#                       (the mounts end with it).
#   debroot_run DIR CMD...  run CMD as root inside that root
#   doc_block FILE INFO [N] the Nth (default 1) fenced block of FILE
#                       opened with ```INFO
#   doc_block_with FILE INFO REGEX  the first such block with a line
#                       matching REGEX
#   debroot_prepare DIR the packages of DEB_DIR in ROOT/root/pkgs, and the
#                       unitrun systemctl stand-in in ROOT/usr/local/bin
DEBROOT_PKGS="openssh-server openssh-client postfix swaks bubblewrap adduser
ca-certificates libldap-2.5-0 liblmdb0 libcurl4 libidn2-0 libssl3 procps
netcat-openbsd"
# Downloaded into the base's apt cache, not installed: each conflicts
# with Postfix; guides_mta.sh installs one of them per root, offline.
DEBROOT_FETCH="exim4-daemon-light sendmail-bin"

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
	want="$(echo $DEBROOT_PKGS) fetch: $DEBROOT_FETCH"
	mkdir -p "$top/build/debroot" || return 1
	(
		flock 9
		[ -e "$top/build/debroot/ok" ] &&
			[ "$(cat "$top/build/debroot/ok")" = "$want" ] && exit 0
		rm -rf "$DEBROOT_BASE" "$top/build/debroot/ok"
		debootstrap --variant=minbase --include="$(echo $DEBROOT_PKGS | tr ' ' ,)" \
			bookworm "$DEBROOT_BASE" "$(debroot_mirror)" \
			>"$top/build/debroot/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$top/build/debroot/debootstrap.log"; exit 1; }
		# apt resolves `apt install ./x.deb` against what is installed;
		# the package lists make it quiet about it.
		cp /etc/resolv.conf "$DEBROOT_BASE/etc/resolv.conf" 2>/dev/null
		chroot "$DEBROOT_BASE" apt-get update -qq \
			>>"$top/build/debroot/debootstrap.log" 2>&1 || true
		for p in $DEBROOT_FETCH; do
			chroot "$DEBROOT_BASE" apt-get install -y -qq --download-only "$p" \
				>>"$top/build/debroot/debootstrap.log" 2>&1 ||
				{ tail -n 20 "$top/build/debroot/debootstrap.log"; exit 1; }
		done
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

doc_block() {
	awk -v info="$2" -v want="${3:-1}" '
		!inb && $0 == "```" info { n++; if (n == want) { inb = 1; next } }
		inb && $0 == "```" { exit }
		inb { print }' "$1"
}

doc_block_with() {
	local i b
	for i in $(seq 50); do
		b=$(doc_block "$1" "$2" "$i")
		[ -n "$b" ] || return 1
		grep -qE -- "$3" <<<"$b" && { printf '%s\n' "$b"; return 0; }
	done
	return 1
}

# The unitrun systemctl and the packages' files, ready to install.
debroot_prepare() {
	local r=$1/root p
	mkdir -p "$r/root/pkgs" "$r/usr/local/lib/unitrun"
	for p in dircat dircat-internal dircat-node; do
		cp "$(ls "$DEB_DIR/${p}"_*.deb | grep -v dbgsym | head -n 1)" "$r/root/pkgs/"
	done
	install -m 755 "$DIRCAT_TOP/tests/integration/unitrun/systemctl" "$r/usr/local/bin/systemctl"
	install -m 755 "$DIRCAT_TESTBIN/tools/notifywait" "$r/usr/local/lib/unitrun/notifywait"
	# Under make asan the tool is sanitised: the root gets the runtime
	# libraries it links that a Debian base lacks (libasan, libubsan).
	local lib
	for lib in $(ldd "$DIRCAT_TESTBIN/tools/notifywait" |
		     awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		[ -e "$r$lib" ] || install -D -m 644 "$lib" "$r$lib"
	done
}
