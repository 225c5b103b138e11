"""The demo's upload, as a visitor's browser sends it to the real `midifill
demo` process: over the cap is refused by Gradio while uploading (HTTP 413,
nothing stored), a normal MIDI file is stored (issue 15)."""

import os

import pytest

from tests.conftest import require_module  # noqa: E402

httpx = require_module("httpx")

from midifill.demo.bench import serve_demo  # noqa: E402
from midifill.demo.render import synth_available  # noqa: E402
from midifill.demo.task import MAX_FILE_BYTES  # noqa: E402
from tests.conftest import IN_CI, ROOT  # noqa: E402


@pytest.fixture(scope="module")
def url(tiny_checkpoint, tmp_path_factory):
    ok, why = synth_available()
    if not ok:
        if IN_CI:
            pytest.fail(f"FluidSynth is required under CI: {why}")
        pytest.skip(why)
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    with serve_demo(model=str(tiny_checkpoint), log_path=log) as (address, _):
        yield address


def upload(url, name, data):
    return httpx.post(f"{url}gradio_api/upload", files=[("files", (name, data))], timeout=60)


def test_an_upload_over_the_cap_is_refused_while_uploading(url):
    r = upload(url, "big.mid", b"MThd" + os.urandom(MAX_FILE_BYTES))
    assert r.status_code == 413, (r.status_code, r.text[:300])


def test_a_midi_file_under_the_cap_is_stored(url):
    data = (ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid").read_bytes()
    r = upload(url, "pop.mid", data)
    assert r.status_code == 200, r.text[:300]
    stored = r.json()[0]
    assert stored.endswith("pop.mid") and os.path.getsize(stored) == len(data)
