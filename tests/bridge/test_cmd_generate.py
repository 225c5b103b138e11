"""`midifill generate` on a real multi-track file with a real checkpoint."""

import json

import pytest

from midifill.model.midi_io import read_midi, write_midi
from tests.support import ROOT
from tests.support.cli import notes_of, run_cli
from tests.support.midi import M, absolute, build, check_pairs, m, song_file, without_notes


def test_generate_writes_files_that_differ_only_in_the_target(
    tiny_checkpoint, fixtures_dir, tmp_path
):
    src = fixtures_dir / "pop_4-4_tempo_change.mid"
    out = tmp_path / "out.mid"
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--mode",
        "fill",
        "--track",
        "1",
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
    assert r.stdout.strip(), f"no report on stdout; stderr: {r.stderr[-2000:]}"
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert [o["path"] for o in report["outputs"]] == [
        str(tmp_path / "out-1.mid"),
        str(tmp_path / "out-2.mid"),
    ]
    before = read_midi(src)
    for k in (1, 2):
        after = read_midi(tmp_path / f"out-{k}.mid")
        assert [t.name for t in after.tracks] == [t.name for t in before.tracks]
        assert after.tempos == before.tempos
        for a, b in zip(before.tracks, after.tracks):
            if a.name != "bass":
                assert notes_of(a) == notes_of(b)
        outside = lambda t: [n for n in notes_of(t) if not 8.0 <= n[1] < 16.0]  # noqa: E731
        assert outside(before.tracks[1]) == outside(after.tracks[1])
        new = [n for n in notes_of(after.tracks[1]) if 8.0 <= n[1] < 16.0]
        assert new and all(n[1] + n[2] <= 16.0 + 1e-6 for n in new)


def test_generate_reports_bad_input(tiny_checkpoint, fixtures_dir, tmp_path):
    r = run_cli(
        "generate",
        fixtures_dir / "corrupt.mid",
        "-o",
        tmp_path / "x.mid",
        "--track",
        "0",
        "--bars",
        "1-2",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 2 and "corrupt" in r.stderr
    r = run_cli(
        "generate",
        fixtures_dir / "waltz_3-4.mid",
        "-o",
        tmp_path / "x.mid",
        "--track",
        "drums",
        "--bars",
        "1-2",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 2 and "no track 'drums'" in r.stderr
    assert not (tmp_path / "x.mid").exists()


POP = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"


def test_a_fill_past_the_end_extends_the_loop_as_the_demo_does(
    tiny_engine, tiny_checkpoint, tmp_path
):
    # bars 7-12 of an 8-bar loop: the CLI and the demo build one request
    # (model/generation/front.py), so with one seed they write the same notes
    from midifill.demo import task as tk
    from midifill.model.generation import front

    out = tmp_path / "longer.mid"
    r = run_cli(
        "generate",
        POP,
        "-o",
        out,
        "--track",
        "3",
        "--bars",
        "7-12",
        "--seed",
        "5",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 0, r.stderr
    song = read_midi(POP)
    _, request, _, start, end = tk.prepare(
        song, tk.Task(target="3", bar_start=7, bar_end=12, seed=5, variations=1)
    )
    assert (start, end) == (24.0, 48.0)
    expected = front.apply_response(song, request, tiny_engine.run(request))[0]
    write_midi(expected, tmp_path / "expected.mid")  # the same MIDI round trip as the CLI's
    expected, written = read_midi(tmp_path / "expected.mid"), read_midi(out)
    assert notes_of(written.track("3")) == notes_of(expected.track("3"))
    assert [n for n in written.track("3").notes if n.start >= 32.0]  # past the old end
    for t in song.tracks:
        if t.id != "3":
            assert notes_of(written.track(t.id)) == notes_of(t)


def test_bars_beyond_the_reach_are_refused_with_the_demos_words(tiny_checkpoint, tmp_path):
    r = run_cli(
        "generate",
        POP,
        "-o",
        tmp_path / "x.mid",
        "--track",
        "3",
        "--bars",
        "20-25",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 2
    assert "out of range: the song has 8 bars" in r.stderr and "bar 24" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "x.mid").exists()


def test_help_describes_each_control_and_its_default():
    r = run_cli("generate", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for option, default in [
        ("--temperature", "default: 1.0"),
        ("--top-p", "default: 0.95"),
        ("--top-k", "default: 0"),
        ("--seed", "default: a random seed"),
        ("--variations", "default: 1"),
        ("--mode", "default: fill"),
    ]:
        assert option in text and default in text, option
    assert "the demo shows it" in text


def test_a_random_seed_is_printed_and_repeats_the_notes(tiny_checkpoint, tmp_path):
    r = run_cli(
        "generate",
        POP,
        "-o",
        tmp_path / "a.mid",
        "--track",
        "1",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 0, r.stderr
    seed = json.loads(r.stdout.strip().splitlines()[-1])["seed"]
    assert f"seed {seed} (random" in r.stderr
    r = run_cli(
        "generate",
        POP,
        "-o",
        tmp_path / "b.mid",
        "--track",
        "1",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
        "--seed",
        seed,
    )
    assert r.returncode == 0, r.stderr
    assert "random" not in r.stderr
    a, b = read_midi(tmp_path / "a.mid"), read_midi(tmp_path / "b.mid")
    assert notes_of(a.track("1")) == notes_of(b.track("1"))


@pytest.mark.parametrize(
    "flag, help_text, good, bad, field",
    [
        ("--harmony", "pitch classes the other tracks", "0.9", "1.5", "controls.harmony"),
        ("--candidates", "1 keeps one draw", "1", "17", "controls.candidates"),
    ],
)
def test_a_control_flag_is_passed_to_the_engine(
    tiny_checkpoint, tmp_path, flag, help_text, good, bad, field
):
    r = run_cli("generate", "--help")
    assert flag in r.stdout and help_text in " ".join(r.stdout.split())
    r = run_cli(
        "generate",
        POP,
        "-o",
        tmp_path / "h.mid",
        "--track",
        "1",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
        "--seed",
        "1",
        flag,
        good,
    )
    assert r.returncode == 0, r.stderr
    # out of range, the engine's own check names the control: the value got there
    r = run_cli(
        "generate",
        POP,
        "-o",
        tmp_path / "x.mid",
        "--track",
        "1",
        "--bars",
        "3-4",
        "--model",
        tiny_checkpoint,
        flag,
        bad,
    )
    assert r.returncode == 2 and field in r.stderr


def test_generate_keeps_every_event_of_the_file_but_the_filled_notes(tiny_checkpoint, tmp_path):
    """CCs, pitch bends, program changes, SysEx, markers, key signatures,
    the copyright, channels 3 and 10, 480 ticks a beat: all as they were."""
    import mido

    src = tmp_path / "song.mid"
    src.write_bytes(song_file(480))
    out = tmp_path / "out.mid"
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "1",
        "--bars",
        "3-4",
        "--seed",
        "3",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 0, r.stderr
    before, after = mido.MidiFile(src), mido.MidiFile(out)
    assert after.ticks_per_beat == 480 and len(after.tracks) == len(before.tracks)
    for i in (0, 2, 3):
        assert absolute(after.tracks[i]) == absolute(before.tracks[i])
    assert without_notes(absolute(after.tracks[1]), 2, 8.0, 16.0, 480) == without_notes(
        absolute(before.tracks[1]), 2, 8.0, 16.0, 480
    )
    check_pairs(after.tracks[1], min_len=60)
    song = read_midi(out)
    assert [n for n in song.track("1").notes if 8.0 <= n.start < 16.0]
    # a new track: appended on a free channel, every old track as it was
    r = run_cli(
        "generate",
        src,
        "-o",
        out,
        "--track",
        "new",
        "--program",
        "25",
        "--bars",
        "1-2",
        "--seed",
        "3",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 0, r.stderr
    after = mido.MidiFile(out)
    assert [absolute(t) for t in after.tracks[:4]] == [absolute(t) for t in before.tracks]
    assert {m.channel for m in after.tracks[4] if hasattr(m, "channel")} == {1}


def test_generate_writes_a_file_with_the_largest_legal_tempo(tiny_checkpoint, tmp_path):
    import mido

    src = tmp_path / "slow.mid"
    src.write_bytes(
        build(
            [
                [(0, M("set_tempo", tempo=0xFFFFFF))]
                + [
                    (t * 480, msg)
                    for t in range(8)
                    for msg in (m("note_on", channel=0, note=60 + t, velocity=90),)
                ]
                + [(t * 480 + 240, m("note_off", channel=0, note=60 + t)) for t in range(8)]
            ]
        )
    )
    r = run_cli(
        "generate",
        src,
        "-o",
        tmp_path / "out.mid",
        "--track",
        "0",
        "--bars",
        "2",
        "--seed",
        "1",
        "--model",
        tiny_checkpoint,
    )
    assert r.returncode == 0, r.stderr
    assert mido.MidiFile(tmp_path / "out.mid").tracks[0][0].tempo == 0xFFFFFF
