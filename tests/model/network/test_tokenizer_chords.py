"""The CHORD tokens that open each pitched fill bar: the other tracks'
harmony, computed once (model/generation/harmony.py), given to the model by the grammar
at inference and written the same way into training examples."""

import random
import shutil

import numpy as np
import pytest
import torch

from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.harmony import bar_pitch_classes
from midifill.model.generation.prompt import build_prompt, fill_chords
from midifill.model.network.checkpoint import load_checkpoint
from midifill.model.network.config import ModelConfig
from midifill.model.network.tokenizer import Tokenizer, TokenizerConfig
from midifill.model.network.transformer import Transformer, grow_vocabulary
from midifill.model.song import Bar, Note, Song, TimeSignature, Track
from midifill.model.training.dataset import make_example
from midifill.model.training.train import train

TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]
SPANS = [(0, 96), (96, 192)]


def band():
    # bar 0: C E G held the whole bar, B for one beat, F# for one 16th (passing)
    keys = Track(
        "keys",
        0,
        False,
        [
            Note(60, 0.0, 4.0),
            Note(64, 0.0, 4.0),
            Note(67, 0.0, 4.0),
            Note(71, 1.0, 1.0),
            Note(66, 2.0, 0.25),
            # bar 1: D F, and A an octave apart twice over
            Note(62, 4.0, 4.0),
            Note(65, 4.0, 2.0),
            Note(57, 6.0, 2.0),
            Note(69, 6.0, 2.0),
        ],
    )
    drums = Track("drums", 0, True, [Note(37, 0.0, 8.0), Note(42, 0.0, 8.0)])
    lead = Track("lead", 0, False, [Note(73, 0.0, 8.0)])  # the target: not its own harmony
    return Song([lead, keys, drums], [TimeSignature(0.0, 4, 4)])


def test_each_bar_names_the_classes_heard_longest_first_without_passing_notes():
    got = bar_pitch_classes(band(), "lead", SPANS, TOK.tpb, 4)
    # B sounds a quarter of C's time: kept; F# a sixteenth of it: a passing note
    assert got[0] == [0, 4, 7, 11]
    # D the whole bar; F and A half of it each (two A's count once): the lower class first
    assert got[1] == [2, 5, 9]
    assert bar_pitch_classes(band(), "lead", SPANS, TOK.tpb, 2) == [[0, 4], [2, 5]]
    assert bar_pitch_classes(band(), "lead", SPANS, TOK.tpb, 0) == [[], []]
    # the drums and the target are never heard as harmony
    assert bar_pitch_classes(band(), "keys", SPANS, TOK.tpb, 4) == [[1], [1]]


def test_the_plan_carries_them_for_pitched_fills_only():
    song, bars = band(), BARS
    ids = fill_chords(TOK, song, bars, song.track("lead"), "fill")
    assert [[TOK.names[t] for t in bar] for bar in ids] == [
        ["CHORD_0", "CHORD_4", "CHORD_7", "CHORD_11"],
        ["CHORD_2", "CHORD_5", "CHORD_9"],
    ]
    assert fill_chords(TOK, song, bars, song.track("drums"), "fill") is None
    assert fill_chords(TOK, song, bars, song.track("lead"), "generate") is None  # sees no notes
    old = Tokenizer(TokenizerConfig(chord_tokens=0))
    assert fill_chords(old, song, bars, song.track("lead"), "fill") is None
    assert "CHORD" not in old.offset and old.vocab_size == TOK.vocab_size - 12
    p = build_prompt(
        TOK, song, song.bars(until=8), "lead", (0, 2), (0, 2), 0, 192, "fill", 10_000, None
    )
    assert p.plan.chords == ids


def walk(plan, density=3, pick=None):
    st = FillState(TOK, plan, density)
    rng = random.Random(0)
    while not st.done:
        ranges = st.allowed_ranges()
        t = (
            st.forced[0]
            if st.forced
            else (
                pick(st, ranges)
                if pick
                else rng.choice([x for a, b in ranges for x in range(a, b)])
            )
        )
        st.advance(t)
    return st


def test_the_grammar_forces_each_bars_chords_right_after_its_bar_line_and_before_its_prefix():
    chords = fill_chords(TOK, band(), BARS, band().track("lead"), "fill")
    prefix = [Note(72, 0.0, 0.5, 90)]
    plan = FillPlan(BARS, 24, 192, False, prefix, 200, chords=chords)
    st = FillState(TOK, plan, 3)
    st.advance(st.forced[0])  # DENSITY_3
    st.advance(st.forced[0])  # BAR_4/4
    names = [TOK.names[t] for t in st.forced]
    assert names[:4] == ["CHORD_0", "CHORD_4", "CHORD_7", "CHORD_11"]
    assert names[4:] == ["POS_0", "PITCH_72", "VEL_22", "DUR_12"]  # the forced earlier note
    st = walk(plan)
    names = [TOK.names[t] for t in st.tokens]
    second = names.index("BAR_4/4", names.index("BAR_4/4") + 1)
    assert names[second + 1 : second + 4] == ["CHORD_2", "CHORD_5", "CHORD_9"]
    assert names[second + 4] != "CHORD_2"
    # a CHORD token the plan did not give is refused
    st = FillState(TOK, FillPlan(BARS, 0, 192, False, [], 200, chords=chords), 3)
    st.advance(st.forced[0])
    st.advance(st.forced[0])
    for _ in range(4):
        st.advance(st.forced[0])
    with pytest.raises(ValueError, match="^CHORD_3 is not allowed in phase in_bar$"):
        st.advance(TOK.ids["CHORD_3"])


@pytest.mark.parametrize("max_tokens", range(14, 40))
def test_the_budget_counts_the_chords_still_to_come(max_tokens):
    """A fill with little room still closes with every bar and its chords,
    inside its budget, however greedily it writes notes."""
    chords = [[TOK.offset["CHORD"] + pc for pc in (0, 4, 7)]] * 2

    def greedy(st, ranges):
        names = {TOK.names[t]: t for a, b in ranges for t in range(a, b)}
        for prefix in ("PITCH_", "POS_", "VEL_", "DUR_"):
            hits = sorted((n for n in names if n.startswith(prefix)), key=lambda n: names[n])
            if hits:
                return names[hits[0]]
        return min(names.values())

    st = walk(
        FillPlan(BARS, 0, 192, False, [], max_tokens, chords=chords), density=None, pick=greedy
    )
    assert len(st.tokens) <= max_tokens and st.tokens[-1] == TOK.FILL_END
    assert [TOK.names[t] for t in st.tokens].count("CHORD_4") == 2
    assert st.closing == [1 + 1 + 3, 1]


def test_training_examples_hold_the_same_chords_the_engine_gives():
    song = band()
    song.tracks[0] = Track("lead", 0, False, [Note(72 + (i % 3), i * 0.5, 0.5) for i in range(16)])
    # the target is drawn at random: each pitched track hears the other one
    want = {
        tid: [
            [f"CHORD_{pc}" for pc in bar] for bar in bar_pitch_classes(song, tid, SPANS, TOK.tpb, 4)
        ]
        for tid in ("lead", "keys")
    }
    assert want["lead"][0] == ["CHORD_0", "CHORD_4", "CHORD_7", "CHORD_11"]
    assert want["keys"][0] == ["CHORD_0", "CHORD_1", "CHORD_2"]
    rng = random.Random(3)
    seen = set()
    for _ in range(80):
        ex = make_example(song, TOK, 512, rng, transpose=False)
        if ex is None or ex.mode == "generate":
            continue
        fill = ex.tokens[ex.tokens.index(TOK.FILL_START) :]
        bars = [i for i, t in enumerate(fill) if TOK.kind(t) == "BAR"]
        heads = [
            [TOK.names[t] for t in fill[i + 1 : i + 5] if TOK.kind(t) == "CHORD"] for i in bars
        ]
        if len(bars) == 2 and any(heads):  # a pitched fill of both bars
            assert heads in (want["lead"], want["keys"])
            seen.add(heads == want["lead"])
    assert seen == {True, False}


def test_fine_tuning_an_older_checkpoint_adds_the_chord_rows_and_keeps_the_rest(
    fixtures_dir, tmp_path
):
    old = Tokenizer(TokenizerConfig(chord_tokens=0, unseen_bars=False))
    torch.manual_seed(0)
    model = Transformer(
        ModelConfig(
            vocab_size=old.vocab_size, block_size=256, n_layer=1, n_head=2, n_embd=32, dropout=0.0
        )
    )
    before = model.wte.weight.detach().clone()
    grow_vocabulary(model, TOK.vocab_size)
    assert model.lm_head.weight is model.wte.weight and model.config.vocab_size == 1067
    assert torch.equal(model.wte.weight[: old.vocab_size], before)
    assert float(model.wte.weight[old.vocab_size :].detach().std()) > 0.005
    with pytest.raises(ValueError, match="can only grow"):
        grow_vocabulary(model, 10)

    from midifill.model.network.checkpoint import save_checkpoint

    base = tmp_path / "old.pt"
    model = Transformer(
        ModelConfig(
            vocab_size=old.vocab_size, block_size=256, n_layer=1, n_head=2, n_embd=32, dropout=0.0
        )
    )
    cfg = {k: v for k, v in old.config.to_dict().items() if k != "chord_tokens"}
    save_checkpoint(base, model, cfg, {"name": "old"})
    data = tmp_path / "data"
    data.mkdir()
    for f in ("pop_4-4_tempo_change.mid", "waltz_3-4.mid"):
        shutil.copy(fixtures_dir / f, data / f)
    train(
        data=data,
        out=tmp_path / "new.pt",
        init=base,
        steps=1,
        batch_size=2,
        eval_every=1,
        eval_batches=1,
        save_every=1,
        quiet=True,
        threads=1,
    )
    tuned, tok_cfg, _ = load_checkpoint(tmp_path / "new.pt")
    assert tok_cfg["chord_tokens"] == 4 and tuned.config.vocab_size == TOK.vocab_size
    assert np.allclose(
        tuned.wte.weight[: old.vocab_size].detach().numpy(),
        model.wte.weight.detach().numpy(),
        atol=0.05,
    )


def test_some_fill_examples_are_a_new_part_beside_whole_other_tracks():
    """A share of the fill examples hides the target's own notes around the
    fill (its bars are there, empty), while the other tracks stay whole."""
    lead = Track("lead", 0, False, [Note(72 + (i % 3), i * 0.5, 0.5) for i in range(64)])
    keys = Track("keys", 0, False, [Note(p, b * 4.0, 4.0) for b in range(8) for p in (60, 64)])
    drums = Track("drums", 0, True, [Note(36, b * 1.0, 0.25) for b in range(32)])
    song = Song([lead, keys, drums], [TimeSignature(0.0, 4, 4)])
    rng = random.Random(5)
    new_part = []
    for _ in range(300):
        ex = make_example(song, TOK, 1024, rng, transpose=False)
        if ex is None or ex.mode != "fill":
            continue
        sections = []
        for t in ex.tokens[: ex.tokens.index(TOK.FILL_START)]:
            if t == TOK.TRACK:
                sections.append([])
            elif sections:
                sections[-1].append(TOK.kind(t))
        target = [sec for sec in sections if "FILL_BAR" in sec]
        others = [sec for sec in sections if "FILL_BAR" not in sec]
        assert len(target) == 1 and len(others) == 2  # every track is in the prompt
        assert all(
            k in ("PITCH", "DRUM") for sec in others for k in sec if k in ("PITCH", "DRUM")
        ) and all(sum(k in ("PITCH", "DRUM") for k in sec) for sec in others)
        own = sum(k in ("PITCH", "DRUM") for k in target[0])
        shown_bars = target[0].count("BAR")
        if shown_bars:  # the target has bars outside its fill in the prompt
            new_part.append(own == 0)
    share = sum(new_part) / len(new_part)
    assert 0.05 < share < 0.3, share  # NEW_PART_SHARE = 0.15
