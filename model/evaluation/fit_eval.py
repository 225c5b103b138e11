"""The fit table: the model beside what a producer could do without it.

On held-out songs, 4 bars of one track are blanked and written again by:
the model (the harmony control at its default, and off), the model with
every other track emptied from the same requests (does it listen?), the
paste baselines (the track's previous 4 bars; 4 random bars of its own
context), random notes drawn from the context, and the original. Each is
measured with model/evaluation/fit.py. Real multi-part music and MMA renders are
reported apart: the renders are easy to fit (block chords, loops).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field

from ..generation.sampling import HARMONY_DEFAULT
from ..limits import CHUNK_BARS, CONTEXT_BARS
from ..song import Bar, Note, Song, Track
from . import fit as F

SPAN = CHUNK_BARS  # bars a fill writes: one chunk
CONTEXT = CONTEXT_BARS  # bars of the track's own context on each side


@dataclass
class Case:
    """One blanked span: the song, the target track, the bars around it."""

    song: Song
    track: Track
    bars: list[Bar]
    b0: int  # first fill bar

    @property
    def fill_bars(self) -> list[Bar]:
        return self.bars[self.b0 : self.b0 + SPAN]

    @property
    def start(self) -> float:
        return self.bars[self.b0].start

    @property
    def end(self) -> float:
        return self.bars[self.b0 + SPAN - 1].end

    @property
    def context_bars(self) -> list[Bar]:
        return (
            self.bars[max(0, self.b0 - CONTEXT) : self.b0]
            + self.bars[self.b0 + SPAN : self.b0 + SPAN + CONTEXT]
        )

    def notes_in(self, bars: list[Bar]) -> list[Note]:
        return [n for n in self.track.notes for b in bars if b.start <= n.start < b.end]

    @property
    def original(self) -> list[Note]:
        return self.notes_in(self.fill_bars)

    @property
    def context(self) -> list[Note]:
        return self.notes_in(self.context_bars)


def draw_cases(songs: list[Song], n: int, rng: random.Random, tries: int = 50) -> list[Case]:
    """Up to n spans with notes in the original, at least SPAN bars of
    context before them (for the paste baseline) and bars of one length."""
    out: list[Case] = []
    for _ in range(n * tries):
        if len(out) == n or not songs:
            break
        song = rng.choice(songs)
        bars = song.bars()
        if len(bars) < 2 * SPAN + 1:
            continue
        b0 = rng.randrange(SPAN, len(bars) - SPAN + 1)
        window = bars[max(0, b0 - CONTEXT) : b0 + SPAN + CONTEXT]
        if len({b.beats for b in window}) > 1:
            continue
        track = rng.choice([t for t in song.tracks if t.notes])
        case = Case(song, track, bars, b0)
        if case.original:
            out.append(case)
    return out


# --- the systems: each writes the fill's notes for a case ------------------
def _shifted(notes: list[Note], by: float, end: float) -> list[Note]:
    return [
        Note(n.pitch, n.start + by, min(n.duration, end - n.start - by), n.velocity)
        for n in notes
        if n.start + by < end
    ]


def paste_previous(case: Case, rng: random.Random) -> list[Note]:
    src = case.bars[case.b0 - SPAN : case.b0]
    return _shifted(case.notes_in(src), case.start - src[0].start, case.end)


def paste_random(case: Case, rng: random.Random) -> list[Note]:
    """4 consecutive bars of the track's own context, before or after."""
    firsts = [b for b in range(max(0, case.b0 - CONTEXT), case.b0 - SPAN + 1)] + [
        b for b in range(case.b0 + SPAN, min(len(case.bars) - SPAN, case.b0 + CONTEXT) + 1)
    ]
    src = case.bars[rng.choice(firsts) :][:SPAN]
    return _shifted(case.notes_in(src), case.start - src[0].start, case.end)


def random_notes(case: Case, rng: random.Random) -> list[Note]:
    """The context's pitches and durations at random 16th positions, as many
    as the context has a bar."""
    ctx = case.context or case.original
    count = max(1, round(len(ctx) / max(1, len(case.context_bars)) * SPAN))
    sixteenths = int((case.end - case.start) * 4)
    out = []
    for _ in range(count):
        src = rng.choice(ctx)
        start = case.start + rng.randrange(sixteenths) / 4
        out.append(Note(src.pitch, start, min(src.duration, case.end - start), src.velocity))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def model_system(engine, harmony: float | None, alone: bool = False, candidates: int | None = None):
    """The engine with default controls but harmony (None: left out, so the
    engine follows the part); `alone`: the other tracks emptied from the
    request; `candidates`: fills sampled to keep one (None: the default)."""

    def write(case: Case, rng: random.Random) -> list[Note]:
        song = case.song
        if alone:
            song = Song(
                [
                    t if t.id == case.track.id else Track(t.id, t.program, t.is_drum, [], t.name)
                    for t in song.tracks
                ],
                song.time_signatures,
                song.tempos,
            )
        req = dict(
            song.to_payload(),
            mode="fill",
            target={"track": case.track.id, "start": case.start, "end": case.end},
            controls={"seed": rng.randrange(2**31)},
        )
        if harmony is not None:
            req["controls"]["harmony"] = harmony
        if candidates is not None:
            req["controls"]["candidates"] = candidates
        return [Note.from_list(n) for n in engine.run(req)["variations"][0]["notes"]]

    return write


# the model's rows: harmony left out (the default, following the part), the
# fixed strength a part too sparse to follow gets, and off
HARMONIES = (None, HARMONY_DEFAULT, 0.0)


def model_name(harmony: float | None) -> str:
    return (
        "model, harmony following the part (default)"
        if harmony is None
        else f"model, harmony {harmony:g}"
    )


def systems(engine, harmonies=HARMONIES) -> dict:
    out = {model_name(h): model_system(engine, h) for h in harmonies}
    # one sampled fill, kept whatever its pitch classes (model/generation/choose.py)
    out["model, one sample (candidates 1)"] = model_system(engine, None, candidates=1)
    out["model, harmony 0, other tracks emptied"] = model_system(engine, 0.0, alone=True)
    out.update(
        {
            "paste the previous 4 bars": paste_previous,
            "paste 4 random bars of the context": paste_random,
            "random notes from the context": random_notes,
            "the original": lambda case, rng: case.original,
        }
    )
    return out


# --- measuring ------------------------------------------------------------------
@dataclass
class Tally:
    fit: list[float] = field(default_factory=list)
    fit_orig: list[float] = field(default_factory=list)
    overlap: list[float] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    copies: list[float] = field(default_factory=list)
    notes: int = 0
    notes_orig: int = 0
    short: int = 0
    pitched: int = 0
    empty: int = 0
    fills: int = 0
    bars: list[list[float]] = field(default_factory=list)

    def add(self, case: Case, notes: list[Note], tpb: int) -> None:
        self.fills += 1
        self.empty += not notes
        self.notes += len(notes)
        self.notes_orig += len(case.original)
        self.grid.append(F.onset_grid_agreement(notes, case.original, tpb))
        cr = F.copy_rate(notes, case.fill_bars, case.context, case.context_bars, tpb)
        if cr is not None:
            self.copies.append(cr)
        if case.track.is_drum:
            return
        self.pitched += len(notes)
        self.short += sum(F.is_short(n, tpb) for n in notes)
        self.overlap.append(F.pitch_class_overlap(notes, case.original))
        f = F.harmonic_fit(notes, case.song, case.track.id, tpb)
        fo = F.harmonic_fit(case.original, case.song, case.track.id, tpb)
        if f is not None and fo is not None:
            self.fit.append(f)
            self.fit_orig.append(fo)
        ctx = case.context
        for bar in case.fill_bars:
            self.bars.append(
                F.bar_features(
                    notes, bar, ctx, len(case.context_bars), case.song, case.track.id, tpb
                )
            )

    def row(self, real_bars: list[list[float]] | None) -> dict:
        def mean(xs):
            return round(statistics.fmean(xs), 3) if xs else None

        return {
            "fills": self.fills,
            "harmonic_fit": mean(self.fit),
            "harmonic_fit_minus_original": mean([a - b for a, b in zip(self.fit, self.fit_orig)]),
            "pitch_class_overlap": mean(self.overlap),
            "density_ratio": round(self.notes / max(1, self.notes_orig), 3),
            "copy_rate": mean(self.copies),
            "onset_grid_agreement": mean(self.grid),
            "short_notes": round(self.short / max(1, self.pitched), 3),
            "empty_fills": round(self.empty / max(1, self.fills), 3),
            "classifier_auc": None
            if real_bars is None
            else (
                round(a, 3) if (a := F.classifier_auc(real_bars, self.bars)) is not None else None
            ),
        }


def fit_table(
    engine, songs: list[Song], fills: int = 80, seed: int = 0, harmonies=HARMONIES
) -> dict:
    """The fit table over `fills` spans of `songs`: one row per system."""
    tpb = engine.tok.tpb
    cases = draw_cases(songs, fills, random.Random(seed))
    tallies = {}
    for name, write in systems(engine, harmonies).items():
        rng = random.Random(seed + 1)  # every system sees the same draws
        tally = Tally()
        for case in cases:
            tally.add(case, write(case, rng), tpb)
        tallies[name] = tally
    real = tallies["the original"].bars
    table = {name: t.row(None if name == "the original" else real) for name, t in tallies.items()}
    for name, t in tallies.items():
        if name.startswith("model") and name != "the original":
            table[name]["feature_aucs"] = F.feature_aucs(real, t.bars)
    return table


COLUMNS = [
    ("harmonic_fit", "harm. fit"),
    ("harmonic_fit_minus_original", "- orig"),
    ("pitch_class_overlap", "pc overlap"),
    ("density_ratio", "density"),
    ("copy_rate", "copied"),
    ("onset_grid_agreement", "grid"),
    ("short_notes", "<32nd"),
    ("empty_fills", "empty"),
    ("classifier_auc", "AUC"),
]


def format_fit(title: str, table: dict) -> str:
    head = f"{'system':42}" + "".join(f"{label:>11}" for _, label in COLUMNS)
    lines = [title, head]
    for name, row in table.items():
        cells = "".join(
            f"{'—' if row[k] is None else format(row[k], '.2f'):>11}" for k, _ in COLUMNS
        )
        lines.append(f"{name:42}{cells}")
    fills = next(iter(table.values()))["fills"] if table else 0
    lines.append(
        f"({fills} fills of {SPAN} bars; harmonic fit, pc overlap, <32nd and the "
        "classifier over pitched tracks)"
    )
    default = next((r for k, r in table.items() if k.endswith("(default)")), None)
    if default and default.get("feature_aucs"):
        worst = sorted(default["feature_aucs"].items(), key=lambda kv: -kv[1])[:6]
        lines.append(
            "what gives the default model's bars away (AUC of one feature alone): "
            + ", ".join(f"{k} {v:.2f}" for k, v in worst)
        )
    return "\n".join(lines)


def held_out_groups(data, split: str, tok) -> dict[str, list[Song]]:
    """The split's multi-track songs, grouped: "real multi-part" (every source
    but MMA) and "MMA renders", from the corpus manifest; a plain folder of
    MIDI files is one group."""
    import json
    from pathlib import Path

    from ..training.dataset import load_songs, midi_files

    manifest = Path(data) / "manifest.jsonl"
    if not manifest.is_file():
        songs, _ = load_songs(midi_files(data, split), tok)
        return {"all": [s for s in songs if len(s.tracks) > 1]}
    groups: dict[str, list[Path]] = {"real multi-part": [], "MMA renders": []}
    for line in manifest.read_text().splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("split") == split:
            kind = "MMA renders" if row.get("source", "").startswith("mma/") else "real multi-part"
            groups[kind].append(Path(data) / row["path"])
    return {k: [s for s in load_songs(v, tok)[0] if len(s.tracks) > 1] for k, v in groups.items()}
