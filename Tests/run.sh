#!/usr/bin/env bash
# `make test`'s runner. Streams the test output line by line (and into a log), bounds the whole run,
# and when the bound is reached, or every few minutes while a test runs long, names the tests that
# started and have not ended and the processes they left, on stderr as well as stdout, so a CI log
# that keeps only a tail still says what hung.
#   CUSTODY_TEST_DEADLINE   seconds for the whole run (default 2400)
#   CUSTODY_TEST_LOG        where the full output goes (default .build/test-output.log)
#   CUSTODY_TEST_ALLOW_SKIP 1: a suite whose server cannot start is skipped, not failed (never in CI)
# It ends with one line per test target: tests run, passed, failed, skipped (from the xUnit file).
set -uo pipefail
deadline=${CUSTODY_TEST_DEADLINE:-2400}
log=${CUSTODY_TEST_LOG:-.build/test-output.log}
swift=${SWIFT:-swift}
mkdir -p "$(dirname "$log")"
: >"$log"

# Tests started and not yet ended, from Swift Testing's console lines (names may repeat across
# suites, so started and ended are counted per name).
running() {
	LC_ALL=C.UTF-8 awk '
		/ Test case passing / || / Test run / { next }
		/ Test .* started\.$/ { n = $0; sub(/^.* Test /, "", n); sub(/ started\.$/, "", n); open[n]++; next }
		/ Test .* (passed|failed|skipped)/ {
			n = $0; sub(/^.* Test /, "", n); sub(/ (passed|failed|skipped).*$/, "", n); sub(/ with [0-9]+ test cases?$/, "", n); open[n]--
		}
		END { for (n in open) if (open[n] > 0) print "  " n }' "$log"
}

report() {
	{
		echo "== $1"
		echo "== tests started and not ended:"
		running
		echo "== processes of the test run:"
		ps -eo pid,ppid,etimes,args --sort=start_time | awk -v top="$pid" '
			NR == 1 { print; next }
			{ parent[$1] = $2; line[$1] = $0; order[NR] = $1 }
			END {
				for (i = 2; i <= NR; i++) {
					p = order[i]; q = p
					while (q != "" && q != top && q != 1 && q != 0) q = parent[q]
					if (q == top) print line[p]
				}
			}' | cut -c1-200
	} | tee -a "$log" >&2
}

# Everything the run started descends from it, and is ended with it at the deadline.
xunit=${log%.log}.xml
rm -f "${xunit%.xml}"*.xml
setsid stdbuf -oL -eL "$swift" test --skip-build --xunit-output "$xunit" "$@" </dev/null > >(tee -a "$log") 2>&1 &
pid=$!
start=$(date +%s)
next_report=$((start + ${CUSTODY_TEST_FIRST_REPORT:-600}))
while kill -0 "$pid" 2>/dev/null; do
	sleep 2
	now=$(date +%s)
	if ((now - start > deadline)); then
		report "the test run passed its deadline of ${deadline}s: stopped"
		descendants() { ps -eo pid,ppid | awk -v top="$pid" 'NR > 1 { parent[$1] = $2 } END { for (p in parent) { q = p; while (q != "" && q != top && q > 1) q = parent[q]; if (q == top) print p } }'; }
		kids=$(descendants)
		kill -TERM "$pid" $kids 2>/dev/null
		sleep 10
		kill -KILL "$pid" $kids $(descendants) 2>/dev/null
		exit 124
	fi
	if ((now > next_report)); then
		report "the test run has taken $((now - start))s so far"
		next_report=$((now + 300))
	fi
done
wait "$pid"
rc=$?
# Per test target: run, passed, failed, skipped (Swift Testing's xUnit file names each case's
# module and suite). A skip is reported, and fails the run unless CUSTODY_TEST_ALLOW_SKIP=1.
summary=$(python3 - "${xunit%.xml}"-swift-testing.xml <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print(f"no test results to summarise ({e})"); sys.exit(0)
groups = {}
for case in root.iter("testcase"):
    g = groups.setdefault(case.get("classname", "?").split(".")[0], [0, 0, 0, 0])
    g[0] += 1
    if case.find("failure") is not None or case.find("error") is not None: g[2] += 1
    elif case.find("skipped") is not None: g[3] += 1
    else: g[1] += 1
for name, (n, ok, bad, skip) in sorted(groups.items()):
    print(f"{name:20s} run {n:4d}   passed {ok:4d}   failed {bad:3d}   skipped {skip:3d}")
PY
)
skips=$(grep -cE '^➜ (Suite|Test) .*(was cancelled|skipped)' "$log")
summary=$(printf '%s\nsuites and tests skipped or cancelled: %s\n' "$summary" "$skips")
echo "$summary" | tee -a "$log" >&2
# The totals, on stderr too (a CI log may keep only stderr's tail).
grep -E '^(✔|✘|􀟈|◇)? ?Test run with|Executed [0-9]+ tests?' "$log" | tail -2 >&2
if [ "$rc" = 0 ] && [ "${CUSTODY_TEST_ALLOW_SKIP:-}" != 1 ] && echo "$summary" | grep -Eq 'skipped +[1-9]|cancelled: [1-9]'; then
	echo "== tests were skipped: a green run must mean every suite ran (CUSTODY_TEST_ALLOW_SKIP=1 allows it)" >&2
	exit 1
fi
exit "$rc"
