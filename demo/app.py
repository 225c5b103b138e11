"""The Gradio demo: upload a MIDI file, choose what to fill, hear and download it.

`generate()` is the whole job as one function (file and form in; piano rolls,
audio and downloads out); `demo` is the page built around it; `launch()` serves
it. `midifill demo` runs it alone, `midifill serve --demo` beside the OSC bridge.
Audio is FluidSynth with pretty_midi's General MIDI SoundFont at 44.1 kHz,
finished by demo/effects.py; the limiter's ceiling defaults to -1 dBFS.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import gradio as gr

from midifill.demo import controls_form as form
from midifill.demo import effects
from midifill.demo import task as tk
from midifill.demo.pianoroll import draw_pianoroll
from midifill.demo.render import (
    SAMPLE_RATE,
    SynthUnavailable,
    excerpt,
    render_song,
    section,
    write_wav,
)
from midifill.demo.summary import describe_run
from midifill.model.errors import MidifillError, RequestError
from midifill.model.generation import front
from midifill.model.limits import DEMO_PORT

log = logging.getLogger("midifill.demo")
EXAMPLES = sorted((Path(__file__).resolve().parent / "examples").glob("*.mid"))
WORK_ROOT = Path(tempfile.gettempdir()) / "midifill-demo"
KEEP_SECONDS = 3600  # results older than this are removed when a new one is made

_engine = None
_engine_lock = threading.Lock()  # the engine is not thread-safe; renders may overlap
_load_lock = threading.Lock()


def set_engine(engine) -> None:
    global _engine
    _engine = engine


def get_engine():
    """The engine given to launch(), else the bundled model, loaded once."""
    global _engine
    with _load_lock:
        if _engine is None:
            from midifill.model import Engine

            try:
                _engine = Engine.from_checkpoint(None)
            except MidifillError as exc:
                raise gr.Error(f"The model could not be loaded: {exc}") from exc
        return _engine


# --- the pure part -------------------------------------------------------------


def _refuse(message: str) -> gr.Error:
    """The error for something the visitor can fix: shown on the page, one line
    in the log, no traceback (Gradio prints one for every other exception, as
    it should for real faults)."""
    log.info("refused: %s", " ".join(message.split()))
    return gr.Error(message, print_exception=False)


def describe(midi_path):
    """Track table, target choices and a bar range for a newly chosen file."""
    if not midi_path:
        return [], gr.update(choices=[], value=None), 1, 4, "Upload a MIDI file or pick an example."
    try:
        song = tk.load_song(midi_path)
    except tk.InputError as exc:
        raise _refuse(str(exc)) from exc
    n_bars = len(song.bars())
    pitched = [t.id for t in song.tracks if not t.is_drum and t.notes]
    default = pitched[-1] if pitched else tk.NEW_TRACK
    first = max(1, n_bars // 2)
    info = (
        f"{len(song.tracks)} tracks, {n_bars} bars, {song.tempo:.0f} bpm, "
        f"{song.time_signatures[0].numerator}/{song.time_signatures[0].denominator}"
    )
    return (
        tk.track_rows(song),
        gr.update(choices=tk.target_choices(song), value=[default]),
        first,
        min(n_bars, first + 3),
        info,
    )


_SELECTION = ("midi", "mode", "target", "new_instrument", "bar_start", "bar_end")


def generate(*args, **kwargs):
    """Fill, continue or generate; return the summary and, per variation slot,
    (piano roll PNG, WAV for the player, [.mid] download).

    One parameter per input, not a settings object: Gradio passes the inputs
    positionally and names the /generate API's parameters after this
    function's signature (docs/demo.md, "The API"): the selection, one per
    control of the table the demo shows (demo/controls_form.py), then the
    sound. They become a tk.Task and an effects.FxSettings at once."""
    bound = generate.__signature__.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    controls = {c.name: values.pop(c.name) for c in form.CONTROLS}
    return _generate(*(values.pop(name) for name in _SELECTION), controls, **values)


def _generate(
    midi,
    mode,
    target,
    new_instrument,
    bar_start,
    bar_end,
    controls,
    reverb=0.22,
    room_size=0.3,
    compression=0.2,
    eq_low=0.0,
    eq_mid=0.0,
    eq_high=0.0,
    chorus=0.0,
    delay=0.0,
    lofi=0.0,
    limiter=True,
    ceiling_db=effects.CEILING_DB,
    normalize=True,
    loudness=effects.DEFAULT_LOUDNESS,
    progress=gr.Progress(),  # noqa: B008  Gradio's way of asking for a progress bar
):
    started = time.perf_counter()
    try:
        song = tk.load_song(midi)
        data = Path(midi).read_bytes()  # the download is this file with the fill written in
        job = tk.Task(
            mode=mode,
            target=target or "",
            bar_start=bar_start,
            bar_end=bar_end,
            new_instrument=str(new_instrument),
            **controls,
        )
        song, request, track_ids, start, end = tk.prepare(song, job)
    except tk.InputError as exc:
        raise _refuse(str(exc)) from exc
    except OSError as exc:  # the upload vanished between reading and reading again
        raise _refuse(
            f"The file could not be read again ({exc.strerror or exc}): upload it once more."
        ) from exc
    new_track = song.tracks[-1] if tk.NEW_TRACK in tk.chosen_tracks(job.target) else None

    def write_mid(path, variation):
        return tk.write_fill(path, data, song, request, variation, new_track)

    fx = effects.FxSettings(
        eq_low_db=eq_low,
        eq_mid_db=eq_mid,
        eq_high_db=eq_high,
        lofi=lofi,
        compression=compression,
        chorus=chorus,
        delay=delay,
        reverb=reverb,
        room_size=room_size,
        loudness_lufs=float(loudness) if normalize else None,
        limiter=bool(limiter),
        ceiling_db=float(ceiling_db),
    )
    response = _run_engine(request, progress)
    generated = time.perf_counter()
    songs = front.apply_response(song, request, response)
    slots = _render_all(
        song,
        songs,
        request,
        response,
        write_mid,
        track_ids,
        start,
        end,
        fx,
        Path(str(midi)).stem[:40] or "song",
        progress,
    )
    progress(1.0, desc="done")
    summary = describe_run(
        song,
        songs,
        request,
        response,
        job,
        track_ids,
        start,
        end,
        time.perf_counter() - generated,
        time.perf_counter() - started,
    )
    flat = [summary]
    for i in range(tk.MAX_VARIATIONS):
        flat.append(gr.Column(visible=i < len(slots)))
        flat += list(slots[i]) if i < len(slots) else [None, None, None]
    return tuple(flat)


def _signature() -> inspect.Signature:
    """generate's parameters: the selection, the controls, the sound."""
    P = inspect.Parameter
    sound = list(inspect.signature(_generate).parameters.values())[7:]
    return inspect.Signature(
        [P("midi", P.POSITIONAL_OR_KEYWORD)]
        + [
            P(n, P.POSITIONAL_OR_KEYWORD, default=d)
            for n, d in zip(_SELECTION[1:], ("fill", "", "0", 1, 4))
        ]
        + [
            P(
                c.name,
                P.POSITIONAL_OR_KEYWORD,
                default=form.start_value(c) if c.kind != "key" else tk.KEY_OFF,
            )
            for c in form.CONTROLS
        ]
        + sound
    )


generate.__signature__ = _signature()


def _run_engine(request, progress) -> dict:
    """The engine's response, one request at a time; its errors worded for the page."""
    engine = get_engine()
    progress(0.0, desc="waiting for the model")
    try:
        with _engine_lock:
            return engine.run(request, progress=lambda f: progress(0.6 * f, desc="writing notes"))
    except RequestError as exc:  # limits and contract, worded by the engine with the field
        raise _refuse(
            f"The request was refused: {exc}. Change that setting and try again."
        ) from exc
    except MidifillError as exc:
        raise gr.Error(f"The model failed: {exc}") from exc


def _render_all(
    song, songs, request, response, write_mid, track_ids, start, end, fx, stem, progress
) -> list:
    """Each variation's slot (see _finish), in a fresh work folder;
    `write_mid(path, variation)` writes a variation's download.

    Variations are finished side by side: FluidSynth, pedalboard and NumPy's
    FFT let go of the GIL, so on two or more cores two variations take about
    the time of one."""
    out = _new_work_dir()
    workers = max(1, min(len(songs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="midifill-render") as pool:
        jobs = [
            pool.submit(
                _finish,
                song,
                new_song,
                i,
                tk.filled_targets(request, v),
                v,
                write_mid,
                track_ids,
                start,
                end,
                fx,
                out,
                stem,
            )
            for i, (new_song, v) in enumerate(zip(songs, response["variations"]))
        ]
        for k, _ in enumerate(as_completed(jobs), 1):
            progress(0.6 + 0.4 * k / len(jobs), desc=f"rendered {k} of {len(jobs)}")
        try:
            return [j.result() for j in jobs]
        except SynthUnavailable as exc:
            raise gr.Error(f"Audio cannot be rendered on this server: {exc}") from exc
        except MidifillError as exc:  # the file could not take the fill (midi_patch.py)
            raise gr.Error(f"The .mid could not be written: {exc}") from exc


def _finish(song, new_song, i, filled, variation, write_mid, track_ids, start, end, fx, out, stem):
    """One variation's slot: (piano roll PNG, WAV, [.mid]); `filled` its
    targets with their notes. The .mid is the uploaded file with every
    target's fill written in, every other event as it was (task.write_fill).
    The WAV is not in the download list too: the player has its own download
    button, and each file listed is copied, hashed and sent once more."""
    n_new = sum(len(f["notes"]) for f in filled)
    mid = write_mid(out / f"{stem}-{i + 1}.mid", variation)
    a, b, _, _ = section(new_song, start, end)  # the fill and 2 bars each side, not the song
    audio = effects.apply(render_song(excerpt(new_song, a, b)), SAMPLE_RATE, fx)
    wav = write_wav(audio, out / f"{stem}-{i + 1}.wav")
    roll = draw_pianoroll(
        song,
        new_song,
        track_ids,
        start,
        end,
        out / f"{stem}-{i + 1}.png",
        f"variation {i + 1}: {n_new} notes",
    )
    return str(roll), str(wav), [str(mid)]


def _new_work_dir() -> Path:
    """A fresh folder for one result; old results are removed as new ones come."""
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in WORK_ROOT.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(dir=WORK_ROOT))


def clear_results(_midi):
    """A newly chosen file: the last file's results, and the error marks a
    refused run left on them, go."""
    return ("",) + (gr.update(), None, None, None) * tk.MAX_VARIATIONS


def instrument_visibility(target):
    """The instrument box is for a new track only."""
    return gr.update(visible=tk.NEW_TRACK in tk.chosen_tracks(target))


def preset_values(name):
    """Slider values for a preset, in the order of the sound controls."""
    p = effects.preset(name)
    return (
        p.reverb,
        p.room_size,
        p.compression,
        p.eq_low_db,
        p.eq_mid_db,
        p.eq_high_db,
        p.chorus,
        p.delay,
        p.lofi,
        p.limiter,
        p.ceiling_db,
        p.loudness_lufs is not None,
        p.loudness_lufs if p.loudness_lufs is not None else effects.DEFAULT_LOUDNESS,
    )


# --- the page ----------------------------------------------------------------------

# delete_cache: Gradio's copies of uploads and results older than 15 minutes go,
# checked every 5 (each upload stays on disk until then)
with gr.Blocks(title="midifill", delete_cache=(300, 900)) as demo:
    gr.Markdown(
        "# midifill\nUpload a MIDI file (or pick an example), choose one or more "
        "tracks and the bars to write, and press **Generate**. Each variation comes "
        "with a piano roll (new notes in orange), audio rendered with a General MIDI "
        "SoundFont, and downloads."
    )
    with gr.Row():
        with gr.Column(scale=5):
            midi = gr.File(
                label="MIDI file (.mid)",
                file_types=[".mid", ".midi"],
                type="filepath",
                elem_id="midi-input",
            )
            gr.Examples([[str(p)] for p in EXAMPLES], inputs=[midi], label="examples")
            info = gr.Markdown(
                "Upload a MIDI file or pick an example.", elem_id="song-info", label="song"
            )
            # wrapped, in shares of the width: every column fits a phone (414 px)
            tracks = gr.Dataframe(
                headers=["id", "name", "instrument", "notes", "bars"],
                label="tracks",
                interactive=False,
                elem_id="tracks",
                wrap=True,
                column_widths=["11%", "24%", "35%", "14%", "16%"],
            )
        with gr.Column(scale=4):
            mode = gr.Radio(
                list(front.MODES),
                value="fill",
                label="mode",
                info="fill: rewrite the bars; continue: write after the material; "
                "generate: write from nothing",
            )
            # choices come with each file; the API may name any id, checked in task.prepare;
            # several tracks are filled in one request, each hearing the others' new notes
            target = gr.Dropdown(
                choices=[],
                label="tracks to fill",
                allow_custom_value=True,
                multiselect=True,
                max_choices=tk.MAX_TARGETS,
                elem_id="target",
                info=f"one or several (up to {tk.MAX_TARGETS}), filled together over the same bars",
            )
            # Its choices are empty until a file is read, which the API listing would show
            # as Literal[]: describe what the API takes instead (docs/demo.md, "The API").
            target.api_info = lambda: {
                "type": "string",
                "description": "a track id from /describe (0, 1, ...) or "
                f"'{tk.NEW_TRACK}' for a new track; several as a list or joined by commas "
                "('0,1'), filled together",
            }
            new_instrument = gr.Dropdown(
                tk.instrument_choices(),
                value="0",
                visible=False,
                label="instrument of a new track",
                elem_id="new-instrument",
            )
            with gr.Row():
                bar_start = gr.Number(1, precision=0, label="from bar")
                bar_end = gr.Number(4, precision=0, label="to bar")
            with gr.Accordion("generation controls", open=False):
                # one per control of the table the demo shows (demo/controls_form.py)
                controls = form.components(
                    gr, [tk.KEY_OFF, tk.KEY_AUTO] + tk.KEYS, tk.KEY_OFF, tk.MAX_VARIATIONS
                )
            with gr.Accordion("sound", open=False):
                preset = gr.Dropdown(list(effects.PRESETS), value="room", label="preset")
                reverb = gr.Slider(0, 1, 0.22, step=0.01, label="reverb")
                room_size = gr.Slider(0, 1, 0.3, step=0.01, label="room size")
                compression = gr.Slider(0, 1, 0.2, step=0.01, label="compression")
                with gr.Row():
                    eq_low = gr.Slider(-12, 12, 0, step=0.5, label="EQ low (dB)")
                    eq_mid = gr.Slider(-12, 12, 0, step=0.5, label="EQ mid (dB)")
                    eq_high = gr.Slider(-12, 12, 0, step=0.5, label="EQ high (dB)")
                chorus = gr.Slider(0, 1, 0, step=0.01, label="chorus")
                delay = gr.Slider(0, 1, 0, step=0.01, label="delay")
                lofi = gr.Slider(0, 1, 0, step=0.01, label="lo-fi")
                with gr.Row():
                    limiter = gr.Checkbox(True, label="limiter")
                    ceiling_db = gr.Slider(
                        -6, 0, effects.CEILING_DB, step=0.1, label="ceiling (dBFS)"
                    )
                with gr.Row():
                    normalize = gr.Checkbox(True, label="normalise loudness")
                    loudness = gr.Slider(
                        -30, -8, effects.DEFAULT_LOUDNESS, step=0.5, label="loudness target (LUFS)"
                    )
            run_button = gr.Button("Generate", variant="primary", elem_id="generate")
    summary = gr.Markdown(elem_id="summary", label="summary")
    outputs = [summary]
    for i in range(tk.MAX_VARIATIONS):
        with gr.Column(visible=i < 2) as slot:  # only as many slots as variations show
            gr.Markdown(f"### variation {i + 1}")
            outputs += [
                slot,
                gr.Image(type="filepath", label=f"piano roll {i + 1}", interactive=False),
                gr.Audio(
                    type="filepath",
                    label=f"audio {i + 1}",
                    interactive=False,
                    elem_id=f"audio-{i + 1}",
                ),
                gr.File(file_count="multiple", label=f"download {i + 1} (.mid)", interactive=False),
            ]

    sound = [
        reverb,
        room_size,
        compression,
        eq_low,
        eq_mid,
        eq_high,
        chorus,
        delay,
        lofi,
        limiter,
        ceiling_db,
        normalize,
        loudness,
    ]
    preset.change(preset_values, preset, sound, queue=False, api_name=False)
    midi.change(describe, midi, [tracks, target, bar_start, bar_end, info], api_name="describe")
    midi.change(clear_results, midi, outputs, queue=False, api_name=False, show_progress="hidden")
    target.change(instrument_visibility, target, new_instrument, queue=False, api_name=False)
    run_button.click(
        generate,
        [midi, mode, target, new_instrument, bar_start, bar_end] + controls + sound,
        outputs,
        api_name="generate",
        concurrency_limit=2,
    )

demo.queue(default_concurrency_limit=2, max_size=32)


def launch(
    share: bool = False,
    port: int = DEMO_PORT,
    engine=None,
    host: str = "127.0.0.1",
    block: bool = True,
):
    """Serve the demo; `engine` (an Engine) is used as given, else the bundled
    model is loaded on the first request. With block=False it returns at once."""
    if engine is not None:
        set_engine(engine)
    # quiet: Gradio's own banner tells the user to "set share=True in launch()";
    # ours names the command-line flag instead
    result = demo.launch(
        share=share,
        server_name=host,
        server_port=port,
        show_error=True,
        prevent_thread_lock=True,
        allowed_paths=[str(WORK_ROOT)],
        quiet=True,
        # refused while uploading (HTTP 413), not after it is stored
        max_file_size=tk.MAX_FILE_BYTES,
    )
    print(f"* The demo runs at {demo.local_url}", flush=True)
    if demo.share_url:
        print(f"* Public link: {demo.share_url}", flush=True)
    elif not share:
        print(
            "* For a public gradio.live link, start it with --share (`midifill demo --share`).",
            flush=True,
        )
    if block:
        demo.block_thread()
    return result


# --- `midifill demo` ------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (needs internet)"
    )
    parser.add_argument("--port", type=int, default=DEMO_PORT, help=f"port (default {DEMO_PORT})")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)",
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="CKPT",
        help="checkpoint to load (default: the bundled model)",
    )


def run(args) -> int:
    import sys

    from midifill.demo.render import synth_available

    ok, why = synth_available()
    if not ok:
        print(f"midifill demo: {why}", file=sys.stderr)
        return 1
    from midifill.model import Engine

    # Gradio checks its own server through httpx at start; at INFO each of
    # those requests would be a log line between the ones that matter
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        engine = Engine.from_checkpoint(args.model)
    except MidifillError as exc:
        print(f"midifill demo: cannot load the model: {exc}", file=sys.stderr)
        return 1
    launch(share=args.share, port=args.port, engine=engine, host=args.host)
    return 0


if __name__ == "__main__":
    launch()
