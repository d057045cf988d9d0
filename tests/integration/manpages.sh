#!/bin/bash
# manpages.sh - the manual pages in man/: clean under mandoc's and groff's
# checks, complete, and in step with the programs.
#
# For every page: mandoc -T lint -W warning says nothing, mandoc renders
# it, groff -ww -man -z says nothing (when groff is installed), the source
# is plain ASCII, the standard sections are there, the header names the
# page as its file does and carries the programs' version, and every
# dircat page it refers to exists.
#
# For every program: each option its -h lists appears in the OPTIONS
# section of its page and each exit status its -h lists is a tag of the
# page's EXIT STATUS section - and the other way round, so that neither
# the code nor the page can change alone.
# run.sh: beside others
. "$(dirname "$0")/lib.sh"
need mandoc

mandir=$DIRCAT_TOP/man
sections=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES EXAMPLES
	  "SEE ALSO")

# The page as plain text, one paragraph a line as far as possible, so that
# no word is split across lines.
render() {
	mandoc -T ascii -O width=400 "$1" | sed 's/.\x08//g'
}

# One section of rendered text: from its heading to the next heading.
section() {	# text heading
	awk -v h="$2" '
		/^[A-Z][A-Z .]*$/ { on = ($0 == h); next }
		on' <<<"$1"
}

# Options in text: -x or --long, standing at the start of a word.
options_in() {
	grep -oE '(^|[][[:space:]|,(])--?[A-Za-z][A-Za-z0-9-]*' <<<"$1" |
		sed 's/^[^-]*//' | sort -u
}

# Exit statuses a usage text lists: from its first mention of "exit" on,
# numbers at the start of a line or after "exit ", ": " or ", ", followed
# by a word.
statuses_in() {
	sed -n '/[Ee]xit/,$p' <<<"$1" |
		grep -oE '(^[[:space:]]*|exit |: |, )[0-9]{1,3}[[:space:]]+[A-Za-z(]' |
		grep -oE '[0-9]+' | sort -un
}

# The tags of a section, from the source: each line after a .TP, as
# plain text.
tags_of() {	# file heading
	awk -v h="$2" '
		/^\.SH / { t = $0; sub(/^\.SH +/, "", t); gsub(/"/, "", t)
			   on = (t == h) }
		on && prev == ".TP" { print }
		{ prev = $0 }' "$1" |
		sed 's/\\-/-/g; s/\\f[BIRP]//g; s/^\.[A-Z]* *//; s/"//g'
}

# The version the programs report.
version=$("$DIRCAT_BIN/dircat" -V 2>/dev/null | awk 'NR == 1 { print $3 }')
check_match "dircat -V reports a version" "$version" '^[0-9]+\.[0-9]+'

pages=("$mandir"/*.[1-8])
check "man/ holds the pages" test -f "${pages[0]}"
for want in dircat.1 dircat.conf.5 dircat-formula.7 dircat-aggregator.8 \
	    dircat-replicator.8 catalogd.8 dircat-fetch.8; do
	check "page $want exists" test -f "$mandir/$want"
done

for f in "${pages[@]}"; do
	[ -f "$f" ] || continue
	page=$(basename "$f")
	name=${page%.*}
	sect=${page##*.}

	out=$(mandoc -T lint -W warning "$f" 2>&1)
	check_eq "$page: mandoc -T lint -W warning is silent" "$out" ""

	if out=$(mandoc -T utf8 "$f" 2>&1) && [ -n "$out" ]; then
		pass "$page: mandoc -T utf8 renders it"
	else
		fail "$page: mandoc -T utf8 renders it"
	fi

	if command -v groff >/dev/null 2>&1; then
		out=$(groff -ww -man -z "$f" 2>&1)
		check_eq "$page: groff -ww -man -z is silent" "$out" ""
	fi

	out=$(LC_ALL=C grep -n '[^ -~]' "$f" | head -n 3)
	check_eq "$page: plain ASCII source" "$out" ""

	text=$(render "$f")
	missing=
	for s in "${sections[@]}"; do
		grep -qx -- "$s" <<<"$text" || missing+=" [$s]"
	done
	check_eq "$page: has the standard sections" "$missing" ""

	th=$(grep -m1 '^\.TH ' "$f")
	want_th=$(tr '[:lower:]' '[:upper:]' <<<"$name")
	check_match "$page: .TH names $want_th, section $sect" "$th" \
		"^\\.TH ${want_th//./\\.} $sect "
	check_match "$page: .TH carries dircat $version" "$th" \
		"\"dircat ${version//./\\.}\""
	nameline=$(section "$text" NAME | head -n 1)
	check_match "$page: NAME starts with $name" "$nameline" \
		"^ +${name//./\\.} - "

	missing=
	for ref in $(grep -oE '(dircat[a-z.-]*|catalogd)\([1-8]\)' <<<"$text" |
		     sort -u); do
		r=${ref%(*}; n=${ref#*(}; n=${n%)}
		[ -f "$mandir/$r.$n" ] || missing+=" $ref"
	done
	check_eq "$page: every dircat page it refers to exists" "$missing" ""
done

# Program, page.
while read -r prog page; do
	f=$mandir/$page
	if ! help=$("$DIRCAT_BIN/$prog" -h 2>&1); then
		fail "$prog -h exits 0"
		continue
	fi
	pass "$prog -h exits 0"
	[ -f "$f" ] || { fail "$prog: $page exists"; continue; }
	text=$(render "$f")
	opts=$(section "$text" OPTIONS)

	out=$("$DIRCAT_BIN/$prog" -V 2>&1)
	check_match "$prog -V prints its version" "$out" \
		"^$prog \\(dircat\\) [0-9]"

	missing=
	for o in $(options_in "$help"); do
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" <<<"$opts" ||
			missing+=" $o"
	done
	check_eq "$prog: every option of -h is in $page OPTIONS" "$missing" ""

	# Options the page gives a paragraph of their own must be real;
	# -h/--help and --version are accepted everywhere.
	extra=
	have=$(options_in "$help")
	for o in $(options_in "$(tags_of "$f" OPTIONS)"); do
		case $o in -h | --help | --version) continue ;; esac
		grep -qx -- "$o" <<<"$have" || extra+=" $o"
	done
	check_eq "$prog: every option in $page OPTIONS is in -h" "$extra" ""

	codes=$(statuses_in "$help")
	check_match "$prog -h lists exit statuses" "$codes" '^0$'
	tags=$(tags_of "$f" "EXIT STATUS" | awk '$1 ~ /^[0-9]+$/ { print $1 }' |
	       sort -un)
	missing=
	for c in $codes; do
		grep -qx -- "$c" <<<"$tags" || missing+=" $c"
	done
	check_eq "$prog: every exit status of -h is in $page EXIT STATUS" \
		"$missing" ""
	extra=
	for c in $tags; do
		grep -qx -- "$c" <<<"$codes" || extra+=" $c"
	done
	check_eq "$prog: every exit status in $page is in -h" "$extra" ""

	missing=
	for ref in $(grep -oE '(dircat[a-z.-]*|catalogd)\([1-8]\)' <<<"$help" |
		     sort -u); do
		r=${ref%(*}; n=${ref#*(}; n=${n%)}
		[ -f "$mandir/$r.$n" ] || missing+=" $ref"
	done
	check_eq "$prog: every page -h refers to exists" "$missing" ""
done <<'EOF'
dircat-aggregator dircat-aggregator.8
dircat-replicator dircat-replicator.8
catalogd catalogd.8
dircat dircat.1
dircat-fetch dircat-fetch.8
EOF
