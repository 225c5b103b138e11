"""POP909 as a corpus source, and the build's reserve check, on hand-made
songs: a few bars of MIDI with a beat file written here (no POP909 data is
committed). The MIDI is written at a fixed 100 bpm while the beat file says
the song was played with a drifting beat, so a right mapping has to go
through the beat file."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest

from midifill.model.corpus import build as corpus
from midifill.model.corpus.pop909 import (
    TRACKS,
    BeatFileError,
    bar_starts,
    read_beats,
    song_folders,
    song_from_folder,
)
from midifill.model.corpus.reserve import ReserveCheckError
from midifill.model.splits import split_of

# a pickup beat, then two bars of 4/4; the beats drift (0.6 s, then 0.65 s, ...)
BEATS = [0.5, 1.1, 1.7, 2.35, 3.0, 3.6, 4.3, 4.9, 5.5, 6.1]
DOWN4 = [0, 1, 0, 0, 0, 1, 0, 0, 0, 1]  # third column: bars start at beats 1, 5 and 9
DOWN2 = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]


def write_beats(folder: Path, times, duple, quad) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "beat_midi.txt").write_text(
        "".join(f"{t} {float(a)} {float(b)}\n" for t, a, b in zip(times, duple, quad))
    )


def write_song(folder: Path, notes: dict[str, list[tuple[int, float, float, int]]]) -> Path:
    """notes: track name -> (pitch, start s, end s, velocity), at 100 bpm, 480 ppq."""
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000)]))
    for ch, (name, items) in enumerate(notes.items()):
        events = []
        for pitch, a, b, vel in items:
            events.append(
                (
                    round(a / 0.6 * 480),
                    1,
                    mido.Message("note_on", channel=ch, note=pitch, velocity=vel),
                )
            )
            events.append(
                (round(b / 0.6 * 480), 0, mido.Message("note_off", channel=ch, note=pitch))
            )
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    path = folder / f"{folder.name}.mid"
    mid.save(path)
    return path


def mid_time(i: float) -> float:
    """The time in seconds of beat index i (fractional) on the BEATS grid."""
    k = min(int(i), len(BEATS) - 2)
    return BEATS[k] + (i - k) * (BEATS[k + 1] - BEATS[k])


@pytest.fixture
def pop(tmp_path):
    root = tmp_path / "POP909"
    for name in ("001", "002"):
        write_beats(root / name, BEATS, DOWN2, DOWN4)
        write_song(
            root / name,
            {
                # the pickup (beat 0), the first downbeat (beat 1), an off-beat eighth
                # played 3 % late (beat 2.53), the second bar's downbeat (beat 5)
                "MELODY": [
                    (60, mid_time(0), mid_time(0.5), 90),
                    (62, mid_time(1), mid_time(2), 100),
                    (64, mid_time(2.53), mid_time(3), 80),
                    (65, mid_time(5), mid_time(7), 70),
                ],
                "PIANO": [
                    (48, mid_time(1), mid_time(5), 60),
                    (50 + int(name), mid_time(5), mid_time(9), 60),
                ],
                "BRIDGE": [],
            },
        )
    return root


def test_notes_land_on_the_annotated_beats_with_their_timing(pop):
    song = song_from_folder(pop / "001")
    melody = next(t for t in song.tracks if t.name == "melody")
    # the pickup fills the last beat of a first bar; the downbeat starts bar 2
    starts = [round(n.start, 2) for n in melody.notes]
    assert starts == [3.0, 4.0, 5.53, 8.0]
    bars = song.bars()
    assert [b.start for b in bars[:3]] == [0.0, 4.0, 8.0]
    assert all((b.numerator, b.denominator) == (4, 4) for b in bars)
    # lengths through the grid too: beat 1 to 2 is one beat although it lasts 0.6 s
    assert [round(n.duration, 2) for n in melody.notes] == [0.5, 1.0, 0.47, 2.0]
    assert [n.velocity for n in melody.notes] == [90, 100, 80, 70]
    # the tempo of each bar from its beats: 0.6 s a beat is 100 bpm, 0.65 s is 92.3
    assert song.tempos[0].bpm == pytest.approx(100.0, abs=0.6)
    assert any(abs(t.bpm - 60 / 0.625) < 0.6 for t in song.tempos)


def test_tracks_get_names_and_programs_and_empty_ones_go(pop):
    song = song_from_folder(pop / "001")
    assert [t.name for t in song.tracks] == ["melody", "piano"]  # BRIDGE had no notes
    assert song.tracks[0].program in TRACKS["MELODY"][1]
    assert song.tracks[1].program == 0
    assert song_from_folder(pop / "001").tracks[0].program == song.tracks[0].program


def test_triple_time_and_irregular_bars(tmp_path):
    times = [0.5 * i for i in range(14)]
    folder = tmp_path / "003"
    # 3/4: the second column every 3 beats (the third every 6), and one 2-beat bar at 9
    duple = [1 if i in (0, 3, 6, 9, 11) else 0 for i in range(14)]
    write_beats(folder, times, duple, [1 if i in (0, 6) else 0 for i in range(14)])
    assert read_beats(folder / "beat_midi.txt")[1:] == ([0, 3, 6, 9, 11], 3)
    write_song(folder, {"MELODY": [(60 + i, 0.5 * i, 0.5 * i + 0.4, 80) for i in range(14)]})
    song = song_from_folder(folder)
    assert [(b.start, b.numerator) for b in song.bars()] == [
        (0.0, 3),
        (3.0, 3),
        (6.0, 3),
        (9.0, 2),
        (11.0, 3),
    ]


def test_a_long_annotated_bar_is_cut_to_the_tokenizer_s_longest():
    assert bar_starts([0, 12], 4, 0.0, 13.0) == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert bar_starts([4], 4, 1.5, 5.0) == [0.0, 4.0, 8.0]


def test_bad_beat_files_and_folders_are_refused(tmp_path):
    write_beats(tmp_path / "004", [1.0, 1.0], [1, 0], [1, 0])
    with pytest.raises(BeatFileError, match="rise"):
        read_beats(tmp_path / "004" / "beat_midi.txt")
    (tmp_path / "004" / "beat_midi.txt").write_text("0.5 one 1\n")
    with pytest.raises(BeatFileError, match="line 1"):
        read_beats(tmp_path / "004" / "beat_midi.txt")
    with pytest.raises(FileNotFoundError, match="no song folders"):
        song_folders(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        song_folders(tmp_path / "nowhere")


def test_build_writes_the_songs_with_licence_and_split(pop, tmp_path):
    out = tmp_path / "corpus"
    summary = corpus.build(out, ["pop909"], progress=False, pop909=pop.parent)  # the checkout
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == ["midi/pop909/001.mid", "midi/pop909/002.mid"]
    assert all("MIT" in r["licence"] and "Music X Lab" in r["licence"] for r in rows)
    assert [r["split"] for r in rows] == [split_of("pop909/001"), split_of("pop909/002")]
    assert summary["items_not_reserve_checked"] == 2
    assert "not run" in json.loads((out / "summary.json").read_text())["reserve_check"]


def reserve_checker(folder: Path, body: str) -> Path:
    folder.mkdir()
    (folder / "reserved.py").write_text(f"def is_reserved(path):\n    return {body}\n")
    return folder


def test_reserved_inputs_are_left_out_and_counted(pop, tmp_path):
    check = reserve_checker(tmp_path / "res", "path.endswith('002.mid')")
    out = tmp_path / "corpus"
    summary = corpus.build(out, ["pop909"], progress=False, pop909=pop, reserved=check)
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == ["midi/pop909/001.mid"]
    assert summary["reserved_skipped"] == {"pop909": 1}
    assert json.loads((out / "summary.json").read_text())["reserved_skipped"] == {"pop909": 1}
    assert "002.mid" in (out / "reserved.txt").read_text()
    assert not (out / "midi/pop909/002.mid").exists()


def test_a_corpus_built_unchecked_is_checked_on_the_next_build(pop, tmp_path):
    out = tmp_path / "corpus"
    corpus.build(out, ["pop909"], progress=False, pop909=pop)
    assert (out / "midi/pop909/001.mid").is_file()
    # the checker knows the written file (a re-saved copy of a reserved song, say)
    check = reserve_checker(tmp_path / "res", "path.endswith('pop909/001.mid')")
    summary = corpus.build(out, ["pop909"], progress=False, pop909=pop, reserved=check)
    assert summary["reserved_skipped"] == {"pop909": 1} and summary["files"] == 1
    assert summary["items_not_reserve_checked"] == 0 and summary["items_built_now"] == {}
    assert not (out / "midi/pop909/001.mid").exists()
    # and it stays out on a later build with the same checker
    assert corpus.build(out, ["pop909"], progress=False, pop909=pop, reserved=check)["files"] == 1


def test_a_bad_checker_is_refused(tmp_path):
    with pytest.raises(ReserveCheckError, match="reserved.py"):
        corpus.build(tmp_path / "c", [], progress=False, items=[], reserved=tmp_path)
    (tmp_path / "x.py").write_text("def other(path):\n    return False\n")
    with pytest.raises(ReserveCheckError, match="is_reserved"):
        corpus.build(tmp_path / "c", [], progress=False, items=[], reserved=tmp_path / "x.py")


def test_the_command_line_names_what_is_wrong(pop, tmp_path, capsys):
    from midifill.bridge.cli import main

    out = str(tmp_path / "c")
    assert main(["corpus", "--out", out, "--sources", "pop909"]) == 2
    assert "--pop909 DIR" in capsys.readouterr().err
    assert main(["corpus", "--out", out, "--pop909", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["corpus", "--out", out, "--pop909", str(pop), "--reserved", str(tmp_path)]) == 2
    assert "reserved.py" in capsys.readouterr().err
    check = reserve_checker(tmp_path / "res", "False")
    assert (
        main(
            [
                "corpus",
                "--out",
                out,
                "--sources",
                "pop909",
                "--pop909",
                str(pop),
                "--reserved",
                str(check / "reserved.py"),
                "--no-progress",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "files by source: pop909 2" in printed and "reserved files left out: 0" in printed
