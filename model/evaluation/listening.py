"""Does the network read the harmony it is given?

Each pitched fill bar opens with `CHORD` tokens naming the pitch classes the
other tracks sound there (model/network/tokenizer.py). At every position of a
fill whose next token is a pitch, the network puts some probability on the
pitches of those classes. The *chord response* is that mass with the true
`CHORD` tokens minus the mass on the same classes once the fill's `CHORD`
tokens are moved a tritone (everything else in the sequence unchanged). A
network that ignores its `CHORD` tokens scores 0; one that plays only what
they name, and moves with them, scores up to 1.

It needs only forward passes (no sampling), so it tells in seconds what the
fit table's "harmony off against other tracks emptied" rows tell in minutes,
and it reads the network alone: no decoding control is involved.
"""

from __future__ import annotations

import numpy as np

from ..network.tokenizer import Tokenizer

TRITONE = 6


def chord_targets(tokens: list[int], tok: Tokenizer) -> list[tuple[int, frozenset[int]]]:
    """(position, the bar's CHORD pitch classes) for each position of the fill
    section whose next token is a PITCH, in a bar that names its chord."""
    if "CHORD" not in tok.offset or tok.FILL_START not in tokens:
        return []
    plo, phi = tok.range("PITCH")
    clo, chi = tok.range("CHORD")
    out: list = []
    chord: set[int] = set()
    for i in range(tokens.index(tok.FILL_START), len(tokens) - 1):
        t = tokens[i]
        if tok.kind(t) == "BAR":
            chord = set()
        elif clo <= t < chi:
            chord.add(t - clo)
        if chord and plo <= tokens[i + 1] < phi:
            out.append((i, frozenset(chord)))
    return out


def move_chords(tokens: list[int], tok: Tokenizer, shift: int = TRITONE) -> list[int]:
    """The sequence with the fill section's CHORD tokens moved `shift` semitones."""
    clo, chi = tok.range("CHORD")
    fill_from = tokens.index(tok.FILL_START)
    return [
        clo + (t - clo + shift) % 12 if i > fill_from and clo <= t < chi else t
        for i, t in enumerate(tokens)
    ]


def chord_mass(logits: np.ndarray, pcs: frozenset[int], tok: Tokenizer) -> float:
    """The probability, among the PITCH tokens, of a pitch in `pcs`."""
    plo, phi = tok.range("PITCH")
    v = logits[plo:phi].astype(np.float64)
    p = np.exp(v - v.max())
    in_chord = np.isin(np.arange(phi - plo) % 12, sorted(pcs))
    return float(p[in_chord].sum() / p.sum())


def chord_response(logits_of, sequences: list[list[int]], tok: Tokenizer) -> dict:
    """The chord response over `sequences`; `logits_of(seq)` gives the
    network's logits (len(seq) - 1, vocab) for the next token at each
    position of seq[:-1]."""
    true, moved = [], []
    for seq in sequences:
        targets = chord_targets(seq, tok)
        if not targets:
            continue
        a, b = logits_of(seq), logits_of(move_chords(seq, tok))
        for i, pcs in targets:
            true.append(chord_mass(a[i], pcs, tok))
            moved.append(chord_mass(b[i], pcs, tok))
    if not true:
        return {
            "chord_positions": 0,
            "chord_mass": None,
            "chord_mass_moved": None,
            "chord_response": None,
        }
    t, m = float(np.mean(true)), float(np.mean(moved))
    return {
        "chord_positions": len(true),
        "chord_mass": round(t, 4),
        "chord_mass_moved": round(m, 4),
        "chord_response": round(t - m, 4),
    }
