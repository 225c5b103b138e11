"""Limits and constants that more than one layer needs, defined here once.

The engine, the OSC bridge, the demo and the CLI import them from this
module; the Lua and JS scripts in daw_scripts/ cannot, so a test
(tests/model/test_limits.py) holds their copies equal to these, and greps the
Python tree for a second definition of any of them.

Plain values only: `midifill request` imports this module (the payload
limit, the default port), and it must start without NumPy or the engine.
"""

from __future__ import annotations

# What a request may hold (docs/osc.md, Limits; model/generation/request.py
# checks them, the bridge and the MIDI reader stop at the same ones earlier).
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024  # one request's JSON, as the bridge reassembles it
MAX_NOTES = 50_000  # all tracks together
MAX_BARS = 1024  # the timeline, from beat 0 to the end of the target or last note
MAX_FILE_BYTES = 2 * 1024 * 1024  # a MIDI file read from disk or uploaded to the demo

# How a fill is written and what it follows.
CHUNK_BARS = 4  # a longer fill is written in chunks of at most this many bars
CONTEXT_BARS = 8  # the target's own bars on each side that a prompt shows and a fill follows
MIN_PITCHED_BEATS = 1 / 8  # the shortest pitched note written, a 32nd (drums: one tick)

# Default ports on 127.0.0.1 (daw_scripts/ keep copies; tests/model/test_limits.py).
OSC_PORT = 9000  # the OSC bridge (UDP)
DEMO_PORT = 7860  # the browser demo (HTTP)

DIST_NAME = "midifill"
_version: list[str] = []


def version() -> str:
    """The installed package's version (pyproject.toml, through the package
    metadata); "0+unknown" when run from a tree that was never installed."""
    if not _version:
        # imported here: importlib.metadata costs ~50 ms, which `midifill
        # request` (run once per fill by REAPER) should not pay at start
        from importlib import metadata

        try:
            _version.append(metadata.version(DIST_NAME))
        except metadata.PackageNotFoundError:
            _version.append("0+unknown")
    return _version[0]
