"""Malformed checkpoints through the real loader (Engine.from_checkpoint):
each is one CheckpointError naming the problem, found before a model is
built, never suggesting weights_only=False (issue 15)."""
import math
import os
import time

import pytest
import torch

from model import Engine
from model.errors import CheckpointError


@pytest.fixture(scope="module")
def stored(tiny_checkpoint):
    return torch.load(tiny_checkpoint, weights_only=True)


def edit(ckpt, path, value):
    """A deep copy of ckpt with the item at `path` (keys) replaced or, for
    the value DELETE, removed."""
    ckpt = {**ckpt, "model_config": dict(ckpt["model_config"]),
            "tokenizer_config": dict(ckpt["tokenizer_config"]),
            "state_dict": dict(ckpt["state_dict"]), "meta": dict(ckpt["meta"])}
    where = ckpt
    for key in path[:-1]:
        where = where[key]
    if value is DELETE:
        del where[path[-1]]
    else:
        where[path[-1]] = value(where.get(path[-1])) if callable(value) else value
    return ckpt


DELETE = object()
NAN = lambda t: torch.full_like(t, math.nan)  # noqa: E731

CASES = [  # (path in the checkpoint, new value, words the message must hold)
    (("model_config",), DELETE, "no model_config"),
    (("state_dict",), DELETE, "no state_dict"),
    (("tokenizer_config",), DELETE, "no tokenizer_config"),
    (("model_config",), "x", "model_config must be a dict"),
    (("model_config", "n_layer"), "2", "n_layer must be an integer"),
    (("model_config", "n_head"), 7, "not a multiple of n_head"),
    (("model_config", "block_size"), -1, "block_size must be an integer"),
    (("model_config", "n_embd"), 65536, "n_embd must be an integer"),
    (("model_config", "n_embd"), 16384, "parameters; the limit"),
    (("model_config", "vocab_size"), 10**30, "vocab_size"),
    (("model_config", "dropout"), math.nan, "dropout"),
    (("model_config", "bias"), "yes", "bias"),
    (("model_config", "colour"), 1, "unknown model_config field 'colour'"),
    (("meta",), "x", "meta must be a dict"),
    (("meta", "name"), ["x"], "name is a string"),
    (("version",), 2, "version 2 is not supported"),
    (("format",), DELETE, "format marker"),
    (("state_dict",), ["a"], "state_dict must be a dict"),
    (("state_dict", "wte.weight"), NAN, "wte.weight holds NaN"),
    (("state_dict", "ln_f.weight"), lambda t: t / 0, "ln_f.weight holds NaN or infinite"),
    (("state_dict", "wte.weight"), lambda t: t[:-1], "has shape"),
    (("state_dict", "wte.weight"), DELETE, "wte.weight is missing"),
    (("state_dict", "extra.weight"), torch.zeros(2), "unexpected tensor 'extra.weight'"),
    (("state_dict", "wpe.weight"), lambda t: t.long(), "floating-point"),
    (("state_dict", "wpe.weight"), "weights", "floating-point"),
    (("tokenizer_config", "ticks_per_beat"), 10**9, "ticks_per_beat must be an integer"),
    (("tokenizer_config", "velocity_bins"), 16, "tokenizer vocabulary"),
    (("tokenizer_config", "time_signatures"), "4/4", "time_signatures must be a list"),
    (("tokenizer_config",), [], "tokenizer_config must be a dict"),
]


def load(path):
    started = time.perf_counter()
    with pytest.raises(CheckpointError) as err:
        Engine.from_checkpoint(path)
    assert time.perf_counter() - started < 2.0
    message = str(err.value)
    assert "weights_only" not in message and len(message) < 600
    return message


@pytest.mark.parametrize("path, value, words", CASES,
                         ids=[f"{'.'.join(c[0])}-{i}" for i, c in enumerate(CASES)])
def test_a_malformed_checkpoint_is_one_named_error(stored, tmp_path, path, value, words):
    torch.save(edit(stored, path, value), tmp_path / "bad.pt")
    assert words in load(tmp_path / "bad.pt")


@pytest.mark.parametrize("content, words", [
    (b"", "empty (0 bytes)"),
    (os.urandom(4096), "not a midifill checkpoint"),
    (b"PK\x03\x04" + os.urandom(500), "not a midifill checkpoint"),
    ("folder", "is a folder"),
])
def test_files_that_are_not_checkpoints(tmp_path, content, words):
    path = tmp_path / "x.pt"
    if content == "folder":
        path.mkdir()
    else:
        path.write_bytes(content)
    assert words in load(path)


def test_pickled_code_is_refused_without_advice_to_run_it(tmp_path):
    import argparse  # any class outside torch's weights_only allow-list
    torch.save({"format": "midifill-checkpoint", "obj": argparse.Namespace(a=1)},
               tmp_path / "evil.pt")
    assert "never loaded" in load(tmp_path / "evil.pt")


def test_the_unchanged_checkpoint_still_loads_and_runs(stored, tmp_path):
    torch.save(edit(stored, ("meta", "name"), "again"), tmp_path / "ok.pt")
    engine = Engine.from_checkpoint(tmp_path / "ok.pt")
    assert engine.name == "again"
    request = {"tracks": [{"id": "a", "notes": [[60, 0, 1, 90]]}],
               "target": {"track": "a", "start": 0, "end": 4}, "controls": {"seed": 1}}
    assert engine.run(request)["variations"]
