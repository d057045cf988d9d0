# debian-lib.sh - the Debian packages of this tree, built once per state
# of the tree and kept under build/deb/ (sourced after lib.sh).
#
#   deb_build           build with `dpkg-buildpackage -us -uc -b` from a copy
#                       of the tree (so that nothing is written next to it),
#                       unless the same tree was built already; sets
#     DEB_DIR           the directory holding the .deb, .changes, build.log
#   Two tests of one run share the result; a lock keeps them from
#   building at the same time.
deb_build() {
	local top=$DIRCAT_TOP key out lock src
	mkdir -p "$top/build/deb" || return 1
	# The tree's state: every file dpkg-buildpackage would see.
	key=$(cd "$top" && _deb_files | LC_ALL=C sort | xargs -d '\n' sha1sum |
		sha1sum | cut -c1-16)
	DEB_DIR=$top/build/deb/$key
	lock=$top/build/deb/lock
	(
		flock 9
		[ -e "$DEB_DIR/ok" ] && exit 0
		rm -rf "$top/build/deb"/*/ 2>/dev/null
		src=$DEB_DIR/dircat
		mkdir -p "$src" || exit 1
		(cd "$top" && _deb_files | tar -cf - -T -) | tar -xf - -C "$src" || exit 1
		# The documented command; make may use every core (the same
		# packages, built sooner: the suite's time budget).  Nothing of
		# the make that runs the suite (make asan's SANITIZE=1 comes in
		# MAKEFLAGS) reaches the package's own build.
		(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE \
			DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
			dpkg-buildpackage -us -uc -b) >"$DEB_DIR/build.log" 2>&1 ||
			{ tail -n 30 "$DEB_DIR/build.log"; exit 1; }
		rm -rf "$src"
		touch "$DEB_DIR/ok"
	) 9>"$lock"
}

# The files of the tree: what git tracks, or (no git) everything but the
# build outputs.
_deb_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard | while IFS= read -r f; do
			[ -f "$f" ] && printf '%s\n' "$f"
		done
	else
		find . -path ./build -prune -o -path ./bin -prune -o \
			-path ./.git -prune -o -type f -print | sed 's|^\./||'
	fi
}
