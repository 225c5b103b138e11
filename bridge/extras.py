"""What a missing optional dependency means for the user: the extra that
brings it, and the one command that adds it to this installation.

The base install (`pip install .`) runs the engine, `generate`, `serve` and
`request`. The demo needs `midifill[demo]`; training, the corpus, evaluation
and `bench` need `midifill[train]` (torch). bridge/cli.py turns a
ModuleNotFoundError for one of these modules into one line and exit 2.
"""

from __future__ import annotations

import importlib.util
import json
import sys

# top-level module -> the extra that installs it
MODULE_EXTRA = {
    "gradio": "demo",
    "gradio_client": "demo",
    "pedalboard": "demo",
    "fluidsynth": "demo",
    "midirenderer": "demo",
    "pyloudnorm": "demo",
    "torch": "train",
    "music21": "train",
    "sklearn": "train",
    "matplotlib": None,  # both extras bring it: the command's own extra names it
}

# the extra a command needs (the one named when a shared module is missing)
COMMAND_EXTRA = {
    "demo": "demo",
    "train": "train",
    "corpus": "train",
    "eval": "train",
    "bench": "train",
}

# the module each command cannot start without, checked before it starts (so
# `midifill corpus` stops at once, not when its first worker parses a file)
COMMAND_NEEDS = {
    "demo": "gradio",
    "train": "torch",
    "corpus": "music21",
    "eval": "torch",
    "bench": "torch",
}


def missing_before_start(command: str | None, argv: list[str]) -> str | None:
    """The one line to print when `command` cannot start for want of an
    extra, else None."""
    need = "gradio" if command == "serve" and "--demo" in argv else COMMAND_NEEDS.get(command or "")
    if need is None or importlib.util.find_spec(need) is not None:
        return None
    return missing_line(need, command, MODULE_EXTRA[need])


def extra_for(exc: ModuleNotFoundError, command: str | None, demo: bool = False) -> str | None:
    """The extra that provides the module `exc` could not find, or None when
    the module is not an optional dependency of midifill (a real bug)."""
    top = (exc.name or "").split(".")[0]
    if top not in MODULE_EXTRA:
        return None
    return MODULE_EXTRA[top] or ("demo" if demo else COMMAND_EXTRA.get(command or "", "demo"))


def _source() -> str:
    """What this midifill was installed from: the clone's folder when pip
    recorded one (PEP 610's direct_url.json), else the project's name."""
    # imported here: importlib.metadata alone took ~50 ms of every command's
    # start, `midifill request` (run once per fill by REAPER) included
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    try:
        raw = metadata.distribution("midifill").read_text("direct_url.json")
        url = json.loads(raw or "{}").get("url", "")
    except (metadata.PackageNotFoundError, ValueError, AttributeError):
        url = ""
    if url.startswith("file:"):
        path = unquote(urlparse(url).path)
        if sys.platform == "win32" and path[:1] == "/" and path[2:3] == ":":
            path = path[1:]  # file:///C:/x -> C:/x
        return path
    return "midifill"


def install_command(extra: str) -> str:
    """The command that adds `extra` to the installation this process runs in:
    pipx's or uv's tool environment, else pip in this interpreter."""
    target = f'"{_source()}[{extra}]"'
    prefix = sys.prefix.replace("\\", "/").lower()
    if "/pipx/venvs/" in prefix:
        return f"pipx install --force {target}"
    if "/uv/tools/" in prefix:
        return f"uv tool install --force {target}"
    return f'"{sys.executable}" -m pip install {target}'


def missing_line(module: str, command: str | None, extra: str) -> str:
    what = f"midifill {command}" if command else "midifill"
    return (
        f"{what}: needs midifill[{extra}] (no module named {module!r}); "
        f"add it with: {install_command(extra)}"
    )
