"""Reading a `node --test` run of the Max for Live device's tests (tests/ableton)."""

import re

from tests.support import ROOT

NODE_TESTS = ROOT / "tests" / "ableton"


def node_report_problems(stdout: str) -> list[str]:
    """What is wrong with the closing summary of a `node --test` run (TAP):
    no summary, no test run, a test that did not pass (failed, cancelled,
    skipped or todo), or a test file that ran no test."""
    counts = {
        k: int(v)
        for k, v in re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", stdout, re.M)
    }
    if "tests" not in counts:
        return ["no summary: did node --test run?"]
    problems = [
        f"{k} {counts.get(k, 0)}"
        for k in ("fail", "cancelled", "skipped", "todo")
        if counts.get(k, 0)
    ]
    if counts["tests"] == 0:
        problems.append("no test ran")
    if counts.get("pass", 0) != counts["tests"]:
        problems.append(f"{counts.get('pass', 0)} of {counts['tests']} passed")
    subtests = set(re.findall(r"^# Subtest: (.+)$", stdout, re.M))
    for path in sorted(NODE_TESTS.glob("*.test.js")):
        names = set(re.findall(r'^test\("((?:[^"\\]|\\.)*)"', path.read_text(), re.M))
        if not names & subtests:
            problems.append(f"{path.name}: none of its tests ran")
    return problems
