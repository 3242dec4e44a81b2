"""The runs of the bottleneck benchmark: one config per (kind, rate, seed), all from the same recipe.

Every run trains from scratch with the same encoder, decoder, data, augmentation, optimiser, steps and
seed; only the bottleneck differs. Rates are matched so:
- spiking kinds (and spiking plug-ins): the rate controller trains to the target's entropy-coded rate;
- quantizers: codebooks sized so that frame_rate x bits per frame is the target before entropy coding
  (the index coders then code at or below it): bits per frame = target x 1000 / frame_rate, split into
  Q codebooks of at most MAX_CODEBOOK_BITS bits each (`codebook_bits`); one-codebook VQ only where a
  codebook of 2**bits codes is possible (<= 2**16);
- the unquantized reference (`continuous`) has no rate: one run per seed, the ceiling row.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from pathlib import Path

from snn_codec.bottlenecks import BOTTLENECKS, REFERENCE_BOTTLENECKS, build_bottleneck
from snn_codec.bottlenecks.plugins import is_plugin_kind, load_plugin
from snn_codec.config import (AugmentConfig, Config, DataConfig, DecoderConfig, EncoderConfig, ModelConfig,
                              RateControlConfig, SparsityConfig, TrainConfig)

CEILING = "continuous"
MAX_CODEBOOK_BITS = 10  # rvq, fsq, lfq: 1024 codes per codebook at most (LFQ's entropy penalty scales with it)
MAX_VQ_BITS = 16  # one codebook: the largest alphabet an index payload may declare
SPIKING_OPTIONS = {  # besides `units`; the registry's defaults otherwise
    "snntorch_leaky": {"beta": 0.9},
    "snntorch_synaptic": {"alpha": 0.5, "beta": 0.9},
    "norse_lif": {"beta": 0.9},
    "norse_lsnn": {"beta": 0.9, "tau_adapt": 0.2, "adapt": 0.5},
    "snntorch_rleaky": {"beta": 0.9},
}
DEFAULT_KINDS = ["threshold", "snntorch_leaky", "snntorch_synaptic", "norse_lif", "norse_lsnn", "adlif",
                 "snntorch_rleaky", "vq", "rvq", "fsq", "lfq"]


@dataclass(frozen=True)
class Scale:
    """Model and training size; the same for every bottleneck."""

    sample_rate: int
    latent_dim: int
    units: int  # neurons of spiking kinds, and the decoder's input width for every kind
    encoder: EncoderConfig
    decoder: DecoderConfig
    steps: int
    batch_size: int
    segment_s: float
    validation_crops: int
    validation_segment_s: float
    val_every: int


SCALES = {
    # about 10 minutes per run on one CPU thread: 0.4 s of CPU per step (threshold and adlif alike), plus the
    # rate controller's probes and the validations
    "bench": Scale(24000, 64, 128, EncoderConfig((8, 16, 32, 64), (1,)), DecoderConfig(dim=128, layers=3), 1200, 8,
                   1.0, 16, 4.0, 300),
    # the shipped models' size (configs/piano-v3.yaml), for a GPU
    "large": Scale(24000, 128, 128, EncoderConfig((16, 32, 64, 128), (1, 3)), DecoderConfig(dim=256, layers=6), 20000,
                   16, 1.0, 32, 4.0, 1000),
    # proves the pipeline end to end in a minute: two steps of a tiny model
    "smoke": Scale(24000, 8, 16, EncoderConfig((4, 8), (1,)), DecoderConfig(dim=16, layers=1), 2, 2, 0.2, 2, 0.4, 2),
}


@dataclass(frozen=True)
class Run:
    kind: str
    rate_kbps: float | None  # None: the ceiling, which has no rate
    seed: int
    config: Config

    @property
    def name(self) -> str:
        return run_name(self.kind, self.rate_kbps, self.seed)

    @property
    def family(self) -> str:
        return family(self.kind)


def run_name(kind: str, rate_kbps: float | None, seed: int) -> str:
    """The run's folder and model name, e.g. `snntorch-leaky-1.5k-s0`, `continuous-ceiling-s2`."""
    rate = "ceiling" if rate_kbps is None else f"{rate_kbps:g}k"
    return f"{kind.replace(':', '.').replace('_', '-')}-{rate}-s{seed}"


def family(kind: str) -> str:
    """"spiking", "quantizer" or "reference"."""
    if kind in REFERENCE_BOTTLENECKS:
        return "reference"
    cls = load_plugin(kind) if is_plugin_kind(kind) else BOTTLENECKS[kind]
    return "quantizer" if cls.stores_indices else "spiking"


def bits_per_frame(rate_kbps: float, frame_rate: int) -> int:
    """Whole bits per frame of a rate; refuses rates that are not a whole number of bits per frame."""
    bits = rate_kbps * 1000 / frame_rate
    if abs(bits - round(bits)) > 1e-9 or round(bits) < 1:
        raise ValueError(f"{rate_kbps:g} kbps at {frame_rate} Hz is {bits:g} bits per frame; choose a rate that is a "
                         "whole number of bits per frame")
    return round(bits)


def codebook_bits(bits: int, max_bits: int = MAX_CODEBOOK_BITS) -> tuple[int, int]:
    """(Q, bits per codebook): the fewest codebooks of at most `max_bits` bits whose bits add up to `bits`."""
    for q in range(-(-bits // max_bits), bits + 1):
        if bits % q == 0:
            return q, bits // q
    raise AssertionError("q = bits always divides")


def fsq_levels(bits: int) -> list[int]:
    """Levels of an FSQ codebook of exactly 2**bits codes (bits >= 2): 8s (3 bits each), then 4s (2 bits)."""
    if bits < 2:
        raise ValueError("an FSQ codebook needs at least 2 bits (levels >= 3)")
    eights, rest = divmod(bits, 3)
    if rest == 1:  # 3k + 1 = 3(k - 1) + 2 + 2
        eights, rest = eights - 1, 4
    return [8] * eights + [4] * (rest // 2)


def bottleneck_options(kind: str, rate_kbps: float | None, frame_rate: int, units: int) -> dict | None:
    """The bottleneck config of `kind` at `rate_kbps`; None where the kind cannot reach that rate."""
    if kind == CEILING:
        return {"kind": kind, "units": units}
    if family(kind) == "spiking":
        options = {"kind": kind, **SPIKING_OPTIONS.get(kind, {})}
        cls = load_plugin(kind) if is_plugin_kind(kind) else BOTTLENECKS[kind]
        return options | ({"units": units} if "units" in inspect.signature(cls).parameters else {})
    bits = bits_per_frame(rate_kbps, frame_rate)
    if kind == "vq":
        return {"kind": kind, "codebook_size": 2**bits, "output_channels": units} if bits <= MAX_VQ_BITS else None
    q, per = codebook_bits(bits)
    if kind == "rvq":
        return {"kind": kind, "codebook_size": 2**per, "num_quantizers": q, "output_channels": units}
    if kind == "fsq":
        return {"kind": kind, "levels": fsq_levels(per), "num_codebooks": q, "output_channels": units}
    if kind == "lfq":
        return {"kind": kind, "codebook_size": 2**per, "num_codebooks": q, "output_channels": units}
    return None  # a quantizer plug-in: its rate is its own business


def run_config(kind: str, rate_kbps: float | None, seed: int, scale: Scale, data: DataConfig,
               steps: int | None = None) -> Config | None:
    """The config of one run, or None when `kind` cannot code at `rate_kbps`."""
    model = ModelConfig(sample_rate=scale.sample_rate, frame_rate=50, latent_dim=scale.latent_dim,
                        encoder=scale.encoder, decoder=scale.decoder)
    bottleneck = bottleneck_options(kind, rate_kbps, model.frame_rate, scale.units)
    if bottleneck is None:
        return None
    name = run_name(kind, rate_kbps, seed)
    spiking = family(kind) == "spiking"
    train = TrainConfig(
        steps=steps or scale.steps, batch_size=scale.batch_size, learning_rate=1e-3, warmup_steps=min(100, scale.steps),
        # quantizers' and LIF models' auxiliary losses at weight 1 (commitment, entropy); spiking kinds' weight
        # is the rate controller's
        sparsity=SparsityConfig(start=0.0 if spiking else 1.0, end=0.0 if spiking else 1.0),
        # Spiking kinds learn to reconstruct for the first fifth of the steps before the rate controller
        # starts: an untrained encoder's events carry almost nothing, so they code far below any target, and
        # raising the current to reach it drove every unit to fire almost always (98 % at 0.75 kbps) and
        # the weight of the sparsity loss to nothing, a state no later probe left.
        rate_control=RateControlConfig(target_kbps=rate_kbps, initial_weight=1.0, delay_steps=(steps or scale.steps) // 5)
        if spiking else RateControlConfig(),
        data=data, val_every=scale.val_every, checkpoint_every=scale.val_every, seed=seed)
    return Config(model=replace(model, name=name, bottleneck=bottleneck), train=train)


def bench_data(corpus: str, holdout: str, scale: Scale) -> DataConfig:
    """The training data of every run: the corpus, one soundfont held out, augmentation on."""
    return DataConfig(train=corpus, validation=corpus, segment_s=scale.segment_s,
                      validation_crops=scale.validation_crops, validation_segment_s=scale.validation_segment_s,
                      holdout_soundfont=holdout, augment=AugmentConfig(enabled=True))


def plan(kinds: list[str], rates: list[float], seeds: list[int], scale: Scale, data: DataConfig,
         steps: int | None = None) -> tuple[list[Run], list[tuple[str, float]]]:
    """Every run (kinds x rates x seeds, the ceiling once per seed) and the (kind, rate) pairs left out."""
    runs, impossible = [], []
    for kind in kinds:
        for rate in [None] if kind == CEILING else rates:
            configs = [run_config(kind, rate, seed, scale, data, steps) for seed in seeds]
            if configs[0] is None:
                impossible.append((kind, rate))
                continue
            runs += [Run(kind, rate, seed, config) for seed, config in zip(seeds, configs)]
    return runs, impossible


def check_kinds(kinds: list[str], latent_dim: int = 8) -> None:
    """Builds each kind once (tiny) so that a typo or a faulty plug-in stops the benchmark before training."""
    for kind in kinds:
        options = bottleneck_options(kind, 1.5, 50, 4) or {"kind": kind}
        build_bottleneck(kind, latent_dim, **{k: v for k, v in options.items() if k != "kind"})


def run_dir(root: Path, run: Run) -> Path:
    return root / run.name
