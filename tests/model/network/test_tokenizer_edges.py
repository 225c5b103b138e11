"""The tokenizer at its edges: malformed token runs are refused by name,
density levels change exactly at their edges, target ranges round inwards,
one note per (position, pitch) keeps the longest, decoded tracks are
numbered in order."""

import pytest

from midifill.model.network.tokenizer import Tokenizer, TokenizerConfig
from midifill.model.song import Bar, Note, Song, TimeSignature, Track

pytestmark = pytest.mark.promise


TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]


def ids(*names):
    return [TOK.ids[n] for n in names]


@pytest.mark.parametrize(
    "names, message",
    [
        (("POS_0", "PITCH_60", "VEL_3", "DUR_4"), "a note before the first BAR token"),
        (("BAR_4/4", "BAR_4/4", "BAR_4/4"), "more BAR tokens than bars"),
        (("BAR_4/4", "POS_0", "PITCH_60", "VEL_3"), "the last note is incomplete"),
        (("BAR_4/4", "POS_0", "PITCH_60"), "the last note is incomplete"),
        (("BAR_4/4", "POS_0", "VEL_3"), "VEL_3 out of order"),
        (("BAR_4/4", "POS_0", "DUR_3"), "DUR_3 out of order"),
        (("BAR_4/4", "POS_0", "PITCH_60", "DUR_3"), "DUR_3 out of order"),
        (("BAR_4/4", "POS_0", "PITCH_60", "VEL_3", "DUR_2", "DUR_2"), "DUR_2 out of order"),
    ],
)
def test_malformed_runs_are_refused_by_name(names, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        TOK.decode_bars(ids(*names), BARS)


def test_decoding_places_notes_by_bar_and_position():
    run = ids(
        "BAR_4/4",
        "POS_6",
        "PITCH_60",
        "VEL_31",
        "DUR_12",
        "PITCH_64",
        "VEL_0",
        "DUR_1",
        "BAR_4/4",
        "PITCH_62",
        "VEL_10",
        "DUR_24",
        "POS_90",
        "DRUM_36",
        "VEL_5",
    )
    notes = TOK.decode_bars(run + [TOK.FILL_END, TOK.TRACK_END], BARS)
    assert [(n.pitch, round(n.start * 24), round(n.duration * 24)) for n in notes] == [
        (60, 6, 12),
        (64, 6, 1),
        (62, 96, 24),
        (36, 186, 6),
    ]  # a bar line resets the position
    assert [n.velocity for n in notes] == [
        TOK.bin_velocity(31),
        TOK.bin_velocity(0),
        TOK.bin_velocity(10),
        TOK.bin_velocity(5),
    ]


def test_drum_hits_end_at_end_tick_but_last_at_least_a_tick():
    run = ids(
        "BAR_4/4",
        "POS_0",
        "DRUM_36",
        "VEL_5",
        "POS_94",
        "DRUM_38",
        "VEL_5",
        "BAR_4/4",
        "POS_95",
        "DRUM_42",
        "VEL_5",
    )
    notes = TOK.decode_bars(run, BARS)
    assert [round(n.duration * 24) for n in notes] == [TOK.drum_ticks] * 3
    clipped = TOK.decode_bars(run, BARS, end_tick=96)
    assert [round(n.duration * 24) for n in clipped] == [6, 2, 1]
    assert round(clipped[2].start * 24) == 191


def test_density_levels_change_exactly_at_their_edges():
    edges = TOK.config.density_edges
    assert TOK.density_level(0) == 0 and TOK.density_level(1e-10) == 0
    for level, edge in enumerate(edges):
        assert TOK.density_level(edge) == level + 1, edge
        assert TOK.density_level(edge - 1e-6) == level, edge
    assert TOK.density_level(1000) == len(edges) == TOK.n_density - 1
    for level in range(TOK.n_density):
        lo, hi = TOK.density_range(level)
        assert TOK.density_level(lo) == level or level == 0
        assert lo < hi and (level == 0 or lo == edges[level - 1])
    assert TOK.density_range(TOK.n_density - 1)[1] == float("inf")


def test_a_target_range_rounds_inwards_to_the_grid():
    assert TOK.range_ticks(1.0, 2.0) == (24, 48)
    assert TOK.range_ticks(1.01, 1.99) == (25, 47)  # never a tick outside the range
    assert TOK.range_ticks(1.0 + 1e-9, 2.0 - 1e-9) == (24, 48)  # float noise is not a tick
    assert TOK.range_ticks(0.0, 1 / 24) == (0, 1)
    assert TOK.range_ticks(1 / 3, 2 / 3) == (8, 16)


def test_velocity_bins_at_the_edges():
    bins = TOK.config.velocity_bins
    assert [TOK.velocity_bin(v) for v in (-5, 0, 1, 2, 4, 5, 126, 127, 128, 1000)] == [
        0,
        0,
        0,
        0,
        0,
        1,
        bins - 1,
        bins - 1,
        bins - 1,
        bins - 1,
    ]
    assert TOK.velocity_bin(5) == 1 and TOK.velocity_bin(4) == 0
    small = Tokenizer(TokenizerConfig(velocity_bins=4))
    assert [small.velocity_bin(v) for v in (1, 32, 33, 64, 65, 96, 97, 127)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
    ]


def test_one_note_per_position_and_pitch_the_longest():
    track = Track(
        "t",
        0,
        False,
        [
            Note(60, 1.0, 0.5, 90),
            Note(60, 1.0, 2.0, 30),
            Note(60, 1.0, 1.0, 120),
            Note(62, 1.0, 0.25, 90),
            Note(60, 1.0 + 0.4 / 24, 3.0, 50),
        ],
    )  # snaps onto tick 24 too
    toks = TOK.encode_bars(track, BARS[:1])[0]
    names = [TOK.names[t] for t in toks]
    assert names == [
        "BAR_4/4",
        "POS_24",
        "PITCH_60",
        f"VEL_{TOK.velocity_bin(50)}",
        "DUR_72",
        "PITCH_62",
        "VEL_" + str(TOK.velocity_bin(90)),
        "DUR_6",
    ]
    tie = Track("t", 0, False, [Note(60, 0.0, 1.0, 30), Note(60, 0.0, 1.0, 120)])
    assert [TOK.names[t] for t in TOK.encode_bars(tie, BARS[:1])[0]][
        3
    ] == f"VEL_{TOK.velocity_bin(30)}"  # equally long: the first stays
    # notes outside the bars are left out; durations are 1 tick to 16 beats
    out = Track("t", 0, False, [Note(60, 8.5, 1.0), Note(61, 0.0, 0.001), Note(62, 0.0, 40.0)])
    assert [TOK.names[t] for t in TOK.encode_bars(out, BARS)[0]] == [
        "BAR_4/4",
        "POS_0",
        "PITCH_61",
        f"VEL_{TOK.velocity_bin(96)}",
        "DUR_1",
        "PITCH_62",
        f"VEL_{TOK.velocity_bin(96)}",
        f"DUR_{TOK.max_dur}",
    ]


def test_songs_decode_to_tracks_numbered_in_order():
    song = Song(
        [
            Track("a", 5, False, [Note(60, 0.0, 1.0, 90)]),
            Track("b", 0, True, [Note(36, 1.0, 0.25, 90)]),
            Track("c", 7, False, []),
        ],
        [TimeSignature(0.0, 4, 4)],
    )
    seq = TOK.encode_song(song)  # the song's own bars by default
    assert seq[0] == TOK.BOS and seq.count(TOK.TRACK) == 3 and seq.count(TOK.TRACK_END) == 3
    tracks = TOK.decode_song([TOK.PAD] + seq + [TOK.PAD], song.bars())
    assert [(t.id, t.program, t.is_drum, len(t.notes)) for t in tracks] == [
        ("0", 5, False, 1),
        ("1", 0, True, 1),
        ("2", 7, False, 0),
    ]
    assert TOK.encode_song(song) == TOK.encode_song(song, song.bars())


def test_a_tokenizer_built_here_has_the_documented_vocabulary():
    """Built inside the test (mutation testing cannot reach one built at import)."""
    cfg = TokenizerConfig()
    expect = [[n, d] for d in (2, 4, 8, 16) for n in range(1, 17) if n * 4 / d <= 8]
    assert cfg.time_signatures == expect and [7, 8] in expect and [9, 8] in expect
    assert [17, 8] not in expect and [9, 4] not in expect and [16, 8] in expect
    tok = Tokenizer(cfg)
    assert tok.vocab_size == 1067 and tok.tpb == 24 and tok.drum_ticks == 6
    assert type(tok.drum_ticks) is int and tok.n_density == 10 == len(cfg.density_edges) + 1
    assert (tok.max_pos, tok.max_dur) == (192, 384)
    assert tok.range("DENSITY") == (1044, 1054) and tok.names[-2] == "CHORD_11"
    assert tok.range("CHORD") == (1054, 1066) and tok.value(tok.ids["CHORD_7"]) == 7
    assert tok.names[-1] == "UNSEEN_BAR" and tok.UNSEEN_BAR == 1066 == tok.range("UNSEEN")[0]
    assert tok.names[tok.offset["BAR"] + len(expect) - 1] == "BAR_16/16"
    assert tok.ids["DENSITY_9"] == 1053 and (tok.PAD, tok.BOS, tok.DRUMS) == (0, 1, 7)
    assert tok.bar_token(Bar(0, 0.0, 7, 8)) == tok.offset["BAR"] + expect.index([7, 8])
    assert tok.density_range(0) == (0.0, 1e-9) and tok.density_range(9) == (28, float("inf"))


def test_tokenizer_configs_read_back_with_their_format():
    old = {k: v for k, v in TokenizerConfig().to_dict().items() if k != "drum_durations"}
    assert TokenizerConfig.from_dict(old).drum_durations is True  # written before drum hits
    assert "drum_durations" not in old  # the dict given is not changed
    assert TokenizerConfig.from_dict(TokenizerConfig().to_dict()).drum_durations is False
    small = {
        k: v
        for k, v in TokenizerConfig(velocity_bins=16).to_dict().items()
        if k != "drum_durations"
    }
    assert TokenizerConfig.from_dict(small).velocity_bins == 16  # the rest is kept
    # written before CHORD tokens: no CHORD block, the vocabulary of then
    before = {k: v for k, v in TokenizerConfig().to_dict().items() if k != "chord_tokens"}
    assert TokenizerConfig.from_dict(before).chord_tokens == 0
    assert Tokenizer(TokenizerConfig.from_dict(before)).vocab_size == 1055  # UNSEEN_BAR kept
    # written before UNSEEN_BAR tokens: the vocabulary of then, no such token
    chords = {k: v for k, v in TokenizerConfig().to_dict().items() if k != "unseen_bars"}
    assert TokenizerConfig.from_dict(chords).unseen_bars is False
    tok = Tokenizer(TokenizerConfig.from_dict(chords))
    assert tok.vocab_size == 1066 and tok.UNSEEN_BAR is None and "UNSEEN" not in tok.offset
    with pytest.raises(
        ValueError, match=r"^unknown tokenizer config fields: \['colour', 'size'\]$"
    ):
        TokenizerConfig.from_dict(dict(TokenizerConfig().to_dict(), size=3, colour=1))


def test_each_velocity_bin_decodes_to_its_middle():
    for b in range(TOK.config.velocity_bins):
        members = [v for v in range(1, 128) if TOK.velocity_bin(v) == b]
        mid = TOK.bin_velocity(b)
        assert type(mid) is int and mid == (min(members) + max(members)) // 2, b


def test_token_lookups_refuse_what_is_not_in_the_vocabulary():
    for bad in (-1, TOK.vocab_size, TOK.vocab_size + 5):
        with pytest.raises(ValueError, match=f"^token {bad} outside the vocabulary$"):
            TOK.kind(bad)
        with pytest.raises(ValueError, match=f"^token {bad} outside the vocabulary$"):
            TOK.value(bad)
    with pytest.raises(ValueError, match="^BOS carries no value$"):
        TOK.value(TOK.BOS)
    with pytest.raises(
        ValueError, match=r"^time signature 9/4 is not supported \(bars up to 8 beats\)$"
    ):
        TOK.bar_token(Bar(0, 0.0, 9, 4))


def test_a_stray_velocity_after_a_drum_hit_is_refused():
    with pytest.raises(ValueError, match="^VEL_5 out of order$"):
        TOK.decode_bars(ids("BAR_4/4", "POS_0", "DRUM_36", "VEL_5", "VEL_5"), BARS)


def test_songs_encode_on_the_bars_given_and_decode_without_a_bos():
    song = Song([Track("a", 5, False, [Note(60, 0.0, 1.0, 90)])], [TimeSignature(0.0, 4, 4)])
    bars = song.bars(until=12.0)
    seq = TOK.encode_song(song, bars)
    assert sum(TOK.kind(t) == "BAR" for t in seq) == 3
    tracks = TOK.decode_song(seq[1:], bars)  # starting at TRACK
    assert [(t.id, t.program, len(t.notes)) for t in tracks] == [("0", 5, 1)]
