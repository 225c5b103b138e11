"""Weights without torch (model/network/weights.py): the .safetensors form that
ships, its checks, and an inference path that never imports torch."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from midifill.model import Engine
from midifill.model.errors import CheckpointError
from midifill.model.generation.engine import BUNDLED_MODEL
from midifill.model.midi_io import read_midi
from midifill.model.network.checkpoint import export_checkpoint, load_checkpoint, load_weights
from midifill.model.network.config import ModelConfig, state_shapes
from midifill.model.network.transformer import Transformer
from tests.support import ROOT
from tests.support.weights import rewrite


@pytest.mark.parametrize("bias", [False, True])
def test_state_shapes_are_the_torch_modules(bias):
    config = ModelConfig(vocab_size=70, block_size=32, n_layer=3, n_head=2, n_embd=16, bias=bias)
    torch_shapes = {
        k: tuple(v.shape)
        for k, v in Transformer(config).state_dict().items()
        if k != "lm_head.weight"
    }
    assert list(state_shapes(config).items()) == list(torch_shapes.items())


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint exported both ways, float16 each."""
    out = tmp_path_factory.mktemp("export")
    export_checkpoint(tiny_checkpoint, out / "tiny.safetensors")
    export_checkpoint(tiny_checkpoint, out / "tiny.pt")
    return out / "tiny.safetensors", out / "tiny.pt"


def test_safetensors_holds_what_the_torch_export_holds(exported, fixtures_dir):
    st, pt = exported
    a, b = load_weights(st), load_weights(pt)
    assert a.config == b.config and a.tokenizer_config == b.tokenizer_config
    assert a.meta == b.meta and a.meta["name"] == "tiny-test"
    assert a.arrays.keys() == b.arrays.keys()
    assert all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    # the same notes from either file; the torch route reads the new form too
    song = read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")
    req = dict(
        song.to_payload(),
        target={"track": "1", "start": 8.0, "end": 16.0},
        controls={"seed": 2, "variations": 2},
    )
    assert (
        Engine.from_checkpoint(st).run(req)["variations"]
        == Engine.from_checkpoint(pt).run(req)["variations"]
    )
    model, tok_cfg, ckpt = load_checkpoint(st)
    assert tok_cfg == a.tokenizer_config and ckpt["meta"]["name"] == "tiny-test"
    assert torch.equal(model.wte.weight, torch.from_numpy(a.arrays["wte.weight"]))


def nan(a):
    return np.full_like(a, math.nan)


@pytest.mark.parametrize(
    "tensors, metadata, words",
    [
        (None, {"format": None}, "format marker"),
        (None, {"version": "2"}, "version '2' is not supported"),
        (None, {"model_config": "{"}, "model_config is not valid JSON"),
        (None, {"tokenizer_config": None}, "no tokenizer_config"),
        (None, {"model_config": json.dumps({"n_layer": "2"})}, "n_layer must be an integer"),
        (None, {"meta": json.dumps(["x"])}, "meta must be a dict"),
        ({"wte.weight": nan}, None, "wte.weight holds NaN"),
        ({"wte.weight": lambda a: a[:-1]}, None, "has shape"),
        ({"wpe.weight": None}, None, "wpe.weight is missing"),
        ({"extra": lambda a: np.zeros(2, np.float32)}, None, "unexpected tensor 'extra'"),
        ({"wpe.weight": lambda a: a.astype(np.int32)}, None, "floating-point"),
    ],
)
def test_a_malformed_safetensors_file_is_one_named_error(
    exported, tmp_path, tensors, metadata, words
):
    bad = rewrite(exported[0], tmp_path / "bad.safetensors", tensors, metadata)
    with pytest.raises(CheckpointError, match="bad.safetensors") as err:
        Engine.from_checkpoint(bad)
    assert words in str(err.value)


def test_a_damaged_safetensors_file_is_refused(exported, tmp_path):
    data = exported[0].read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a midifill checkpoint"):
        Engine.from_checkpoint(tmp_path / "cut.safetensors")


TORCH_FREE = """
import sys
sys.modules["torch"] = None  # any `import torch` now fails
from midifill.bridge.cli import main
from midifill.bridge.client import Client
from midifill.bridge.server import Server
from midifill.model import Engine
rc = main(["generate", "demo/examples/pop_c_major_8_bars.mid", "-o", sys.argv[1], "--track",
           "1", "--bars", "5-8", "--seed", "3", "--variations", "2"])
assert rc == 0, rc
engine = Engine.from_checkpoint()
server = Server(engine, "127.0.0.1", 0).start()
try:
    with Client("127.0.0.1", server.port, timeout=30) as client:
        assert client.ping()["model"] == engine.name
finally:
    server.stop()
print("torch-free")
"""


def test_inference_never_imports_torch(tmp_path):
    """`midifill generate` and the OSC server with the bundled model, with
    torch made unimportable: they must not need it."""
    assert BUNDLED_MODEL.suffix == ".safetensors"
    r = subprocess.run(
        [sys.executable, "-c", TORCH_FREE, str(tmp_path / "out.mid")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "torch-free" in r.stdout, r.stderr[-2000:]
    assert (tmp_path / "out-1.mid").is_file() and (tmp_path / "out-2.mid").is_file()


def test_the_bundled_model_ships_as_safetensors_only():
    """A torch checkpoint in model/ would be a second, stale copy: the engine
    reads only the .safetensors file."""
    stray = sorted(p.name for p in BUNDLED_MODEL.parent.glob("*.pt"))
    assert not stray, (
        f"{stray} in model/: ship a checkpoint with export_checkpoint("
        f"'runs/X.pt', 'model/{BUNDLED_MODEL.name}') (docs/training.md)"
    )
