"""`midifill demo` as a process, as an API user meets it: the documented
gradio_client example runs as written, the API listing says what the target
track is, and the terminal shows one line per refused input, no traceback.

The demo's upload, as a visitor's browser sends it to the real `midifill
demo` process: over the cap is refused by Gradio while uploading (HTTP 413,
nothing stored), a normal MIDI file is stored (issue 15)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import IN_CI, ROOT, require_module

require_module("gradio_client")
httpx = require_module("httpx")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from midifill.demo.bench import serve_demo  # noqa: E402
from midifill.demo.render import synth_available  # noqa: E402
from midifill.demo.task import MAX_FILE_BYTES  # noqa: E402

POP = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"


@pytest.fixture(scope="module")
def server(tiny_checkpoint, tmp_path_factory):
    ok, why = synth_available()
    if not ok:
        if IN_CI:
            pytest.fail(f"FluidSynth is required under CI: {why}")
        pytest.skip(why)
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    with serve_demo(model=str(tiny_checkpoint), log_path=log) as (url, log_path):
        yield url, Path(log_path)


def docs_example() -> str:
    text = (ROOT / "docs" / "demo.md").read_text()
    section = text[text.index("## The API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_documented_api_example_runs(server):
    url, _ = server
    code = docs_example()
    assert 'Client("http://127.0.0.1:7860/")' in code
    code = code.replace("http://127.0.0.1:7860/", url)
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4 tracks, 12 bars" in r.stdout
    assert "track 1: Bass (Synth Bass 1), 24 notes in bars 1-12\n" in r.stdout
    assert "**2 variations** of Bass, bars 5-8 (fill)" in r.stdout
    files = re.findall(r"^variation \d: (\S+\.mid) (\S+\.wav) (\S+\.png)$", r.stdout, re.M)
    assert len(files) == 2 and all(Path(f).is_file() for pair in files for f in pair)


@pytest.mark.slow
def test_view_api_says_what_the_target_takes(server):
    url, _ = server
    info = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
    params = {p["parameter_name"]: p for p in info["named_endpoints"]["/generate"]["parameters"]}
    target = params["target"]["type"]
    assert target.get("type") == "string" and "enum" not in target  # was Literal[]
    # a parameter per control of the table the demo shows, "auto" a value of its own
    from midifill.demo.controls_form import CONTROLS

    assert [c.name for c in CONTROLS] == [n for n in params if n in {c.name for c in CONTROLS}]
    assert params["harmony"]["parameter_default"] == "auto"


@pytest.mark.slow
@pytest.mark.parametrize(
    "call, message",
    [
        ({"bar_start": 6, "bar_end": 2}, "out of range"),
        ({"target": "7"}, "does not exist"),
        ({"midi": b"this is text, not MIDI\n"}, "not a MIDI file"),
        ({"describe": b"MThd garbage that is not a MIDI header"}, "cannot be used"),
    ],
)
def test_a_refused_input_is_one_log_line(server, tmp_path, call, message):
    url, log = server
    client = Client(url, verbose=False)
    before = log.read_text()
    path = POP
    content = call.pop("midi", None) or call.get("describe")
    if content is not None:
        path = tmp_path / "upload.mid"
        path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        if "describe" in call:
            client.predict(handle_file(str(path)), api_name="/describe")
        else:
            args = dict(
                midi=handle_file(str(path)),
                target="3",
                bar_start=1,
                bar_end=1,
                variations=1,
                seed=1,
            )
            args.update(call)
            client.predict(**args, api_name="/generate")
    client.predict(handle_file(str(POP)), api_name="/describe")  # it still answers
    new = log.read_text()[len(before) :]
    assert "Traceback" not in new, new
    refused = [line for line in new.splitlines() if "refused:" in line]
    assert len(refused) == 1 and message in refused[0], new


@pytest.mark.slow
def test_midifill_bench_reports_the_demo(tiny_checkpoint, tmp_path):
    from midifill.bridge.bench import _demo_rows, demo_figures

    res = demo_figures(str(tiny_checkpoint), 1)
    if "skipped" in res and not IN_CI:
        pytest.skip(res["skipped"])
    assert set(res["seconds"]["this"]) == {"1", "2"}
    assert all(s["median"] > 0 and s["n"] == 1 for s in res["seconds"]["this"].values())
    rows = _demo_rows(res)
    assert len(rows) == 2 and "demo, 2 variation(s), through gradio_client" in rows[1]
    from midifill.demo.bench import format_result  # what `python -m midifill.demo.bench` prints

    for n in (1, 2):
        assert re.search(
            rf"{n} variation\(s\)  median \d+\.\d\d s  p95 \d+\.\d\d s  \(n=1\)", format_result(res)
        )


@pytest.fixture(scope="module")
def url(server):
    return server[0]


def upload(url, name, data):
    return httpx.post(f"{url}gradio_api/upload", files=[("files", (name, data))], timeout=60)


@pytest.mark.hostile
def test_an_upload_over_the_cap_is_refused_while_uploading(url):
    r = upload(url, "big.mid", b"MThd" + os.urandom(MAX_FILE_BYTES))
    assert r.status_code == 413, (r.status_code, r.text[:300])


@pytest.mark.hostile
def test_a_midi_file_under_the_cap_is_stored(url):
    data = (ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid").read_bytes()
    r = upload(url, "pop.mid", data)
    assert r.status_code == 200, r.text[:300]
    stored = r.json()[0]
    assert stored.endswith("pop.mid") and os.path.getsize(stored) == len(data)
