"""`midifill generate` run as a process, and the notes of a written track."""

import subprocess
import sys

from tests.support import ROOT


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "midifill.bridge.cli", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def notes_of(track):
    return sorted(
        (n.pitch, round(n.start, 4), round(n.duration, 4), n.velocity) for n in track.notes
    )
