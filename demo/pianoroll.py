"""Before/after piano rolls with the generated notes highlighted.

Uses matplotlib's object API (Figure + Agg canvas), never pyplot: pyplot keeps
global state, and the demo draws from several queue workers at once.
"""
from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from model.files import atomic_path
from model.song import Song

TRACK_COLOURS = ["#6c8ebf", "#82b366", "#9673a6", "#b85450", "#d6b656", "#5b9aa0"]
GENERATED = "#ff7f0e"
TARGET_SHADE = "#ffe9cc"


def _draw(ax, song: Song, track_id: str | None, start: float, end: float,
          highlight: bool, title: str, until: float):
    ax.axvspan(start, end, color=TARGET_SHADE, zorder=0)
    for i, track in enumerate(song.tracks):
        colour = TRACK_COLOURS[i % len(TRACK_COLOURS)]
        is_target = track.id == track_id
        normal, new = [], []
        for n in track.notes:
            (new if highlight and is_target and start <= n.start < end else normal).append(n)
        if normal:
            ax.barh([n.pitch for n in normal], [n.duration for n in normal],
                    left=[n.start for n in normal], height=0.85, color=colour,
                    alpha=0.9 if is_target else 0.45, linewidth=0, zorder=2)
        if new:
            ax.barh([n.pitch for n in new], [n.duration for n in new],
                    left=[n.start for n in new], height=0.85, color=GENERATED,
                    edgecolor="#8a3b00", linewidth=0.4, zorder=3)
    bars = song.bars(until=until)
    for bar in bars:
        ax.axvline(bar.start, color="#cccccc", linewidth=0.6, zorder=1)
    every = max(1, len(bars) // 16)  # keep the bar numbers readable on long songs
    ax.set_xticks([b.start for b in bars[::every]], [str(b.index + 1) for b in bars[::every]])
    ax.set_xlim(0, until)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel("pitch")


def draw_pianoroll(before: Song, after: Song, track_id: str | None, start: float,
                   end: float, path: str | os.PathLike, title: str = "") -> Path:
    """Save a two-panel PNG (before above, after below) to `path`, atomically.

    The target range [start, end) is shaded; in the lower panel the notes of
    the target track that start in it (the generated ones) are orange.
    """
    path = Path(path)
    until = max(before.end_beat, after.end_beat, end, 4.0)
    fig = Figure(figsize=(10, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, sharey=True)
    _draw(top, before, track_id, start, end, False, "before", until)
    _draw(bottom, after, track_id, start, end, True, "after" + (f" - {title}" if title else ""),
          until)
    bottom.set_xlabel("bar")
    pitches = [n.pitch for s in (before, after) for t in s.tracks for n in t.notes]
    if pitches:
        top.set_ylim(min(pitches) - 2, max(pitches) + 2)
    handles = [Patch(color=TRACK_COLOURS[i % len(TRACK_COLOURS)],
                     label=(t.name or f"track {t.id}")[:18]) for i, t in enumerate(after.tracks)]
    handles.append(Patch(color=GENERATED, label="generated"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
