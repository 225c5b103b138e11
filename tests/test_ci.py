"""The test suite's own promises: under CI=true a missing tool or package
fails instead of skipping, the Node suite must have run every file, a lost
reply ends a wait instead of hanging it, and Hypothesis draws the same
examples every run without writing into the tree."""

import ast
import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tests.support import IN_CI, ROOT, read_lines
from tests.support.node import NODE_TESTS, node_report_problems

pytestmark = pytest.mark.promise


TESTS = ROOT / "tests"


def python_files():
    return [p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts]


def test_ci_is_asked_in_one_place():
    """CI=1 or CI=yes count as CI too: every test asks tests.support.IN_CI (and
    the Node tests tests/ableton/ci.js), never CI == "true" by itself."""
    bare = re.compile(r"""environ(\.get\(|\[)\s*["']CI["']\s*\)?\]?\s*==|process\.env\.CI\s*===?""")
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files() + list((TESTS / "ableton").glob("*.js"))
        if p.name != "test_ci.py" and bare.search(p.read_text())
    ]
    assert offenders == []


def test_no_test_skips_a_missing_package_under_ci():
    """pytest.importorskip skips even under CI=true; tests.support.require_module
    fails there. (tests/support/__init__.py names importorskip in a docstring.)"""
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files()
        if p.name not in ("__init__.py", "test_ci.py") and "importorskip(" in p.read_text()
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "ci, outcome",
    [("true", "failed"), ("YES", "failed"), ("1", "failed"), ("", "skipped"), ("false", "skipped")],
)
def test_require_module_fails_under_ci_and_skips_elsewhere(tmp_path, ci, outcome):
    (tmp_path / "test_needs.py").write_text(
        textwrap.dedent("""
        from tests.support import require_module
        require_module("midifill_no_such_module")

        def test_it():
            pass
    """)
    )
    env = dict(os.environ, CI=ci, PYTHONPATH=str(ROOT))  # tests.support, as from the checkout
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_needs.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = r.stdout + r.stderr
    if outcome == "failed":
        assert r.returncode != 0 and "required under CI=true" in out, out
    else:
        assert r.returncode in (0, 5) and "1 skipped" in out, out  # 5: no test collected


def test_hypothesis_is_derandomised_without_a_database_under_ci():
    code = textwrap.dedent("""
        import tests.support  # registers and, under CI, loads the Hypothesis profile
        from hypothesis import settings
        print(settings.default.derandomize, settings.default.database)
    """)
    without_ci = {k: v for k, v in os.environ.items() if k != "CI"}
    without_ci["PYTHONPATH"] = str(ROOT)
    for env, expect in [(dict(without_ci, CI="true"), "True None"), (without_ci, "False")]:
        r = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=TESTS,
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().startswith(expect), (env.get("CI"), r.stdout)


def test_hypothesis_under_ci_writes_nothing_into_the_tree(tmp_path):
    (tmp_path / "test_prop.py").write_text(
        textwrap.dedent("""
        import tests.support
        from hypothesis import given, strategies as st

        @given(st.integers())
        def test_any(x):
            assert x == x
    """)
    )
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_prop.py"],
        cwd=tmp_path,
        env=dict(os.environ, CI="true", PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / ".hypothesis").exists()


def test_read_lines_ends_at_its_deadline_when_a_reply_is_lost():
    """What the liblo test reads from oscdump: two lines come, the third is
    lost; the read ends after its timeout with the two, instead of hanging."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", "import time; print('one'); print('two'); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    got = {}
    try:

        def read():
            started = time.monotonic()
            got["lines"] = read_lines(proc.stdout, 3, 1.0)
            got["seconds"] = time.monotonic() - started

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "read_lines hung on a lost line"
    finally:
        proc.kill()
        proc.wait(5)
    assert got["lines"] == ["one", "two"]
    assert 0.9 <= got["seconds"] < 3


def test_read_lines_returns_as_soon_as_it_has_enough():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-c",
            "import time; print('a\\nb\\nc\\nd', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        started = time.monotonic()
        assert read_lines(proc.stdout, 3, 20.0) == ["a", "b", "c"]
        assert time.monotonic() - started < 5
    finally:
        proc.kill()
        proc.wait(5)


TAP_END = (
    "1..{n}\n# tests {n}\n# suites 0\n# pass {p}\n# fail {f}\n# cancelled 0\n"
    "# skipped {s}\n# todo 0\n# duration_ms 12.5\n"
)


def tap(names, passed=None, failed=0, skipped=0):
    body = "TAP version 13\n" + "".join(
        f"# Subtest: {n}\nok {i + 1} - {n}\n" for i, n in enumerate(names)
    )
    n = len(names)
    return body + TAP_END.format(
        n=n, p=n - failed - skipped if passed is None else passed, f=failed, s=skipped
    )


def test_the_node_suite_must_run_every_file_and_pass_every_test():

    first = {}
    for path in sorted(NODE_TESTS.glob("*.test.js")):
        m = re.search(r'^test\("((?:[^"\\]|\\.)*)"', path.read_text(), re.M)
        assert m, f"{path.name} has no test"
        first[path.name] = m.group(1)
    assert node_report_problems(tap(list(first.values()))) == []
    assert node_report_problems(tap([])) != []  # a run with zero tests
    assert node_report_problems("") != []  # no summary at all
    assert node_report_problems(tap(list(first.values()), skipped=1)) != []
    assert node_report_problems(tap(list(first.values()), failed=1)) != []
    missing = [n for f, n in first.items() if f != "chunks.test.js"]
    assert any("chunks.test.js" in p for p in node_report_problems(tap(missing)))


def test_in_ci_is_what_the_environment_says():
    assert IN_CI == (os.environ.get("CI", "").lower() in ("1", "true", "yes"))


def test_no_test_module_imports_another_nor_edits_sys_path():
    """What tests share lives in conftest.py files (fixtures) and tests/support/
    (helpers); a test module imports neither conftest nor another test module,
    and nothing under tests/ puts a folder on sys.path (issue 29 item 4)."""
    shared = re.compile(r"^(tests\.)?(conftest|test_\w+)$|(^|\.)(conftest|test_\w+)$")
    offenders = []
    for path in python_files():
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if shared.search(n)
            ]
        if re.search(r"sys\.path\.(insert|append)|sys\.path \+?=", text):
            offenders.append(f"{path.relative_to(ROOT)}: sys.path")
    assert offenders == []
