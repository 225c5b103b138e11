"""The demo's pure logic: reading uploads, bar ranges, requests the engine accepts."""

import pytest

from midifill.demo import task as tk
from midifill.model.generation import front
from midifill.model.generation.request import parse_request
from midifill.model.midi_io import read_midi, write_midi
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, TimeSignature, Track
from tests.support import ROOT

EXAMPLES = ROOT / "demo" / "examples"
POP = EXAMPLES / "pop_c_major_8_bars.mid"


@pytest.fixture(scope="module")
def pop():
    return read_midi(POP)


def test_examples_are_small_four_track_songs():
    names = sorted(p.name for p in EXAMPLES.glob("*.mid"))
    assert len(names) == 3
    for p in EXAMPLES.glob("*.mid"):
        song = read_midi(p)
        assert p.stat().st_size < 8_000
        assert [t.name for t in song.tracks] == ["Drums", "Bass", "Chords", "Lead"]
        assert song.tracks[0].is_drum and all(t.notes for t in song.tracks)
        assert 8 <= len(song.bars()) <= 16


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"hello, I am text", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "corrupt"),
        (b"MThd" + b"\0" * (tk.MAX_FILE_BYTES + 1), "limit"),
    ],
)
def test_unusable_uploads_are_refused_with_what_to_do(tmp_path, content, message):
    path = tmp_path / "song.mid"
    path.write_bytes(content)
    with pytest.raises(tk.InputError, match=message) as err:
        tk.load_song(path)
    assert "MIDI" in str(err.value)


def test_no_file_asks_for_one():
    with pytest.raises(tk.InputError, match="upload"):
        tk.load_song(None)


def test_track_rows_describe_each_track(pop):
    rows = tk.track_rows(pop)
    assert rows[0] == ["0", "Drums", "Drums", 96, "1-8"]
    assert rows[1][2] == "Electric Bass (finger)"
    assert [c[1] for c in tk.target_choices(pop)] == ["0", "1", "2", "3", tk.NEW_TRACK]


def test_bar_ranges_cover_whole_bars(pop):
    assert front.bar_range(pop, "fill", 5, 6) == (16.0, 24.0)
    assert front.bar_range(pop, "continue", 9, 12) == (32.0, 48.0)
    waltz = read_midi(EXAMPLES / "waltz_d_minor_16_bars.mid")
    assert front.bar_range(waltz, "fill", 2, 3) == (3.0, 9.0)


@pytest.mark.parametrize("mode", front.MODES)
def test_every_mode_may_reach_past_the_end_of_the_song(pop, mode):
    # a producer extending an 8-bar loop selects bars 7-12 whatever the mode;
    # the bars past the end continue the last time signature
    assert front.bar_range(pop, mode, 7, 12) == (24.0, 48.0)
    assert front.bar_range(pop, mode, 8 + front.EXTRA_BARS, 8 + front.EXTRA_BARS) == (92.0, 96.0)
    waltz = read_midi(EXAMPLES / "waltz_d_minor_16_bars.mid")
    assert front.bar_range(waltz, mode, 16, 18) == (45.0, 54.0)


@pytest.mark.parametrize(
    "mode, a, b",
    [
        ("fill", 1, 8 + front.EXTRA_BARS + 1),
        ("fill", 0, 2),
        ("fill", 5, 4),
        ("continue", 8, 8 + front.EXTRA_BARS + 1),
        ("generate", 30, 31),
        ("fill", 1.5, 2),
    ],
)
def test_bars_out_of_range_are_refused(pop, mode, a, b):
    with pytest.raises(tk.InputError, match="Bars"):
        front.bar_range(pop, mode, a, b)


def test_a_fill_past_the_end_is_a_request_the_engine_accepts(pop):
    _, request, _, start, end = tk.prepare(pop, tk.Task(target="1", bar_start=7, bar_end=12))
    assert (start, end) == (24.0, 48.0) and request["target"]["end"] == 48.0
    parse_request(request, Tokenizer())


def test_prepare_builds_a_request_the_engine_accepts(pop):
    job = tk.Task(
        mode="fill",
        target="3",
        bar_start=5,
        bar_end=6,
        temperature=0.9,
        top_p=0.9,
        seed=4,
        variations=2,
        density=4.0,
        key="C major",
        pitch_range=(60, 84),
    )
    song, request, ids, start, end = tk.prepare(pop, job)
    assert song is pop and (ids, start, end) == (["3"], 16.0, 24.0)
    assert request["target"] == {"track": "3", "start": 16.0, "end": 24.0}
    assert request["controls"] == {
        "temperature": 0.9,
        "top_p": 0.9,
        "variations": 2,
        "seed": 4,
        "density": 4.0,
        "pitch_range": [60, 84],
        "key": "C major",
    }
    parsed = parse_request(request, Tokenizer())
    assert parsed.track_id == "3" and parsed.controls.variations == 2


def test_auto_is_a_choice_of_its_own_and_no_value_stands_for_it(pop):
    _, request, *_ = tk.prepare(
        pop,
        tk.Task(
            target="1",
            pitch_range="auto",
            density="auto",
            max_polyphony="auto",
            kit="auto",
            feel="auto",
        ),
    )
    assert request["controls"] == {}  # auto is the engine's default: nothing to send
    # the whole range, or any number, is a value the visitor chose, and is sent
    _, request, *_ = tk.prepare(
        pop,
        tk.Task(
            target="1", pitch_range=(0, 127), density=0, max_polyphony="1", feel="swing", kit="off"
        ),
    )
    assert request["controls"] == {
        "pitch_range": [0, 127],
        "density": 0.0,
        "max_polyphony": 1,
        "feel": "swing",
        "kit": "off",
    }
    c = parse_request(request, Tokenizer()).controls
    assert (c.pitch_range, c.max_polyphony, c.feel, c.kit) == ((0, 127), 1, "swing", None)


def test_a_new_track_gets_a_fresh_id_and_is_filled(pop):
    job = tk.Task(
        mode="generate", target=tk.NEW_TRACK, new_instrument=tk.DRUMS, bar_start=1, bar_end=2
    )
    song, request, ids, start, end = tk.prepare(pop, job)
    assert ids == ["4"] and len(song.tracks) == 5 and song.tracks[-1].is_drum
    assert request["mode"] == "fill" and any("fill" in n for n in job.notes)
    assert request["tracks"][-1]["notes"] == []
    parse_request(request, Tokenizer())
    song, *_ = tk.prepare(pop, tk.Task(target=tk.NEW_TRACK, new_instrument="33"))
    assert song.tracks[-1].program == 33 and not song.tracks[-1].is_drum
    assert len(pop.tracks) == 4  # the uploaded song is not changed


@pytest.mark.parametrize(
    "job, message",
    [
        (tk.Task(target="9"), "does not exist"),
        (tk.Task(target="1", pitch_range=(80, 40)), "Pitch range"),
        (tk.Task(target="1", variations=9), "Variations"),
        (tk.Task(target="1", mode="remix"), "Mode"),
        (tk.Task(target=tk.NEW_TRACK, new_instrument="200"), "General MIDI"),
    ],
)
def test_bad_forms_are_refused(pop, job, message):
    with pytest.raises(tk.InputError, match=message):
        tk.prepare(pop, job)


def test_key_is_detected_from_the_song():
    assert tk.detect_key(read_midi(EXAMPLES / "groove_e_minor_12_bars.mid")) == "E minor"
    assert tk.detect_key(read_midi(POP)) == "C major"
    assert tk.detect_key(read_midi(EXAMPLES / "waltz_d_minor_16_bars.mid")) == "D minor"
    assert tk.detect_key(Song([Track("0", 0, True, [Note(36, 0, 1, 100)])])) is None


def test_response_replaces_only_the_target_range(pop, tmp_path):
    response = {"variations": [{"notes": [[79, 16.0, 1.0, 90]]}, {"notes": []}]}
    request = front.build_request(pop, "3", (5, 6), "fill", {})
    one, two = front.apply_response(pop, request, response)
    assert [n.pitch for n in one.track("3").notes_in(16, 24)] == [79]
    assert two.track("3").notes_in(16, 24) == []
    for song in (one, two):
        assert [n for n in song.track("3").notes if not 16 <= n.start < 24] == [
            n for n in pop.track("3").sorted_notes() if not 16 <= n.start < 24
        ]
        assert song.track("0").notes == pop.track("0").notes
    write_midi(one, tmp_path / "one.mid")  # and it is a writable song
    assert read_midi(tmp_path / "one.mid").time_signatures[0] == TimeSignature(0.0, 4, 4)


def test_harmony_at_auto_sends_nothing_and_every_value_reaches_the_engine(pop):
    from midifill.model.generation.sampling import HARMONY_DEFAULT

    for left_alone in (None, "auto"):
        _, request, *_ = tk.prepare(pop, tk.Task(target="1", harmony=left_alone))
        assert "harmony" not in request["controls"]
    for value in (0.0, HARMONY_DEFAULT, 0.8, 1.0):  # 0.3 too: no value stands for "auto"
        _, request, *_ = tk.prepare(pop, tk.Task(target="1", harmony=value))
        assert request["controls"]["harmony"] == value
        assert parse_request(request, Tokenizer()).controls.harmony == value
    with pytest.raises(tk.InputError, match="Harmony"):
        tk.prepare(pop, tk.Task(target="1", harmony=1.5))


def test_a_file_past_the_demos_caps_is_refused_before_it_is_parsed(tmp_path):
    """10,000 tracks (issue 30: 32 s in /describe) or 199k pitch bends: one
    worded refusal, found from a scan of the bytes, in well under a second."""
    import time

    import mido

    many = mido.MidiFile(type=1)
    for _ in range(10_000):
        many.tracks.append(mido.MidiTrack([mido.MetaMessage("end_of_track")]))
    many.save(tmp_path / "tracks.mid")
    bends = mido.MidiFile(type=1)
    bends.tracks.append(
        mido.MidiTrack([mido.Message("pitchwheel", pitch=k % 8000, time=1) for k in range(150_000)])
    )
    bends.save(tmp_path / "bends.mid")
    for name, words in (("tracks.mid", "10,000 tracks"), ("bends.mid", "150,000 pitch-bend")):
        t0 = time.perf_counter()
        with pytest.raises(tk.InputError, match=words):
            tk.load_song(tmp_path / name)
        assert time.perf_counter() - t0 < 1.5


def test_the_download_is_the_upload_with_only_the_fill_written_in(tmp_path):
    """Issue 30 item 1, the demo's side: CCs, bends, program, markers, key
    signature, channels 3 and 10 and 480 ticks a beat all come back as they
    were; only the target's notes in bars 3-4 change."""
    import mido

    from tests.support import rich_midi

    path = tmp_path / "rich.mid"
    rich_midi.build(path)
    song = tk.load_song(path)
    keys = next(t.id for t in song.tracks if t.name == "Keys")
    song, request, ids, start, end = tk.prepare(song, tk.Task(target=keys, bar_start=3, bar_end=4))
    assert (start, end) == (8.0, 16.0)
    notes = [[62, 8.0, 0.5, 90], [65, 9.5, 1.0, 70], [60, 15.0, 1.0, 100]]
    tk.write_fill(tmp_path / "out.mid", path.read_bytes(), song, request, {"notes": notes})
    original, written = mido.MidiFile(path), mido.MidiFile(tmp_path / "out.mid")
    tpb = rich_midi.TPB
    inside = rich_midi.assert_only_the_fill_changed(original, written, 1, 8 * tpb, 16 * tpb)
    assert inside == [
        (8 * tpb, 8 * tpb + 240, 2, 62, 90),
        (9 * tpb + 240, 10 * tpb + 240, 2, 65, 70),
        (15 * tpb, 16 * tpb, 2, 60, 100),
    ]
    # what the demo renders and draws is what the file holds
    heard = front.apply_response(song, request, {"variations": [{"notes": notes}]})[0]
    back = read_midi(tmp_path / "out.mid")
    assert back.track(keys).sorted_notes() == heard.track(keys).sorted_notes()


def test_a_new_track_is_a_file_track_of_its_own(tmp_path):
    import mido

    from tests.support import rich_midi

    path = tmp_path / "rich.mid"
    rich_midi.build(path)
    song, request, ids, *_ = tk.prepare(
        tk.load_song(path),
        tk.Task(target=tk.NEW_TRACK, new_instrument="33", bar_start=1, bar_end=2),
    )
    tk.write_fill(
        tmp_path / "out.mid",
        path.read_bytes(),
        song,
        request,
        {"notes": [[40, 0.0, 1.0, 100], [43, 4.0, 2.0, 90]]},
        song.tracks[-1],
    )
    original, written = mido.MidiFile(path), mido.MidiFile(tmp_path / "out.mid")
    assert written.ticks_per_beat == rich_midi.TPB and len(written.tracks) == 4
    assert [rich_midi.timed(t) for t in written.tracks[:3]] == [
        rich_midi.timed(t) for t in original.tracks
    ]
    new = written.tracks[3]
    assert new.name == "Electric Bass (finger) (new)"
    assert [m.program for m in new if m.type == "program_change"] == [33]
    assert [n[2:] for n in rich_midi.notes(new)] == [(0, 40, 100), (0, 43, 90)]  # channel 1


def test_the_summary_speaks_in_bars_and_track_names(pop):
    assert tk.bar_range(pop, 16.0, 24.0) == (5, 6)
    assert tk.bar_range(pop, 28.0, 32.0) == (8, 8)
    assert tk.bar_range(pop, 24.0, 40.0) == (7, 10)  # past the song's end
    assert tk.track_label(pop, "3") == "Lead"
    assert tk.track_label(Song([Track("0", 0, False, [])]), "0") == "track 0"


# --- several tracks in one run (issue 31) ------------------------------------------


def test_several_tracks_make_one_request_of_targets_over_the_same_bars(pop):
    song, request, ids, start, end = tk.prepare(
        pop, tk.Task(target=["1", "0", "1"], bar_start=5, bar_end=6)
    )
    assert ids == ["1", "0"] and (start, end) == (16.0, 24.0) and "target" not in request
    assert request["targets"] == [
        {"track": "1", "start": 16.0, "end": 24.0},
        {"track": "0", "start": 16.0, "end": 24.0},
    ]
    assert [t.track_id for t in parse_request(request, Tokenizer()).targets] == ["1", "0"]
    # the API may join ids by commas; one id still gives a request of one target
    assert tk.prepare(pop, tk.Task(target="3, 2", bar_start=5, bar_end=6))[2] == ["3", "2"]
    assert "target" in tk.prepare(pop, tk.Task(target=["3"], bar_start=5, bar_end=6))[1]


def test_a_new_track_beside_existing_ones(pop):
    song, request, ids, *_ = tk.prepare(
        pop, tk.Task(target=["0", tk.NEW_TRACK], new_instrument="33", mode="continue")
    )
    assert ids == ["0", "4"] and song.tracks[-1].program == 33
    assert request["mode"] == "fill" and [t["track"] for t in request["targets"]] == ["0", "4"]


@pytest.mark.parametrize(
    "target, words",
    [
        ([], "No track chosen"),
        ("", "No track chosen"),
        (["0", "1", "9"], "Track '9' does not exist"),
        ([str(i) for i in range(9)], "at most 8"),
    ],
)
def test_a_bad_choice_of_tracks_is_refused(pop, target, words):
    with pytest.raises(tk.InputError, match=words):
        tk.prepare(pop, tk.Task(target=target))


def test_the_download_holds_every_target_and_nothing_else_changes(tmp_path):
    """Keys and Kit of the rich file filled together: both tracks' notes in
    bars 3-4 are the variation's, every other event of the file as it was."""
    import mido

    from tests.support import rich_midi

    path = tmp_path / "rich.mid"
    rich_midi.build(path)
    song = tk.load_song(path)
    keys, kit = (next(t.id for t in song.tracks if t.name == n) for n in ("Keys", "Kit"))
    song, request, ids, start, end = tk.prepare(
        song, tk.Task(target=[kit, keys], bar_start=3, bar_end=4)
    )
    variation = {
        "targets": [
            {"track": kit, "start": 8.0, "end": 16.0, "notes": [[38, 8.0, 0.25, 110]]},
            {
                "track": keys,
                "start": 8.0,
                "end": 16.0,
                "notes": [[62, 8.0, 0.5, 90], [65, 12.0, 2.0, 70]],
            },
        ]
    }
    tk.write_fill(tmp_path / "out.mid", path.read_bytes(), song, request, variation)
    original, written = mido.MidiFile(path), mido.MidiFile(tmp_path / "out.mid")
    tpb = rich_midi.TPB
    assert timed_without_notes(written) == timed_without_notes(original)
    assert rich_midi.timed(written.tracks[0]) == rich_midi.timed(original.tracks[0])
    for k, inside in (
        (1, [(8 * tpb, 8 * tpb + 240, 2, 62, 90), (12 * tpb, 14 * tpb, 2, 65, 70)]),
        (2, [(8 * tpb, 8 * tpb + 120, 9, 38, 110)]),
    ):
        outside = [n for n in rich_midi.notes(original.tracks[k]) if not 8 * tpb <= n[0] < 16 * tpb]
        got = rich_midi.notes(written.tracks[k])
        assert [n for n in got if not 8 * tpb <= n[0] < 16 * tpb] == outside
        assert [n for n in got if 8 * tpb <= n[0] < 16 * tpb] == inside
    heard = front.apply_response(song, request, {"variations": [variation]})[0]
    back = read_midi(tmp_path / "out.mid")
    for tid in (keys, kit):
        assert back.track(tid).sorted_notes() == heard.track(tid).sorted_notes()


def timed_without_notes(mf):
    from tests.support import rich_midi

    return [
        [e for e in rich_midi.timed(t) if not e[1].startswith(("note_on", "note_off"))]
        for t in mf.tracks
    ]


def test_targets_are_found_by_instrument_when_a_fill_reorders_them(tmp_path):
    """One file track, two channels: the keys' first note closes before the
    bass's, so the keys are Song track 0. A bass fill that closes a note
    earlier makes the bass instrument 0 of the written file; the keys' fill
    must still land on the keys (patching by place wrote it on the bass)."""
    import mido

    tpb = 96
    events = [
        (0, mido.Message("program_change", channel=0, program=33)),
        (0, mido.Message("program_change", channel=1, program=0)),
        (0, mido.Message("note_on", channel=1, note=64, velocity=80)),
        (90, mido.Message("note_off", channel=1, note=64, velocity=0)),
        (4 * tpb, mido.Message("note_on", channel=0, note=36, velocity=80)),
        (5 * tpb, mido.Message("note_off", channel=0, note=36, velocity=0)),
        (8 * tpb, mido.Message("note_on", channel=1, note=67, velocity=80)),
        (9 * tpb, mido.Message("note_off", channel=1, note=67, velocity=0)),
    ]
    track, last = mido.MidiTrack(), 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    mf = mido.MidiFile(type=0, ticks_per_beat=tpb)
    mf.tracks.append(track)
    path = tmp_path / "one_track.mid"
    mf.save(path)
    song = tk.load_song(path)
    assert [t.program for t in song.tracks] == [0, 33]  # keys first
    song, request, ids, *_ = tk.prepare(song, tk.Task(target=["1", "0"], bar_start=1, bar_end=1))
    variation = {
        "targets": [
            {"track": "1", "start": 0.0, "end": 4.0, "notes": [[40, 0.0, 0.25, 100]]},
            {"track": "0", "start": 0.0, "end": 4.0, "notes": [[72, 2.0, 1.0, 60]]},
        ]
    }
    tk.write_fill(tmp_path / "out.mid", path.read_bytes(), song, request, variation)
    back = {t.program: t.sorted_notes() for t in read_midi(tmp_path / "out.mid").tracks}
    heard = front.apply_response(song, request, {"variations": [variation]})[0]
    assert back == {t.program: t.sorted_notes() for t in heard.tracks}
    assert [n.pitch for n in back[33]] == [40, 36] and [n.pitch for n in back[0]] == [72, 67]
