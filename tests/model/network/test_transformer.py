"""The network: shapes, the key/value cache, checkpoints."""

import pytest
import torch

from midifill.model.errors import CheckpointError
from midifill.model.network.checkpoint import load_checkpoint, save_checkpoint
from midifill.model.network.config import ModelConfig
from midifill.model.network.transformer import KVCache, Transformer


def small():
    torch.manual_seed(0)
    return Transformer(
        ModelConfig(vocab_size=50, block_size=64, n_layer=2, n_head=2, n_embd=32)
    ).eval()


def test_forward_shapes_and_loss():
    m = small()
    x = torch.randint(0, 50, (3, 20))
    logits, loss = m(x, x)
    assert logits.shape == (3, 20, 50)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(50.0)).item(), rel=0.2)
    y = x.clone()
    y[:, 10:] = -1  # ignored positions do not count
    assert m(x, y)[1].item() != loss.item()


def test_kv_cache_matches_full_forward():
    m = small()
    x = torch.randint(0, 50, (2, 30))
    full, _ = m(x)
    cache = KVCache(m.config, 2)
    out = [m.prefill(x[:, :12], cache)]
    out.append(m.prefill(x[:, 12:20], cache))  # a second chunk after earlier positions
    for t in range(20, 30):
        out.append(m.decode(x[:, t], cache))
    assert torch.allclose(out[0], full[:, 11], atol=1e-5)
    assert torch.allclose(out[1], full[:, 19], atol=1e-5)
    assert torch.allclose(torch.stack(out[2:], 1), full[:, 20:], atol=1e-5)


def test_longer_than_block_is_refused():
    m = small()
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 65, dtype=torch.long))


def test_checkpoint_round_trip_rebuilds_the_model(tmp_path):
    m = small()
    save_checkpoint(tmp_path / "m.pt", m, {"a": 1}, {"name": "x"})
    again, tok_cfg, ckpt = load_checkpoint(tmp_path / "m.pt")
    assert again.config == m.config and tok_cfg == {"a": 1} and ckpt["meta"]["name"] == "x"
    x = torch.randint(0, 50, (1, 10))
    assert torch.equal(again(x)[0], m(x)[0])


def test_half_checkpoint_is_close(tmp_path):
    m = small()
    save_checkpoint(tmp_path / "h.pt", m, {}, half=True)
    again, _, _ = load_checkpoint(tmp_path / "h.pt")
    x = torch.randint(0, 50, (1, 10))
    assert torch.allclose(again(x)[0], m(x)[0], atol=5e-2)


def test_foreign_and_broken_files_give_clear_errors(tmp_path):
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a midifill checkpoint"):
        load_checkpoint(tmp_path / "text.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="format marker"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")
    m = small()
    save_checkpoint(tmp_path / "m.pt", m, {})
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    ckpt["model_config"]["n_embd"] = 64  # config no longer matches the weights
    torch.save(ckpt, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path / "bad.pt")


def test_pickled_code_is_refused(tmp_path):
    import argparse  # any class outside torch's weights_only allow-list

    torch.save(
        {"format": "midifill-checkpoint", "obj": argparse.Namespace(a=1)}, tmp_path / "evil.pt"
    )
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "evil.pt")
