"""The line above the demo's results: what was written, in the form's words."""

from __future__ import annotations

from midifill.demo import task as tk
from midifill.demo.render import CONTEXT_BARS, section


def describe_run(
    song, songs, request, response, job, track_ids, start, end, audio_s, total_s
) -> str:
    """What was written, in the form's words: bars numbered from 1, the
    tracks' names (several: the order they were written in, each later one
    with the earlier ones' new notes in view); the seed, so typing it in gives
    the same notes again."""
    n = len(songs)
    first, last = tk.bar_range(song, start, end)
    bars = f"bar {first}" if first == last else f"bars {first}-{last}"
    seed = response.get("seed")
    drawn = job.seed is None or float(job.seed) < 0
    t = response.get("timing_ms", {})
    names = [tk.track_label(song, i) for i in track_ids]
    # the notes each variation's song (and download) holds in each range,
    # after the same-pitch rule (front.fill_notes)
    written = [
        [
            (
                tk.track_label(song, f["track"]),
                sum(f["start"] <= n.start < f["end"] for n in new.track(f["track"]).notes),
            )
            for f in tk.filled_targets(request, v)
        ]
        for new, v in zip(songs, response["variations"])
    ]
    if len(names) == 1:
        what = names[0]
        counts = ", ".join(str(w[0][1]) for w in written)
    else:
        order = [names[k] for k in response.get("order", range(len(names)))]
        what = (
            ", ".join(names[:-1])
            + f" and {names[-1]}, written in the order "
            + " \u2192 ".join(order)
            + " (each with the earlier ones' new notes in view)"
        )
        counts = "; ".join(
            f"{k} " + ", ".join(f"{name} {c}" for name, c in w) for k, w in enumerate(written, 1)
        )
    text = (
        f"**{n} variation{'s' if n != 1 else ''}** of {what}, "
        f"{bars} ({request['mode']}), model `{response.get('model', '?')}`, "
        f"seed **{seed}**"
        + (" (drawn for this run: enter it as the seed to get these notes again)" if drawn else "")
        + ". Notes written: "
        + counts
        + ". Audio: bars {}-{} (the fill and {} bars each side)".format(
            *section(songs[0], start, end)[2:], CONTEXT_BARS
        )
        + f". Model {t.get('total', 0) / 1000:.1f} s, audio {audio_s:.1f} s "
        f"(total {total_s:.1f} s)."
    )
    if job.notes:
        text += " Note: " + "; ".join(job.notes) + "."
    return text
