"""Write the ReaPack index (index.xml) of the midifill REAPER scripts from
their metadata headers, as `reapack-index` would, without Ruby:

    python3 daw_scripts/reaper/reapack_index.py

The package is the one script without `@noindex` (midifill - Fill.lua); its
`@provides` names the other actions ([main]) and the library files
([nomain]). Each source's URL comes from --url-template, where {path} is the
file's path inside the repository and {commit} the current git commit. The
default points at this clone on disk (file:// URLs), so a producer can
import the index into their own REAPER from the clone they installed from;
whoever hosts the repository passes the host's raw-file URL template.
Prints where the index was written and the URL to give ReaPack.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CATEGORY = "MIDI Editor"
TAG = re.compile(r"^--\s*@(\w+)\s*(.*)$")
CONTINUED = re.compile(r"^--\s{2,}(.*)$")


def read_header(path: Path) -> dict:
    """The `-- @tag value` lines at the top of a script; a tag's indented
    `--   ` lines that follow are its further lines."""
    tags, current = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        m = TAG.match(line)
        if m:
            current = m.group(1)
            tags[current] = [m.group(2)] if m.group(2) else []
        elif current and CONTINUED.match(line):
            tags[current].append(CONTINUED.match(line).group(1).rstrip())
        else:
            current = None
    return tags


def provides(tags: dict) -> list[tuple[str, bool]]:
    """(file, is an action) for each `@provides` line: `[main] f` or `[nomain] f`."""
    out = []
    for line in tags.get("provides", []):
        m = re.match(r"^\[(main|nomain)\]\s+(.+)$", line.strip())
        if not m:
            raise ValueError(f"@provides line not understood: {line!r}")
        out.append((m.group(2), m.group(1) == "main"))
    return out


def rtf(lines: list[str]) -> str:
    """ReaPack shows a package's `about` as RTF: plain paragraphs here."""

    def esc(s):
        return s.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")

    return "{\\rtf1\\ansi\\deff0 " + "\\par\n".join(esc(s.lstrip("# ")) for s in lines) + "}"


def git_commit() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "HEAD"
        )
    except (OSError, subprocess.SubprocessError):
        return "HEAD"


def build(folder: Path, url_template: str, commit: str) -> ET.Element:
    index = ET.Element("index", version="1", name="midifill")
    category = ET.SubElement(index, "category", name=CATEGORY)
    packages = [p for p in sorted(folder.glob("*.lua")) if "noindex" not in read_header(p)]
    if not packages:
        raise ValueError(f"no script without @noindex in {folder}")

    def url(name):
        path = (folder / name).resolve()
        rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else name
        return url_template.format(path=quote(rel), commit=commit, root=REPO.as_uri())

    for script in packages:
        tags = read_header(script)
        for needed in ("description", "author", "version"):
            if not tags.get(needed):
                raise ValueError(f"{script.name}: no @{needed}")
        listed = provides(tags)
        pkg = ET.SubElement(
            category, "reapack", name=script.name, type="script", desc=tags["description"][0]
        )
        if tags.get("about"):
            ET.SubElement(ET.SubElement(pkg, "metadata"), "description").text = rtf(tags["about"])
        version = ET.SubElement(pkg, "version", name=tags["version"][0], author=tags["author"][0])
        ET.SubElement(version, "source", main="main").text = url(script.name)
        for name, is_action in listed:
            if not (folder / name).is_file():
                raise ValueError(f"{script.name} provides {name}, which is not in {folder}")
            attrs = {"file": name, **({"main": "main"} if is_action else {})}
            ET.SubElement(version, "source", attrs).text = url(name)
    ET.indent(index)
    return index


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--url-template",
        default="{root}/{path}",
        help="URL of each file: {path} (inside the repository), {commit}, {root} "
        "(this clone as a file:// URL; the default: {root}/{path})",
    )
    ap.add_argument("--out", default=str(HERE / "index.xml"), help="where to write the index")
    args = ap.parse_args(argv)
    try:
        index = build(HERE, args.url_template, git_commit())
    except ValueError as exc:
        print(f"reapack_index: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    ET.ElementTree(index).write(out, encoding="utf-8", xml_declaration=True)
    print(
        f"written: {out}\nReaPack: Extensions > ReaPack > Import repositories, paste "
        f"{out.resolve().as_uri()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
