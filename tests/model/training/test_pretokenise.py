"""Examples drawn once into arrays (`midifill pretokenise`) and training from them."""

import json
import random
import shutil

import numpy as np
import pytest

from midifill.model.network.tokenizer import Tokenizer, TokenizerConfig
from midifill.model.training.pretokenise import ExampleArrays, pretokenise
from midifill.model.training.train import train

TOK = Tokenizer()


@pytest.fixture(scope="module")
def arrays_file(tmp_path_factory, fixtures_dir):
    data = tmp_path_factory.mktemp("ptdata")
    for f in ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid"):
        shutil.copy(fixtures_dir / f, data / f)
    out = tmp_path_factory.mktemp("pt") / "examples.npz"
    info = pretokenise(data, out, examples=60, valid_examples=8, block_size=768, jobs=2)
    assert info["train_examples"] == 60 and info["valid_examples"] == 8
    return out


def test_examples_read_back_as_whole_training_sequences(arrays_file):
    arrays = ExampleArrays(arrays_file)
    assert arrays.tokenizer_config == TOK.config.to_dict() and arrays.block_size == 768
    for split, n in (("train", 60), ("valid", 8)):
        assert arrays.count(split) == n
        for i in range(n):
            seq = arrays.example(split, i)
            assert seq[0] == TOK.BOS and TOK.FILL_START in seq and seq[-1] == TOK.FILL_END
            assert len(seq) <= 768 and max(seq) < TOK.vocab_size
    batch = arrays.batch("train", random.Random(0), 5)
    assert [len(s) for s in batch] == sorted(len(s) for s in batch)


def test_the_file_holds_plain_arrays_only(arrays_file):
    with np.load(arrays_file, allow_pickle=False) as z:  # no pickled objects inside
        assert z["train_tokens"].dtype == np.uint16
        assert json.loads(str(z["tokenizer_config"]))["ticks_per_beat"] == 24


def test_training_from_the_file_learns_and_names_it(arrays_file, tmp_path):
    out = tmp_path / "m.pt"
    r = train(
        examples=arrays_file,
        out=out,
        steps=20,
        batch_size=4,
        lr=3e-3,
        warmup=2,
        n_layer=1,
        n_head=2,
        n_embd=32,
        block_size=768,
        dropout=0.0,
        eval_every=10,
        eval_batches=2,
        save_every=20,
        seed=3,
        quiet=True,
        device="cpu",
    )
    valid = [v for _, v in r["history"]["valid"]]
    assert valid[-1] < valid[0]
    import torch

    meta = torch.load(out, weights_only=True)["meta"]
    assert meta["data"] == str(arrays_file)


def test_a_file_cut_for_another_tokenizer_or_block_is_refused(
    arrays_file, tmp_path, tiny_checkpoint
):
    with pytest.raises(SystemExit, match="block of 768"):
        train(
            examples=arrays_file,
            out=tmp_path / "a.pt",
            steps=1,
            block_size=512,
            n_layer=1,
            n_head=2,
            n_embd=32,
            quiet=True,
            device="cpu",
        )
    other = tmp_path / "other.npz"
    with np.load(arrays_file) as z:
        parts = dict(z)
    parts["tokenizer_config"] = np.array(json.dumps(TokenizerConfig(velocity_bins=16).to_dict()))
    np.savez(other, **parts)
    with pytest.raises(SystemExit, match="another tokenizer"):  # fine-tuning a model of ours
        train(
            examples=other,
            out=tmp_path / "b.pt",
            init=tiny_checkpoint,
            steps=1,
            quiet=True,
            device="cpu",
        )


def test_asking_for_cuda_without_one_is_a_clear_refusal(arrays_file, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SystemExit, match="no CUDA device"):
        train(examples=arrays_file, out=tmp_path / "c.pt", steps=1, device="cuda", quiet=True)
