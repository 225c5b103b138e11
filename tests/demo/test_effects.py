"""The effects chain alone: presets, loudness normalisation and the limiter."""

import numpy as np
import pytest

from midifill.demo.effects import (
    CEILING_DB,
    PRESETS,
    FxSettings,
    apply,
    integrated_loudness,
    limit,
    peak_dbfs,
    preset,
)

SR = 44100


def plucks(seconds=3.0, silence=2.0, seed=0):
    """Decaying harmonic plucks followed by silence: a signal with a clear end,
    a broad spectrum and transients, made here so the test needs no synth."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * 0.5)) / SR
    out = np.zeros(int(SR * (seconds + silence)))
    for i in range(int(seconds / 0.5)):
        f = rng.choice([110.0, 220.0, 330.0, 440.0])
        tone = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 12)) * np.exp(-t * 8)
        out[i * len(t) : (i + 1) * len(t)] += 0.3 * tone
    return np.stack([out, out * 0.9]).astype(np.float32)


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def centroid_hz(x):
    mag = np.abs(np.fft.rfft(x.mean(axis=0)))
    freqs = np.fft.rfftfreq(x.shape[1], 1 / SR)
    return float((mag * freqs).sum() / mag.sum())


def high_share(x, above_hz=4000.0):
    power = np.abs(np.fft.rfft(x.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / SR)
    return float(power[freqs > above_hz].sum() / power.sum())


def tail_seconds(x, threshold_db=-60.0):
    """Time from the last sample above -60 dBFS in the input's 3 s of sound."""
    loud = np.nonzero(np.max(np.abs(x), axis=0) > 10 ** (threshold_db / 20))[0]
    return (loud[-1] + 1) / SR - 3.0 if len(loud) else 0.0


@pytest.fixture(scope="module")
def signal():
    return plucks()


def test_dry_preset_returns_the_input_unchanged(signal):
    out = apply(signal, SR, PRESETS["dry"])
    assert out.shape == signal.shape
    assert np.array_equal(out, signal)
    assert out is not signal  # a copy: the caller's buffer is never touched


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "dry"])
def test_every_preset_changes_the_signal_measurably(signal, name):
    out = apply(signal, SR, PRESETS[name])
    d_rms = abs(rms_db(out) - rms_db(signal))
    d_centroid = abs(centroid_hz(out) - centroid_hz(signal)) / centroid_hz(signal)
    d_tail = tail_seconds(out) - tail_seconds(signal)
    assert d_rms > 1.0 or d_centroid > 0.05 or d_tail > 0.1, (name, d_rms, d_centroid, d_tail)
    assert peak_dbfs(out) <= CEILING_DB + 1e-6  # every preset but dry limits


def test_presets_differ_in_the_way_their_names_say(signal):
    dry_tail = tail_seconds(signal)
    room, hall = (
        tail_seconds(apply(signal, SR, PRESETS["room"])),
        tail_seconds(apply(signal, SR, PRESETS["hall"])),
    )
    assert hall > room > dry_tail, (dry_tail, room, hall)
    assert hall > dry_tail + 0.5
    lofi = apply(signal, SR, PRESETS["lo-fi"])
    # the low-pass darkens it: the share of energy above 4 kHz falls by more than half
    assert high_share(lofi) < 0.5 * high_share(signal), (high_share(lofi), high_share(signal))
    assert centroid_hz(lofi) < 0.9 * centroid_hz(signal)
    master = apply(signal, SR, PRESETS["master"])
    assert integrated_loudness(master, SR) == pytest.approx(-14.0, abs=1.0)


def test_loudness_meter_matches_bs1770_reference_tones():
    t = np.arange(SR * 5) / SR
    sine = (10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    assert integrated_loudness(np.stack([sine, sine]), SR) == pytest.approx(-20.0, abs=0.1)
    # one channel at -20 dBFS reads 3 dB lower
    assert integrated_loudness(np.stack([sine, 0 * sine]), SR) == pytest.approx(-23.0, abs=0.1)
    assert integrated_loudness(np.zeros((2, SR)), SR) == float("-inf")


@pytest.mark.parametrize("target", [-23.0, -16.0, -12.0])
def test_normalisation_reaches_the_target(signal, target):
    # a plain gain by the measured distance lands on the target: the meter is linear in level
    out = signal * np.float32(10 ** ((target - integrated_loudness(signal, SR)) / 20))
    assert integrated_loudness(out, SR) == pytest.approx(target, abs=0.05)


def test_silence_stays_silent():
    out = apply(np.zeros((2, SR), np.float32), SR, PRESETS["master"])
    assert not np.any(out)


@pytest.mark.parametrize("ceiling", [-1.0, -3.0, -0.3])
def test_limiter_holds_the_ceiling_on_a_hot_signal(signal, ceiling):
    hot = signal * 8.0  # peaks far above 0 dBFS
    out = limit(hot, SR, ceiling)
    assert peak_dbfs(out) <= ceiling + 1e-6
    # it limits rather than silencing: loud passages stay near the ceiling
    assert peak_dbfs(out) > ceiling - 1.0


def test_loud_target_with_limiter_stays_under_ceiling(signal):
    fx = preset("master", loudness_lufs=-6.0, ceiling_db=-1.0)
    assert peak_dbfs(apply(signal, SR, fx)) <= -1.0 + 1e-6


def test_each_control_alone_changes_the_signal(signal):
    base = rms_db(signal), centroid_hz(signal), tail_seconds(signal)
    for fx in [
        FxSettings(eq_low_db=6),
        FxSettings(eq_mid_db=-6),
        FxSettings(eq_high_db=6),
        FxSettings(compression=0.8),
        FxSettings(chorus=0.5),
        FxSettings(delay=0.5),
        FxSettings(reverb=0.5),
        FxSettings(lofi=1.0),
    ]:
        out = apply(signal, SR, fx)
        assert not np.array_equal(out[:, : signal.shape[1]], signal), fx
        changed = (
            abs(rms_db(out) - base[0]) > 0.2
            or abs(centroid_hz(out) - base[1]) / base[1] > 0.01
            or tail_seconds(out) - base[2] > 0.05
            or np.max(np.abs(out[:, : signal.shape[1]] - signal)) > 0.01
        )
        assert changed, fx


def test_unknown_preset_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="dry"):
        preset("cathedral")


@pytest.mark.parametrize("gain", [2.0, 2.5, 3.0])
def test_the_make_up_gain_wins_back_what_the_limiter_took(signal, gain):
    # the limiter takes loudness from a hot signal; apply() measures the
    # limited signal again and raises the gain before the limiter towards
    # the target (far past the ceiling, at 6x and more, heavier limiting
    # loses more than the gain adds: measured alike before pyloudnorm)
    pre = signal * np.float32(gain)
    lost = integrated_loudness(pre, SR) - integrated_loudness(limit(pre, SR, -1.0), SR)
    assert lost > 0.5  # the limiter really took loudness away
    target = integrated_loudness(pre, SR)
    out = apply(pre, SR, FxSettings(loudness_lufs=target, limiter=True, ceiling_db=-1.0))
    once = target - integrated_loudness(limit(pre, SR, -1.0), SR)  # short after one limiter
    made_up = target - integrated_loudness(out, SR)
    assert -0.05 < made_up <= once + 0.05, (made_up, once)
    if gain == 2.0:  # within reach of the ceiling: most of the loss is won back
        assert made_up < once / 2, (made_up, once)
    assert peak_dbfs(out) <= -1.0 + 1e-6


def test_a_signal_shorter_than_a_gating_block_is_measured():
    t = np.arange(SR // 10) / SR  # 100 ms of a -20 dBFS tone, both channels
    sine = (0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    assert integrated_loudness(np.stack([sine, sine]), SR) == pytest.approx(-20.0, abs=0.2)


@pytest.mark.parametrize("name", ["room", "hall", "lo-fi", "master"])
def test_presets_reach_their_loudness_target_under_the_ceiling(signal, name):
    fx = PRESETS[name]
    out = apply(signal, SR, fx)
    assert integrated_loudness(out, SR) == pytest.approx(fx.loudness_lufs, abs=0.3)
    assert peak_dbfs(out) <= fx.ceiling_db + 1e-6
