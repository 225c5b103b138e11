"""Training with shared pitch-class rows and a weighted prompt: the shared
rows change what the model computes only through their sums, a checkpoint
holds a plain model that computes the same, --resume splits the sums again,
and the loss weights fall where the fill starts."""

import torch

from midifill.model.network.checkpoint import load_checkpoint, load_weights
from midifill.model.network.config import ModelConfig
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.network.transformer import Transformer
from midifill.model.training.batches import target_weights
from midifill.model.training.shared_rows import SharedRows, attach
from midifill.model.training.train import train
from tests.support.training import SMALL, data_dir


def small_model(tok):
    torch.manual_seed(0)
    return Transformer(
        ModelConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=1, n_head=2, n_embd=16)
    ).eval()


def test_shared_rows_reach_every_pitch_of_a_class_and_the_chord_token():
    tok = Tokenizer()
    rows = SharedRows(tok, tok.vocab_size, 4)
    with torch.no_grad():
        rows.pitch_class[7] = 1.0
        rows.octave[5] = 10.0
    table = rows()
    pitch, chord = tok.offset["PITCH"], tok.offset["CHORD"]
    assert table[pitch + 55].tolist() == [1.0] * 4  # G3: class 7, octave 4
    assert table[pitch + 67].tolist() == [11.0] * 4  # G4: class 7, octave 5
    assert table[pitch + 60].tolist() == [10.0] * 4  # C4: octave 5 only
    assert table[chord + 7].tolist() == [1.0] * 4  # a CHORD row has no octave
    assert table[tok.offset["DRUM"] + 55].abs().sum() == 0  # drums share nothing
    assert table[tok.offset["VEL"] + 7].abs().sum() == 0


def test_attached_rows_start_at_zero_and_a_checkpoint_holds_their_sums(tmp_path):
    tok = Tokenizer()
    model = small_model(tok)
    idx = torch.randint(0, tok.vocab_size, (2, 12))
    before, _ = model(idx)
    attach(model, tok)
    assert torch.equal(model(idx)[0], before)  # zero rows: nothing changes
    with torch.no_grad():
        model.shared.pitch_class.normal_()
        model.shared.octave.normal_()
    trained, _ = model(idx)
    assert not torch.allclose(trained, before)
    from midifill.model.network.checkpoint import save_checkpoint

    save_checkpoint(
        tmp_path / "m.pt",
        model,
        tok.config.to_dict(),
        extra={"shared_rows": model.shared.state_dict()},
    )
    plain, _, ckpt = load_checkpoint(tmp_path / "m.pt")
    assert plain.shared is None and "shared.pitch_class" not in ckpt["state_dict"]
    assert torch.allclose(plain(idx)[0], trained, atol=1e-5)
    # the NumPy weights inference reads are the same sums
    w = load_weights(tmp_path / "m.pt")
    assert torch.allclose(torch.from_numpy(w.arrays["wte.weight"]), model.token_table(), atol=1e-6)
    # resuming splits the table again: its own part back, the same sums
    attach(plain, tok, ckpt["shared_rows"])
    assert torch.allclose(plain.wte.weight, model.wte.weight, atol=1e-5)
    assert torch.allclose(plain(idx)[0], trained, atol=1e-5)


def test_target_weights_split_at_fill_start():
    tok = Tokenizer()
    fs, a, b = tok.FILL_START, tok.offset["POS"], tok.offset["PITCH"] + 60
    x = torch.tensor([[tok.BOS, a, b, fs, a, b], [tok.BOS, a, fs, a, b, tok.PAD]])
    y = torch.tensor([[a, b, fs, a, b, a], [a, fs, a, b, a, -1]])
    w = target_weights(x, y, fs, 0.25)
    assert w.tolist() == [[0.25, 0.25, 0.25, 1, 1, 1], [0.25, 0.25, 1, 1, 1, 0]]
    assert target_weights(x, y, fs, 1.0).tolist()[1] == [1, 1, 1, 1, 1, 0]


def test_a_run_with_shared_rows_and_a_light_prompt_resumes(fixtures_dir, tmp_path):
    data, out = data_dir(fixtures_dir, tmp_path), tmp_path / "s.pt"
    run = train(
        data=data,
        out=out,
        steps=30,
        lr=3e-3,
        warmup=3,
        eval_every=15,
        save_every=15,
        seed=5,
        shared_rows=True,
        context_weight=0.3,
        **SMALL,
    )
    valid = [v for _, v in run["history"]["valid"]]
    assert valid[-1] < valid[0], valid
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["shared_rows"]["pitch_class"].abs().sum() > 0  # they were trained
    assert not any(k.startswith("shared.") for k in ckpt["state_dict"])
    more = train(
        data=data,
        out=out,
        resume=True,
        steps=36,
        lr=3e-3,
        warmup=3,
        eval_every=6,
        save_every=6,
        seed=5,
        context_weight=0.3,
        **SMALL,
    )
    assert more["step"] == 36
    after = torch.load(out, weights_only=True)
    moved = (after["shared_rows"]["pitch_class"] - ckpt["shared_rows"]["pitch_class"]).abs()
    assert moved.sum() > 0  # the resumed run went on training them
