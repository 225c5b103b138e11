"""How much of the target's own part a prompt shows, on songs of many tracks.

For every track of every song, 4-bar fills are cut where 8 bars lie on each
side, and the prompt is built as the Engine builds it (768-token block, the
density level of the part's own 16 nearby bars). Reported per kind of
target (drums, pitched): the median number of its 16 own context bars the
prompt shows, how many prompts show none, and how many other tracks they
keep. Songs are MIDI files named on the command line, or, with --demo, the
demo's examples made into 8-, 12- and 16-track songs by `layered` (their
bars repeated to 48 and parts added the way arrangements thicken: a string
pad, piano comping, a harp arpeggio, brass stabs, doubled lines, a second
and third drum kit).

    python -m midifill.model.evaluation.prompt_coverage [--demo] [FILE.mid | DIR ...]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from ..errors import MidiFileError
from ..generation.nearby import context_density
from ..generation.prompt import OWN_CONTEXT_BARS, build_prompt, own_context_shown
from ..limits import CHUNK_BARS
from ..midi_io import read_midi
from ..network.tokenizer import Tokenizer
from ..song import Note, Song, Track

BLOCK = 768
FILL_BARS = CHUNK_BARS
DEMO = Path(__file__).resolve().parents[2] / "demo" / "examples"


def _chords(song: Song, bars) -> list[list[int]]:
    """Each bar's pitch classes over the song's pitched tracks, most notes first."""
    out = []
    for bar in bars:
        count: dict[int, int] = {}
        for t in song.tracks:
            for n in t.notes:
                if not t.is_drum and bar.start <= n.start < bar.end:
                    count[n.pitch % 12] = count.get(n.pitch % 12, 0) + 1
        out.append(sorted(count, key=lambda pc: -count[pc])[:4] or [0])
    return out


def _voiced(pcs: list[int], low: int) -> list[int]:
    return sorted(low + (pc - low) % 12 for pc in pcs)


def layered(song: Song, n_tracks: int, n_bars: int = 48) -> Song:
    """`song` repeated to `n_bars` 4/4 bars with parts added until it has
    `n_tracks` tracks (at most 16)."""
    bars0 = song.bars()
    length = bars0[-1].end
    reps = -(-n_bars // len(bars0))
    tracks = [
        Track(
            t.id,
            t.program,
            t.is_drum,
            [
                Note(n.pitch, n.start + r * length, n.duration, n.velocity)
                for r in range(reps)
                for n in t.notes
            ],
            t.name,
        )
        for t in song.tracks
    ]
    base = Song(tracks, song.time_signatures, song.tempos)
    bars = base.bars()[:n_bars]
    chords = _chords(base, bars)
    lead = max(
        (t for t in tracks if not t.is_drum),
        key=lambda t: sum(n.pitch for n in t.notes) / max(1, len(t.notes)),
    )
    bass = min(
        (t for t in tracks if not t.is_drum),
        key=lambda t: sum(n.pitch for n in t.notes) / max(1, len(t.notes)),
    )

    def part(program, is_drum, make):
        return (program, is_drum, [n for b, pcs in zip(bars, chords) for n in make(b, pcs)])

    recipes = [
        part(48, False, lambda b, pcs: [Note(p, b.start, 4.0, 70) for p in _voiced(pcs, 55)]),
        part(
            0,
            False,
            lambda b, pcs: [
                Note(p, b.start + k, 0.9, 80) for k in range(4) for p in _voiced(pcs[:3], 60)
            ],
        ),
        part(
            0,
            True,
            lambda b, pcs: (
                [Note(82, b.start + k / 4, 0.1, 60) for k in range(16)]
                + [Note(54, b.start + k, 0.1, 70) for k in (1, 3)]
            ),
        ),
        part(
            46,
            False,
            lambda b, pcs: [
                Note(_voiced(pcs, 60)[k % len(pcs)] + 12 * (k // 8 % 2), b.start + k / 4, 0.25, 75)
                for k in range(16)
            ],
        ),
        part(
            61,
            False,
            lambda b, pcs: [
                Note(p, b.start + k, 0.5, 95) for k in (0, 2.5) for p in _voiced(pcs[:3], 58)
            ],
        ),
        (71, False, [Note(n.pitch - 12, n.start, n.duration, n.velocity) for n in lead.notes]),
        (33, False, [Note(n.pitch + 12, n.start, n.duration, n.velocity) for n in bass.notes]),
        part(0, True, lambda b, pcs: [Note(42, b.start + k / 2, 0.1, 80) for k in range(8)]),
        part(
            50,
            False,
            lambda b, pcs: (
                [Note(p, b.start, 2.0, 60) for p in _voiced(pcs, 67)]
                + [Note(p, b.start + 2, 2.0, 60) for p in _voiced(pcs, 67)]
            ),
        ),
        part(
            25,
            False,
            lambda b, pcs: [
                Note(p, b.start + k / 2, 0.4, 75) for k in range(8) for p in _voiced(pcs[:3], 52)
            ],
        ),
        (56, False, [Note(n.pitch, n.start, n.duration, n.velocity) for n in lead.notes]),
        part(
            0,
            True,
            lambda b, pcs: [Note(63 + k % 2, b.start + k * 0.75, 0.1, 70) for k in range(5)],
        ),
    ]
    k = 0
    while len(tracks) < min(n_tracks, 16):
        program, is_drum, notes = recipes[k % len(recipes)]
        tracks.append(Track(str(len(tracks)), program, is_drum, notes))
        k += 1
    cut = bars[-1].end
    return Song(
        [
            Track(t.id, t.program, t.is_drum, [n for n in t.notes if n.start < cut], t.name)
            for t in tracks
        ],
        song.time_signatures,
        song.tempos,
    )


def coverage(songs: list[Song], tok: Tokenizer, block: int = BLOCK) -> dict[str, list[tuple]]:
    """(own bars shown, other tracks kept, prompt tokens) per fill, by kind of target."""
    out: dict[str, list[tuple]] = {"drums": [], "pitched": []}
    for song in songs:
        bars = song.bars()
        for t in song.tracks:
            for f0 in range(OWN_CONTEXT_BARS, len(bars) - FILL_BARS - OWN_CONTEXT_BARS + 1, 6):
                f1 = f0 + FILL_BARS
                density = context_density(tok, t, bars, f0, f1)
                lo, hi = tok.to_tick(bars[f0].start), tok.to_tick(bars[f1 - 1].end)
                p = build_prompt(
                    tok, song, bars, t.id, (f0, f1), (f0, f1), lo, hi, "fill", block, density
                )
                fixed = 1 if density is not None else 0
                out["drums" if t.is_drum else "pitched"].append(
                    (
                        own_context_shown(tok, p, t.id),
                        len(p.tracks) - 1,
                        len(p.tokens) + fixed + p.plan.max_tokens,
                    )
                )
    return out


def report(out: dict[str, list[tuple]], block: int = BLOCK) -> str:
    lines = []
    for kind, rows in out.items():
        if not rows:
            continue
        shown = [r[0] for r in rows]
        lines.append(
            f"{kind}: {len(rows)} fills, own context bars shown (of 16) median "
            f"{statistics.median(shown)}, none {sum(s == 0 for s in shown)}, "
            f"other tracks kept median {statistics.median(r[1] for r in rows)}, "
            f"longest prompt + fill budget {max(r[2] for r in rows)} of {block}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="MIDI files or folders of them")
    ap.add_argument("--demo", action="store_true", help="the demo's examples at 8, 12, 16 tracks")
    ap.add_argument("--block", type=int, default=BLOCK)
    args = ap.parse_args(argv)
    tok = Tokenizer()
    songs = []
    if args.demo:
        songs += [layered(read_midi(f), n) for f in sorted(DEMO.glob("*.mid")) for n in (8, 12, 16)]
    files = [f for a in args.files for f in (sorted(a.rglob("*.mid*")) if a.is_dir() else [a])]
    for f in files:
        try:
            song = read_midi(f)
        except MidiFileError:
            continue
        song.tracks = [t for t in song.tracks if t.notes]
        if 8 <= len(song.tracks) <= 16 and all(
            tok.supports_time_signature(s.numerator, s.denominator) for s in song.time_signatures
        ):
            songs.append(song)
    print(f"{len(songs)} songs of 8-16 tracks")
    print(report(coverage(songs, tok, args.block), args.block))


if __name__ == "__main__":
    main()
