#!/bin/bash
# lint.sh - source rules checked on every test run: the banned functions
# (unbounded copies and formatting), no program header included from lib/,
# and no program whose files call each other in a circle
# (scripts/shape.sh calls).  Programs' own sources and lib/ only; tests
# may do as they like.
# run.sh: beside others
source "$(dirname "$0")/lib.sh"
cd "$DIRCAT_TOP" || exit 1
src=$(ls lib/*.[ch] aggregator/*.[ch] replicator/*.[ch] catalogd/*.[ch] admin/*.[ch] fetcher/*.[ch] 2>/dev/null)

for fn in sprintf vsprintf strcat strncat strcpy gets; do
	hits=$(grep -nE "(^|[^_a-z0-9])$fn[[:space:]]*\\(" $src | grep -v '^\S*:[0-9]*:\s*\*' || true)
	if [ -z "$hits" ]; then
		pass "no $fn() in the sources"
	else
		fail "$fn() used (bounded alternatives: snprintf, buf_append, util_strlcpy)"
		echo "$hits" | head -n 5
	fi
done
hits=$(grep -nE '#include "\.\./(aggregator|replicator|catalogd|admin)/' lib/*.[ch] || true)
check_eq "lib/ includes no program header" "$hits" ""
hits=$(grep -LE '^ \* ' lib/*.h | tr '\n' ' ')
check_eq "every lib/ header opens with its contract comment" "$hits" ""

# Each library behind its wrapper: libcurl in the transfer modules, the
# LDAP libraries in the aggregator's directory sources.
hits=$(grep -lE '^#include <curl/' $src |
	grep -vxE 'replicator/xfer\.c|fetcher/http\.c' | tr '\n' ' ')
check_eq "libcurl's header only in replicator/xfer.c and fetcher/http.c" \
	"$hits" ""
hits=$(grep -lE '^#include <(ldap|lber)\.h>' $src |
	grep -vxE 'aggregator/(ldapsrc|syncrepl|usnsrc|syncinfo)\.c' |
	tr '\n' ' ')
check_eq "libldap's headers only in the aggregator's directory sources" \
	"$hits" ""

# Each program's files call downward only: main.c starts the parts, the
# parts call the modules below them, nothing calls back up.  From the
# objects the suite runs (nm: who uses what who defines).
objdir=build/std
[ "${DIRCAT_SANITIZE:-}" = 1 ] && objdir=build/asan
for dir in lib aggregator replicator catalogd admin fetcher; do
	out=$(scripts/shape.sh calls "$dir" "$objdir" 2>&1 | tail -n 1)
	check_eq "$dir/: no files that call each other in a circle" "$out" \
		"no cycle"
done
