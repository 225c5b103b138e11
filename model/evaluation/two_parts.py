"""Two parts filled together against the same two filled one at a time.

On real many-track songs (the out-of-corpus dev set, docs/devset.md), a
4-bar span with 8 bars of context on each side where both parts of a pair
play: drums + bass, or bass + harmony (roles as model/generation/targets.py
reads them). Three systems write the pair:

- "together": one request of two targets (the engine's default order, so
  the drums, or the bass, first and the other written hearing them);
- "one at a time": two one-target requests on the original song, each part
  written against the other's old notes, then put together;
- "the original".

"together" and "one at a time" use one seed per case: the first part of
the pair is then the same notes in both (the first target of a request is
written exactly as a one-target request), so the two differ only in what
the second part heard. Measured on the pair's span:

- kick-bass agreement (drums + bass): F1 between the kick's and the bass's
  onsets on a 16th grid;
- pair fit (bass + harmony): share of the two parts' notes whose pitch
  class the other part sounds at the note's onset (harmony.harmonic_fit,
  the song holding only the pair);
- the second part's classifier AUC (real bars against written ones,
  fit.bar_features or drum_metrics.bar_features, in the song as written).

    nice -n 10 python -m midifill.model.evaluation.two_parts DEVSET_DIR --spans 20
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from ..generation.agreement import kick_bass_f1, pair_fit
from ..generation.targets import BASS, DRUMS, HARMONY, role
from ..song import Note, Song, Track
from . import fit as F
from .fit_eval import CONTEXT, SPAN, Case
from .real_songs import load_folder

PAIRS = {"drums + bass": (DRUMS, BASS), "bass + harmony": (BASS, HARMONY)}
SYSTEMS = ("together", "one at a time", "the original")


def draw_pairs(
    songs: list[Song],
    roles: tuple[int, int],
    tpb: int,
    rng: random.Random,
    per_song: int = 1,
    limit: int = 20,
    tries: int = 40,
) -> list[tuple[Song, Track, Track, list, int]]:
    """Up to `per_song` spans a song and `limit` in all, (song, part A, part
    B, bars, b0), where a track of each role plays in the span and every bar
    of the window has one length."""
    out: list = []
    for song in songs:
        if len(out) >= limit:
            break
        by_role: dict = {}
        for t in song.tracks:
            if t.notes:
                by_role.setdefault(role(t, tpb), []).append(t)
        if not all(r in by_role for r in roles):
            continue
        bars = song.bars()
        if len(bars) < SPAN + 2 * CONTEXT:
            continue
        found = 0
        for _ in range(tries):
            if found == per_song:
                break
            b0 = rng.randrange(CONTEXT, len(bars) - SPAN - CONTEXT + 1)
            if len({b.beats for b in bars[b0 - CONTEXT : b0 + SPAN + CONTEXT]}) > 1:
                continue
            start, end = bars[b0].start, bars[b0 + SPAN - 1].end
            a = [t for t in by_role[roles[0]] if t.notes_in(start, end)]
            b = [t for t in by_role[roles[1]] if t.notes_in(start, end) and t not in a]
            if a and b:
                out.append((song, rng.choice(a), rng.choice(b), bars, b0))
                found += 1
    return out


def _fill(engine, song, targets, seed):
    req = dict(song.to_payload(), mode="fill", controls={"seed": seed})
    if len(targets) == 1:
        req["target"] = targets[0]
    else:
        req["targets"] = targets
    resp = engine.run(req)
    v = resp["variations"][0]
    parts = [x["notes"] for x in v["targets"]] if "targets" in v else [v["notes"]]
    return [[Note.from_list(n) for n in p] for p in parts], resp["timing_ms"]["total"]


def write_pair(engine, case, seed: int) -> dict:
    """{system: (notes of A, notes of B)}, and the fill times (ms)."""
    song, a, b, bars, b0 = case
    start, end = bars[b0].start, bars[b0 + SPAN - 1].end
    ta, tb = ({"track": t.id, "start": start, "end": end} for t in (a, b))
    (ja, jb), t_joint = _fill(engine, song, [ta, tb], seed)
    (sa,), t_a = _fill(engine, song, [ta], seed)
    (sb,), t_b = _fill(engine, song, [tb], seed)
    inside = lambda t: [n for n in t.notes if start <= n.start < end]  # noqa: E731
    return {
        "together": (ja, jb),
        "one at a time": (sa, sb),
        "the original": (inside(a), inside(b)),
        "ms": (t_joint, t_a + t_b),
    }


def table(engine, songs: list[Song], seed: int = 0, per_song: int = 1, limit: int = 20) -> dict:
    tpb = engine.tok.tpb
    out = {}
    for name, roles in PAIRS.items():
        cases = draw_pairs(songs, roles, tpb, random.Random(seed), per_song, limit)
        rng = random.Random(seed + 1)
        agree: dict[str, list] = {s: [] for s in SYSTEMS}
        bars: dict[str, list] = {s: [] for s in SYSTEMS}
        times = []
        for case in cases:
            song, a, b, all_bars, b0 = case
            start, end = all_bars[b0].start, all_bars[b0 + SPAN - 1].end
            written = write_pair(engine, case, rng.randrange(2**31))
            times.append(written.pop("ms"))
            c = Case(song, b, all_bars, b0)
            for system, (na, nb) in written.items():
                agree[system].append(
                    kick_bass_f1(na, nb) if roles[0] == DRUMS else pair_fit(na, nb, tpb)
                )
                heard = song.with_notes_replaced(a.id, start, end, na).with_notes_replaced(
                    b.id, start, end, nb
                )
                for bar in c.fill_bars:
                    bars[system].append(
                        F.bar_features(nb, bar, c.context, len(c.context_bars), heard, b.id, tpb)
                    )
        measure = "kick-bass onset F1" if roles[0] == DRUMS else "pair harmonic fit"
        rows = {}
        for system in SYSTEMS:
            vals = [x for x in agree[system] if x is not None]
            auc = (
                None
                if system == "the original"
                else F.classifier_auc(bars["the original"], bars[system])
            )
            rows[system] = {
                measure: round(statistics.fmean(vals), 3) if vals else None,
                "second part AUC": None if auc is None else round(auc, 3),
            }
        joint, apart = zip(*times) if times else ((), ())
        out[name] = {
            "cases": len(cases),
            "measure": measure,
            "rows": rows,
            "time_ms": {"together": round(sum(joint)), "one at a time": round(sum(apart))},
        }
    return out


def format_table(res: dict) -> str:
    lines = []
    for name, r in res.items():
        lines.append(
            f"{name} ({r['cases']} spans of {SPAN} bars): together "
            f"{r['time_ms']['together']} ms, one at a time {r['time_ms']['one at a time']} ms"
        )
        lines.append(f"| system | {r['measure']} | second part's classifier AUC |")
        lines.append("|---|---|---|")
        for system, row in r["rows"].items():
            cells = ["—" if v is None else f"{v:.3f}" for v in row.values()]
            lines.append(f"| {system} | {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("devset")
    ap.add_argument("--model", default=None)
    ap.add_argument("--spans", type=int, default=20, help="spans per pair kind at most")
    ap.add_argument("--per-song", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    from ..generation.engine import Engine

    engine = Engine.from_checkpoint(args.model)
    songs = load_folder(args.devset, engine.tok)
    random.Random(args.seed).shuffle(songs)
    t0 = time.time()
    res = table(engine, songs, args.seed, args.per_song, args.spans)
    res["seconds"] = round(time.time() - t0)
    print(format_table({k: v for k, v in res.items() if k != "seconds"}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
