"""`midifill devset`: the out-of-corpus dev set, rebuilt from Debian packages.

Real many-track General MIDI songs (5-16 tracks, drums on channel 10 in
most) from free games packaged by Debian, which no corpus source draws on.
The set is fixed before training and never trained on: `devset.json` beside
this file names each song's package, version, place in the package and
sha256, so a rebuild gives the same bytes or stops. No MIDI is in the
repository; the songs are read out of the packages' .deb files:

    apt-get download freedoom=0.12.1-2 freedink-data=1.08.20190120-2 ...
    midifill devset --debs DIR_OF_DEBS --out data/devset [--reserved reserved.py]

(`midifill devset --print-download` prints that apt-get line.) A song kept
inside a Doom WAD (Freedoom's music lumps are MIDI files) is named
"path/in/package.wad#LUMP". With `--reserved`, the reserve checker
(model/corpus/reserve.py) is run on every file written, and a hit stops the
rebuild: the set must hold none.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from ..errors import MidifillError

MANIFEST = Path(__file__).with_name("devset.json")


class DevsetError(MidifillError, ValueError):
    """A dev set that cannot be rebuilt as its manifest says."""

    code = "bad_devset"


def load_manifest(path: str | Path = MANIFEST) -> dict:
    data = json.loads(Path(path).read_text())
    if not isinstance(data.get("packages"), dict) or not isinstance(data.get("songs"), list):
        raise DevsetError(f"{path}: expected 'packages' and 'songs'")
    return data


def wad_lumps(data: bytes) -> dict[str, bytes]:
    """The named lumps of a Doom WAD (IWAD or PWAD): a 12-byte header, then
    a directory of (offset, size, 8-byte name) entries."""
    if len(data) < 12 or data[:4] not in (b"IWAD", b"PWAD"):
        raise DevsetError("not a WAD file")
    count, table = struct.unpack_from("<ii", data, 4)
    if count < 0 or table < 12 or table + 16 * count > len(data):
        raise DevsetError("a WAD directory outside the file")
    out = {}
    for i in range(count):
        pos, size, name = struct.unpack_from("<ii8s", data, table + 16 * i)
        if pos < 0 or size < 0 or pos + size > len(data):
            raise DevsetError(f"WAD lump {i} lies outside the file")
        out[name.rstrip(b"\0").decode("ascii", "replace")] = data[pos : pos + size]
    return out


def member_bytes(root: Path, member: str) -> bytes:
    """The bytes of `member` in a package unpacked at `root`: a file path, or
    "file.wad#LUMP" for a lump of a WAD."""
    path, _, lump = member.partition("#")
    file = root / path
    if not file.is_file():
        raise DevsetError(f"{path}: not in the unpacked package")
    data = file.read_bytes()
    if not lump:
        return data
    lumps = wad_lumps(data)
    if lump not in lumps:
        raise DevsetError(f"{path}: no lump {lump}")
    return lumps[lump]


def download_line(manifest: dict) -> str:
    return "apt-get download " + " ".join(
        f"{name}={p['version']}" for name, p in sorted(manifest["packages"].items())
    )


def find_deb(debs: Path, name: str, version: str) -> Path:
    # a version's epoch ("1:") is left out of the .deb's name
    stem = f"{name}_{version.split(':')[-1]}_"
    found = sorted(debs.glob(stem + "*.deb"))
    if not found:
        raise DevsetError(
            f"no {stem}*.deb in {debs}; fetch the packages with: "
            f"(cd {debs} && {download_line(load_manifest())})"
        )
    return found[0]


def unpack(deb: Path, into: Path) -> None:
    if shutil.which("dpkg-deb") is None:
        raise DevsetError("dpkg-deb is needed to unpack the packages (Debian's dpkg)")
    done = subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], capture_output=True, text=True)
    if done.returncode:
        raise DevsetError(f"dpkg-deb -x {deb.name}: {done.stderr.strip()[:300]}")


def rebuild(
    out: str | Path,
    debs: str | Path,
    reserved: str | Path | None = None,
    manifest: dict | None = None,
) -> list[Path]:
    """Write every song of the manifest under `out`, its bytes checked
    against the manifest's sha256; returns the files written."""
    manifest = manifest or load_manifest()
    out, debs = Path(out), Path(debs)
    check = None
    if reserved is not None:
        from ..corpus.reserve import load_reserve_check

        check = load_reserve_check(str(Path(reserved).resolve()))
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pkg in sorted(manifest["packages"].items()):
            root = Path(tmp) / name
            unpack(find_deb(debs, name, pkg["version"]), root)
            for song in (s for s in manifest["songs"] if s["package"] == name):
                data = member_bytes(root, song["member"])
                digest = hashlib.sha256(data).hexdigest()
                if digest != song["sha256"]:
                    raise DevsetError(
                        f"{name} {song['member']}: sha256 {digest[:12]}... is not "
                        f"the manifest's {song['sha256'][:12]}..."
                    )
                dest = out / song["file"]
                if not dest.resolve().is_relative_to(out.resolve()):
                    raise DevsetError(f"{song['file']}: outside {out}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                if check is not None and check(dest):
                    dest.unlink()
                    raise DevsetError(
                        f"{song['file']} is in the evaluation reserve: the dev set must hold none"
                    )
                written.append(dest)
            shutil.rmtree(root)
    return written


def add_arguments(p):
    p.add_argument("--out", help="folder to write the songs into")
    p.add_argument(
        "--debs", default=".", help="folder with the packages' .deb files (default: here)"
    )
    p.add_argument(
        "--reserved",
        default=None,
        help="the reserve checker (reserved.py) to run on every song written",
    )
    p.add_argument(
        "--print-download",
        action="store_true",
        help="print the apt-get line that fetches the packages, and stop",
    )


def run(args) -> int:
    manifest = load_manifest()
    if args.print_download:
        print(download_line(manifest))
        return 0
    if not args.out:
        raise SystemExit("midifill devset: give --out DIR (or --print-download)")
    try:
        files = rebuild(args.out, args.debs, args.reserved, manifest)
    except DevsetError as exc:
        raise SystemExit(f"midifill devset: {exc}") from None
    print(
        f"{len(files)} songs from {len(manifest['packages'])} packages written to {args.out}"
        + ("" if args.reserved else " (no --reserved check run)")
    )
    return 0
