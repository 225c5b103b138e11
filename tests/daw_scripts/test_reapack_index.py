"""The ReaPack index of the REAPER scripts (daw_scripts/reaper/reapack_index.py):
one command writes it from the scripts' headers; it parses, lists every
action as a main source and every library file, each URL names a file that
exists, and the version is the scripts' own."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree as ET

import pytest

from tests.support import ROOT

SCRIPTS = ROOT / "daw_scripts" / "reaper"


def make_index(tmp_path, *extra) -> ET.Element:
    out = tmp_path / "index.xml"
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "reapack_index.py"), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert out.as_uri() in done.stdout  # what to paste into ReaPack
    return ET.parse(out).getroot()


def sources(index):
    return index.findall("./category/reapack/version/source")


def test_every_action_and_library_file_is_in_the_index(tmp_path):
    index = make_index(tmp_path)
    assert index.tag == "index" and index.get("version") == "1"
    (package,) = index.findall("./category/reapack")
    assert package.get("type") == "script" and package.get("name") == "midifill - Fill.lua"
    named = {s.get("file") or package.get("name"): s for s in sources(index)}
    on_disk = {p.name for p in SCRIPTS.glob("*.lua")}
    assert set(named) == on_disk  # nothing missing, nothing extra
    actions = {p.name for p in SCRIPTS.glob("midifill - *.lua")}
    assert len(actions) >= 4
    assert {n for n, s in named.items() if s.get("main") == "main"} == actions
    for name, source in named.items():  # each URL is the file itself, in this clone
        url = urlparse(source.text)
        assert url.scheme == "file" and Path(unquote(url.path)).name == name
        assert Path(unquote(url.path)).read_bytes() == (SCRIPTS / name).read_bytes()


def test_the_version_and_description_come_from_the_headers(tmp_path):
    index = make_index(tmp_path)
    fill = (SCRIPTS / "midifill - Fill.lua").read_text()
    version = re.search(r"^-- @version (\S+)$", fill, re.M).group(1)
    assert index.find("./category/reapack/version").get("version", version) == version
    assert index.find("./category/reapack/version").get("name") == version
    assert index.find("./category/reapack").get("desc").startswith("midifill")
    for script in SCRIPTS.glob("midifill - *.lua"):  # every action carries the same version
        assert re.search(rf"^-- @version {re.escape(version)}$", script.read_text(), re.M), script


def test_a_hosted_url_template(tmp_path):
    index = make_index(tmp_path, "--url-template", "https://host.invalid/m/{commit}/{path}")
    urls = [s.text for s in sources(index)]
    assert all(
        re.match(r"https://host\.invalid/m/\w+/daw_scripts/reaper/midifill", u) for u in urls
    ), urls
    assert "https://host.invalid/m/" in urls[0] and "%20-%20Fill.lua" in urls[0]


@pytest.mark.parametrize(
    "broken, why", [("[both] x.lua", "not understood"), ("[nomain] missing.lua", "missing.lua")]
)
def test_a_broken_provides_line_is_refused(tmp_path, broken, why):
    folder = tmp_path / "reaper"
    folder.mkdir()
    for script in SCRIPTS.glob("*.lua"):
        (folder / script.name).write_bytes(script.read_bytes())
    text = (
        (SCRIPTS / "midifill - Fill.lua")
        .read_text()
        .replace("--   [nomain] midifill_json.lua", f"--   {broken}")
    )
    (folder / "midifill - Fill.lua").write_text(text)
    spec = importlib.util.spec_from_file_location("reapack_index", SCRIPTS / "reapack_index.py")
    reapack_index = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reapack_index)
    with pytest.raises(ValueError, match=re.escape(why)):
        reapack_index.build(folder, "{path}", "c")
