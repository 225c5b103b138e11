"""The real-song table's tallies: one per system, drums and pitched apart.

Each fill adds its measures (model/evaluation/drum_metrics.py,
part_metrics.py, fit.py); `row` reduces them. Shares over notes are pooled
over all fills (a fill of 40 hits weighs more than one of 4); measures of a
fill against its original (onset F1, pitch-class overlap, pitch offset,
copy rate) are means over fills.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..song import Note
from . import drum_metrics as D
from . import fit as F
from . import part_metrics as P
from .fit_eval import Case


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(statistics.fmean(xs), 3) if xs else None


def _r(x) -> float | None:
    return None if x is None else round(x, 3)


@dataclass
class Tally:
    fills: int = 0
    empty: int = 0
    notes: int = 0
    notes_orig: int = 0
    onsets: int = 0
    on_grid: int = 0
    on_kit: int = 0
    durations: list[float] = field(default_factory=list)
    per_fill: dict[str, list] = field(default_factory=dict)
    bars: list[list[float]] = field(default_factory=list)

    def _keep(self, name: str, value) -> None:
        self.per_fill.setdefault(name, []).append(value)

    def add(self, case: Case, notes: list[Note], tpb: int) -> None:
        self.fills += 1
        self.empty += not notes
        self.notes += len(notes)
        self.notes_orig += len(case.original)
        self.on_grid += sum(round(n.start * tpb) % (tpb // 4) == 0 for n in notes)
        self._keep("copy", F.copy_rate(notes, case.fill_bars, case.context, case.context_bars, tpb))
        if case.track.is_drum:
            self._add_drums(case, notes, tpb)
        else:
            self._add_pitched(case, notes, tpb)

    def _add_drums(self, case: Case, notes: list[Note], tpb: int) -> None:
        kit = {n.pitch for n in case.context}
        self.on_kit += sum(n.pitch in kit for n in notes)
        self._keep("f1", D.onset_f1(notes, case.original))
        for g in D.GROUP_NAMES:
            self._keep(f"f1_{g}", D.onset_f1(notes, case.original, g))
        for bar in case.fill_bars:
            self.bars.append(D.bar_features(notes, bar, case.context, case.context_bars, tpb))

    def _add_pitched(self, case: Case, notes: list[Note], tpb: int) -> None:
        self.onsets += len({round(n.start * tpb) for n in notes})
        self.durations += [n.duration for n in notes]
        self._keep("overlap", F.pitch_class_overlap(notes, case.original) if notes else 0.0)
        fit, fit_orig = (
            F.harmonic_fit(x, case.song, case.track.id, tpb) for x in (notes, case.original)
        )
        self._keep("fit", (fit, fit_orig) if fit is not None and fit_orig is not None else None)
        self._keep("offset", P.pitch_offset(notes, case.original))
        for bar in case.fill_bars:
            self.bars.append(
                F.bar_features(
                    notes, bar, case.context, len(case.context_bars), case.song, case.track.id, tpb
                )
            )

    def common(self) -> dict:
        return {
            "fills": self.fills,
            "empty_fills": _r(self.empty / max(1, self.fills)),
            "density_ratio": _r(self.notes / max(1, self.notes_orig)),
            "grid16_share": _r(self.on_grid / self.notes) if self.notes else None,
            "copy_rate": _mean(self.per_fill.get("copy", [])),
        }

    def drum_row(self, real_bars) -> dict:
        row = self.common()
        row["onset_f1"] = _mean(self.per_fill.get("f1", []))
        for g in D.GROUP_NAMES:
            row[f"onset_f1_{g}"] = _mean(self.per_fill.get(f"f1_{g}", []))
        row["kit_share"] = _r(self.on_kit / self.notes) if self.notes else None
        row["classifier_auc"] = _auc(real_bars, self.bars)
        return row

    def pitched_row(self, real_bars) -> dict:
        row = self.common()
        fits = [f for f in self.per_fill.get("fit", []) if f is not None]
        row.update(
            pitch_class_overlap=_mean(self.per_fill.get("overlap", [])),
            harmonic_fit=_mean(f for f, _ in fits),
            harmonic_fit_original=_mean(o for _, o in fits),
            notes_per_onset=_r(self.notes / self.onsets) if self.onsets else None,
            median_duration=_r(statistics.median(self.durations)) if self.durations else None,
            pitch_offset=_mean(self.per_fill.get("offset", [])),
            classifier_auc=_auc(real_bars, self.bars),
        )
        return row


def _auc(real_bars, bars) -> float | None:
    if real_bars is None:
        return None
    auc = F.classifier_auc(real_bars, bars)
    return None if auc is None else round(auc, 3)


def rows(tallies: dict[str, dict[str, Tally]], original: str) -> dict:
    """{kind: {system: row}}; ratios to the original's row (median duration,
    notes per onset) are added to each pitched row."""
    out: dict[str, dict] = {"drums": {}, "pitched": {}}
    real = {k: tallies[original][k].bars for k in out}
    for name, by_kind in tallies.items():
        for kind, tally in by_kind.items():
            if not tally.fills:
                continue
            ref = None if name == original else real[kind]
            out[kind][name] = tally.drum_row(ref) if kind == "drums" else tally.pitched_row(ref)
    orig = out["pitched"].get(original)
    for row in out["pitched"].values():
        if orig:
            row["duration_ratio"] = _r(P.ratio(row["median_duration"], orig["median_duration"]))
            row["notes_per_onset_ratio"] = _r(
                P.ratio(row["notes_per_onset"], orig["notes_per_onset"])
            )
    return out


DRUM_COLUMNS = [
    ("onset_f1", "F1"),
    ("onset_f1_kick", "kick"),
    ("onset_f1_snare", "snare"),
    ("onset_f1_hats", "hats"),
    ("onset_f1_other", "other"),
    ("kit_share", "on kit"),
    ("copy_rate", "copy"),
    ("grid16_share", "16th"),
    ("density_ratio", "density"),
    ("empty_fills", "empty"),
    ("classifier_auc", "AUC"),
]
PITCHED_COLUMNS = [
    ("pitch_class_overlap", "pc ovl"),
    ("harmonic_fit", "harm."),
    ("harmonic_fit_original", "orig h."),
    ("notes_per_onset", "n/onset"),
    ("duration_ratio", "dur x"),
    ("pitch_offset", "pitch+"),
    ("grid16_share", "16th"),
    ("copy_rate", "copy"),
    ("density_ratio", "density"),
    ("empty_fills", "empty"),
    ("classifier_auc", "AUC"),
]


def format_rows(title: str, table: dict, columns) -> str:
    head = f"{'system':40}" + "".join(f"{label:>8}" for _, label in columns)
    lines = [title, head]
    for name, row in table.items():
        cells = "".join(
            f"{'—' if row.get(k) is None else format(row[k], '.2f'):>8}" for k, _ in columns
        )
        lines.append(f"{name[:40]:40}{cells}")
    return "\n".join(lines)


SUMMARY = [
    ("drums", "onset_f1", "drums: onset F1"),
    ("drums", "kit_share", "drums: hits on the part's keys"),
    ("drums", "copy_rate", "drums: pattern copy"),
    ("drums", "classifier_auc", "drums: AUC"),
    ("pitched", "pitch_class_overlap", "pitched: pc overlap"),
    ("pitched", "notes_per_onset_ratio", "pitched: notes/onset ÷ original's"),
    ("pitched", "duration_ratio", "pitched: median duration ÷ original's"),
    ("pitched", "classifier_auc", "pitched: AUC"),
]


def format_sets(sets: dict[str, dict], default: str) -> str:
    """Each set's coverage and tables, then the default model's key
    measures for every set side by side."""
    out = []
    for name, res in sets.items():
        out.append(
            f"\n== {name}: {res['songs']} songs, {res['fills']['drums']} drum and "
            f"{res['fills']['pitched']} pitched fills of 4 bars, 8 bars of context a side"
        )
        for key, c in res["coverage"].items():
            out.append(
                f"prompt shows of the target's 16 own context bars, {key}: median "
                f"{c['median_shown']:g} ({c['none_shown']} of {c['fills']} none; other "
                f"tracks kept {c['median_other_tracks_kept']:g}; other tracks emptied: "
                f"{c['median_shown_other_tracks_emptied']:g} shown)"
            )
        if res["drums"]:
            out.append(format_rows("drums", res["drums"], DRUM_COLUMNS))
        if res["pitched"]:
            out.append(format_rows("pitched", res["pitched"], PITCHED_COLUMNS))
    names = list(sets)
    out.append(f"\n{default}, side by side\n{'':40}" + "".join(f"{n[:18]:>20}" for n in names))
    for kind, key, label in SUMMARY:
        cells = [sets[n][kind].get(default, {}).get(key) for n in names]
        out.append(
            f"{label:40}" + "".join(f"{'—' if c is None else format(c, '.2f'):>20}" for c in cells)
        )
    return "\n".join(out)
