"""Configs: frozen dataclasses loaded from YAML, unknown keys rejected, resolved config saved beside runs.

Each value is written once. Anything derivable (encoder strides, hop length, FFT size) is computed in code.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from snn_codec.errors import ConfigError


@dataclass(frozen=True)
class EncoderConfig:
    """`conv`: strided 1-D conv net on the waveform (SEANet-like). `stft`: log-magnitude STFT frames,
    then ConvNeXt blocks at the latent frame rate (the decoder's mirror; several times faster).
    `filterbank`: a fixed band-pass filterbank, spike-encoded, then LIF layers (snn_codec/models/neuromorphic.py)."""

    channels: tuple[int, ...] = (16, 32, 64, 128)  # conv: one downsampling stage per entry
    dilations: tuple[int, ...] = (1, 3)  # conv: residual units per stage
    kind: str = "conv"
    patch: int = 1  # conv: samples per step of the first convolution (strided-first when > 1)
    dim: int = 256  # stft: ConvNeXt width
    layers: int = 4  # stft: ConvNeXt blocks
    stft_frames: int = 1  # stft: STFT frames per latent frame, stacked along channels (time detail)
    window_hops: int = 4  # stft: window length in STFT hops (frequency detail)
    # Precision "auto" runs this encoder in bfloat16 where the CPU has it natively. Only for a model
    # measured to keep its events (piano-v5, piano-v6: under 1 % change, same quality; piano-v3's
    # waveform encoder loses a third of them, docs/speed.md); otherwise "auto" encodes in float32.
    auto_bfloat16: bool = False
    bands: int = 16  # filterbank: band-pass channels, log-spaced centres from low_hz to high_hz
    low_hz: float = 50.0  # filterbank: lowest centre frequency
    high_hz: float = 10000.0  # filterbank: highest centre frequency
    step_ms: float = 1.0  # filterbank: time step of the spiking layers (must divide the frame)
    hidden: tuple[int, ...] = (128,)  # filterbank: LIF neurons per spiking layer
    recurrent: bool = True  # filterbank: each spiking layer also takes its own spikes of the last step
    tau_mem_ms: float = 4.0  # filterbank: membrane time constant
    tau_syn_ms: float = 2.0  # filterbank: synaptic time constant


@dataclass(frozen=True)
class DecoderConfig:
    """`istft`: frame-rate ConvNeXt + inverse-STFT head. `conv`: transposed-conv upsampling (mirror)."""

    kind: str = "istft"
    dim: int = 256  # istft: ConvNeXt width
    layers: int = 6  # istft: ConvNeXt blocks
    upsample: int = 2  # istft: STFT frames per latent frame
    channels: tuple[int, ...] = (128, 64, 32, 16)  # conv: one upsampling stage per entry


@dataclass(frozen=True)
class ModelConfig:
    name: str = "untitled"
    sample_rate: int = 24000
    frame_rate: int = 50  # latent frames per second; the encoder's strides are derived from it
    latent_dim: int = 128
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    bottleneck: dict[str, Any] = field(default_factory=lambda: {"kind": "threshold", "units": 64})
    decoder: DecoderConfig = field(default_factory=DecoderConfig)

    @property
    def hop_length(self) -> int:
        """Waveform samples per latent frame."""
        return self.sample_rate // self.frame_rate


@dataclass(frozen=True)
class SparsityConfig:
    """Weight of the sparsity loss (the mean firing rate), annealed from `start` to `end`.

    It stays at `start` for `delay_steps`, then rises over `ramp_steps`: linearly, or in equal stairs of
    `stair_steps` steps each when that is set (the paper's annealing).
    """

    start: float = 0.0
    end: float = 0.0
    delay_steps: int = 0
    ramp_steps: int = 1
    stair_steps: int = 0


@dataclass(frozen=True)
class RateControlConfig:
    """Trains to an entropy-coded rate of `target_kbps` on validation audio (0 = off; the sparsity schedule
    applies then).

    Every `probe_every` steps the encoder codes the in-domain validation crops in eval mode (the probe).
    With `trim` (the default), the firing thresholds then move by one shared offset so that the probe codes
    at the target (snn_codec/rate.py), and again when training ends: the rate is on target at every
    probe, and what the next probe measures is how far the steps in between moved it. The sparsity weight
    follows that measured rate: log(weight) moves by `gain` * log(rate / target) per probe, plus
    `proportional` * log(rate / target) (a damping term, for runs without the trim). It starts at
    `initial_weight`, after `delay_steps` of training without the sparsity loss.
    """

    target_kbps: float = 0.0
    gain: float = 1.0
    proportional: float = 0.0
    probe_every: int = 25
    initial_weight: float = 0.01
    min_weight: float = 1e-4
    max_weight: float = 100.0
    delay_steps: int = 0
    trim: bool = True


@dataclass(frozen=True)
class AugmentConfig:
    """Random effects on training crops (see snn_codec/data/augment.py); ranges are [low, high]."""

    enabled: bool = False
    tilt_db_per_octave: float = 2.0
    eq_bands: int = 2
    eq_gain_db: float = 6.0
    reverb_probability: float = 0.3
    rt60_s: tuple[float, ...] = (0.2, 1.2)
    reverb_wet: tuple[float, ...] = (0.1, 0.5)
    noise_probability: float = 0.5
    noise_dbfs: tuple[float, ...] = (-85.0, -60.0)
    level_db: tuple[float, ...] = (-12.0, 6.0)
    compression_probability: float = 0.0  # a dynamic-range compressor (louder sustains, as in produced recordings)
    compression_ratio: tuple[float, ...] = (2.0, 8.0)
    compression_depth_db: tuple[float, ...] = (6.0, 24.0)  # threshold below the crop's loudest 10 ms


@dataclass(frozen=True)
class DataConfig:
    """Data specs: `synth:DIR` (corpus from `snn-codec data synth-piano`), `maestro:DIR`, `folder:DIR`."""

    train: str = "synth:data/piano"
    validation: str = "synth:data/piano"
    segment_s: float = 1.0
    validation_crops: int = 32
    validation_segment_s: float = 4.0
    holdout_soundfont: str = ""  # synth corpora: never trained on, validated apart as the unseen timbre
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass(frozen=True)
class AdversarialConfig:
    """Adversarial training on top of the reconstruction losses (snn_codec/train/discriminators.py).

    Discriminators: one per period of `periods` (the waveform folded into rows) and one per STFT size of
    `fft_sizes` (log magnitudes), each `channels` wide; they see the first `batch_size` crops of each batch
    (they would cost several times the codec's step on a CPU if they saw all). From `start_step` on, the
    codec's loss adds `weight` x the hinge adversarial loss and `feature_weight` x the feature-matching
    loss, and the discriminators train with their own AdamW at `learning_rate`. They are saved in checkpoints (a run
    resumes with them) and never in the exported model.
    """

    enabled: bool = False
    start_step: int = 0
    weight: float = 0.1
    feature_weight: float = 0.2
    learning_rate: float = 2.0e-4
    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    fft_sizes: tuple[int, ...] = (512, 1024, 2048)
    channels: int = 16
    batch_size: int = 4


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 20000
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    warmup_steps: int = 200
    grad_clip: float = 1.0
    mel_weight: float = 1.0
    stft_weight: float = 1.0
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    sparsity: SparsityConfig = field(default_factory=SparsityConfig)
    rate_control: RateControlConfig = field(default_factory=RateControlConfig)
    init_from: str = ""  # a shipped model name or .safetensors file to start from (same architecture)
    # A shipped model name or .safetensors file whose encoder this model's encoder learns to imitate (the
    # bottleneck's input currents, MSE); its bottleneck and decoder are copied and stay fixed.
    distill_from: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    val_every: int = 500
    checkpoint_every: int = 500
    num_workers: int = 0
    seed: int = 0


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def from_dict(cls: type, data: Any, where: str = "config"):
    """Builds dataclass `cls` from nested dicts, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(names)}")
    values = {}
    for key, value in data.items():
        values[key] = _convert(hints[key], value, f"{where}.{key}")
    return cls(**values)


def _convert(hint: Any, value: Any, where: str):
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where)
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        return tuple(_convert(item, v, where) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and not (type(value) is hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def to_dict(config) -> dict[str, Any]:
    """A dataclass -> plain nested dicts and lists (YAML friendly)."""

    def plain(value):
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(config))


def load_config(path: str | os.PathLike) -> Config:
    """Reads a YAML config; missing sections take their defaults."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    config = from_dict(Config, data, str(path))
    validate_model_config(config.model)
    return config


def save_config(config, path: str | os.PathLike) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))


def validate_model_config(model: ModelConfig) -> None:
    if model.sample_rate <= 0 or model.frame_rate <= 0:
        raise ConfigError("model: sample_rate and frame_rate must be positive")
    if model.sample_rate % model.frame_rate:
        raise ConfigError(
            f"model: sample_rate {model.sample_rate} must be a multiple of frame_rate {model.frame_rate}"
        )
    if "kind" not in model.bottleneck:
        raise ConfigError("model.bottleneck: needs a `kind` (e.g. threshold)")
    if model.encoder.kind not in ("conv", "stft", "filterbank"):
        raise ConfigError(f"model.encoder.kind: unknown {model.encoder.kind!r}; "
                          "choose from ['conv', 'filterbank', 'stft']")
    if model.encoder.kind == "filterbank":
        validate_filterbank(model)
    stft = model.encoder
    if stft.kind == "conv" and not (stft.patch >= 1 and model.hop_length % stft.patch == 0):
        raise ConfigError("model.encoder.patch must be >= 1 and divide the hop length (sample_rate / frame_rate)")
    if stft.kind == "stft" and not (stft.dim > 0 and stft.layers >= 0 and stft.stft_frames >= 1
                                    and stft.window_hops >= 1 and model.hop_length % stft.stft_frames == 0):
        raise ConfigError("model.encoder (stft): needs dim > 0, layers >= 0, window_hops >= 1 and stft_frames "
                          "that divides the hop length (sample_rate / frame_rate)")
    if model.decoder.kind not in ("istft", "conv"):
        raise ConfigError(f"model.decoder.kind: unknown {model.decoder.kind!r}; choose from ['conv', 'istft']")
    if model.decoder.kind == "istft" and model.hop_length % model.decoder.upsample:
        raise ConfigError("model.decoder.upsample must divide the hop length (sample_rate / frame_rate)")


def validate_filterbank(model: ModelConfig) -> None:
    """The neuromorphic encoder's settings, each refused with what to change."""
    encoder, where = model.encoder, "model.encoder (filterbank)"
    if encoder.bands < 2:
        raise ConfigError(f"{where}: bands must be at least 2, got {encoder.bands}")
    if not 0 < encoder.low_hz < encoder.high_hz < model.sample_rate / 2:
        raise ConfigError(f"{where}: needs 0 < low_hz < high_hz < sample_rate / 2 ({model.sample_rate / 2:g} Hz), "
                          f"got low_hz {encoder.low_hz:g} and high_hz {encoder.high_hz:g}")
    step = model.sample_rate * encoder.step_ms / 1000
    if not (encoder.step_ms > 0 and abs(step - round(step)) < 1e-9 and round(step) >= 1
            and model.hop_length % round(step) == 0):
        raise ConfigError(f"{where}: step_ms {encoder.step_ms:g} must be a whole number of samples that divides the "
                          f"frame ({model.hop_length} samples at {model.sample_rate} Hz)")
    if not encoder.hidden or min(encoder.hidden) < 1:
        raise ConfigError(f"{where}: hidden needs at least one layer, each of at least 1 neuron; got {encoder.hidden}")
    if not (encoder.tau_mem_ms > 0 and encoder.tau_syn_ms > 0):
        raise ConfigError(f"{where}: tau_mem_ms and tau_syn_ms must be positive")
