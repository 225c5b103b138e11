"""`midifill bench --quick` runs end to end (real engine, real OSC server,
real `midifill request` processes) and its JSON holds every figure."""

import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow


def test_quick_bench_writes_every_figure(tiny_checkpoint, tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "bench",
            "--quick",
            "--model",
            str(tiny_checkpoint),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "tokens/s DRAM bandwidth allows" in r.stdout
    assert "tokens/s cache bandwidth allows" in r.stdout
    res = json.loads(out.read_text())
    assert res["quick"] is True and res["model"] == "tiny-test"
    # every decoder through the engine's interface (compiled where it builds)
    decoders = {"numpy", "reference"} | ({"compiled"} if res["decoder"] == "compiled" else set())
    assert set(res["decode_tok_s"]) == {f"{k}_b{b}" for k in decoders for b in (1, 4, 8)}
    assert "decode, NumPy, 1 stream" in r.stdout
    assert all(v > 0 for v in res["decode_tok_s"].values())
    assert res["weight_bytes_per_token"] > 0
    for key in ("bandwidth_gb_s", "bandwidth_limit_tok_s", "fraction_of_limit"):
        assert set(res[key]) == {"large_array", "weights_sized"}, key
        assert all(v > 0 for v in res[key].values()), key
    for key in ("reference_fill_engine", "reference_fill_engine_cold"):
        for part in ("total", "prefill", "decode"):
            assert set(res[key][part]) == {"median", "p95", "n"}
    osc = res["reference_fill_osc"]
    assert osc["startup_s"] > 0 and osc["rss_mb"] > 0
    assert osc["torch_loaded"] in (True, False)  # True here: a .pt checkpoint loads through torch
    assert res["generate_cli_s"]["median"] > 0 and res["generate_cli_s"]["n"] == 1
    imports = res["request_import_ms"]  # what `midifill request` imports, timed here
    assert imports["median"] > 0 and imports["n"] == 1 and imports["heavy_modules"] == []
    assert "midifill request, imports before sending" in r.stdout
    assert "demo_s" in res  # the figures, or why the demo cannot run here
    assert osc["request_ms"]["n"] >= 1 and osc["client_in_process_ms"]["n"] >= 1
    assert list(res["context_scaling_ms"]) == ["8", "32", "128"]
    assert list(res["track_scaling_ms"]) == ["1", "4", "16"]
    assert list(res["variation_scaling_ms"]) == ["1", "2", "4", "8", "1, candidates 1"]
    for key in ("context_scaling_ms", "track_scaling_ms", "variation_scaling_ms"):
        assert all(set(v) == {"total", "prefill", "decode", "notes"} for v in res[key].values())
    assert res["training_tok_s"] > 0
    # fills of many-track songs (the demo's examples layered): engine, a
    # `midifill request` process each, OSC from a running client; drums and pitched
    songs = res["many_track_fills"]
    assert songs["fills"] == {"drums": 2, "pitched": 2}
    assert set(songs["engine_ms"]) == {"default", "candidates 1", "variations 4"}
    for ask in songs["engine_ms"].values():
        assert ask["drums"]["n"] == 2 and ask["pitched"]["median"] > 0
    for path in ("request_process", "osc_client"):
        assert set(songs[path]) == {"drums", "pitched", "all"} and songs[path]["all"]["n"] == 4
    assert len(songs["load_average"]) == 2
    assert "OSC from a running client (Live)" in r.stdout
