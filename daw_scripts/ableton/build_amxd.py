"""Build midifill.amxd, the Max for Live MIDI effect, from midifill.maxpat.

The .maxpat stays the source of truth; run this (or `make device`) after
editing it and commit both. Standard library only.

An .amxd is a row of chunks, each a 4-byte ASCII tag, a little-endian u32
size and that many bytes, as Ableton's maxdevtools (maxdiff/amxd_textconv.py)
reads them:

    ampf  4 bytes: the device type, "mmmm" for a MIDI effect
    meta  4 bytes: flags (1, as in the unfrozen MIDI effect maxdevtools tests)
    ptch  the patcher as UTF-8 JSON, ended by a NUL

The device is not frozen, so [js midifill.js] is found the way Max finds any
file an unfrozen device uses: in the device's own folder. Keep midifill.js
beside midifill.amxd (docs/ableton.md), or freeze the device in Max to carry
it inside.

    python3 daw_scripts/ableton/build_amxd.py            # writes midifill.amxd
    python3 daw_scripts/ableton/build_amxd.py --check    # fails if it is stale
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "midifill.maxpat"
TARGET = HERE / "midifill.amxd"
SCRIPT = "midifill.js"
MIDI_EFFECT = b"mmmm"


def device_patcher(maxpat: dict) -> dict:
    """The .maxpat's patcher with what Max adds when it saves a MIDI effect:
    the device type in `project` (the tag as a big-endian int, as Max writes
    it) and the script as a dependency found next to the device."""
    patcher = json.loads(json.dumps(maxpat["patcher"]))  # a deep copy
    patcher["project"] = {
        "version": 1,
        "amxdtype": int.from_bytes(MIDI_EFFECT, "big"),
        "readonly": 0,
        "devpathtype": 0,
        "devpath": ".",
        "sortmode": 0,
        "viewmode": 0,
        "includepackages": 0,
        "contents": {
            "patchers": {},
            "media": {},
            "data": {},
            "other": {},
            "code": {SCRIPT: {"kind": "javascript", "local": 1}},
        },
        "layout": {},
        "searchpath": {},
        "detailsvisible": 0,
    }
    patcher["dependency_cache"] = [
        {"name": SCRIPT, "patcherrelativepath": ".", "type": "TEXT", "implicit": 1}
    ]
    return {"patcher": patcher}


def chunk(tag: bytes, data: bytes) -> bytes:
    assert len(tag) == 4
    return tag + struct.pack("<I", len(data)) + data


def build(maxpat: dict) -> bytes:
    text = json.dumps(device_patcher(maxpat), indent="\t", ensure_ascii=False, sort_keys=False)
    return (
        chunk(b"ampf", MIDI_EFFECT)
        + chunk(b"meta", struct.pack("<I", 1))
        + chunk(b"ptch", text.encode("utf-8") + b"\0")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if midifill.amxd differs from a fresh build"
    )
    args = parser.parse_args(argv)
    fresh = build(json.loads(SOURCE.read_text(encoding="utf-8")))
    if args.check:
        if not TARGET.exists() or TARGET.read_bytes() != fresh:
            print(f"{TARGET.name} is stale: run `make device`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_bytes(fresh)
    print(f"wrote {TARGET} ({len(fresh):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
