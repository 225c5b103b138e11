"""Malformed checkpoints through the real loader (Engine.from_checkpoint):
each is one CheckpointError naming the problem, found before a model is
built, never suggesting weights_only=False (issue 15)."""

import json
import math
import os
import time

import pytest
import torch

from midifill.model import Engine
from midifill.model.errors import CheckpointError
from tests.support.weights import rewrite

pytestmark = pytest.mark.hostile


@pytest.fixture(scope="module")
def stored(tiny_checkpoint):
    return torch.load(tiny_checkpoint, weights_only=True)


def edit(ckpt, path, value):
    """A deep copy of ckpt with the item at `path` (keys) replaced or, for
    the value DELETE, removed."""
    ckpt = {
        **ckpt,
        "model_config": dict(ckpt["model_config"]),
        "tokenizer_config": dict(ckpt["tokenizer_config"]),
        "state_dict": dict(ckpt["state_dict"]),
        "meta": dict(ckpt["meta"]),
    }
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


@pytest.mark.parametrize(
    "path, value, words", CASES, ids=[f"{'.'.join(c[0])}-{i}" for i, c in enumerate(CASES)]
)
def test_a_malformed_checkpoint_is_one_named_error(stored, tmp_path, path, value, words):
    torch.save(edit(stored, path, value), tmp_path / "bad.pt")
    assert words in load(tmp_path / "bad.pt")


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty (0 bytes)"),
        (os.urandom(4096), "not a midifill checkpoint"),
        (b"PK\x03\x04" + os.urandom(500), "not a midifill checkpoint"),
        ("folder", "is a folder"),
    ],
)
def test_files_that_are_not_checkpoints(tmp_path, content, words):
    path = tmp_path / "x.pt"
    if content == "folder":
        path.mkdir()
    else:
        path.write_bytes(content)
    assert words in load(path)


def test_pickled_code_is_refused_without_advice_to_run_it(tmp_path):
    import argparse  # any class outside torch's weights_only allow-list

    torch.save(
        {"format": "midifill-checkpoint", "obj": argparse.Namespace(a=1)}, tmp_path / "evil.pt"
    )
    assert "never loaded" in load(tmp_path / "evil.pt")


def test_the_unchanged_checkpoint_still_loads_and_runs(stored, tmp_path):
    torch.save(edit(stored, ("meta", "name"), "again"), tmp_path / "ok.pt")
    engine = Engine.from_checkpoint(tmp_path / "ok.pt")
    assert engine.name == "again"
    request = {
        "tracks": [{"id": "a", "notes": [[60, 0, 1, 90]]}],
        "target": {"track": "a", "start": 0, "end": 4},
        "controls": {"seed": 1},
    }
    assert engine.run(request)["variations"]


# --- metadata: nesting, size and the name (issue 30 item 8) -------------------------------


@pytest.fixture(scope="module")
def shipped(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint in the form that ships (.safetensors)."""
    from midifill.model.network.checkpoint import export_checkpoint

    out = tmp_path_factory.mktemp("shipped") / "tiny.safetensors"
    export_checkpoint(tiny_checkpoint, out)
    return out


DEEP_LIST = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 20_000 + "1" + "}" * 20_000


@pytest.mark.parametrize(
    "key, text, words",
    [
        ("meta", DEEP_LIST, "meta is nested more than 32 levels deep"),
        ("tokenizer_config", DEEP_OBJECT, "tokenizer_config is nested more than 32 levels deep"),
        ("model_config", DEEP_OBJECT, "model_config is nested more than 32 levels deep"),
        ("meta", '{"name": "n", "x": ' + "[" * 33 + "]" * 33 + "}", "nested more than 32"),
        (
            "meta",
            json.dumps({"name": "x", "notes": "y" * 300_000}),
            "meta is 300,026 characters of JSON; the limit is 262,144",
        ),
        ("meta", json.dumps({"name": "x" * 201}), "meta.name is 201 characters; the limit is 200"),
    ],
)
def test_safetensors_metadata_is_bounded_before_it_is_parsed(shipped, tmp_path, key, text, words):
    """A RecursionError traceback before (deep nesting); a 300 KB field or a
    201-character name loaded, and the name went into every reply."""

    bad = rewrite(shipped, tmp_path / "bad.safetensors", None, {key: text})
    assert words in load(bad)


def test_a_huge_header_is_refused_from_its_first_eight_bytes(shipped, tmp_path):
    """A 10 MB meta.name (issue 30: it loaded, then every reply was 'Message
    too long'): the header's length is read first and refused."""

    bad = rewrite(
        shipped,
        tmp_path / "bad.safetensors",
        None,
        {"meta": json.dumps({"name": "x" * 10_000_000})},
    )
    started = time.perf_counter()
    message = load(bad)
    assert "header is 10,00" in message and "the limit is 4,194,304" in message
    assert time.perf_counter() - started < 0.5


def test_a_name_reaches_the_logs_on_one_printable_line(shipped, tmp_path):

    ok = rewrite(
        shipped,
        tmp_path / "ok.safetensors",
        None,
        {"meta": json.dumps({"name": "mine\n2026-01-01 INFO forged\x1b[2J\u202e"})},
    )
    engine = Engine.from_checkpoint(ok)
    assert engine.name == "mine?2026-01-01 INFO forged?[2J?" and engine.name.isprintable()


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("meta", "deep"), "nest", "meta is nested more than 32 levels deep"),
        (("meta", "name"), "x" * 10_000_000, "meta.name is 10,000,000 characters"),
        (("tokenizer_config", "deep"), "nest", "tokenizer_config is nested more than 32"),
        (("meta", "many"), list(range(300_000)), "meta holds more than 100,000 values"),
    ],
)
def test_torch_checkpoint_metadata_is_bounded_too(stored, tmp_path, path, value, words):
    if value == "nest":
        value = 1
        for _ in range(40):
            value = [value]
    torch.save(edit(stored, path, value), tmp_path / "bad.pt")
    assert words in load(tmp_path / "bad.pt")
