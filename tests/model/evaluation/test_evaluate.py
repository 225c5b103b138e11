"""`midifill eval` on a tiny model, and the pieces it is made of."""

import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from midifill.model.evaluation import metrics as M
from midifill.model.evaluation.ngram import NGram
from midifill.model.song import Note
from tests.support import ROOT


def test_ngram_is_normalised_and_learns():
    seqs = [[1, 2, 3, 4] * 5, [1, 2, 3, 5] * 5]
    g = NGram(3, 8).fit(seqs)
    for h in [(), (2,), (2, 3), (7, 7)]:
        assert sum(g.prob(h, w) for w in range(8)) == pytest.approx(1.0)
    assert g.prob((2,), 3) > 0.8 and g.prob((7,), 6) > 0
    assert g.nll([1, 2, 3, 4], 1)[0] < NGram(1, 8).fit(seqs).nll([1, 2, 3, 4], 1)[0]


def test_metrics():
    a = [Note(60, 0, 1, 90), Note(64, 0, 1, 90), Note(67, 1, 1, 90)]
    b = [Note(61, 0, 1, 90)]
    assert M.best_scale(a) >= {0, 4, 7} and M.in_scale_ratio(b, M.best_scale(a)) == 0
    assert M.range_overlap(a, a) == 1 and M.range_overlap(a, b) == pytest.approx(1 / 8)
    assert M.polyphony(a) == pytest.approx(1.5)
    assert M.onset_positions(a, [0.0], 24) == Counter({0: 2, 24: 1})
    assert M.tonic_of(a) == 0 and M.scale_degrees(a, 7) == Counter({5: 1, 9: 1, 0: 1})


def test_eval_command_on_a_tiny_model(tiny_checkpoint, fixtures_dir, tmp_path):
    rows = [
        ("pop_4-4_tempo_change.mid", "train"),
        ("waltz_3-4.mid", "train"),
        ("jig_6-8.mid", "test"),
    ]
    for name, _ in rows:
        shutil.copy(fixtures_dir / name, tmp_path / name)
    (tmp_path / "manifest.jsonl").write_text(
        "\n".join(json.dumps({"path": n, "split": s}) for n, s in rows)
    )
    out = tmp_path / "eval.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "eval",
            "--model",
            str(tiny_checkpoint),
            "--data",
            str(tmp_path),
            "--sequences",
            "6",
            "--train-sequences",
            "30",
            "--fills",
            "4",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "NLL ratio model/n-gram" in r.stdout
    res = json.loads(out.read_text())
    assert res["nll_model"] > 0 and res["nll_ngram"] > 0
    assert res["nll_ratio"] == pytest.approx(res["nll_model"] / res["nll_ngram"])
    assert res["fills"] >= 1 and res["empty_fill_rate"] == 0.0
    assert "chord response" in r.stdout and "chord_response" in res
