"""Several targets in one request (docs/contract.md, "Several targets"), end
to end with the real (tiny) trained model: the fill order, each later target
written into a song that holds the earlier targets' new notes of the same
variation, and the single-target response unchanged."""

import pytest

from midifill.model import Engine
from midifill.model.errors import LimitError, RequestError
from midifill.model.generation.choose import CANDIDATES
from midifill.model.midi_io import read_midi
from midifill.model.song import Note

# tracks of the fixture: "0" drums, "1" bass (program 33), "2" keys, "3" flute


@pytest.fixture(scope="module")
def pop(fixtures_dir):
    return read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")


class Recording(Engine):
    """The engine as it is, noting the songs each target is written into."""

    def _fill(self, req, gen, timing, progress, cancel, songs=None, prompt_mode=None, heard=()):
        self.seen.append((req.track_id, req.start, req.end, list(songs), prompt_mode, heard))
        return super()._fill(req, gen, timing, progress, cancel, songs, prompt_mode, heard)


@pytest.fixture
def engine(tiny_checkpoint):
    e = Recording.from_checkpoint(tiny_checkpoint)
    e.seen = []
    return e


def request(song, targets, **controls):
    return dict(song.to_payload(), mode="fill", targets=targets, controls=controls)


def tgt(track, start=8.0, end=16.0):
    return {"track": track, "start": start, "end": end}


def notes_in(song, track, start, end):
    return sorted(n.to_list() for n in song.track(track).notes if start <= n.start < end)


def test_later_target_is_written_into_the_earlier_targets_new_notes(engine, pop):
    # bass named first: the drums are written first all the same
    resp = engine.run(request(pop, [tgt("1"), tgt("0")], seed=5, variations=3))
    assert resp["order"] == [1, 0]
    assert [s[0] for s in engine.seen] == ["0", "1"]
    drum_songs = engine.seen[0][3]  # the first target: one song, the request's
    assert all(s is drum_songs[0] for s in drum_songs)
    assert notes_in(drum_songs[0], "0", 0.0, 64.0) == notes_in(pop, "0", 0.0, 64.0)
    bass_songs = engine.seen[1][3]
    assert len(resp["variations"]) == len(bass_songs) == 3
    drums_of = [v["targets"][1] for v in resp["variations"]]
    assert all(d["track"] == "0" and d["notes"] for d in drums_of)
    assert len({str(d["notes"]) for d in drums_of}) > 1  # the variations differ
    for v, song in enumerate(bass_songs):
        # variation v's bass was written against variation v's new drums, not
        # the original drums nor another variation's
        assert notes_in(song, "0", 8.0, 16.0) == sorted(drums_of[v]["notes"])
        assert notes_in(song, "0", 8.0, 16.0) != notes_in(pop, "0", 8.0, 16.0)
        assert notes_in(song, "0", 0.0, 8.0) == notes_in(pop, "0", 0.0, 8.0)
    # the response keeps the request's order and every note in its range
    for v in resp["variations"]:
        assert [t["track"] for t in v["targets"]] == ["1", "0"]
        for t in v["targets"]:
            assert t["notes"] and all(
                t["start"] - 1e-9 <= n[1] and n[1] + n[2] <= t["end"] + 1e-9 for n in t["notes"]
            )


def test_the_later_prompt_shows_the_new_drums(engine, pop):
    """The prompt built for the bass from variation 0's song carries the new
    drum bars' tokens, which the original song's prompt does not."""
    from midifill.model.generation.prompt import build_prompt

    engine.run(request(pop, [tgt("0"), tgt("1")], seed=2))
    song = engine.seen[1][3][0]
    tok = engine.tok
    bars = song.bars()
    lo, hi = tok.range_ticks(8.0, 16.0)
    new = build_prompt(
        tok,
        song,
        bars,
        "1",
        (2, 4),
        (2, 4),
        lo,
        hi,
        "fill",
        engine.config.block_size,
        None,
        written_from=2,
    ).tokens
    old = build_prompt(
        tok,
        pop,
        bars,
        "1",
        (2, 4),
        (2, 4),
        lo,
        hi,
        "fill",
        engine.config.block_size,
        None,
        written_from=2,
    ).tokens
    drums = type(song.track("0"))("0", 0, True, [Note(*n) for n in notes_in(song, "0", 8, 16)])
    drum_bars = tok.encode_bars(drums, bars[2:4])

    def flat(seq) -> str:
        return ",".join(map(str, seq))

    assert new != old
    assert all(flat(b) in flat(new) for b in drum_bars)


def test_given_order_and_one_track_twice(engine, pop):
    resp = engine.run(
        dict(
            request(pop, [tgt("1", 16.0, 20.0), tgt("0"), tgt("1", 8.0, 12.0)], seed=1),
            order="given",
        )
    )
    assert resp["order"] == [0, 1, 2]
    assert [s[:3] for s in engine.seen] == [("1", 16.0, 20.0), ("0", 8.0, 16.0), ("1", 8.0, 12.0)]
    first = resp["variations"][0]["targets"][0]["notes"]
    assert notes_in(engine.seen[2][3][0], "1", 16.0, 20.0) == sorted(first)


def test_one_target_keeps_the_old_response_and_its_notes(engine, pop):
    old = engine.run(dict(pop.to_payload(), target=tgt("1"), controls={"seed": 9, "variations": 2}))
    assert set(old) == {"variations", "model", "seed", "timing_ms"}
    assert all(set(v) == {"notes"} for v in old["variations"])
    new = engine.run(request(pop, [tgt("1")], seed=9, variations=2))
    assert [v["targets"][0]["notes"] for v in new["variations"]] == [
        v["notes"] for v in old["variations"]
    ]
    assert new["variations"][0]["targets"][0]["track"] == "1" and new["order"] == [0]


def test_generate_shows_a_later_target_only_the_new_notes(engine, pop):
    resp = engine.run(
        dict(request(pop, [tgt("0", 32.0, 40.0), tgt("2", 32.0, 40.0)], seed=4), mode="generate")
    )
    keys_song = engine.seen[1][3][0]
    assert engine.seen[1][4] == "fill" and engine.seen[0][4] is None
    assert sum(len(t.notes) for t in keys_song.tracks) == len(
        resp["variations"][0]["targets"][0]["notes"]
    )


def test_progress_runs_once_across_the_targets(engine, pop):
    seen = []
    engine.run(request(pop, [tgt("0"), tgt("1")], seed=3), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(0.4 < f < 0.6 for f in seen)  # the first target ends half way


@pytest.mark.parametrize(
    "targets, field, error",
    [
        ([tgt("0")] * 9, "targets", LimitError),
        ([tgt("0", 0.0, 256.0), tgt("1", 0.0, 256.0), tgt("2", 0.0, 8.0)], "targets", LimitError),
        ([tgt("0"), tgt("0", 12.0, 20.0)], "targets[1]", RequestError),
        ([tgt("0"), tgt("9")], "targets[1].track", RequestError),
    ],
)
def test_refused_before_any_work(engine, pop, targets, field, error):
    with pytest.raises(error) as exc:
        engine.run(request(pop, targets))
    assert exc.value.field == field and engine.seen == []


def test_the_earlier_targets_tracks_are_kept_first_in_a_short_block(engine, pop):
    """A pitched target ranks drums last among the other tracks, so a short
    block drops them; a request that wrote them first keeps them."""
    from midifill.model.generation.prompt import build_prompt

    engine.run(request(pop, [tgt("3"), tgt("0"), tgt("1")], seed=2))
    assert [s[5] for s in engine.seen] == [(), ("0",), ("0", "1")]
    tok, bars = engine.tok, pop.bars()
    lo, hi = tok.range_ticks(8.0, 16.0)

    def kept(block, first=()):
        return build_prompt(
            tok,
            pop,
            bars,
            "3",
            (2, 4),
            (2, 4),
            lo,
            hi,
            "fill",
            block,
            None,
            written_from=2,
            first=first,
        ).tracks

    assert len(kept(engine.config.block_size)) == 4
    blocks = [
        b
        for b in range(150, engine.config.block_size, 5)
        if "0" not in kept(b) and "0" in kept(b, ("0",))
    ]
    assert blocks  # where the drums are dropped by rank, writing them first keeps them
    assert kept(blocks[0])[0] == "1"  # the bass, the most useful by rank


class Widths(Engine):
    """The engine as it is, noting how many fills each decode samples."""

    def _decode(self, prompt, batch, *args):
        self.widths.append(batch)
        return super()._decode(prompt, batch, *args)


def test_a_new_bass_after_the_drums_is_chosen_among_candidates(tiny_checkpoint, pop):
    """A bass with no notes of its own has nothing to be chosen by alone; written
    after new drums it is sampled CANDIDATES times and chosen on their kick (choose.choice)."""
    from midifill.model.song import Song, Track

    empty = Song(
        [
            Track(t.id, t.program, t.is_drum, [] if t.id == "1" else t.notes, t.name)
            for t in pop.tracks
        ],
        pop.time_signatures,
        pop.tempos,
    )
    e = Widths.from_checkpoint(tiny_checkpoint)
    e.widths = []
    e.run(dict(empty.to_payload(), mode="fill", target=tgt("1"), controls={"seed": 3}))
    assert e.widths == [1]  # alone: one fill, nothing to choose by
    e.widths = []
    e.run(request(empty, [tgt("0"), tgt("1")], seed=3))
    assert e.widths[-1] == CANDIDATES  # the bass, after the drums
