#!/bin/bash
# build.sh - the Makefile rebuilds what a change touches and no more: each
# object depends on the headers it includes (the compiler's .d files), so
# an edited header recompiles its includers only; and the libraries' flags
# come from pkg-config, with the plain -l flags when it is missing.
# Dry runs (make -n) of the tree under test: nothing is built or written.
. "$(dirname "$0")/lib.sh"
need make
cd "$DIRCAT_TOP" || exit 1

mk=(make --no-print-directory SANITIZE="${DIRCAT_SANITIZE:-}")
if [ "${DIRCAT_SANITIZE:-}" = 1 ]; then
	b=build/asan bin=build/asan/bin
else
	b=build/std bin=bin
fi

# Every object the Makefile builds now, where it was built, has its
# dependency file.  The list is make's own (a dry run of a full rebuild):
# objects left over from renamed or removed sources (an incremental tree
# keeps them) are not make's and do not count.
objects=$("${mk[@]}" -n -B all tests 2>/dev/null |
	grep -oE -- "-c -o $b/[^ ]+\\.o" | sed 's|^-c -o ||' | sort -u)
check "make names the objects it builds ($(wc -w <<<"$objects"))" \
	test "$(wc -w <<<"$objects")" -gt 1
missing=
for o in $objects; do
	[ ! -f "$o" ] || [ -f "${o%.o}.d" ] || missing+=" $o"
done
check_eq "every object has its header dependencies (.d)" "$missing" ""

# The objects "make -n" would compile after a header changed, less those
# it would compile anyway (a tree not quite up to date).
compiled() {	# make arguments...
	"${mk[@]}" -n "$@" tests 2>/dev/null |
		grep -oE -- "-c -o $b/[^ ]+\\.o" | sed "s|-c -o $b/||" | sort
}
pending=$(compiled)
rebuilt() {	# header
	comm -23 <(compiled -W "$1") <(echo "$pending")
}
# The sources that include a header, directly or through a header that
# does (one level).  A program's header is seen by its own folder only
# (programs include no other program's headers); a header of lib/ by all.
includers() {	# header
	local dir=${1%/*} h=${1##*/} dirs f g
	if [ "$dir" = lib ]; then
		dirs="lib aggregator replicator catalogd admin fetcher"
	else
		dirs=$dir
	fi
	for f in $(for d in $dirs; do ls "$d"/*.c; done); do
		for g in "$1" $(grep -lE "#include \"$h\"" lib/*.h \
				"${f%/*}"/*.h 2>/dev/null); do
			[ "$g" = "$f" ] && continue
			if [ "${g%/*}" = lib ] || [ "${g%/*}" = "${f%/*}" ]; then
				if grep -qE "#include \"${g##*/}\"" "$f"; then
					echo "${f%.c}.o"
					break
				fi
			fi
		done
	done | sort -u
}
for h in catalogd/notify.h lib/netstring.h aggregator/collect.h \
	 fetcher/fetchconf.h fetcher/http.h; do
	got=$(rebuilt "$h")
	want=$(includers "$h")
	check_eq "a change of $h recompiles its includers only" \
		"$(tr '\n' ' ' <<<"$got")" "$(tr '\n' ' ' <<<"$want")"
done
# An object without its .d (built before -MMD, or the file lost) is built
# again: its dependencies are unknown.
dfile=$b/lib/netstring.d
if [ -f "$dfile" ]; then
	mv "$dfile" "$dfile.saved"	# mv keeps its time: nothing to rebuild
	got=$(comm -23 <(compiled) <(echo "$pending"))
	mv "$dfile.saved" "$dfile"
	check_eq "an object whose .d is missing is built again" "$got" \
		"lib/netstring.o"
fi
n=$(rebuilt lib/log.h | wc -l)
all=$(wc -w <<<"$objects")
check "a change of lib/log.h recompiles fewer than every object ($n of $all)" \
	test "$n" -lt "$all"

# Libraries: pkg-config's flags, or the plain ones without it.
if command -v pkg-config >/dev/null; then
	link=$("${mk[@]}" -n -B "$bin/dircat-replicator" 2>/dev/null |
		grep -- "-o $bin/dircat-replicator")
	want=$(pkg-config --libs libcurl lmdb libcrypto libidn2 | tr -s ' ')
	for l in $want; do
		check_match "replicator linked with pkg-config's $l" "$link" " $l( |$)"
	done
	link=$("${mk[@]}" -n -B "$bin/dircat-aggregator" 2>/dev/null |
		grep -- "-o $bin/dircat-aggregator")
	for l in $(pkg-config --libs ldap lber); do
		check_match "aggregator linked with pkg-config's $l" "$link" " $l( |$)"
	done
fi
link=$("${mk[@]}" -n -B PKG_CONFIG=/nonexistent/pkg-config \
	"$bin/dircat-aggregator" 2>/dev/null | grep -- "-o $bin/dircat-aggregator")
check_match "without pkg-config: the plain -l flags" "$link" \
	' -lldap -llber -llmdb -lcrypto -lidn2$'
