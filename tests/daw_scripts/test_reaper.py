"""The REAPER ReaScripts (daw_scripts/reaper/), run under a stock Lua 5.4.

No REAPER runs here: tests/reaper/fake_reaper.lua stands in for the
`reaper` table, and the scripts' ExecProcess runs the real `midifill
request` against a real `midifill serve` started on a free port with the
tiny checkpoint. The drivers print what they checked and exit non-zero on
any failure.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import ROOT, require_tool

DRIVERS = ROOT / "tests" / "reaper"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def midifill_cmd(tmp_path_factory) -> str:
    """A `midifill` command for the scripts: the CLI of this checkout."""
    path = tmp_path_factory.mktemp("bin") / "midifill"
    path.write_text(
        f"#!/bin/sh\nexec '{sys.executable}' -m midifill.bridge.cli --log-level WARNING \"$@\"\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


@pytest.fixture(scope="module")
def server(tiny_checkpoint, midifill_cmd, tmp_path_factory):
    port = free_udp_port()
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    proc = subprocess.Popen(
        [midifill_cmd, "serve", "--port", str(port), "--model", str(tiny_checkpoint)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            ping = subprocess.run(
                [midifill_cmd, "request", "--ping", "--port", str(port), "--timeout", "1"],
                capture_output=True,
                text=True,
            )
            if ping.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("midifill serve did not start: " + Path(log.name).read_text()[-2000:])
            time.sleep(0.5)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def run_driver(name: str, server_port: int, midifill_cmd: str, **env) -> str:
    lua = require_tool("lua5.4")
    dead = free_udp_port()  # nothing listens there: the "server stopped" cases
    full_env = dict(
        os.environ,
        MIDIFILL_REPO=str(ROOT),
        MIDIFILL_CMD=midifill_cmd,
        MIDIFILL_PORT=str(server_port),
        MIDIFILL_DEAD_PORT=str(dead),
        **{k: str(v) for k, v in env.items()},
    )
    proc = subprocess.run(
        [lua, str(DRIVERS / name)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return output


def test_json_module_round_trips_and_names_bad_input():
    out = run_driver_plain("test_json.lua")
    assert "0 failures" in out


def run_driver_plain(name: str) -> str:
    lua = require_tool("lua5.4")
    proc = subprocess.run(
        [lua, str(DRIVERS / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, MIDIFILL_REPO=str(ROOT)),
        timeout=60,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc.stdout


def test_the_boundary_rule_at_its_edges():
    out = run_driver_plain("test_write_rules.lua")
    assert "0 failures" in out


def test_fill_continue_variations_settings_and_failures(server, midifill_cmd):
    out = run_driver("test_actions.lua", server, midifill_cmd)
    assert "0 failures" in out


def test_several_items_one_request_one_undo_point_takes_in_step(server, midifill_cmd):
    out = run_driver("test_targets.lua", server, midifill_cmd)
    assert "0 failures" in out


def test_random_clips_keep_everything_outside_the_range(server, midifill_cmd):
    # a fixed seed keeps CI repeatable; MIDIFILL_SEED=$(date +%s) explores new clips
    seed = int(os.environ.get("MIDIFILL_SEED", 20261123))
    out = run_driver(
        "test_property.lua",
        server,
        midifill_cmd,
        MIDIFILL_SEED=seed,
        MIDIFILL_CASES=40,
        MIDIFILL_DEAD_CASES=15,
        MIDIFILL_NOCMD_CASES=200,
    )
    assert "0 failures" in out, out


def test_looped_drum_muted_overlapping_and_offset_measures(server, midifill_cmd):
    out = run_driver("test_host_rules.lua", server, midifill_cmd)
    assert "0 failures" in out
