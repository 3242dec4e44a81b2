"""Measuring a model's coded rate on fixed audio, and trimming it to a target.

The rate controller reads the rate of a fixed set of validation crops (the probe) in eval mode: the same
audio, the same BatchNorm statistics and the same coder as validation, so it controls what validation
reports rather than a noisy stand-in. The trim moves every unit's firing threshold by one shared offset,
found by bisection, so that the probe codes at the target: during and after training, on a trained model
(`retarget`), and for one file at compression time (`snn_codec.api.encoder_for_rate`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from snn_codec.bitstream import encode_events
from snn_codec.bottlenecks.base import SpikingBottleneck
from snn_codec.codec import Codec
from snn_codec.errors import CodecError
from snn_codec.eval.metrics import bitrate_kbps

TRIM_TOLERANCE = 0.01  # the trim stops within 1 % of the target
TRIM_MAX_OFFSET = 8.0  # in units of the normalised input current; no trim moves thresholds further
TRIM_ITERATIONS = 40
MISSED = 0.05  # a trim further than this from its target did not reach it (the events allow no closer rate)
# The trim keeps the probe's mean firing rate at or below this. Past it more current buys fewer bits (units
# that nearly always fire are cheap to code), and a model pushed there stays dense: its rate stays below
# target, so the controller lowers the sparsity weight that could bring it back.
MAX_TRIM_FIRING = 0.5


def check_target_kbps(target_kbps: float, name: str = "--target-kbps") -> None:
    """Refuses a target bitrate that is not a positive number of kbps below 10 000 (NaN included)."""
    if not 0 < target_kbps < 1e4:
        raise CodecError(f"{name} must be a positive bitrate in kbps, got {target_kbps}")


def coded_kbps(events: Sequence[np.ndarray], alphabet_size: int, frame_rate: float) -> float:
    """(N, T) event arrays coded back to back as one stream -> kbps from the payload's bytes."""
    stream = np.concatenate(list(events), axis=1)
    _, payload = encode_events(stream, alphabet_size=alphabet_size)
    return bitrate_kbps(len(payload), stream.shape[1] / frame_rate)


@torch.no_grad()
def probe_kbps(codec: Codec, probe: Sequence[Tensor]) -> float:
    """The coded rate of the probe's (B, 1, S) batches through the encoder and bottleneck in eval mode."""
    training = codec.training
    codec.eval()
    try:
        device = next(codec.parameters()).device
        events = [row for batch in probe for row in codec.bottleneck(codec.encoder(batch.to(device))).events.cpu()]
    finally:
        codec.train(training)
    return coded_kbps([e.numpy() for e in events], codec.bottleneck.alphabet_size, codec.config.frame_rate)


@dataclass(frozen=True)
class Trim:
    """What `trim_rate` did: the threshold offset (added to the input current) and the rates around it."""

    offset: float
    kbps_before: float
    kbps_after: float
    target_kbps: float

    @property
    def error(self) -> float:
        """Relative error of the trimmed rate against the target."""
        return self.kbps_after / self.target_kbps - 1

    @property
    def missed(self) -> bool:
        """Whether the trim stopped short of its target (the events allow no closer rate)."""
        return abs(self.error) > MISSED

    def describe_offset(self) -> str:
        """The offset for people, with the sign metrics.json keeps it in (`trim/offset`)."""
        if round(self.offset, 4) == 0:
            return "threshold trim 0 (thresholds unchanged)"
        return f"threshold trim {self.offset:+.4f} (added to the input current)"


@torch.no_grad()
def trim_rate(codec: Codec, probe: Sequence[Tensor], target_kbps: float) -> Trim:
    """Shifts the bottleneck's input current by one offset for all units so that `probe` codes at
    `target_kbps` (within TRIM_TOLERANCE where the events allow).

    The offset goes into the BatchNorm's bias: the model keeps its shape and format, and everything that
    reads the bias (NIR export included) sees the trimmed thresholds. The encoder runs once; each
    bisection step reruns only the bottleneck. An offset at which the units fire more than
    MAX_TRIM_FIRING of the time counts as over any target, so the trim stays on the sparse side (and
    brings a model that is past it back). Returns the offset and the rates before and after.
    """
    training = codec.training
    codec.eval()
    try:
        device = codec.bottleneck.norm.bias.device
        latents = [codec.encoder(batch.to(device)) for batch in probe]
        alphabet, frame_rate = codec.bottleneck.alphabet_size, codec.config.frame_rate

        coded = []  # the coded rate at each offset tried; bisect_offset tries offset 0 first

        def rate_at() -> float:
            events = [row.numpy() for latent in latents for row in codec.bottleneck(latent).events.cpu()]
            coded.append(coded_kbps(events, alphabet, frame_rate))
            if not codec.bottleneck.stores_indices and np.mean([e.mean() for e in events]) > MAX_TRIM_FIRING:
                return math.inf
            return coded[-1]

        trim = bisect_offset(codec, rate_at, target_kbps)
        return replace(trim, kbps_before=coded[0])  # the rate it had, also when that was too dense
    finally:
        codec.train(training)


@torch.no_grad()
def bisect_offset(codec: Codec, rate_at: Callable[[], float], target_kbps: float) -> Trim:
    """Finds the offset of the bottleneck's input current (added to its BatchNorm bias) at which
    `rate_at()`, measured with the codec as it is, gives `target_kbps`; leaves the codec at that offset.

    A larger current makes every neuron fire at least as often, so while most units fire less than half
    the time the rate grows with the offset and bisection finds it (within TRIM_TOLERANCE). An offset
    that would pass TRIM_MAX_OFFSET stops at the closest rate it reached.
    """
    bias = codec.bottleneck.norm.bias
    original = bias.detach().clone()

    def measured(offset: float) -> float:
        bias.copy_(original + offset)
        return rate_at()

    before = measured(0.0)
    tried = {0.0: before}
    low, high = _bracket(measured, target_kbps, before, tried)
    for _ in range(TRIM_ITERATIONS):
        if low is None or high is None or _close(_best(tried, target_kbps)[1], target_kbps):
            break
        middle = (low + high) / 2
        tried[middle] = measured(middle)
        if tried[middle] > target_kbps:
            high = middle
        else:
            low = middle
    offset, after = _best(tried, target_kbps)
    bias.copy_(original + offset)
    return Trim(offset=offset, kbps_before=before, kbps_after=after, target_kbps=target_kbps)


def _bracket(rate_at, target: float, at_zero: float, tried: dict[float, float]) -> tuple[float | None, float | None]:
    """Offsets (low, high) with rate(low) <= target < rate(high), widening from 0 by doubling; None for a
    side that TRIM_MAX_OFFSET does not reach."""
    direction = -1.0 if at_zero > target else 1.0
    step, inner = 0.125, 0.0
    while step <= TRIM_MAX_OFFSET:
        offset = direction * step
        tried[offset] = rate_at(offset)
        if (tried[offset] <= target) == (direction < 0):
            return (offset, inner) if direction < 0 else (inner, offset)
        inner, step = offset, step * 2
    return (None, inner) if direction < 0 else (inner, None)


def _best(tried: dict[float, float], target: float) -> tuple[float, float]:
    """The tried (offset, rate) closest to the target in ratio; ties go to the smallest offset."""
    return min(tried.items(), key=lambda item: (abs(math.log(max(item[1], 1e-9) / target)), abs(item[0])))


def _close(rate: float, target: float) -> bool:
    return abs(rate / target - 1) <= TRIM_TOLERANCE


def validation_probe(data: str, sample_rate: int, hop_length: int, *, crops: int = 32, seconds: float = 4.0,
                     exclude_soundfont: str | None = None, batch_size: int = 4) -> list[Tensor]:
    """Fixed crops of a data spec's validation split, thinned evenly to `crops`, as (B, 1, S) batches:
    the audio a rate is measured on (training uses its validation loader's crops the same way)."""
    from snn_codec.data.datasets import AudioCropDataset, dataset_files

    if not (1 <= crops <= 10_000 and 0 < seconds <= 600):
        raise CodecError(f"the probe needs 1..10000 crops of 0..600 s, got {crops} of {seconds} s")
    samples = max(1, round(seconds * sample_rate / hop_length)) * hop_length
    dataset = AudioCropDataset(dataset_files(data, "validation", exclude_soundfont=exclude_soundfont),
                               sample_rate, samples, random_crops=False)
    picks = np.linspace(0, len(dataset) - 1, min(crops, len(dataset))).round().astype(int)
    audio = torch.stack([dataset[int(i)] for i in np.unique(picks)])
    return list(audio.split(batch_size))


@torch.no_grad()
def probe_log_mel_db(codec: Codec, probe: Sequence[Tensor]) -> float:
    """Mean log-mel distance (dB) of the probe's crops through the whole codec in eval mode."""
    from snn_codec.eval.metrics import log_mel_distance

    codec.eval()
    distances = [log_mel_distance(reference[0], estimate[0], codec.config.sample_rate)
                 for batch in probe for reference, estimate in zip(batch, codec(batch).audio)]
    return float(np.mean(distances))


@dataclass(frozen=True)
class Retarget:
    """What `retarget` did: the trim, and the probe's log-mel distance before and after it."""

    trim: Trim
    log_mel_db_before: float
    log_mel_db_after: float


def retarget(model: str, data: str, target_kbps: float, out: str | Path, *, crops: int = 32, seconds: float = 4.0,
             exclude_soundfont: str | None = None) -> Retarget:
    """A trained spiking model trimmed to code `data`'s validation audio at `target_kbps`, written to `out`
    (.safetensors and .yaml). No training: only the firing thresholds move, so small moves cost little
    quality and large ones more (the decoder never saw the new event statistics)."""
    from snn_codec.model_io import load_model, save_model

    check_target_kbps(target_kbps)
    codec = load_model(model)
    if not isinstance(codec.bottleneck, SpikingBottleneck):
        raise CodecError(f"{model}: a {codec.config.bottleneck['kind']} model's rate is set by its codebooks; "
                         "only spiking models can be retargeted")
    probe = validation_probe(data, codec.config.sample_rate, codec.config.hop_length, crops=crops, seconds=seconds,
                             exclude_soundfont=exclude_soundfont)
    before = probe_log_mel_db(codec, probe)
    trim = trim_rate(codec, probe, target_kbps)
    if trim.missed:
        raise CodecError(f"{model} codes at {trim.kbps_before:.3f} kbps; moving its thresholds gets no closer to "
                         f"{target_kbps:g} kbps than {trim.kbps_after:.3f} ({trim.error:+.0%}), so nothing was "
                         "written. Train to that rate instead (snn-codec train --target-kbps).")
    after = probe_log_mel_db(codec, probe)
    codec.config = replace(codec.config, name=Path(out).with_suffix("").name)
    save_model(codec.eval(), out)
    return Retarget(trim, before, after)
