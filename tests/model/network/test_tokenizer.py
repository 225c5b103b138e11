"""Tokenizer: round trips, grid snapping, config save-and-reload."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from midifill.model.midi_io import read_midi
from midifill.model.network.tokenizer import SPECIALS, Tokenizer, TokenizerConfig
from midifill.model.song import Note, Song, TimeSignature, Track

TOK = Tokenizer()
SIGS = [(2, 4), (3, 4), (4, 4), (5, 4), (6, 8), (7, 8), (12, 8)]


@st.composite
def songs_on_grid(draw):
    num, den = draw(st.sampled_from(SIGS))
    n_bars = draw(st.integers(1, 6))
    bar_ticks = num * 4 * TOK.tpb // den
    total = n_bars * bar_ticks
    tracks = []
    for i in range(draw(st.integers(1, 4))):
        is_drum = draw(st.booleans())
        cells = draw(
            st.lists(
                st.tuples(st.integers(0, total - 1), st.integers(0, 127)), max_size=30, unique=True
            )
        )
        notes = []
        for tick, pitch in cells:
            dur = draw(st.integers(1, TOK.max_dur))
            vel = TOK.bin_velocity(draw(st.integers(0, TOK.config.velocity_bins - 1)))
            notes.append(Note(pitch, tick / TOK.tpb, dur / TOK.tpb, vel))
        tracks.append(Track(str(i), 0 if is_drum else draw(st.integers(0, 127)), is_drum, notes))
    return Song(tracks, [TimeSignature(0.0, num, den)])


def canon(notes, hit_ticks=None):
    """Notes on the grid; with hit_ticks, every duration reads as that (drum hits)."""
    return sorted(
        (n.pitch, round(n.start * TOK.tpb), hit_ticks or round(n.duration * TOK.tpb), n.velocity)
        for n in notes
    )


@settings(max_examples=150, deadline=None)
@given(songs_on_grid())
def test_round_trip_is_exact_on_the_grid(song):
    """Everything comes back; drum hits come back a 16th long (they carry no DUR)."""
    bars = song.bars(until=max(song.end_beat, 1e-3))
    tracks = TOK.decode_song(TOK.encode_song(song, bars), bars)
    assert len(tracks) == len(song.tracks)
    for a, b in zip(song.tracks, tracks):
        assert (a.program, a.is_drum) == (b.program, b.is_drum)
        hit = TOK.drum_ticks if a.is_drum else None
        assert canon(a.notes, hit) == canon(b.notes)


OLD = Tokenizer(
    TokenizerConfig.from_dict(
        {k: v for k, v in TokenizerConfig().to_dict().items() if k != "drum_durations"}
    )
)


@settings(max_examples=60, deadline=None)
@given(songs_on_grid())
def test_checkpoints_from_before_drum_hits_keep_drum_durations(song):
    assert OLD.config.drum_durations and not TOK.config.drum_durations
    bars = song.bars(until=max(song.end_beat, 1e-3))
    tracks = OLD.decode_song(OLD.encode_song(song, bars), bars)
    for a, b in zip(song.tracks, tracks):
        assert canon(a.notes) == canon(b.notes)


def test_drum_hits_have_no_duration_token():
    drums = Track("d", 0, True, [Note(36, 0.0, 1 / 24, 100), Note(42, 0.5, 2.0, 80)])
    toks = TOK.encode_bars(drums, Song([drums], [TimeSignature(0.0, 4, 4)]).bars(until=4))[0]
    assert [TOK.kind(t) for t in toks] == ["BAR", "POS", "DRUM", "VEL", "POS", "DRUM", "VEL"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 30, allow_nan=False), st.floats(1 / 24, 8), st.integers(0, 127)),
        min_size=1,
        max_size=20,
    )
)
def test_off_grid_notes_move_by_at_most_half_a_step(raw):
    """Notes at least a grid step long; shorter ones become one step long."""
    seen, notes = set(), []
    for start, dur, pitch in raw:
        key = (round(start * TOK.tpb), pitch)
        if key not in seen:
            seen.add(key)
            notes.append(Note(pitch, start, dur, 80))
    song = Song([Track("0", 0, False, notes)])
    bars = song.bars()
    back = TOK.decode_song(TOK.encode_song(song, bars), bars)[0].notes
    assert len(back) == len(notes)
    half = 0.5 / TOK.tpb + 1e-9
    for a, b in zip(
        sorted(notes, key=lambda n: (round(n.start * TOK.tpb), n.pitch)),
        sorted(back, key=lambda n: (round(n.start * TOK.tpb), n.pitch)),
    ):
        assert a.pitch == b.pitch
        assert abs(a.start - b.start) <= half
        assert abs(a.end - b.end) <= 2 * half  # start and end each snap by half a step


def test_triplets_and_32nds_are_on_the_grid():
    for beat in (1 / 3, 2 / 3, 1 / 6, 1 / 8, 3 / 8, 5 / 6):
        assert abs(beat * TOK.tpb - round(beat * TOK.tpb)) < 1e-9


def test_velocity_levels_and_long_durations():
    assert TOK.config.velocity_bins >= 16
    assert TOK.max_dur >= 2 * 4 * TOK.tpb  # two bars of 4/4
    assert TOK.max_dur >= 2 * 6 * TOK.tpb  # two bars of 12/8


def test_config_save_and_reload(tmp_path):
    cfg = TokenizerConfig(velocity_bins=16, max_duration_beats=12)
    path = tmp_path / "tok.json"
    path.write_text(json.dumps(cfg.to_dict()))
    again = TokenizerConfig.from_dict(json.loads(path.read_text()))
    assert again == cfg
    assert Tokenizer(again).names == Tokenizer(cfg).names
    assert Tokenizer(again).vocab_size != TOK.vocab_size


def test_fixture_round_trip(fixtures_dir):
    for name in ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid"):
        song = read_midi(fixtures_dir / name)
        bars = song.bars()
        tracks = TOK.decode_song(TOK.encode_song(song, bars), bars)
        for a, b in zip(song.tracks, tracks):
            assert [(n.pitch, round(n.start * TOK.tpb)) for n in a.sorted_notes()] == [
                (n.pitch, round(n.start * TOK.tpb)) for n in b.sorted_notes()
            ], name


def test_time_signatures_of_the_issue_are_supported():
    for num, den in SIGS:
        assert TOK.supports_time_signature(num, den)


def test_every_token_has_the_kind_and_value_its_name_says():
    """kind() and value() are table lookups: check them against the names
    for the whole vocabulary, and that the specials carry no value."""
    tok = Tokenizer()
    for i, name in enumerate(tok.names):
        kind = tok.kind(i)
        if name in SPECIALS:
            assert kind == name
            with pytest.raises(ValueError, match="carries no value"):
                tok.value(i)
            continue
        assert name.startswith(kind + "_")
        if kind == "UNSEEN":  # UNSEEN_BAR: a bar of another track, not shown
            with pytest.raises(ValueError, match="carries no value"):
                tok.value(i)
        elif kind != "BAR":  # BAR_4/4 carries the index of its time signature
            assert tok.value(i) == int(name[len(kind) + 1 :])
    for bad in (-1, tok.vocab_size):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tok.kind(bad)
