"""Before/after piano rolls with the generated notes highlighted.

Uses matplotlib's object API (Figure + Agg canvas), never pyplot: pyplot keeps
global state, and the demo draws from several queue workers at once. Notes are
drawn as one PolyCollection per colour rather than a Rectangle each (barh):
with a few hundred notes the per-patch bookkeeping is most of a roll's
time, and the demo draws one per variation (the timings: docs/demo.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from midifill.model.files import atomic_path
from midifill.model.song import Song

TRACK_COLOURS = ["#6c8ebf", "#82b366", "#9673a6", "#b85450", "#d6b656", "#5b9aa0"]
GENERATED = "#ff7f0e"
TARGET_SHADE = "#ffe9cc"


def _boxes(notes, height=0.85) -> np.ndarray:
    """(n, 4, 2) corners of each note's box: start..end, pitch +- height/2."""
    x0 = np.array([n.start for n in notes])
    x1 = x0 + np.array([n.duration for n in notes])
    y = np.array([n.pitch for n in notes], dtype=float)
    lo, hi = y - height / 2, y + height / 2
    return np.stack(
        [
            np.stack([x0, lo], 1),
            np.stack([x0, hi], 1),
            np.stack([x1, hi], 1),
            np.stack([x1, lo], 1),
        ],
        axis=1,
    )


def _ids(track_ids) -> frozenset:
    """One track id, or several (a fill of several tracks)."""
    if track_ids is None:
        return frozenset()
    return frozenset([track_ids] if isinstance(track_ids, str) else track_ids)


def _draw(
    ax,
    song: Song,
    track_ids: frozenset,
    start: float,
    end: float,
    highlight: bool,
    title: str,
    until: float,
):
    ax.axvspan(start, end, color=TARGET_SHADE, zorder=0)
    for i, track in enumerate(song.tracks):
        colour = TRACK_COLOURS[i % len(TRACK_COLOURS)]
        is_target = track.id in track_ids
        normal, new = [], []
        for n in track.notes:
            (new if highlight and is_target and start <= n.start < end else normal).append(n)
        if normal:
            ax.add_collection(
                PolyCollection(
                    _boxes(normal),
                    facecolors=colour,
                    linewidths=0,
                    alpha=0.9 if is_target else 0.45,
                    zorder=2,
                )
            )
        if new:
            # outlined in the track's colour: several tracks filled stay apart
            ax.add_collection(
                PolyCollection(
                    _boxes(new),
                    facecolors=GENERATED,
                    edgecolors=colour if len(track_ids) > 1 else "#8a3b00",
                    linewidths=1.2 if len(track_ids) > 1 else 0.4,
                    zorder=3,
                )
            )
    bars = song.bars(until=until)
    # bar lines from below the lowest to above the highest pitch there is
    ax.vlines([b.start for b in bars], -1, 128, color="#cccccc", linewidth=0.6, zorder=1)
    every = max(1, len(bars) // 16)  # keep the bar numbers readable on long songs
    ax.set_xticks([b.start for b in bars[::every]], [str(b.index + 1) for b in bars[::every]])
    ax.set_xlim(0, until)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel("pitch")


def draw_pianoroll(
    before: Song,
    after: Song,
    track_ids,
    start: float,
    end: float,
    path: str | os.PathLike,
    title: str = "",
) -> Path:
    """Save a two-panel PNG (before above, after below) to `path`, atomically.

    `track_ids` is the target track's id, or the ids of every track filled.
    The target range [start, end) is shaded; in the lower panel the notes of
    each target track that start in it (the generated ones) are orange,
    outlined in their track's colour when several tracks were filled.
    """
    track_ids = _ids(track_ids)
    path = Path(path)
    until = max(before.end_beat, after.end_beat, end, 4.0)
    # fixed margins: constrained layout measured every text on each draw
    fig = Figure(figsize=(10, 5.2), dpi=100)
    fig.subplots_adjust(left=0.06, right=0.84, top=0.94, bottom=0.09, hspace=0.28)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, sharey=True)
    _draw(top, before, track_ids, start, end, False, "before", until)
    _draw(
        bottom,
        after,
        track_ids,
        start,
        end,
        True,
        "after" + (f" - {title}" if title else ""),
        until,
    )
    bottom.set_xlabel("bar")
    pitches = [n.pitch for s in (before, after) for t in s.tracks for n in t.notes]
    lo, hi = (min(pitches), max(pitches)) if pitches else (48, 72)
    top.set_ylim(lo - 2, hi + 2)  # collections do not move the limits themselves
    handles = [
        Patch(color=TRACK_COLOURS[i % len(TRACK_COLOURS)], label=(t.name or f"track {t.id}")[:18])
        for i, t in enumerate(after.tracks)
    ]
    handles.append(Patch(color=GENERATED, label="generated"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.85, 0.94), fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
