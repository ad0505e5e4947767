#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# capctl report on a history made here (three operation kinds, all three outcomes, a
# partition and a kill in its faults file): the SVGs are well-formed XML with a point per
# operation by outcome, a band per fault and the verdict; the HTML page, opened by Debian's
# chromium headless, holds them in its DOM, with no text box over another and three tick
# labels or more on every axis; bad input is refused with exit 2.
#   tests/report/check.sh BIN_DIR
set -u
bin=$1
tmp=$(mktemp -d /tmp/capnet-report-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
say() { echo "report: $*"; fail=1; }

# 3 s of a register: process p writes, reads and cas-es; cas fails now and then; during the
# partition (1-2 s) some operations time out (info).
python3 - "$tmp/h.jsonl" "$tmp/h.faults.jsonl" <<'PY'
import json, sys
t0 = 5_000_000_000
lines, value = [], "0"
for i in range(300):
    p = i % 5
    start = t0 + i * 10_000_000
    f = ("write", "read", "cas")[i % 3]
    arg = str(i) if f == "write" else None if f == "read" else [value, str(i)]
    in_partition = 1.0 <= i * 0.01 < 2.0
    if f == "write":
        out, res, end = "ok", arg, start + 2_000_000
        value = arg
    elif f == "read":
        out, res, end = "ok", value, start + 1_000_000
    else:
        out, res, end = "fail", arg, start + 1_500_000
    if in_partition and f != "read":
        out, end = "info", start + 9_000_000
    lines.append({"process": p, "type": "invoke", "f": f, "key": "x", "value": arg, "time": start})
    lines.append({"process": p, "type": out, "f": f, "key": "x", "value": res, "time": end})
with open(sys.argv[1], "w") as h:
    for l in sorted(lines, key=lambda l: l["time"]):
        h.write(json.dumps(l) + "\n")
with open(sys.argv[2], "w") as h:
    h.write(json.dumps({"time": t0 + 1_000_000_000, "f": "partition", "value": "1,2 | 3-5"}) + "\n")
    h.write(json.dumps({"time": t0 + 2_000_000_000, "f": "heal", "value": ""}) + "\n")
    h.write(json.dumps({"time": t0 + 2_500_000_000, "f": "kill", "value": "3"}) + "\n")
    h.write(json.dumps({"time": t0 + 2_700_000_000, "f": "restart", "value": "3"}) + "\n")
PY

if ! "$bin/capctl" report "$tmp/h.jsonl" --model register --svg-dir "$tmp/svg" \
	--html "$tmp/r.html" >"$tmp/out" 2>&1; then
	say "capctl report failed: $(cat "$tmp/out")"
fi
grep -q "300 operations, 3 kinds, 2 fault windows" "$tmp/out" || say "summary: $(cat "$tmp/out")"

python3 - "$tmp/svg/latency.svg" "$tmp/svg/throughput.svg" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
bad = []
lat = ET.parse(sys.argv[1]).getroot()
ops = [c for c in lat.iter(ns + "circle") if "op" in c.get("class", "").split()]
by = lambda o: sum(1 for c in ops if o in c.get("class").split())
if len(ops) != 300: bad.append(f"latency: {len(ops)} points, not 300")
for o in ("ok", "fail", "info"):
    if by(o) == 0: bad.append(f"latency: no {o} point")
for f in ("read", "write", "cas"):
    if not any(f in c.get("class").split() for c in ops): bad.append(f"latency: no {f} panel point")
panels = [t.text for t in lat.iter(ns + "text") if t.get("class") == "panel"]
if len(panels) != 3: bad.append(f"latency: {len(panels)} panels, not 3")
for root, name in ((lat, "latency"), (ET.parse(sys.argv[2]).getroot(), "throughput")):
    faults = [r for r in root.iter(ns + "rect") if r.get("class") == "fault"]
    labels = [t.text for t in root.iter(ns + "text") if t.get("class") == "fault-label"]
    if name == "throughput" and len(faults) != 2: bad.append(f"{name}: {len(faults)} fault bands, not 2")
    if "partition 1,2 | 3-5" not in labels or "kill 3" not in labels: bad.append(f"{name}: fault labels {labels}")
    verdict = [t.text for t in root.iter(ns + "text") if t.get("class") == "verdict"]
    if not verdict or "linearizable" not in verdict[0]: bad.append(f"{name}: verdict {verdict}")
thr = ET.parse(sys.argv[2]).getroot()
if len([p for p in thr.iter(ns + "polyline") if "rate" in p.get("class", "")]) != 3:
    bad.append("throughput: not a line per outcome")
for b in bad: print("report:", b)
sys.exit(1 if bad else 0)
PY

# A violation drawn as Knossos's linear.svg: a bar per operation of the smallest failing window,
# the one that cannot be placed marked.
repo=$(cd "$(dirname "$0")/../.." && pwd)
bad=$repo/tests/data/knossos/bad-knossos-cas-failure.jsonl
"$bin/capctl" report "$bad" --model register --svg-dir "$tmp/bad" --html "$tmp/bad.html" \
	>"$tmp/out" 2>&1 || say "capctl report of a violation failed: $(cat "$tmp/out")"
grep -q "not linearizable" "$tmp/out" || say "a violation's summary: $(cat "$tmp/out")"
python3 - "$tmp/bad/violation.svg" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
bars = [g for g in root.iter(ns + "g") if "bar" in g.get("class", "").split()]
failed = [g for g in bars if "failed" in g.get("class").split()]
texts = [t.text or "" for g in bars for t in g.iter(ns + "text")]
bad = []
if len(bars) < 2: bad.append(f"violation: {len(bars)} bars")
if len(failed) != 1: bad.append(f"violation: {len(failed)} operations marked as not placeable, not 1")
if not any(t.startswith(("read ", "write ", "cas ")) for t in texts): bad.append(f"violation: bar labels {texts}")
for b in bad: print("report:", b)
sys.exit(1 if bad else 0)
PY
grep -q "<h2>The violation</h2>" "$tmp/bad.html" || say "the page of a violation does not show it"

# The page in a real browser: its DOM after loading holds the verdict and every point.
if command -v chromium >/dev/null; then
	timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$tmp/r.html" \
		>"$tmp/dom.html" 2>/dev/null
	n=$(grep -o '<circle class="op ' "$tmp/dom.html" | wc -l)
	[ "$n" -eq 300 ] || say "chromium's DOM has $n points, not 300"
	grep -q 'id="verdict" class="verdict ok"' "$tmp/dom.html" || say "chromium's DOM has no verdict"
	# What chromium drew: no text over another, every axis with three tick labels or more.
	"$repo/tests/lib/layout_check.sh" "$tmp/svg/latency.svg" "$tmp/svg/throughput.svg" \
		"$tmp/r.html" "$tmp/bad/violation.svg" >"$tmp/layout" 2>&1 ||
		say "pictures as chromium draws them: $(cat "$tmp/layout")"
else
	say "chromium is missing (make deps)"
fi

# Bad input: a clear error, exit 2, nothing written.
"$bin/capctl" report "$tmp/none.jsonl" --html "$tmp/x.html" >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "none.jsonl" "$tmp/out" || say "a missing history: $(cat "$tmp/out")"
printf '{"process":1,"type":"ok"}\n' >"$tmp/bad.jsonl"
"$bin/capctl" report "$tmp/bad.jsonl" --html "$tmp/x.html" >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "bad.jsonl:1" "$tmp/out" || say "a broken history: $(cat "$tmp/out")"
[ ! -e "$tmp/x.html" ] || say "a page was written for a broken history"
"$bin/capctl" report "$tmp/h.jsonl" --model kv --html "$tmp/x.html" >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "register, bank, set or append" "$tmp/out" || say "a bad model: $(cat "$tmp/out")"
"$bin/capctl" report "$tmp/h.jsonl" >"$tmp/out" 2>&1
[ $? -eq 2 ] || say "no output asked for was accepted"

[ $fail -eq 0 ] && echo "report: SVGs, page and errors as they should be"
exit $fail
