"""`midifill generate` with `--track` repeated: several parts in one request,
one output file per variation holding every target's new notes."""

import json

from midifill.model.midi_io import read_midi
from tests.support.cli import notes_of, run_cli

SRC = "pop_4-4_tempo_change.mid"  # tracks: 0 drums, 1 bass, 2 keys, 3 flute


def test_two_tracks_share_the_bars(tiny_checkpoint, fixtures_dir, tmp_path):
    src, out = fixtures_dir / SRC, tmp_path / "out.mid"
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "bass",
        "--track",
        "0",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
        "--seed",
        "5",
        "--variations",
        "2",
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(report["outputs"]) == 2
    before = read_midi(src)
    changed = set()
    for k, row in enumerate(report["outputs"], 1):
        assert [(t["track"], t["start"], t["end"]) for t in row["targets"]] == [
            ("1", 8.0, 16.0),
            ("0", 8.0, 16.0),
        ]
        assert row["notes"] == sum(t["notes"] for t in row["targets"]) > 0
        after = read_midi(tmp_path / f"out-{k}.mid")
        assert [t.name for t in after.tracks] == [t.name for t in before.tracks]
        for a, b in zip(before.tracks, after.tracks):
            outside = lambda t: [n for n in notes_of(t) if not 8.0 <= n[1] < 16.0]  # noqa: E731
            assert outside(a) == outside(b), a.name  # nothing outside a target changes
            if a.id in ("2", "3"):
                assert notes_of(a) == notes_of(b)  # nor any other track
            elif notes_of(a) != notes_of(b):
                changed.add(a.id)
    assert changed == {"0", "1"}


def test_one_range_per_track(tiny_checkpoint, fixtures_dir, tmp_path):
    src, out = fixtures_dir / SRC, tmp_path / "out.mid"
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "2",
        "--bars",
        "3-4",
        "--track",
        "1",
        "--bars",
        "6",
        "--model",
        tiny_checkpoint,
        "--seed",
        "2",
    )
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.strip().splitlines()[-1])["outputs"][0]
    assert [(t["track"], t["start"], t["end"]) for t in row["targets"]] == [
        ("2", 8.0, 16.0),
        ("1", 20.0, 24.0),
    ]
    before, after = read_midi(src), read_midi(out)
    bass = lambda s: [n for n in notes_of(s.tracks[1]) if not 20.0 <= n[1] < 24.0]  # noqa: E731
    keys = lambda s: [n for n in notes_of(s.tracks[2]) if not 8.0 <= n[1] < 16.0]  # noqa: E731
    assert bass(before) == bass(after) and keys(before) == keys(after)


def test_a_new_track_beside_an_old_one(tiny_checkpoint, fixtures_dir, tmp_path):
    src, out = fixtures_dir / SRC, tmp_path / "out.mid"
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "new",
        "--program",
        "33",
        "--track",
        "2",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
        "--seed",
        "3",
    )
    assert r.returncode == 0, r.stderr
    after = read_midi(out)
    assert len(after.tracks) == len(read_midi(src).tracks) + 1
    assert after.tracks[-1].notes and all(8.0 <= n.start < 16.0 for n in after.tracks[-1].notes)


def test_bad_target_arguments_exit_2_before_the_model_loads(fixtures_dir, tmp_path):
    src, out = fixtures_dir / SRC, tmp_path / "out.mid"
    for args, words in [
        (
            ["--track", "0", "--track", "1", "--track", "2", "--bars", "1", "--bars", "2"],
            "3 --track and 2 --bars",
        ),
        (["--track", "new", "--track", "new", "--bars", "1"], "at most one new track"),
        (
            sum((["--track", str(i % 4)] for i in range(9)), []) + ["--bars", "1"],
            "at most 8 in one request",
        ),
        (
            ["--track", "0", "--track", "1", "--track", "2", "--bars", "1-64"],
            "192 bars in all --bars together; the limit is 128",
        ),
        (["--track", "0", "--track", "0", "--bars", "1-2", "--bars", "2-3"], "overlaps"),
    ]:
        r = run_cli("generate", src, "-o", out, *args, "--model", tmp_path / "none.pt")
        assert r.returncode == 2 and words in r.stderr, (args, r.stderr)
        assert not out.exists()


def _one_track_two_channels(path):
    """Format 0, one file track: keys (channel 2, program 0) hold a note
    through bars 1-2 and play one in bar 3; bass (channel 1, program 33)
    plays one in bar 4. The keys' first note closes first, so the keys are
    track 0 and the bass track 1."""
    import mido

    tpb = 96
    events = [
        (0, mido.Message("program_change", channel=0, program=33)),
        (0, mido.Message("program_change", channel=1, program=0)),
        (0, mido.Message("note_on", channel=1, note=64, velocity=80)),
        (8 * tpb, mido.Message("note_off", channel=1, note=64, velocity=0)),
        (8 * tpb, mido.Message("note_on", channel=1, note=67, velocity=80)),
        (9 * tpb, mido.Message("note_off", channel=1, note=67, velocity=0)),
        (12 * tpb, mido.Message("note_on", channel=0, note=36, velocity=80)),
        (13 * tpb, mido.Message("note_off", channel=0, note=36, velocity=0)),
    ]
    track, last = mido.MidiTrack(), 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    mf = mido.MidiFile(type=0, ticks_per_beat=tpb)
    mf.tracks.append(track)
    mf.save(path)


def test_each_fill_lands_on_its_instrument_when_a_fill_reorders_them(tiny_checkpoint, tmp_path):
    """A bass fill in bars 1-2 closes a note before the keys' held note does,
    so in the written file the bass comes first; the keys' fill (bar 3) must
    still land on the keys (found by place, it went onto the bass and the
    keys' old bar-3 note stayed)."""
    src, out = tmp_path / "one_track.mid", tmp_path / "out.mid"
    _one_track_two_channels(src)
    assert [t.program for t in read_midi(src).tracks] == [0, 33]
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "1",
        "--bars",
        "1-2",
        "--track",
        "0",
        "--bars",
        "3",
        "--model",
        tiny_checkpoint,
        "--seed",
        "1",
    )
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.strip().splitlines()[-1])["outputs"][0]
    counts = {t["track"]: t["notes"] for t in row["targets"]}
    after = {t.program: t for t in read_midi(out).tracks}
    assert [t.program for t in read_midi(out).tracks][0] == 33  # the fill did reorder them
    keys, bass = notes_of(after[0]), notes_of(after[33])
    assert [n for n in keys if not 8.0 <= n[1] < 12.0] == [(64, 0.0, 8.0, 80)]
    assert len([n for n in keys if 8.0 <= n[1] < 12.0]) == counts["0"]
    assert [n for n in bass if not 0.0 <= n[1] < 8.0] == [(36, 12.0, 1.0, 80)]
    assert len([n for n in bass if 0.0 <= n[1] < 8.0]) == counts["1"] > 0
