"""The Engine: request dict in, response dict out. Every face calls this.

A fill of more than CHUNK_BARS bars is written in chunks of at most that
many bars, each chunk seeing the bars written before it, so a long fill
never outgrows the model's block.
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import Cancelled, CheckpointError, TooSlow
from ..limits import CHUNK_BARS
from ..network.checkpoint import load_weights
from ..network.checkpoint_check import check_tokenizer
from ..network.tokenizer import Tokenizer
from ..network.weights import Weights
from ..song import Note, Song, Track
from . import choose, decoders, follow
from .agreement import applies
from .fast_c import CSampler
from .grammar import FillState
from .groove_lean import GrooveBars
from .harmony import Sounding
from .line_lean import LineBars
from .nearby import nearby_bars, nearby_density, nearby_notes, nearby_velocities
from .prompt import build_prompt
from .request import FillRequest, parse_request
from .rows import draw_rows
from .sampling import Noise, Step, apply_filters, sample
from .targets import fill_order, role

BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "midifill-small-v6.safetensors"
# The most one request may spend in the engine before it ends with TooSlow
# (code too_slow) instead of holding the worker: the documented ceiling
# (docs/osc.md, Limits). MIDIFILL_TIME_BUDGET_S overrides it.
TIME_BUDGET_S = float(os.environ.get("MIDIFILL_TIME_BUDGET_S", "30"))


class Engine:
    time_budget_s = TIME_BUDGET_S  # per request; set on an instance to change it
    # False: filter and draw row by row (the reference, tests/model/generation/test_rows.py)
    rows_together = True
    _deadline: float | None = None  # perf_counter time the running request must end by

    def __init__(
        self,
        model,
        tokenizer: Tokenizer,
        name: str = "midifill",
        meta: dict | None = None,
        decoder: str | None = None,
    ):
        """`model`: the network's `Weights`, or a torch `Transformer`.
        `decoder`: "auto" (compiled where a C compiler is found, else NumPy),
        "compiled", "numpy" or "reference" (model/generation/decoders.py); None: auto
        unless MIDIFILL_DECODER names one."""
        self.weights = model if isinstance(model, Weights) else Weights.from_model(model)
        self.config = self.weights.config
        if tokenizer.vocab_size != self.config.vocab_size:
            raise CheckpointError(
                f"tokenizer vocabulary {tokenizer.vocab_size} != model "
                f"vocabulary {self.config.vocab_size}"
            )
        self.decoder = decoders.build(decoder, self.weights)
        # the same draws as sampling.sample (model/generation/sample_step.c), compiled
        # where it builds, whichever decoder runs
        self.sample = CSampler.build() or sample
        self.tok = tokenizer
        self.name = name
        self.meta = meta or {}

    @property
    def model(self):
        """The torch Transformer of these weights (built on first use: this
        imports torch; inference does not need it)."""
        return self.weights.module()

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, decoder: str | None = None) -> Engine:
        """Load a .safetensors file or a torch checkpoint; with no path, the
        bundled model."""
        if path is None:
            path = BUNDLED_MODEL
            if not path.is_file():
                raise CheckpointError(
                    f"the bundled model {path.name} is not in {path.parent}; "
                    "train one with `midifill train` or pass a checkpoint path"
                )
        weights = load_weights(path)  # config and tensors checked there
        tok = check_tokenizer(weights.tokenizer_config, weights.config.vocab_size, str(path))
        return cls(weights, tok, weights.meta.get("name", Path(path).stem), weights.meta, decoder)

    # --- the contract -------------------------------------------------------
    def run(
        self,
        request: dict,
        progress: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> dict:
        t0 = time.perf_counter()
        req = parse_request(request, self.tok)
        # the time budget is per target: N targets may take N times one's
        self._deadline = t0 + self.time_budget_s * len(req.targets)
        seed = req.controls.seed if req.controls.seed is not None else random.randrange(2**31)
        gen = Noise(seed)
        timing = {"prefill": 0.0, "decode": 0.0}
        order = fill_order(req, self.tok.tpb)
        # variation v of every target belongs together: each target is written
        # into variation v's song, which holds the earlier targets' notes of v
        # (`generate` sees no notes of the song: with several targets, each
        # sees the earlier targets' new notes only, in a song emptied of all
        # others, and its harmony leans on them alone)
        start_song = (
            req.song
            if req.mode != "generate" or len(order) == 1
            else Song(
                [Track(t.id, t.program, t.is_drum, [], t.name) for t in req.song.tracks],
                req.song.time_signatures,
                req.song.tempos,
            )
        )
        songs = [start_song] * req.controls.variations
        written: dict[int, list[list[Note]]] = {}
        for k, i in enumerate(order):
            t = req.targets[i]
            one = dataclasses.replace(
                req, track_id=t.track_id, start=t.start, end=t.end, targets=(t,)
            )

            def step(frac, k=k):
                if progress:
                    progress((k + frac) / len(order))

            heard = tuple(
                dict.fromkeys(
                    req.targets[j].track_id
                    for j in order[:k]
                    if req.targets[j].track_id != t.track_id
                )
            )
            written[i] = self._fill(
                one,
                gen,
                timing,
                step if progress else None,
                cancel,
                songs,
                "fill" if req.mode == "generate" and k else None,
                heard,
            )
            songs = [
                s.with_notes_replaced(t.track_id, t.start, t.end, notes)
                for s, notes in zip(songs, written[i])
            ]
        timing["total"] = (time.perf_counter() - t0) * 1000
        out = {
            "model": self.name,
            "seed": seed,
            "timing_ms": {k: round(v, 1) for k, v in timing.items()},
        }
        if not req.multi:
            return {
                "variations": [{"notes": [n.to_list() for n in notes]} for notes in written[0]],
                **out,
            }
        return {
            "variations": [
                {
                    "targets": [
                        {
                            "track": t.track_id,
                            "start": t.start,
                            "end": t.end,
                            "notes": [n.to_list() for n in written[i][v]],
                        }
                        for i, t in enumerate(req.targets)
                    ]
                }
                for v in range(req.controls.variations)
            ],
            "order": order,
            **out,
        }

    # --- the work -----------------------------------------------------------
    def _fill(
        self,
        req: FillRequest,
        gen,
        timing,
        progress,
        cancel,
        songs: list | None = None,
        prompt_mode: str | None = None,
        heard: tuple[str, ...] = (),
    ) -> list[list[Note]]:
        """The variations of req's one target. `songs`: the song each
        variation is written into (the earlier targets' notes of that
        variation in it); by default req.song for all. The part's own nearby
        bars are read from req.song, as the request gave them. `prompt_mode`:
        the mode the prompts are built in, by default req.mode. `heard`: the
        tracks of the targets written before this one, which its prompts
        keep before any other track."""
        tok = self.tok
        song = req.song
        # a new target may reach further; each song read once (variations share one)
        ends = [s.end_beat for s in {id(s): s for s in (song, *(songs or ()))}.values()]
        bars = song.bars(until=max(req.end, *ends))
        lo_tick, hi_tick = tok.range_ticks(req.start, req.end)
        b0 = next(
            i for i, b in enumerate(bars) if tok.to_tick(b.start) + tok.bar_ticks(b) > lo_tick
        )
        b1 = (
            next(
                i for i, b in enumerate(bars) if tok.to_tick(b.start) + tok.bar_ticks(b) >= hi_tick
            )
            + 1
        )
        chunks = [(c, min(c + CHUNK_BARS, b1)) for c in range(b0, b1, CHUNK_BARS)]
        track = song.track(req.track_id)
        # the part's own nearby bars, read once: every control the request
        # leaves AUTO is set from them here, before any chunk (follow.py)
        # (`generate` writes a new part: it reads none of them)
        following = req.mode != "generate"
        near = nearby_bars(bars, b0, b1)
        part, _ = nearby_notes(track, bars, b0, b1)
        prof = (
            follow.profile(tok, song, track, part, [bars[i] for i in near])
            if following
            else follow.EMPTY
        )
        controls = follow.resolve(req.controls, prof, track, req.mode, tok)
        grid = follow.feel_grid(controls.feel, prof, tok.tpb)
        # the part's own bars as hits, read once, for controls.groove_lean (groove_lean.py)
        groove = GrooveBars(prof.drum_hits) if track.is_drum and controls.groove_lean else None
        line = LineBars(prof.line_notes) if not track.is_drum and controls.line_lean else None
        min_dur = follow.min_duration(controls, prof, tok)
        density = None
        if controls.density is not None and controls.density > 0:
            density = tok.density_level(controls.density)
        elif controls.density is None and following:
            density = nearby_density(tok, part, len(near))
        velocities = nearby_velocities(tok, part) if following else None
        n = controls.variations
        songs = list(songs or [song] * n)
        shared = all(s is songs[0] for s in songs)  # one song: the variations share prompts
        # the other tracks' harmony, the same for every chunk (only the target
        # changes), per variation where the variations' songs differ
        harmony = controls.harmony > 0 and not track.is_drum
        soundings = {
            id(s): Sounding.of(s, req.track_id, lo_tick, hi_tick, tok.tpb) if harmony else None
            for s in songs
        }
        sounding = [soundings[id(s)] for s in songs]
        # more fills are sampled than asked for and those closest to the part
        # kept (choose.py): a pitched part's by pitch classes where it has notes
        # nearby, a drum part's by groove where controls.groove is on
        by_groove = track.is_drum and bool(controls.groove and any(prof.drum_bars))
        # a target written after others is also chosen by how well it agrees
        # with their new notes over the same bars (agreement.py)
        roles = (
            {tid: role(song.track(tid), tok.tpb) for tid in (req.track_id, *heard)} if heard else {}
        )
        agreeing = [h for h in heard if applies(roles[req.track_id], roles[h])]
        choosing = controls.candidates > 1 and (
            (following and bool(part) and (not track.is_drum or by_groove)) or bool(agreeing)
        )
        results: list[list[Note]] = [[] for _ in range(n)]
        for ci, (c0, c1) in enumerate(chunks):
            lo = max(lo_tick, tok.to_tick(bars[c0].start))
            hi = min(hi_tick, tok.to_tick(bars[c1 - 1].start) + tok.bar_ticks(bars[c1 - 1]))
            # the first chunk shares one prompt, so all variations run as one batch;
            # later chunks see each variation's own earlier bars
            groups = [list(range(n))] if ci == 0 and shared else [[v] for v in range(n)]
            for rows in groups:
                # bars of earlier chunks are shown as written, later ones stay blank
                prompt = build_prompt(
                    tok,
                    songs[rows[0]],
                    bars,
                    req.track_id,
                    (c0, c1),
                    (c0, b1),
                    lo,
                    hi,
                    prompt_mode or req.mode,
                    self.config.block_size,
                    density,
                    written_from=b0,
                    first=heard,
                )
                prompt.plan.sounding = sounding[rows[0]]
                prompt.plan.velocities = velocities
                prompt.plan.grid, prompt.plan.min_dur = grid, min_dur
                prompt.plan.groove, prompt.plan.line = groove, line

                def report(frac, ci=ci):
                    if progress:
                        progress((ci + frac) / len(chunks))

                width = (
                    choose.pool_size(len(rows), n, controls.candidates) if choosing else len(rows)
                )
                # a drum pool chosen by groove keeps its best half after the
                # first bar (choose.first_bar_pruner): the rest decode at half the rows
                prune = None
                if choosing and by_groove and following and part and not agreeing:
                    prune = choose.first_bar_pruner(
                        prompt.plan, lo, hi, tok.tpb, prof.drum_bars, max(len(rows), width // 2)
                    )
                states = self._decode(
                    prompt, width, density, controls, gen, timing, report, cancel, prune
                )
                fills = [
                    [
                        Note(p, t / tok.tpb, d / tok.tpb, tok.bin_velocity(vel))
                        for t, p, d, vel in st.notes
                    ]
                    for st in states
                ]
                kept: range | list[int] = range(len(rows))
                if choosing:
                    b_lo, b_hi = lo / tok.tpb, hi / tok.tpb
                    kept = choose.choice(
                        fills,
                        len(rows),
                        tok.tpb,
                        part=part if following and not track.is_drum else None,
                        groove=(prompt.plan.bars, b_lo, b_hi, prof.drum_bars)
                        if following and part and by_groove
                        else None,
                        role=roles.get(req.track_id, 0),
                        heard=[
                            (roles[h], songs[rows[0]].track(h).notes_in(b_lo, b_hi))
                            for h in agreeing
                        ],
                    )
                for v, notes in zip(rows, (fills[i] for i in kept)):
                    results[v] += notes
                    seg_start, seg_end = lo / tok.tpb, hi / tok.tpb
                    songs[v] = songs[v].with_notes_replaced(req.track_id, seg_start, seg_end, notes)
        if progress:
            progress(1.0)
        return [sorted(r, key=lambda x: (x.start, x.pitch)) for r in results]

    def _decode(self, prompt, batch, density, controls, gen, timing, report, cancel, prune=None):
        t0 = time.perf_counter()
        run = self.decoder.start(prompt.tokens, batch, prompt.plan.max_tokens)
        t1 = time.perf_counter()
        timing["prefill"] += (t1 - t0) * 1000
        with run:
            states = self._decode_loop(
                run, prompt, batch, density, controls, gen, report, cancel, prune
            )
        timing["decode"] += (time.perf_counter() - t1) * 1000
        return states

    def _decode_loop(self, run, prompt, batch, density, controls, gen, report, cancel, prune=None):
        """Sample a token for every row that is not done, step the decoder on
        them, until every row has closed its fill. Rows that finish leave the
        batch, so the rest decode at their own cost. The rows that draw are
        filtered and drawn together (model/generation/rows.py), or one by one
        where `rows_together` is off (the reference they are tested against)."""
        tok = self.tok
        logits, at = run.logits, list(range(batch))  # at[b]: row b's line of logits
        states = [FillState(tok, prompt.plan, density) for _ in range(batch)]
        n_bars = len(prompt.plan.bars)
        memo: dict = {}  # the fixed filters' masks of this plan and these controls (rows.py)
        dropped: set[int] = set()  # rows `prune` left out
        if n_bars < 2:
            prune = None
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled("the request was cancelled")
            if self._deadline is not None and time.perf_counter() > self._deadline:
                raise TooSlow(
                    f"the request ran past the engine's time budget of "
                    f"{self.time_budget_s:g} s; ask for fewer bars, variations "
                    "or candidates"
                )
            if prune is not None and all(st.done or st.bar_i >= 1 for st in states):
                dropped = set(range(batch)) - set(prune(states))
                prune = None
            going = [b for b, st in enumerate(states) if not st.done and b not in dropped]
            drawn = [b for b in going if not states[b].forced]
            steps = [Step(states[b], controls) for b in drawn]
            if self.rows_together and drawn:
                lines = [at[b] for b in drawn]
                tokens = draw_rows(self.sample, logits, lines, steps, controls, gen, memo)
            else:
                tokens = [
                    self.sample(apply_filters(logits[at[b]], s), controls, gen)
                    for b, s in zip(drawn, steps)
                ]
            chosen = dict(zip(drawn, tokens))
            for b in going:
                st = states[b]
                t = chosen[b] if b in chosen else st.forced[0]
                st.advance(t)
                chosen[b] = t
            live = [b for b in going if not states[b].done]
            if not live:
                break
            report(sum(max(st.bar_i, 0) for st in states) / (batch * n_bars))
            logits = run.step([chosen[b] for b in live], live)
            at = [0] * batch
            for i, b in enumerate(live):
                at[b] = i
        return [st for b, st in enumerate(states) if b not in dropped]
