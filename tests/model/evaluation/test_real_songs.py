"""The real-song table: drum and part measures on tiny hand-made songs
(model/evaluation/drum_metrics.py, part_metrics.py), the draws and the
table (real_songs.py, real_table.py), the dev set's manifest and rebuild
(devset.py)."""

import json
import random
import struct

import pytest

from midifill.model.evaluation import devset as DS
from midifill.model.evaluation import drum_metrics as D
from midifill.model.evaluation import part_metrics as P
from midifill.model.evaluation.fit_eval import CONTEXT, SPAN
from midifill.model.evaluation.real_songs import draw_fills
from midifill.model.evaluation.real_table import Tally, rows
from midifill.model.song import Bar, Note, Song, TimeSignature, Track

TPB = 24


def hits(*pairs):
    return [Note(p, t, 0.1) for p, t in pairs]


def test_onset_f1_is_one_for_the_same_hits_and_zero_across_groups():
    beat = hits((36, 0), (38, 1), (42, 0), (42, 0.5))
    assert D.onset_f1(beat, beat) == 1
    assert D.onset_f1(hits((36, 0)), hits((38, 0))) == 0  # a kick does not answer a snare
    assert D.onset_f1([], beat) == 0
    assert D.onset_f1([], []) is None


def test_onset_f1_hand_computed_with_the_32nd_tolerance():
    # kicks at 0 and 1 against kicks at 0 and 2: one match of four hits
    assert D.onset_f1(hits((36, 0), (36, 1)), hits((35, 0), (36, 2))) == pytest.approx(0.5)
    assert D.onset_f1(hits((36, 0.1)), hits((36, 0))) == 1  # within a 32nd
    assert D.onset_f1(hits((36, 0.2)), hits((36, 0))) == 0  # past it
    # two hats struck together are one onset; one group at a time
    both = hits((42, 0), (46, 0), (38, 1))
    assert D.onset_f1(both, hits((42, 0)), "hats") == 1
    assert D.onset_f1(both, hits((42, 0)), "kick") is None
    # the snare (2 gen, 1 orig, 1 match) and hats (1 and 1, matched): 2 * 2 / 5
    assert D.onset_f1(hits((38, 0), (38, 1), (42, 0)), hits((38, 1), (42, 0))) == pytest.approx(0.8)


def test_groups_follow_general_midi():
    assert [D.group_of(p) for p in (35, 36, 37, 40, 42, 44, 46, 41, 49, 82)] == [
        "kick",
        "kick",
        "snare",
        "snare",
        "hats",
        "hats",
        "hats",
        "other",
        "other",
        "other",
    ]


def test_kit_share_and_grid_share():
    context = hits((36, 0), (38, 1), (42, 0))
    assert D.kit_share(hits((36, 4), (42, 5)), context) == 1
    assert D.kit_share(hits((82, 4), (69, 5)), context) == 0
    assert D.kit_share(hits((36, 4), (42, 5), (82, 6)), context) == pytest.approx(2 / 3)
    assert D.kit_share([], context) is None
    assert D.grid_share(hits((36, 0), (36, 0.25), (36, 1.75)), TPB) == 1
    assert D.grid_share(hits((36, 1 / 24), (36, 1 / 3)), TPB) == 0  # a tick off, a triplet
    assert D.grid_share(hits((36, 0), (36, 1 / 3)), TPB) == 0.5
    assert D.grid_share(hits((36, 0.5), (36, 1 / 3)), TPB, division=3) == 0.5
    assert D.grid_share([], TPB) is None


def test_drum_bar_features_see_a_pasted_bar_and_a_foreign_kit():
    bars = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]
    context = hits((36, 0), (38, 1), (42, 0.5), (42, 1.5))
    pasted = [Note(n.pitch, n.start + 4, n.duration) for n in context]
    f = D.bar_features(pasted, bars[1], context, bars[:1], TPB)
    assert len(f) == len(D.FEATURE_NAMES)
    assert f[0] == 1 and f[3] == 1 and f[-1] == 1  # as dense, on the kit, the same pattern
    foreign = D.bar_features(hits((82, 4), (82, 4.5)), bars[1], context, bars[:1], TPB)
    assert foreign[3] == 0 and foreign[-1] == 0 and foreign[8] == 1  # all "other"
    assert D.bar_features([], bars[1], context, bars[:1], TPB) == [0.0] * 11


def test_part_measures_hand_computed():
    line = [Note(60, 0, 0.5), Note(62, 0.5, 0.5), Note(64, 1, 1.0)]
    triads = [Note(p, t, 2.0) for t in (0, 2) for p in (60, 64, 67)]
    assert P.notes_per_onset(line, TPB) == 1
    assert P.notes_per_onset(triads, TPB) == 3
    assert P.notes_per_onset(line + [Note(67, 0, 1)], TPB) == pytest.approx(4 / 3)
    assert P.notes_per_onset([], TPB) is None
    assert P.median_duration(line) == 0.5 and P.median_duration([]) is None
    assert P.pitch_offset(line, line) == 0
    assert P.pitch_offset(triads, line) == pytest.approx((191 / 3) - 62)
    assert P.pitch_offset([], line) is None
    assert P.ratio(1.0, 0.5) == 2 and P.ratio(None, 1) is None and P.ratio(1, 0) is None


def band(n_bars=24, tracks=5):
    """A looped song: drums, bass, chords, a lead, and pads up to `tracks`."""
    notes = lambda f: [n for b in range(n_bars) for n in f(4.0 * b)]  # noqa: E731
    parts = [
        Track(
            "drums", 0, True, notes(lambda s: hits((36, s), (38, s + 1), (36, s + 2), (38, s + 3)))
        ),
        Track("bass", 33, False, notes(lambda s: [Note(36, s, 1.0), Note(43, s + 2, 1.0)])),
        Track("keys", 0, False, notes(lambda s: [Note(p, s, 4.0) for p in (60, 64, 67)])),
        Track("lead", 73, False, notes(lambda s: [Note(72 + k, s + k, 1.0) for k in range(4)])),
    ]
    parts += [
        Track(f"pad{i}", 48, False, notes(lambda s: [Note(55, s, 4.0)])) for i in range(tracks - 4)
    ]
    return Song(parts, [TimeSignature(0.0, 4, 4)])


def test_draw_fills_keeps_eight_bars_a_side_half_drums_and_is_seeded():
    cases = draw_fills([band()], 6, random.Random(3))
    assert len(cases) == 6 and sum(c.track.is_drum for c in cases) == 3
    assert all(CONTEXT <= c.b0 <= 24 - SPAN - CONTEXT and c.original for c in cases)
    assert len(cases[0].context_bars) == 2 * CONTEXT
    again = draw_fills([band()], 6, random.Random(3))
    assert [(c.track.id, c.b0) for c in again] == [(c.track.id, c.b0) for c in cases]
    assert draw_fills([band(n_bars=19)], 4, random.Random(0)) == []  # too short for 8 + 4 + 8


def test_rows_on_a_loop_original_and_paste_score_as_they_must():
    cases = draw_fills([band()], 4, random.Random(0))
    tallies = {}
    for name, write in (("orig", lambda c: c.original), ("empty", lambda c: [])):
        by_kind = {"drums": Tally(), "pitched": Tally()}
        for c in cases:
            by_kind["drums" if c.track.is_drum else "pitched"].add(c, write(c), TPB)
        tallies[name] = by_kind
    table = rows(tallies, "orig")
    d, p = table["drums"], table["pitched"]
    assert d["orig"]["onset_f1"] == 1 and d["orig"]["kit_share"] == 1
    assert d["orig"]["copy_rate"] == 1  # a loop: every fill bar is a context bar
    assert d["empty"]["onset_f1"] == 0 and d["empty"]["empty_fills"] == 1
    assert p["orig"]["duration_ratio"] == 1 and p["orig"]["notes_per_onset_ratio"] == 1
    assert p["orig"]["pitch_offset"] == 0 and p["orig"]["pitch_class_overlap"] == 1
    assert p["empty"]["pitch_class_overlap"] == 0 and p["empty"]["median_duration"] is None


def wad(lumps):
    body = b"".join(lumps.values())
    table, pos, out = 12 + len(body), 12, b""
    for name, data in lumps.items():
        out += struct.pack("<ii8s", pos, len(data), name.encode())
        pos += len(data)
    return b"PWAD" + struct.pack("<ii", len(lumps), table) + body + out


def test_wad_lumps_and_members(tmp_path):
    (tmp_path / "music.wad").write_bytes(wad({"D_ONE": b"MThd1", "D_TWO": b"MThd22"}))
    assert DS.wad_lumps((tmp_path / "music.wad").read_bytes()) == {
        "D_ONE": b"MThd1",
        "D_TWO": b"MThd22",
    }
    assert DS.member_bytes(tmp_path, "music.wad#D_TWO") == b"MThd22"
    with pytest.raises(DS.DevsetError):
        DS.member_bytes(tmp_path, "music.wad#D_THREE")
    with pytest.raises(DS.DevsetError):
        DS.wad_lumps(b"IWAD" + struct.pack("<ii", 5, 999))


def test_the_manifest_is_a_fixed_set_of_many_track_songs():
    m = DS.load_manifest()
    assert 30 <= len(m["songs"]) <= 80
    assert len({s["sha256"] for s in m["songs"]}) == len(m["songs"])
    assert all(
        5 <= s["tracks"] <= 16 and s["package"] in m["packages"] and s["licence"]
        for s in m["songs"]
    )
    assert DS.download_line(m).startswith("apt-get download ")
    with pytest.raises(DS.DevsetError, match="apt-get download"):
        DS.find_deb(__import__("pathlib").Path("/nonexistent"), "freedoom", "0.12.1-2")
    json.dumps(m)


def test_the_table_runs_on_the_bundled_model():
    from midifill.model import Engine
    from midifill.model.evaluation.real_songs import DEFAULT, ORIGINAL, real_table

    out = real_table(Engine.from_checkpoint(), [band(tracks=6)], fills=2, seed=1)
    assert out["fills"] == {"drums": 1, "pitched": 1}
    assert out["drums"][ORIGINAL]["onset_f1"] == 1
    assert out["drums"][DEFAULT]["fills"] == 1 and out["pitched"][DEFAULT]["fills"] == 1
    assert {"drums", "pitched"} <= set(out["coverage"])
    assert 0 <= out["coverage"]["drums"]["median_shown"] <= 2 * CONTEXT
    assert out["coverage"]["pitched"]["median_other_tracks_kept"] <= 5
    assert "model, follow-the-part controls off" in out["pitched"]


def test_follow_off_names_every_follow_the_part_control_and_the_engine_takes_it():
    from midifill.model.evaluation.real_songs import follow_off
    from midifill.model.generation.request import parse_controls

    off = follow_off()
    assert {"kit", "groove", "max_polyphony", "harmony", "pitch_range"} <= set(off)
    assert set(off.values()) == {"off"}
    controls = parse_controls(off)
    assert controls.kit is None and controls.harmony == 0 and controls.max_polyphony is None
