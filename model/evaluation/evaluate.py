"""`midifill eval`: how good is a model, honestly.

1. Negative log-likelihood per token on test-split sequences, beside a
   Witten-Bell n-gram fitted on training-split sequences built the same way.
2. Fill quality: blank random bar spans of random tracks of held-out pieces,
   fill them with the Engine, compare with what was there.
3. Fit (model/evaluation/fit_eval.py): 4-bar fills beside the paste baselines, random
   notes and the originals, for real multi-part music and MMA renders apart.
"""

from __future__ import annotations

import json
import logging
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import torch

from ..generation.engine import Engine
from ..histograms import histogram_overlap, pitch_class_overlap
from ..song import Note
from ..training.dataset import load_songs, make_example, midi_files
from . import metrics as M
from .fit_eval import fit_table, format_fit, held_out_groups
from .listening import chord_response
from .ngram import NGram

log = logging.getLogger("midifill.eval")
TARGETS = {
    "nll_ratio": ("<=", 0.8),
    "empty_fill_rate": ("<=", 0.01),
    "density_ratio": ("in", (0.75, 1.33)),
    "pitch_class_overlap": (">=", 0.8),
}


def add_arguments(p):
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument(
        "--data",
        default=None,
        help="corpus folder (manifest.jsonl) or MIDI folder (needed unless --devset is given)",
    )
    p.add_argument("--split", default="test")
    p.add_argument("--sequences", type=int, default=200, help="test sequences for the NLL")
    p.add_argument("--train-sequences", type=int, default=4000, help="sequences to fit the n-gram")
    p.add_argument("--order", type=int, default=5, help="n-gram order")
    p.add_argument("--fills", type=int, default=100, help="fills for the quality measures")
    p.add_argument(
        "--fit-fills",
        type=int,
        default=80,
        help="4-bar fills per group for the fit table (0: no fit table)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--devset",
        default=None,
        help="folder of real many-track songs (the "
        "out-of-corpus dev set, `midifill devset`): the real-song table for it and, "
        "with --data, the split beside it (model/evaluation/real_songs.py)",
    )
    p.add_argument(
        "--real-fills",
        type=int,
        default=60,
        help="4-bar fills per set for the real-song table (half drums)",
    )
    p.add_argument(
        "--min-tracks", type=int, default=5, help="dev-set songs with fewer tracks are left out"
    )
    p.add_argument(
        "--follow-off",
        default=None,
        metavar="JSON",
        help="controls that switch the follow-the-part controls off, for that row",
    )
    p.add_argument(
        "--json",
        default=None,
        help="write the results here (default: next to the model as NAME.eval.json)",
    )


def run(args) -> int:
    if args.data is None and args.devset is None:
        raise SystemExit("midifill eval: give --data, --devset or both")
    engine = Engine.from_checkpoint(args.model)
    if args.devset:
        return _run_real(engine, args)
    results = evaluate(
        engine,
        args.data,
        args.split,
        args.sequences,
        args.train_sequences,
        args.order,
        args.fills,
        args.seed,
    )
    print(format_table(results))
    if args.fit_fills:
        results["fit"] = {}
        for group, songs in held_out_groups(args.data, args.split, engine.tok).items():
            if songs:
                results["fit"][group] = table = fit_table(engine, songs, args.fit_fills, args.seed)
                print(
                    "\n"
                    + format_fit(f"fit: {group} ({len(songs)} songs, {args.split} split)", table)
                )
    out = Path(args.json) if args.json else Path(args.model or "midifill").with_suffix(".eval.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"written: {out}")
    return 0


def _run_real(engine: Engine, args) -> int:
    """Only the real-song table: the dev set and, with --data, the split."""
    from .real_songs import DEFAULT, run_sets
    from .real_table import format_sets

    t0 = time.time()
    engine.time_budget_s = max(engine.time_budget_s, 600)  # a busy machine is not a slow model
    follow_off = json.loads(args.follow_off) if args.follow_off else None
    sets = run_sets(
        engine,
        args.devset,
        args.data,
        args.split,
        args.real_fills,
        args.seed,
        args.min_tracks,
        follow_off,
    )
    print(format_sets(sets, DEFAULT))
    results = {
        "model": engine.name,
        "devset": str(args.devset),
        "data": args.data,
        "split": args.split,
        "seed": args.seed,
        "real": sets,
        "seconds": round(time.time() - t0, 1),
    }
    out = Path(args.json) if args.json else Path(args.model or "midifill").with_suffix(".real.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"written: {out} ({results['seconds']:.0f} s)")
    return 0


def evaluate(
    engine: Engine,
    data,
    split="test",
    sequences=200,
    train_sequences=4000,
    order=5,
    fills=100,
    seed=0,
) -> dict:
    tok, model = engine.tok, engine.model
    block = model.config.block_size
    t0 = time.time()
    test_songs, _ = load_songs(midi_files(data, split), tok)
    train_songs, _ = load_songs(midi_files(data, "train"), tok)
    if not test_songs or not train_songs:
        raise SystemExit(f"{data}: need files in both the '{split}' and 'train' splits")
    rng = random.Random(seed)
    test_seqs = [_draw(test_songs, tok, block, rng) for _ in range(sequences)]
    train_seqs = [_draw(train_songs, tok, block, rng) for _ in range(train_sequences)]
    ngram = NGram(order, tok.vocab_size).fit(train_seqs)

    model_nll = model_fill = ngram_nll = ngram_fill = 0.0
    n_tok = n_fill = 0
    with torch.no_grad():
        for seq in test_seqs:
            x = torch.tensor([seq[:-1]])
            y = torch.tensor([seq[1:]])
            logits, _ = model(x)
            lp = torch.log_softmax(logits[0], -1).gather(1, y[0, :, None])[:, 0]
            fill_from = seq.index(tok.FILL_START)  # predictions of tokens after FILL_START
            model_nll -= float(lp.sum())
            model_fill -= float(lp[fill_from:].sum())
            g_all, n = ngram.nll(seq, 1)
            g_fill, nf = ngram.nll(seq, fill_from + 1)
            ngram_nll += g_all
            ngram_fill += g_fill
            n_tok += n
            n_fill += nf
    results = {
        "model": engine.name,
        "data": str(data),
        "split": split,
        "test_songs": len(test_songs),
        "sequences": sequences,
        "tokens": n_tok,
        "ngram_order": order,
        "nll_model": model_nll / n_tok,
        "nll_ngram": ngram_nll / n_tok,
        "nll_model_fill": model_fill / n_fill,
        "nll_ngram_fill": ngram_fill / n_fill,
    }
    results["nll_ratio"] = results["nll_model"] / results["nll_ngram"]
    results["nll_ratio_fill"] = results["nll_model_fill"] / results["nll_ngram_fill"]

    def logits_of(seq):
        with torch.no_grad():
            return model(torch.tensor([seq[:-1]]))[0][0].float().numpy()

    results.update(chord_response(logits_of, test_seqs, tok))
    results.update(fill_quality(engine, test_songs, fills, rng))
    results["seconds"] = round(time.time() - t0, 1)
    results["targets"] = {k: _meets(results.get(k), *v) for k, v in TARGETS.items()}
    return results


def _draw(songs, tok, block, rng):
    while True:
        ex = make_example(rng.choice(songs), tok, block, rng, transpose=False)
        if ex is not None:
            return ex.tokens


def fill_quality(engine: Engine, songs, fills: int, rng: random.Random) -> dict:
    tok = engine.tok
    rows, latencies = [], []
    pooled_gen: Counter[int] = Counter()
    pooled_orig: Counter[int] = Counter()
    for _ in range(fills):
        song = rng.choice(songs)
        bars = song.bars()
        track = rng.choice(song.tracks)
        span = min(len(bars), rng.choice([1, 2, 4]))
        b0 = rng.randrange(0, len(bars) - span + 1)
        start, end = bars[b0].start, bars[b0 + span - 1].end
        original = [n for n in track.notes if start <= n.start < end]
        if not original:
            continue
        req = dict(
            song.to_payload(),
            mode="fill",
            target={"track": track.id, "start": start, "end": end},
            controls={"seed": rng.randrange(2**31)},
        )
        t = time.perf_counter()
        resp = engine.run(req)
        latencies.append((time.perf_counter() - t) * 1000)
        gen = [Note.from_list(n) for n in resp["variations"][0]["notes"]]
        row = {"drum": track.is_drum, "empty": not gen, "n_orig": len(original), "n_gen": len(gen)}
        if track.is_drum:
            starts = [b.start for b in bars]
            row["onset_overlap"] = histogram_overlap(
                M.onset_positions(gen, starts, tok.tpb),
                M.onset_positions(original, starts, tok.tpb),
            )
        elif gen:
            tonic = M.tonic_of(track.notes)
            pooled_gen.update(M.scale_degrees(gen, tonic))
            pooled_orig.update(M.scale_degrees(original, tonic))
            scale = M.best_scale(track.notes)
            row.update(
                pc_overlap=pitch_class_overlap(gen, original),
                in_scale=M.in_scale_ratio(gen, scale),
                in_scale_orig=M.in_scale_ratio(original, scale),
                range_overlap=M.range_overlap(gen, original),
                poly_gen=M.polyphony(gen),
                poly_orig=M.polyphony(original),
            )
        rows.append(row)

    def mean(key, where=lambda r: True):
        vals = [r[key] for r in rows if key in r and where(r)]
        return round(statistics.fmean(vals), 4) if vals else None

    pitched = [r for r in rows if not r["drum"]]
    return {
        "fills": len(rows),
        "fills_drums": sum(r["drum"] for r in rows),
        "empty_fill_rate": round(sum(r["empty"] for r in rows) / max(1, len(rows)), 4),
        "density_ratio": round(
            sum(r["n_gen"] for r in rows) / max(1, sum(r["n_orig"] for r in rows)), 4
        ),
        "pitch_class_overlap": mean("pc_overlap"),
        "pitch_class_overlap_pooled": round(histogram_overlap(pooled_gen, pooled_orig), 4),
        "in_scale_ratio": mean("in_scale"),
        "in_scale_ratio_original": mean("in_scale_orig"),
        "pitch_range_overlap": mean("range_overlap"),
        "polyphony_generated": mean("poly_gen"),
        "polyphony_original": mean("poly_orig"),
        "drum_onset_overlap": mean("onset_overlap"),
        "fill_latency_ms_median": round(statistics.median(latencies), 1) if latencies else None,
        "pitched_fills": len(pitched),
    }


def _meets(value, op, bound):
    if value is None:
        return None
    if op == "<=":
        return value <= bound
    if op == ">=":
        return value >= bound
    return bound[0] <= value <= bound[1]


def format_table(r: dict) -> str:
    def f(v):
        return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = [
        f"model {r['model']} on {r['data']} ({r['split']} split, {r['test_songs']} songs)",
        "",
        f"{'measure':34} {'value':>10}   target",
        f"{'NLL/token, model (nats)':34} {f(r['nll_model']):>10}",
        f"{'NLL/token, ' + str(r['ngram_order']) + '-gram baseline':34} {f(r['nll_ngram']):>10}",
        f"{'NLL ratio model/n-gram':34} {f(r['nll_ratio']):>10}   <= 0.8 "
        f"{_mark(r['targets']['nll_ratio'])}",
        f"{'NLL ratio, fill tokens only':34} {f(r['nll_ratio_fill']):>10}",
        f"{'chord response (true - moved)':34} {f(r.get('chord_response')):>10}   "
        f"({f(r.get('chord_mass'))} - {f(r.get('chord_mass_moved'))})",
        f"{'fills measured (drums)':34} {r['fills']:>10}   ({r['fills_drums']})",
        f"{'empty fills where original had notes':34} {f(r['empty_fill_rate']):>10}   <= 0.01 "
        f"{_mark(r['targets']['empty_fill_rate'])}",
        f"{'note-density ratio gen/orig':34} {f(r['density_ratio']):>10}   0.75-1.33 "
        f"{_mark(r['targets']['density_ratio'])}",
        f"{'pitch-class histogram overlap':34} {f(r['pitch_class_overlap']):>10}   >= 0.8 "
        f"{_mark(r['targets']['pitch_class_overlap'])}",
        f"{'  pooled over fills, from the tonic':34} {f(r['pitch_class_overlap_pooled']):>10}",
        f"{'in-scale ratio (original)':34} {f(r['in_scale_ratio']):>10}   "
        f"({f(r['in_scale_ratio_original'])})",
        f"{'pitch-range overlap':34} {f(r['pitch_range_overlap']):>10}",
        f"{'polyphony gen (original)':34} {f(r['polyphony_generated']):>10}   "
        f"({f(r['polyphony_original'])})",
        f"{'drum onset-position overlap':34} {f(r['drum_onset_overlap']):>10}",
        f"{'fill latency median (ms)':34} {f(r['fill_latency_ms_median']):>10}",
    ]
    return "\n".join(lines)


def _mark(ok):
    return "" if ok is None else ("met" if ok else "NOT met")
