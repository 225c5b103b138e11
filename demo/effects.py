"""The finishing chain: pedalboard effects, loudness normalisation, a limiter.

Order: EQ -> lo-fi (bit crush + low-pass) -> compressor -> chorus -> delay ->
reverb -> gain to the loudness target -> brick-wall limiter at the ceiling.
Loudness is measured as ITU-R BS.1770 integrated loudness (LUFS, K-weighted,
gated) by pyloudnorm, so a target means the same thing it means in a DAW's
meter. Audio is
(channels, frames) float32 throughout, as pedalboard wants it.

The "dry" preset switches everything off, limiter and normalisation included,
and returns the input unchanged: it is the reference every other preset is
heard against.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pedalboard as pb
import pyloudnorm

CEILING_DB = -1.0  # default true-sample ceiling of the limiter, dBFS
DEFAULT_LOUDNESS = -16.0  # LUFS; streaming platforms sit between -16 and -14
MAX_TAIL_SECONDS = 4.0  # room left after the input for reverb and delay to decay
SILENCE = 1e-4  # -80 dBFS: below this a tail counts as finished
LOUDNESS_PASSES = 3  # make-up passes after the limiter


@dataclass(frozen=True)
class FxSettings:
    """Every control of the chain. Zero means off for the amounts (0..1)."""

    eq_low_db: float = 0.0  # low shelf at 120 Hz
    eq_mid_db: float = 0.0  # bell at 1 kHz
    eq_high_db: float = 0.0  # high shelf at 6 kHz
    lofi: float = 0.0  # 0..1: fewer bits, lower cut-off
    compression: float = 0.0  # 0..1: threshold down to -30 dB, ratio up to 6:1
    chorus: float = 0.0  # 0..1 mix
    delay: float = 0.0  # 0..1 mix
    delay_seconds: float = 0.375
    reverb: float = 0.0  # 0..1 wet level
    room_size: float = 0.5  # 0..1
    loudness_lufs: float | None = None  # None: leave the level alone
    limiter: bool = False
    ceiling_db: float = CEILING_DB

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


PRESETS: dict[str, FxSettings] = {
    "dry": FxSettings(),
    "room": FxSettings(
        reverb=0.22, room_size=0.3, compression=0.2, loudness_lufs=DEFAULT_LOUDNESS, limiter=True
    ),
    "hall": FxSettings(
        reverb=0.45,
        room_size=0.9,
        chorus=0.15,
        eq_high_db=1.5,
        loudness_lufs=DEFAULT_LOUDNESS,
        limiter=True,
    ),
    "lo-fi": FxSettings(
        lofi=1.0,
        eq_low_db=3.0,
        eq_high_db=-4.0,
        compression=0.5,
        delay=0.15,
        loudness_lufs=DEFAULT_LOUDNESS,
        limiter=True,
    ),
    "master": FxSettings(
        eq_low_db=1.5,
        eq_high_db=2.0,
        compression=0.6,
        reverb=0.08,
        room_size=0.35,
        loudness_lufs=-14.0,
        limiter=True,
    ),
}


def preset(name: str, **overrides) -> FxSettings:
    """A preset by name, with any field overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def _is_dry(fx: FxSettings) -> bool:
    return (
        not fx.limiter
        and fx.loudness_lufs is None
        and all(
            getattr(fx, f) == 0
            for f in (
                "eq_low_db",
                "eq_mid_db",
                "eq_high_db",
                "lofi",
                "compression",
                "chorus",
                "delay",
                "reverb",
            )
        )
    )


def build_board(fx: FxSettings) -> pb.Pedalboard:
    """The effects before the level stage (normalisation and limiter)."""
    board = []
    if fx.eq_low_db:
        board.append(pb.LowShelfFilter(cutoff_frequency_hz=120, gain_db=fx.eq_low_db))
    if fx.eq_mid_db:
        board.append(pb.PeakFilter(cutoff_frequency_hz=1000, gain_db=fx.eq_mid_db, q=0.9))
    if fx.eq_high_db:
        board.append(pb.HighShelfFilter(cutoff_frequency_hz=6000, gain_db=fx.eq_high_db))
    if fx.lofi > 0:
        board.append(pb.Bitcrush(bit_depth=16 - 8 * fx.lofi))
        board.append(pb.LowpassFilter(cutoff_frequency_hz=12000 - 8500 * fx.lofi))
    if fx.compression > 0:
        board.append(
            pb.Compressor(
                threshold_db=-30 * fx.compression,
                ratio=1 + 5 * fx.compression,
                attack_ms=5,
                release_ms=120,
            )
        )
    if fx.chorus > 0:
        board.append(pb.Chorus(rate_hz=0.8, depth=0.3, centre_delay_ms=8, mix=fx.chorus))
    if fx.delay > 0:
        board.append(pb.Delay(delay_seconds=fx.delay_seconds, feedback=0.35, mix=fx.delay))
    if fx.reverb > 0:
        board.append(
            pb.Reverb(
                room_size=fx.room_size,
                damping=0.5,
                wet_level=fx.reverb,
                dry_level=1.0 - 0.5 * fx.reverb,
                width=1.0,
            )
        )
    return pb.Pedalboard(board)


def apply(audio: np.ndarray, sample_rate: int, fx: FxSettings) -> np.ndarray:
    """Finish `audio` ((channels, frames) float) with the chain `fx` describes."""
    audio = np.asarray(audio, dtype=np.float32)
    if _is_dry(fx):
        return audio.copy()
    n = audio.shape[-1]
    has_tail = fx.reverb > 0 or fx.delay > 0 or fx.chorus > 0
    if has_tail:  # room for the tail, trimmed again below
        pad = int(MAX_TAIL_SECONDS * sample_rate)
        audio = np.concatenate([audio, np.zeros((audio.shape[0], pad), np.float32)], axis=1)
    out = build_board(fx)(audio, sample_rate)
    if has_tail:
        out = _trim_tail(out, n)
    target = fx.loudness_lufs
    if target is not None:
        current = integrated_loudness(out, sample_rate)
        if np.isfinite(current):
            out = out * np.float32(10 ** (min(40.0, target - current) / 20))
    if fx.limiter:
        pre = out
        out = limit(pre, sample_rate, fx.ceiling_db)
        # Limiting a peaky signal takes loudness away; make it up on the
        # pre-limiter signal (not the limited one) a couple of times, as a
        # mastering engineer would, so the target is met where the ceiling allows.
        for _ in range(LOUDNESS_PASSES if target is not None else 0):
            short = target - integrated_loudness(out, sample_rate)
            if not np.isfinite(short) or short < 0.2:
                break
            pre = pre * np.float32(10 ** (short / 20))
            out = limit(pre, sample_rate, fx.ceiling_db)
    return np.ascontiguousarray(out, dtype=np.float32)


def limit(audio: np.ndarray, sample_rate: int, ceiling_db: float = CEILING_DB) -> np.ndarray:
    """Brick-wall limit to `ceiling_db`. The lookahead limiter does the work;
    a final clip at the ceiling catches the few samples its envelope lets by,
    so the ceiling is a promise, not a target."""
    limiter = pb.Pedalboard(
        [pb.BrickwallLimiter(ceiling_db=ceiling_db, release_ms=80, lookahead_ms=5.0)]
    )
    out = limiter(np.asarray(audio, np.float32), sample_rate)
    ceiling = 10 ** (ceiling_db / 20)
    return np.clip(out, -ceiling, ceiling)


def _trim_tail(audio: np.ndarray, keep: int) -> np.ndarray:
    loud = np.nonzero(np.max(np.abs(audio), axis=0) > SILENCE)[0]
    end = max(keep, int(loud[-1]) + 1 if len(loud) else 0)
    return audio[:, :end]


# --- loudness (ITU-R BS.1770-4, measured by pyloudnorm) ---------------------


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4: K-weighted, gated at -70
    LUFS and 10 LU below), measured by pyloudnorm; -inf for silence. A
    signal shorter than one 400 ms gating block is measured as one block."""
    x = np.atleast_2d(np.asarray(audio, np.float64))
    n = x.shape[1]
    if n == 0 or not np.any(x):
        return float("-inf")
    meter = pyloudnorm.Meter(sample_rate, block_size=min(0.4, n / sample_rate))
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(x.T))


def peak_dbfs(audio: np.ndarray) -> float:
    peak = float(np.max(np.abs(audio))) if np.size(audio) else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")
