"""How well a fill fits its song: small pure measures over notes.

Each takes the fill's notes (and what it needs of the song) and returns a
number; model/evaluation/fit_eval.py runs them over the model, the paste baselines and
the originals. Times are beats; `tpb` is the tokenizer's grid (ticks a beat).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

from ..generation.harmony import harmonic_fit  # a fit measure the engine uses too
from ..histograms import histogram_overlap  # the engine's too
from ..histograms import pitch_class_overlap as pitch_class_overlap  # a fit measure (fit_eval)
from ..limits import MIN_PITCHED_BEATS  # a 32nd: a note shorter than this is "short"
from ..song import Bar, Note, Song


def bar_pattern(notes: list[Note], bar: Bar, tpb: int) -> frozenset:
    """What a bar holds, as (tick from the bar line, pitch) pairs: two bars
    with the same pattern are the same bar pasted."""
    return frozenset(
        (round((n.start - bar.start) * tpb), n.pitch)
        for n in notes
        if bar.start - 1e-9 <= n.start < bar.end - 1e-9
    )


def copy_rate(
    notes: list[Note], fill_bars: list[Bar], context: list[Note], context_bars: list[Bar], tpb: int
) -> float | None:
    """Share of the fill's non-empty bars identical to a bar of the track's
    context; None when every fill bar is empty."""
    seen = {bar_pattern(context, b, tpb) for b in context_bars} - {frozenset()}
    mine = [bar_pattern(notes, b, tpb) for b in fill_bars]
    mine = [p for p in mine if p]
    if not mine:
        return None
    return sum(p in seen for p in mine) / len(mine)


def onset_grid_agreement(a: list[Note], b: list[Note], tpb: int) -> float:
    """Overlap of the histograms of onset positions within the beat (ticks
    modulo a beat): straight 8ths, 16ths, triplets or swing, as in the original."""
    return histogram_overlap(
        Counter(round(n.start * tpb) % tpb for n in a),
        Counter(round(n.start * tpb) % tpb for n in b),
    )


def is_short(note: Note, tpb: int) -> bool:
    """Shorter than a 32nd on the tokenizer's grid (3 ticks at its 24 a beat)."""
    return round(note.duration * tpb) < round(MIN_PITCHED_BEATS * tpb)


def short_share(notes: list[Note], tpb: int) -> float | None:
    """Share of notes shorter than a 32nd; None without notes."""
    if not notes:
        return None
    return sum(is_short(n, tpb) for n in notes) / len(notes)


def bar_features(
    notes: list[Note],
    bar: Bar,
    context: list[Note],
    context_bars: int,
    song: Song,
    target_id: str,
    tpb: int,
) -> list[float]:
    """The features of one pitched bar the real-vs-generated classifier sees,
    relative to the track's own context where that makes them comparable
    across songs: notes per bar (over the context's), mean and spread of
    pitch (in context standard deviations), mean duration (log beats), mean
    velocity (over the context's), notes per onset, share of onsets on the
    8th and 16th grids, harmonic fit, pitch-class entropy, mean melodic
    interval, share of notes outside the context's pitch range."""
    inside = sorted(
        (n for n in notes if bar.start - 1e-9 <= n.start < bar.end - 1e-9),
        key=lambda n: (n.start, n.pitch),
    )
    ctx_rate = len(context) / max(1, context_bars)
    pitches = [n.pitch for n in context] or [60]
    mu, sd = statistics.fmean(pitches), statistics.pstdev(pitches) or 1.0
    ctx_vel = statistics.fmean([n.velocity for n in context]) if context else 96.0
    if not inside:
        return [0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    ps = [n.pitch for n in inside]
    onsets = Counter(round(n.start * tpb) for n in inside)
    ticks = list(onsets)
    pcs = Counter(p % 12 for p in ps)
    entropy = -sum(c / len(ps) * math.log(c / len(ps)) for c in pcs.values())
    melody = [max(n.pitch for n in inside if round(n.start * tpb) == t) for t in sorted(ticks)]
    lo, hi = min(pitches), max(pitches)
    return [
        len(inside) / max(ctx_rate, 0.5),
        (statistics.fmean(ps) - mu) / sd,
        statistics.pstdev(ps) / sd,
        math.log(statistics.fmean([max(n.duration, 1 / tpb) for n in inside])),
        statistics.fmean([n.velocity for n in inside]) / ctx_vel,
        len(inside) / len(onsets),
        sum(t % (tpb // 2) == 0 for t in ticks) / len(ticks),
        sum(t % (tpb // 4) == 0 for t in ticks) / len(ticks),
        harmonic_fit(inside, song, target_id, tpb) or 0.0,
        entropy,
        statistics.fmean([abs(a - b) for a, b in zip(melody, melody[1:])])
        if len(melody) > 1
        else 0.0,
        sum(not lo <= p <= hi for p in ps) / len(ps),
    ]


FEATURE_NAMES = [
    "notes per bar / context",
    "mean pitch (context sd)",
    "pitch spread (context sd)",
    "log mean duration",
    "velocity / context",
    "notes per onset",
    "on the 8th grid",
    "on the 16th grid",
    "harmonic fit",
    "pitch-class entropy",
    "melodic interval",
    "outside the context's range",
]


def classifier_auc(
    real: list[list[float]], generated: list[list[float]], folds: int = 5, seed: int = 0
) -> float | None:
    """Cross-validated ROC AUC of a logistic regression telling generated bars
    from real ones: 0.5 means it cannot tell them apart. None with too few
    bars of either kind to cross-validate."""
    if min(len(real), len(generated)) < 2 * folds:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = real + generated
    y = [0] * len(real) + [1] * len(generated)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, x, y, cv=cv, scoring="roc_auc").mean())


def feature_aucs(real: list[list[float]], generated: list[list[float]]) -> dict[str, float]:
    """What gives generated bars away, one feature at a time: the ROC AUC of
    that feature alone, folded so that 0.5 means no difference and 1 a
    feature that tells every bar apart, whichever way it points."""
    if not real or not generated:
        return {}
    from sklearn.metrics import roc_auc_score

    y = [0] * len(real) + [1] * len(generated)
    out = {}
    for i, name in enumerate(FEATURE_NAMES):
        auc = float(roc_auc_score(y, [r[i] for r in real] + [g[i] for g in generated]))
        out[name] = round(max(auc, 1 - auc), 3)
    return out
