"""The README's commands run as written: every `midifill` subcommand and flag
it names exists (checked against `midifill <command> --help`), every extra it
installs is declared, and the shell lines that can run here, run."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from midifill.bridge.cli import SUBCOMMANDS
from tests.support import ROOT

README = (ROOT / "README.md").read_text()


def code_lines() -> list[str]:
    """Each line of a fenced block, and each inline code span."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README, re.M | re.S)
    lines = [ln for b in blocks for ln in b.splitlines()]
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", README, flags=re.M | re.S)
    return lines + re.findall(r"`([^`\n]+)`", prose)


def midifill_uses() -> dict[str, set[str]]:
    """subcommand -> the flags the README gives it (a `# comment` ends a line)."""
    uses = {}
    for line in code_lines():
        line = line.split(" #")[0]
        for m in re.finditer(r"(?:^|[\s(/])midifill (\w+)((?: +[^\s|;&]+)*)", line):
            if m.group(1) in SUBCOMMANDS:
                flags = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", m.group(2)))
                uses.setdefault(m.group(1), set()).update(flags)
    return uses


def help_text(command: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "midifill.bridge.cli", command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"midifill {command} --help: {done.stderr[-500:]}"
    return done.stdout


def test_the_readme_names_the_commands_a_producer_needs():
    uses = midifill_uses()
    assert {"serve", "demo", "generate", "request"} <= set(uses)


@pytest.mark.parametrize("command", sorted(midifill_uses()))
def test_every_flag_the_readme_gives_a_command_exists(command):
    text = help_text(command)
    missing = sorted(
        f for f in midifill_uses()[command] if not re.search(rf"(?<![\w-]){re.escape(f)}\b", text)
    )
    assert not missing, f"README gives `midifill {command}` {missing}, which its --help lacks"


def test_every_extra_the_readme_installs_is_declared():
    declared = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    named = {e for spec in re.findall(r'"\.\[([\w,]+)\]"', README) for e in spec.split(",")}
    assert named and named <= declared, named - declared


def run_line(line: str, tmp_path: Path):
    done = subprocess.run(
        line,
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, f"{line}: {done.stdout[-500:]}{done.stderr[-500:]}"
    return done


def test_the_lines_that_can_run_here_run(tmp_path):
    lines = code_lines()
    # the ReaPack step, exactly as written (it writes the ignored index.xml)
    reapack = next(ln for ln in lines if ln.startswith("python3 daw_scripts/reaper/reapack_index"))
    done = run_line(reapack.replace("python3", sys.executable, 1), tmp_path)
    assert "file:///" in done.stdout and "index.xml" in done.stdout
    assert "midifill --version" in lines
    assert run_line("midifill --version", tmp_path).stdout.startswith("midifill ")
    # the generate line with a real song for song.mid and a file here for out.mid
    generate = next(
        ln.split(" #")[0] for ln in lines if ln.startswith("midifill generate song.mid")
    )
    generate = re.sub(r"\s*\[.*\]", "", generate)  # the optional part is optional
    generate = generate.replace("song.mid", str(ROOT / "demo/examples/pop_c_major_8_bars.mid"))
    run_line(generate.replace("out.mid", str(tmp_path / "out.mid")), tmp_path)
    assert (tmp_path / "out.mid").stat().st_size > 100
