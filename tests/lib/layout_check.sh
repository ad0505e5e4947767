#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Opens each picture (an .svg, or an .html page holding SVGs) in Debian's chromium headless
# with tests/lib/layout_check.js after it, and fails unless the browser drew some text, no two
# text boxes overlap, and every axis has at least three tick labels. Prints one line of JSON
# per file. Exit 0 all good, 1 a picture is not, 77 no chromium.
#   tests/lib/layout_check.sh FILE...
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || { echo "layout: chromium is not installed (make deps)"; exit 77; }
tmp=$(mktemp -d /tmp/capnet-layout-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rc=0
for f in "$@"; do
	page=$tmp/page.html
	case $f in
	*.svg) { echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
		 sed '1{/^<?xml/d}' "$f"; } >"$page" ;;
	*) cat "$f" >"$page" ;;
	esac
	{ echo '<script>'; cat "$here/layout_check.js"; echo '</script>'; } >>"$page"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$tmp/profile" --dump-dom "file://$page" >"$tmp/dom" 2>/dev/null
	result=$(sed -n 's/.*<pre id="layout-result">\([^<]*\)<\/pre>.*/\1/p' "$tmp/dom" |
		sed 's/&quot;/"/g; s/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g')
	echo "$f: ${result:-no result}"
	case $result in
	*'"overlaps":0,"thin_axes":0'*) ;;
	*) rc=1 ;;
	esac
	case $result in
	'{"texts":0,'* | '') rc=1 ;;
	esac
done
exit $rc
