"""The REAPER actions' command lines on Windows and on macOS/Linux
(daw_scripts/reaper/midifill_command.lua, driven by
tests/reaper/test_command_lines.lua): each line is split as its system
splits it, and the program must receive exactly the intended arguments:
paths with spaces and backslashes, a trailing backslash, a token with shell
characters, the request file in %TEMP% (never /tmp) or $TMPDIR."""

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT, require_tool


def windows_argv(line: str) -> list[str]:
    """CommandLineToArgvW's split (the rules since 2008): the program name
    ends at its closing quote or at white space, with no escapes; then 2n
    backslashes before a quote are n backslashes and the quote delimits,
    2n+1 are n and a literal quote; other backslashes are literal."""
    if line.startswith('"'):
        end = line.index('"', 1)
        argv, i = [line[1:end]], end + 1
    else:
        end = next((k for k, c in enumerate(line) if c in " \t"), len(line))
        argv, i = [line[:end]], end
    n = len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return argv
        cur, quoted = "", False
        while i < n and (quoted or line[i] not in " \t"):
            if line[i] == "\\":
                k = len(line[i:]) - len(line[i:].lstrip("\\"))
                if i + k < n and line[i + k] == '"':
                    cur += "\\" * (k // 2)
                    if k % 2:
                        cur += '"'
                        i += k + 1
                    else:
                        i += k
                else:
                    cur += "\\" * k
                    i += k
            elif line[i] == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    cur, i = cur + '"', i + 2
                else:
                    quoted, i = not quoted, i + 1
            else:
                cur, i = cur + line[i], i + 1
        argv.append(cur)


def posix_argv(line: str) -> list[str]:
    """The words /bin/sh makes of the line (nothing runs: `set --` takes them)."""
    done = subprocess.run(
        ["/bin/sh", "-c", f"set -- {line}; printf '%s\\0' \"$@\""], capture_output=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().split("\0")[:-1]


def cases():
    lua = shutil.which("lua5.4")
    if lua is None:  # test_every_case_is_built says so (a failure under CI)
        return []
    done = subprocess.run(
        [lua, str(ROOT / "tests" / "reaper" / "test_command_lines.lua")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"MIDIFILL_REPO": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_case_is_built():
    require_tool("lua5.4")
    names = [c["name"] for c in cases()]
    assert sum(n.startswith("windows") for n in names) >= 3
    assert sum(n.startswith("posix") for n in names) >= 3


@pytest.mark.parametrize("case", cases(), ids=lambda c: c["name"])
def test_the_program_receives_the_intended_arguments(case):
    argv = windows_argv(case["line"]) if case["windows"] else posix_argv(case["line"])
    assert argv == case["program"] + case["args"], case["line"]


@pytest.mark.parametrize("case", cases(), ids=lambda c: c["name"])
def test_the_request_file_lies_in_the_systems_temp_folder(case):
    temp, path = case["temp"], case["args"][-1]
    if case["windows"]:
        assert temp[1:3] == ":\\" and "/" not in path and not temp.endswith("\\")
        assert path == temp + "\\midifill-1-000001-request.json"
    else:
        assert path.startswith("/") and "\\" not in temp and not temp.endswith("/")
        assert path == temp + "/midifill-1-000001-request.json"
