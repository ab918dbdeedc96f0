#!/usr/bin/env python3
"""Summary of an Autobahn|Testsuite report, for scripts/autobahn.sh.

usage: autobahn_summary.py INDEX_JSON [--allow FILE]

Reads the report's index.json ({agent: {case id: {"behavior", "behaviorClose",
"duration", ...}}}) and gives every case one outcome, the worst of what it did
and how it closed:

  FAILED, UNIMPLEMENTED        its behavior
  WRONG CODE, UNCLEAN          its close (a close that FAILED counts as FAILED)
  NON-STRICT, INFORMATIONAL,   its behavior, when it closed cleanly
  OK

then prints, per agent, one row per case group (the number before the first
dot) with the count of each outcome and the group's total duration, and lists
the cases that FAILED, were UNIMPLEMENTED, closed with a WRONG CODE or UNCLEAN
(the first few of each with what the report says of them), and the
NON-STRICT and INFORMATIONAL ones, which pass.
Those make the exit status 1 unless the case matches a line of the allow-list
FILE (case ids or shell-style patterns such as 12.* or 6.4.?, one per line,
'#' starts a comment); allowed ones are listed as such. Exit status 2 if the
report cannot be read or holds no case.
"""

import fnmatch
import json
import sys

OUTCOMES = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "WRONG CODE", "UNCLEAN", "UNIMPLEMENTED"]
BAD = {"FAILED", "WRONG CODE", "UNCLEAN", "UNIMPLEMENTED"}
# Case ids listed per outcome, and cases shown in detail, at most.
LIST_MAX = 24
DETAIL_MAX = 5


def outcome(result):
    behavior = result.get("behavior", "FAILED")
    close = result.get("behaviorClose", "OK")
    if behavior in ("FAILED", "UNIMPLEMENTED"):
        return behavior
    if close in ("WRONG CODE", "UNCLEAN"):
        return close
    if close not in ("OK", "INFORMATIONAL"):
        return "FAILED"  # FAILED, FAILED BY CLIENT, or anything unknown
    if behavior in OUTCOMES:
        return behavior
    return "FAILED"


def case_key(case):
    return [int(p) if p.isdigit() else p for p in case.split(".")]


def read_allow(path):
    patterns = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                patterns.append(line)
    return patterns


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--allow"):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    try:
        with open(argv[1]) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print("autobahn: cannot read the report %s: %s" % (argv[1], e))
        return 2
    allow = read_allow(argv[3]) if len(argv) == 4 else []
    status = 0
    cases_seen = 0
    for agent in sorted(report):
        results = report[agent]
        groups = {}
        bad = []
        notable = {}
        for case in sorted(results, key=case_key):
            result = results[case]
            what = outcome(result)
            group = case.split(".", 1)[0]
            row = groups.setdefault(group, {"ms": 0, "cases": 0})
            row[what] = row.get(what, 0) + 1
            ms = int(result.get("duration") or 0)
            # A case whose handshake failed reports a clock reading, not a duration.
            row["ms"] += ms if ms < 3600 * 1000 else 0
            row["cases"] += 1
            cases_seen += 1
            if what in BAD:
                bad.append((case, what, result))
            elif what != "OK":
                notable.setdefault(what, []).append(case)
        print("autobahn: agent %s, %d cases" % (agent, len(results)))
        header = "%-6s %6s" % ("group", "cases") + "".join(" %13s" % o for o in OUTCOMES) + " %9s" % "time"
        print(header)
        for group in sorted(groups, key=case_key):
            row = groups[group]
            print(
                "%-6s %6d" % (group, row["cases"])
                + "".join(" %13s" % (row.get(o, 0) or ".") for o in OUTCOMES)
                + " %8.1fs" % (row["ms"] / 1000.0)
            )
        total_ms = sum(row["ms"] for row in groups.values())
        print("%-6s %6d" % ("all", len(results))
              + "".join(" %13s" % (sum(r.get(o, 0) for r in groups.values()) or ".") for o in OUTCOMES)
              + " %8.1fs" % (total_ms / 1000.0))
        for what in sorted(notable):
            print("autobahn: %s (passes), %d: %s" % (what, len(notable[what]), " ".join(notable[what][:LIST_MAX])))
        # The cases that count against the run, by outcome, allowed ones apart.
        listed = {}
        for case, what, result in bad:
            allowed = any(fnmatch.fnmatchcase(case, p) for p in allow)
            if not allowed:
                status = 1
            listed.setdefault((what, allowed), []).append((case, result))
        for (what, allowed), cases in sorted(listed.items()):
            ids = [case for case, _ in cases]
            shown = " ".join(ids[:LIST_MAX]) + (" (+%d more)" % (len(ids) - LIST_MAX) if len(ids) > LIST_MAX else "")
            print("autobahn: %s%s, %d: %s" % (what, " (allowed)" if allowed else "", len(ids), shown))
            if not allowed:
                for case, result in cases[:DETAIL_MAX]:
                    print("  %s: behavior %s, close %s, close code %s"
                          % (case, result.get("behavior"), result.get("behaviorClose"), result.get("remoteCloseCode")))
    if cases_seen == 0:
        print("autobahn: the report holds no case")
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
