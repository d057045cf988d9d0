#!/bin/bash
# shape.sh - how the sources hang together, for maintainers: which file
# of a program calls into which, the longest functions, and where the
# configuration files are read.  Reads the sources and the objects make
# built; needs ctags (universal-ctags), cc and nm.
#
#   scripts/shape.sh calls DIR [OBJDIR]
#                                   edges "A.c -> B.c" (A uses a function
#                                   or variable B defines, from the
#                                   objects in OBJDIR, default build/std:
#                                   run make first), then "in a cycle:
#                                   FILES" or "no cycle"
#   scripts/shape.sh functions [N]  the N longest functions (default 15):
#                                   lines, branches, file:line, name
#   scripts/shape.sh settings       the files that read a configuration
#                                   file and the settings getters called
#                                   outside the configuration modules
#
# Run from the top of the source tree.
set -eu
cd "$(dirname "$0")/.."

src_dirs="lib aggregator replicator catalogd admin fetcher"

# A C file without its comments and string contents, for word searches.
code_of() {
	cc -x c -fpreprocessed -dD -E -P - <"$1" 2>/dev/null |
		sed -E 's/"([^"\\]|\\.)*"/""/g'
}

# Functions a file defines for other files: name<TAB>file.
exported() {
	ctags --fields=+neK --c-kinds=f -o - "$@" |
		awk -F'\t' '{ ext = 1
			      for (i = 4; i <= NF; i++) if ($i == "file:") ext = 0
			      if (ext) print $1 "\t" $2 }'
}

# Which file of DIR references a function another file of DIR defines,
# as the linker sees it: an undefined symbol of A.o defined by B.o.
calls() {
	local dir=${1%/} objdir=${2:-build/std} f o edges names
	for f in "$dir"/*.c; do
		o=$objdir/${f%.c}.o
		if [ ! -f "$o" ] || [ "$o" -ot "$f" ]; then
			echo "shape.sh: $o missing or older than $f: run make" >&2
			return 1
		fi
		nm --defined-only -g "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ { print $3 "\t" f }'
	done | sort -u >"$tmp/defs"
	edges=$(for f in "$dir"/*.c; do
			nm -u "$objdir/${f%.c}.o" | awk '{ print $NF }' |
				sort -u >"$tmp/undef"
			awk -F'\t' -v self="$f" 'NR == FNR { u[$1] = 1; next }
				$2 != self && ($1 in u) { print self " -> " $2 }' \
				"$tmp/undef" "$tmp/defs"
		done | sort -u)
	if [ -n "$edges" ]; then
		echo "$edges"
	fi
	names=$(awk '{ print $1, $3 }' <<<"$edges" | tsort 2>&1 >/dev/null |
		grep -v 'input contains a loop' | sed 's/^tsort: //' | sort -u |
		tr '\n' ' ')
	if [ -n "$names" ]; then
		echo "in a cycle: $names"
	else
		echo "no cycle"
	fi
}

functions() {
	local n=${1:-15} d
	for d in $src_dirs; do
		ctags --fields=+neK --c-kinds=f -o - "$d"/*.c
	done | awk -F'\t' '{ s = e = 0
		for (i = 4; i <= NF; i++) {
			if ($i ~ /^line:/) s = substr($i, 6)
			if ($i ~ /^end:/) e = substr($i, 5)
		}
		if (e) print e - s + 1 "\t" $2 "\t" s "\t" e "\t" $1 }' |
	sort -rn | head -n "$n" | while IFS=$'\t' read -r len file s e name; do
		# Branches: if, for, while, case, &&, || and ?: in the body.
		b=$(code_of <(sed -n "${s},${e}p" "$file") |
			grep -oE '\b(if|for|while|case)\b|&&|\|\||\?' | wc -l)
		printf '%5d lines %4d branches  %s:%s  %s()\n' "$len" "$b" \
			"$file" "$s" "$name"
	done
}

settings() {
	local d f
	echo "files that read a configuration file (config_load):"
	for d in aggregator replicator catalogd admin fetcher lib; do
		for f in "$d"/*.c; do
			case $f in lib/config.c) continue ;; esac
			code_of "$f" | grep -q '\bconfig_load\b' && echo "  $f"
		done
	done
	echo "settings getter calls outside lib/config.c and lib/settings.c:"
	for d in aggregator replicator catalogd admin fetcher lib; do
		for f in "$d"/*.c; do
			case $f in lib/config.c|lib/settings.c) continue ;; esac
			n=$(code_of "$f" | grep -oE '\bconfig_(get|get_at|get_nth|get_int|get_bool|get_duration|get_mode|require)\b' |
				wc -l)
			[ "$n" -gt 0 ] && printf '  %4d %s\n' "$n" "$f"
		done
	done
	return 0
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ${1:-} in
calls) calls "${2:?usage: shape.sh calls DIR [OBJDIR]}" "${3:-}" ;;
functions) functions "${2:-15}" ;;
settings) settings ;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
