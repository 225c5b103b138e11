"""`midifill generate` and `midifill request` under bad paths and arguments:
each is refused with exit 2 and a sentence, before any work (issue 15).
Called in-process through the real CLI entry point (midifill.bridge.cli.main)."""

import json
import os
import subprocess
import sys
import time

import pytest

from midifill.bridge.cli import main
from tests.support import ROOT

pytestmark = pytest.mark.hostile


def generate(capsys, *args):
    started = time.perf_counter()
    code = main(["generate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.err, time.perf_counter() - started


@pytest.fixture
def song(fixtures_dir):
    return fixtures_dir / "pop_4-4_tempo_change.mid"


@pytest.mark.parametrize(
    "output, words",
    [
        ("missing/dir/out.mid", "does not exist"),
        (".", "is a folder"),
        ("afile/out.mid", "is not a folder"),
    ],
)
def test_bad_output_paths_exit_2_before_the_work(capsys, tmp_path, song, output, words):
    (tmp_path / "afile").write_text("x")
    code, err, seconds = generate(
        capsys,
        song,
        "-o",
        tmp_path / output,
        "--track",
        "1",
        "--bars",
        "1-2",
        "--model",
        "/nonexistent.pt",
    )
    # the model path is never reached: the output path is refused first
    assert code == 2 and words in err and seconds < 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_exits_2(capsys, tmp_path, song):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err, _ = generate(capsys, song, "-o", locked / "o.mid", "--track", "1", "--bars", "1")
    assert code == 2 and "permission" in err


@pytest.mark.parametrize(
    "flag, value, words",
    [
        ("--bars", "5000000-5000001", "timeline limit is 1024 bars"),
        ("--bars", "100000000-100000001", "timeline limit"),
        ("--bars", "1-65", "at most 64 bars"),
        ("--bars", "0-2", "counts from 1"),
        ("--bars", "x-y", "must look like 5-8"),
        ("--bars", "4-2", "larger than the second"),
        ("--pitch-range", "low-high", "must look like 5-8"),
        ("--pitch-range", "60-40", "larger than the second"),
    ],
)
def test_bad_ranges_exit_2_at_once(capsys, tmp_path, song, flag, value, words):
    bars = value if flag == "--bars" else "1-2"
    args = ["-o", tmp_path / "o.mid", "--track", "1", "--bars", bars, "--model", "/none.pt"]
    if flag != "--bars":
        args += [flag, value]
    code, err, seconds = generate(capsys, song, *args)
    assert code == 2 and words in err and seconds < 2, err


def test_a_hostile_midi_file_is_refused_in_a_blink(capsys, tmp_path):
    """53 bytes, resolution 1, one note at tick 9,999,990: once 165 s and 7.4 GB."""
    path = tmp_path / "far.mid"
    track = b"\x00\xff\x03\x01x\x84\xe2\xac\x76\x90\x3c\x40\x01\x80\x3c\x00\x00\xff\x2f\x00"
    path.write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x01MTrk" + len(track).to_bytes(4, "big") + track
    )
    code, err, seconds = generate(
        capsys,
        path,
        "-o",
        tmp_path / "o.mid",
        "--track",
        "0",
        "--bars",
        "1-2",
        "--model",
        "/none.pt",
    )
    assert code == 2 and "read up to tick 4,000,000" in err and seconds < 2, err


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x01\xe0"), "no tracks"),
        (
            lambda p: p.write_bytes(
                b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x09\x00\x90\x3c"
            ),
            "ends in the middle of an event",
        ),
    ],
)
def test_midi_errors_say_what_is_wrong(capsys, tmp_path, make, words):
    path = tmp_path / "in.mid"
    make(path)
    code, err, _ = generate(capsys, path, "-o", tmp_path / "o.mid", "--track", "0", "--bars", "1")
    assert code == 2 and words in err, err
    assert "Error:" not in err  # no exception type names standing in for a reason


def test_request_refuses_json_nested_too_deep_with_exit_2(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"mode": ' + "[" * 5000 + "]" * 5000 + "}")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "request",
            str(path),
            "--port",
            "9",
            "--timeout",
            "0.5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert json.loads(r.stdout)["error"]["code"] == "bad_input"
    assert "deep" in r.stderr
