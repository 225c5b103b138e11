"""Which other tracks a prompt keeps when room is short (model/generation/prompt.py):
ranked by what they tell about the fill, never by weight alone, and always
after the target's own bars. On songs of 12 tracks a 768-token block shows
the target's 16 own context bars and the track it most depends on."""

from midifill.model.generation.nearby import context_density
from midifill.model.generation.prompt import Part, build_prompt, own_context_shown, usefulness
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, Track

TOK = Tokenizer()
BAR = 96  # ticks in a 4/4 bar


def part(is_drum=False, program=0, pitches=(60,), per_onset=1):
    """A Part of one bar per pitch, `per_onset` notes at a time."""
    notes = [
        Note(p + 2 * k, float(i), 0.5, 90) for i, p in enumerate(pitches) for k in range(per_onset)
    ]
    return Part.of(Track("x", program, is_drum, notes), notes, TOK.tpb)


def test_a_drum_part_ranks_the_other_drums_then_the_bass_then_the_rest():
    drums = part(is_drum=True, pitches=(36, 38, 42))
    ranks = [
        usefulness(drums, other)
        for other in [
            part(is_drum=True, pitches=(82,)),
            part(program=33, pitches=(60,)),
            part(program=0, pitches=(36, 40)),
            part(program=48, per_onset=4),
            part(pitches=()),
        ]
    ]
    # another kit; a bass by family (even up high); one by register; a pad; silence
    assert ranks == [5, 4, 4, 2, 0]


def test_a_pitched_part_ranks_the_bass_then_chords_and_its_register_and_drums_last():
    lead = part(program=65, pitches=(62, 65, 67, 69, 72))
    ranks = [
        usefulness(lead, other)
        for other in [
            part(program=33, pitches=(40, 43)),  # the bass
            part(program=48, pitches=(60, 64), per_onset=3),  # a pad in its register
            part(program=48, pitches=(84, 88), per_onset=3),  # a pad above it
            part(program=73, pitches=(64, 70)),  # a line in its register
            part(program=73, pitches=(84, 91)),  # a line above it
            part(is_drum=True, pitches=(36, 38)),
            part(program=0, pitches=()),
        ]
    ]  # silent near the fill
    assert ranks == [5, 4, 3, 3, 2, 1, 0]
    # without notes of its own, no register is shared: chords still count
    new = part(program=65, pitches=())
    assert [
        usefulness(new, part(program=48, pitches=(60,), per_onset=3)),
        usefulness(new, part(program=73, pitches=(64,))),
    ] == [3, 2]


def fill_only(tracks):
    """A song of the fill's two bars: the target has no own bars to add."""
    return Song(tracks), Song(tracks).bars(until=8)


def kept(song, bars, target, block, budget=40):
    return build_prompt(
        TOK, song, bars, target, (0, 2), (0, 2), 0, 2 * BAR, "fill", block, None, budget=budget
    ).tracks


def cost(track):
    """A track's section over the two fill bars."""
    return 3 + sum(len(b) for b in TOK.encode_bars(track, Song([track]).bars(until=8)))


def test_the_bass_is_kept_over_a_lighter_pad_and_drums_go_before_either():
    lead = Track("lead", 65, False, [Note(67 + k % 5, k * 1.0, 1.0, 90) for k in range(8)])
    bass = Track("bass", 33, False, [Note(40 + k % 3, k * 0.25, 0.25, 90) for k in range(32)])
    pad = Track(
        "pad", 48, False, [Note(p, b * 4.0, 4.0, 70) for b in range(2) for p in (60, 64, 67)]
    )
    drums = Track("drums", 0, True, [Note(36, k * 4.0, 0.1, 90) for k in range(2)])
    song, bars = fill_only([lead, drums, pad, bass])
    assert cost(bass) > cost(pad) > cost(drums)  # the heaviest would have gone first
    base = 2 + 40 + 5  # BOS, FILL_START, the budget, the lead's two FILL_BAR
    assert kept(song, bars, "lead", base + cost(bass)) == ["lead", "bass"]
    assert kept(song, bars, "lead", base + cost(bass) + cost(pad)) == ["lead", "pad", "bass"]
    assert kept(song, bars, "lead", base + cost(pad)) == ["lead", "pad"]
    # a drum target keeps the other kit, then the bass, over a lighter pad
    kit = Track("kit", 0, True, [Note(82, k * 0.25, 0.1, 90) for k in range(32)])
    song, bars = fill_only([drums, kit, pad, bass])
    base = 2 + 40 + 5
    assert kept(song, bars, "drums", base + cost(kit) + cost(bass)) == ["drums", "kit", "bass"]
    # where the bass does not fit, the next track that does goes in
    assert kept(song, bars, "drums", base + cost(kit) + cost(pad)) == ["drums", "kit", "pad"]


def twelve_tracks(n_bars=40):
    """A song of 12 busy tracks, as arrangements are: two kits, a bass, a
    string pad struck on every 8th, piano and guitar comping, a lead, and
    five more lines and chords."""

    def every(program, is_drum, times, pitches, dur=0.2, tid=None):
        return Track(
            tid or str(program),
            program,
            is_drum,
            [Note(p, b * 4.0 + t, dur, 90) for b in range(n_bars) for t in times for p in pitches],
        )

    eighths = [k / 2 for k in range(8)]
    return Song(
        [
            Track(
                "drums",
                0,
                True,
                [
                    Note(p, b * 4.0 + t, 0.1, 100)
                    for b in range(n_bars)
                    for t, p in [(0, 36), (1, 38), (2, 36), (3, 38)]
                    + [(k + 0.5, 42) for k in range(4)]
                ],
            ),
            every(0, True, [k / 4 for k in range(16)], (82,), tid="shaker"),
            every(33, False, [0, 1, 2, 3], (40,), 0.9, tid="bass"),
            every(48, False, eighths, (55, 59, 62, 67), 0.5, tid="pad"),
            every(65, False, [0, 1, 2.5, 3], (69,), 0.9, tid="lead"),
            every(0, False, [0, 1, 2, 3], (60, 64, 67)),
            every(25, False, eighths, (52, 59)),
            every(61, False, [0], (58, 62, 65)),
            every(73, False, eighths, (84,)),
            every(46, False, [k / 4 for k in range(16)], (72,)),
            every(71, False, [0, 2], (50,), 1.9),
            every(56, False, [0.5, 2.5], (77,)),
        ]
    )


def prompt_for(song, target, f0=16):
    bars = song.bars()
    track = song.track(target)
    density = context_density(TOK, track, bars, f0, f0 + 4)
    p = build_prompt(
        TOK,
        song,
        bars,
        target,
        (f0, f0 + 4),
        (f0, f0 + 4),
        f0 * BAR,
        (f0 + 4) * BAR,
        "fill",
        768,
        density,
    )
    assert len(p.tokens) + (density is not None) + p.plan.max_tokens <= 768
    return p


def test_on_a_12_track_song_a_drum_part_sees_its_own_16_bars_then_the_other_drums():
    song = twelve_tracks()
    p = prompt_for(song, "drums")
    assert own_context_shown(TOK, p, "drums") == 16
    # the other drum track is worth most to a drum part, the bass next; no
    # pitched part that is not the bass comes in while the bass is left out
    assert p.tracks[:2] == ["drums", "shaker"]
    assert "pad" not in p.tracks and "lead" not in p.tracks


def test_on_a_12_track_song_a_lead_sees_its_own_16_bars_and_keeps_the_bass_over_the_pad():
    song = twelve_tracks()
    p = prompt_for(song, "lead")
    assert own_context_shown(TOK, p, "lead") == 16
    assert "bass" in p.tracks and "pad" not in p.tracks and "drums" not in p.tracks
    assert len(p.tracks) < 12  # room was short


def test_own_context_shown_counts_the_targets_bars_with_notes_8_a_side():
    song = twelve_tracks()
    bars = song.bars()
    # a fill of 2 bars whose next 3 stay blank for later chunks: they are not shown
    p = build_prompt(
        TOK, song, bars, "bass", (16, 18), (16, 21), 16 * BAR, 18 * BAR, "fill", 100_000, None
    )
    assert p.window == (0, 40) and own_context_shown(TOK, p, "bass") == 8 + 5
    p = build_prompt(
        TOK, song, bars, "bass", (2, 4), (2, 4), 2 * BAR, 4 * BAR, "continue", 100_000, None
    )
    assert own_context_shown(TOK, p, "bass") == 2  # bars 0 and 1; nothing after the fill


def test_the_ranking_does_not_read_the_bars_being_filled():
    """What the target plays in its blank bars is the answer in training: it
    must not decide which tracks the prompt shows."""
    # the target plays at 72 around the fill and low in it; were its low fill
    # notes read, the low line would share its register and go in first
    lead = Track(
        "t",
        65,
        False,
        [Note(72, b * 4.0, 1.0, 90) for b in range(20) if not 8 <= b < 12]
        + [Note(48, b * 4.0 + k, 1.0, 90) for b in range(8, 12) for k in range(4)],
    )
    low = Track(
        "low", 73, False, [Note(50, b * 4.0 + k * 2, 1.0, 90) for b in range(20) for k in range(2)]
    )
    high = Track("high", 73, False, [Note(90, b * 4.0, 1.0, 90) for b in range(20)])
    song = Song([lead, low, high])
    # the lead's fill and 16 own bars, then room for the low line or the high
    block = 2 + 40 + (3 + 4) + 16 * 5 + (3 + 4 * 9 + 16)
    p = build_prompt(
        TOK,
        song,
        song.bars(),
        "t",
        (8, 12),
        (8, 12),
        8 * BAR,
        12 * BAR,
        "fill",
        block,
        None,
        budget=40,
    )
    assert p.tracks == ["t", "high"]  # equally useful: the lighter


def test_the_coverage_script_layers_the_demo_and_counts_what_prompts_show():
    from midifill.model.evaluation.prompt_coverage import DEMO, coverage, layered
    from midifill.model.midi_io import read_midi

    song = layered(read_midi(DEMO / "pop_c_major_8_bars.mid"), 12)
    assert len(song.tracks) == 12 and len(song.bars()) == 48
    out = coverage([song], TOK)
    # three kits (its own, a shaker, hats), nine pitched parts; fills at bars 8, 14, .. 32
    assert len(out["drums"]) == 3 * 5 and len(out["pitched"]) == 9 * 5
    rows = out["drums"] + out["pitched"]
    assert all(total <= 768 for *_, total in rows)
    shown = sorted(r[0] for r in out["pitched"])
    assert shown[len(shown) // 2] == 16 and shown[0] == 6  # 6: a harp in 16ths, 16 notes a bar
