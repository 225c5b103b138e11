"""The control table (model/generation/controls.py) written into the places
that cannot import it: the control table of docs/contract.md, the control
settings of the REAPER scripts (daw_scripts/reaper/midifill_common.lua) and
the controls of the Live device (daw_scripts/ableton/midifill.js). Each is a
block between BEGIN CONTROLS and END CONTROLS lines, rewritten whole. The
Live patcher (midifill.maxpat, and the .amxd built from it) gets one menu
per Live control that has menu items: its boxes are the `obj-ctl-` ones.

    python -m midifill.bridge.faces            # rewrite the three blocks
    python -m midifill.bridge.faces --check    # exit 1 if one differs from the table

tests/model/generation/test_controls.py runs the check, so a control added to the table and
not written out here fails the suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from midifill.model.generation.controls import AUTO, NO, TABLE, Control, for_face

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "BEGIN CONTROLS", "END CONTROLS"
FACE_NAMES = {"cli": "CLI", "demo": "demo", "reaper": "REAPER", "live": "Live"}


def _num(x) -> str:
    """A number as Lua, JS and the docs write it (1, 0.95, 1.0 stays 1.0)."""
    return repr(x) if isinstance(x, float) else str(x)


def docs_table() -> str:
    rows = ["| control | values | default | meaning | faces |", "|---|---|---|---|---|"]
    for c in TABLE:  # every control reaches OSC and `midifill request`: it is the request's
        faces = ", ".join(["OSC"] + [FACE_NAMES[f] for f in FACE_NAMES if f in c.faces])
        default = c.default_words()
        rows.append(
            f"| `{c.name}` | {c.values_words()} | {default} | "
            f"{(c.doc or c.help).replace('|', '/')} | {faces} |"
        )
    return "\n".join(rows)


def _face_start(c: Control, face: str):
    """The face's first value as text; "" leaves the control out of the
    request (the engine's default, AUTO where it follows the part)."""
    value = c.face_defaults.get(face, NO)
    return "" if value is NO or value is None or value is AUTO else _num(value)


def _caption(c: Control) -> str:
    """REAPER's caption: no commas (GetUserInputs splits captions on them)."""
    name = c.name.replace("_", " ").capitalize()
    if c.kind == "number":
        bounds = f"{_num(c.lo)}-{_num(c.hi)}"
    elif c.kind == "range":
        bounds = "low-high e.g. 40-90"
    elif c.kind == "keys":
        bounds = "drum keys e.g. 36 38 42"
    elif c.kind == "key":
        bounds = "e.g. E minor"
    elif c.kind == "choice":
        bounds = "/".join(c.choices)
    elif c.kind == "switch":
        bounds = "on"
    else:
        bounds = ""
    if c.auto is not NO:
        words = ["empty=auto"]
    elif c.off is not NO and c.default == c.off:
        words = ["empty=off"]
    else:
        words = [f"empty={_num(c.default)}"]
    if c.off is not NO and words != ["empty=off"]:
        words.append("off")
    return f"{name} {bounds} ({' '.join(words)})".replace("  ", " ").replace(",", " ")


def _lua(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _num(value)
    if isinstance(value, (tuple, list)):
        return "{ " + ", ".join(_lua(v) for v in value) + " }"
    return json.dumps(value)


def lua_block() -> str:
    lines = ["M.CONTROLS = {"]
    for c in for_face("reaper"):
        fields = dict(
            key=c.name,
            caption=_caption(c),
            default=_face_start(c, "reaper"),
            kind=c.kind,
            auto=c.auto is not NO,
            off=c.off is not NO,
        )
        if c.lo is not None:
            fields.update(lo=c.lo, hi=c.hi, integer=c.integer)
        if c.choices:
            fields["choices"] = c.choices
        lines.append("  { " + ", ".join(f"{k} = {_lua(v)}" for k, v in fields.items()) + " },")
    return "\n".join(lines + ["}"])


def js_block() -> str:
    rows = []
    for c in for_face("live"):
        lo, hi = (c.ui[0], c.ui[1]) if c.ui else (c.lo, c.hi)
        row = {
            "name": c.name,
            "kind": c.kind,
            "lo": lo,
            "hi": hi,
            "integer": c.integer,
            "auto": c.auto is not NO,
            "off": c.off is not NO,
            "start": c.face_defaults.get("live", None if c.default is AUTO else c.default),
            "choices": list(c.choices),
            "menu": list(c.suggestions),
        }
        rows.append("    " + json.dumps(row, separators=(", ", ": ")))
    return "var CONTROLS = [\n" + ",\n".join(rows) + "\n];"


MAXPAT = "daw_scripts/ableton/midifill.maxpat"
MENU_X, MENU_WIDTH = 308, 148  # the device's second column: one menu a row


def _menu_boxes(i: int, c: Control) -> list[dict]:
    """A live.menu of `c`'s menu items (stored with the set, "auto" first),
    its label, and [prepend menu NAME] into the script."""
    y = 4 + 19 * i
    name = c.name.replace("_", " ").capitalize()
    menu = {
        "id": f"obj-ctl-{c.name}",
        "maxclass": "live.menu",
        "numinlets": 1,
        "numoutlets": 3,
        "outlettype": ["", "", "float"],
        "parameter_enable": 1,
        "varname": name,
        "patching_rect": [20 + 110 * (i % 6), 560 + 60 * (i // 6), 90, 15],
        "presentation": 1,
        "presentation_rect": [MENU_X + 62, y, MENU_WIDTH - 62, 15],
        "saved_attribute_attributes": {
            "valueof": {
                "parameter_longname": name,
                "parameter_shortname": name[:12],
                "parameter_type": 2,
                "parameter_enum": list(c.suggestions),
                "parameter_mmax": len(c.suggestions) - 1,
                "parameter_initial_enable": 1,
                "parameter_initial": [0],
            }
        },
    }
    label = {
        "id": f"obj-ctl-lbl-{c.name}",
        "maxclass": "comment",
        "text": name,
        "numinlets": 1,
        "numoutlets": 0,
        "patching_rect": [20 + 110 * (i % 6), 540 + 60 * (i // 6), 90, 18],
        "presentation": 1,
        "presentation_rect": [MENU_X, y, 60, 16],
        "fontsize": 8.0,
    }
    prepend = {
        "id": f"obj-ctl-prep-{c.name}",
        "maxclass": "newobj",
        "text": f"prepend menu {c.name}",
        "numinlets": 1,
        "numoutlets": 1,
        "outlettype": [""],
        "patching_rect": [20 + 110 * (i % 6), 580 + 60 * (i // 6), 100, 22],
    }
    return [menu, label, prepend]


def maxpat_text(text: str) -> str:
    """The Live patcher with one menu per Live control that has a menu,
    wired to the script; the rest of the patcher as it was."""
    patcher = json.loads(text)
    p = patcher["patcher"]
    p["boxes"] = [b for b in p["boxes"] if not b["box"]["id"].startswith("obj-ctl-")]
    p["lines"] = [
        ln
        for ln in p["lines"]
        if not any(
            str(end[0]).startswith("obj-ctl-")
            for end in (ln["patchline"]["source"], ln["patchline"]["destination"])
        )
    ]
    menus = [c for c in for_face("live") if c.suggestions]
    for i, c in enumerate(menus):
        p["boxes"] += [{"box": b} for b in _menu_boxes(i, c)]
        p["lines"] += [
            {
                "patchline": {
                    "source": [f"obj-ctl-{c.name}", 0],
                    "destination": [f"obj-ctl-prep-{c.name}", 0],
                }
            },
            {"patchline": {"source": [f"obj-ctl-prep-{c.name}", 0], "destination": ["obj-js", 0]}},
        ]
    p["devicewidth"] = float(MENU_X + MENU_WIDTH)
    return json.dumps(patcher, indent=2) + ("\n" if text.endswith("\n") else "")


def _device_files() -> dict:
    """midifill.maxpat and midifill.amxd as the table makes them."""
    sys.path.insert(0, str(ROOT / "daw_scripts" / "ableton"))
    import build_amxd

    maxpat = maxpat_text((ROOT / MAXPAT).read_text(encoding="utf-8"))
    return {
        MAXPAT: maxpat.encode("utf-8"),
        "daw_scripts/ableton/midifill.amxd": build_amxd.build(json.loads(maxpat)),
    }


TARGETS = {  # file: (comment prefix, the block's text)
    "docs/contract.md": ("<!--", docs_table),
    "daw_scripts/reaper/midifill_common.lua": ("--", lua_block),
    "daw_scripts/ableton/midifill.js": ("//", js_block),
}


def rewrite(text: str, prefix: str, body: str) -> str:
    """`text` with the lines between its BEGIN and END CONTROLS lines replaced."""
    lines = text.split("\n")
    a = next(i for i, line in enumerate(lines) if line.startswith(prefix) and BEGIN in line)
    b = next(i for i, line in enumerate(lines) if i > a and line.startswith(prefix) and END in line)
    return "\n".join(lines[: a + 1] + body.split("\n") + lines[b:])


def stale() -> list[str]:
    """The files whose block differs from the table."""
    out = []
    for name, (prefix, make) in TARGETS.items():
        text = (ROOT / name).read_text(encoding="utf-8")
        if rewrite(text, prefix, make()) != text:
            out.append(name)
    for name, data in _device_files().items():
        if (ROOT / name).read_bytes() != data:
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        for name in bad:
            print(
                f"{name}: its controls differ from the table; run python -m midifill.bridge.faces",
                file=sys.stderr,
            )
        return 1 if bad else 0
    for name, (prefix, make) in TARGETS.items():
        path = ROOT / name
        path.write_text(rewrite(path.read_text(encoding="utf-8"), prefix, make()), encoding="utf-8")
        print(f"wrote the controls of {name}")
    for name, data in _device_files().items():
        (ROOT / name).write_bytes(data)
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
