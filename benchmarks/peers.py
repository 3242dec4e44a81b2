"""Neural codec speed peers: the EnCodec and DAC architectures with random weights, timed on our CPU.

Only speed is measured: with random weights their output is noise, so their quality is quoted from their
papers (and labelled as quoted). Nothing is downloaded.

`bash benchmarks/setup.sh` installs the two packages with `pip install --no-deps --target
.venv/benchmark-peers`, outside the environment's site-packages: both declare `torchaudio`, whose
wheels on the package index are built against CUDA and would not load with our CPU torch, and DAC
declares `descript-audiotools`, which pins an old protobuf and pulls in a long list of packages. The
model classes themselves need only torch, numpy and einops. Those two packages are used only for file
I/O, resampling and training helpers, so while the model modules are imported they are replaced by
stand-in modules whose names resolve to empty `nn.Module` subclasses; nothing timed touches them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

PEERS_DIR = Path(sys.prefix) / "benchmark-peers"
SETUP_HINT = "run bash benchmarks/setup.sh (installs encodec and descript-audio-codec into .venv/benchmark-peers)"

QUOTED_QUALITY = {  # what the papers claim, paraphrased; their numbers are in their tables
    "encodec-24khz": "quality quoted, not measured: Défossez et al. 2022 (High Fidelity Neural Audio Compression) "
                     "report MUSHRA listening tests on speech and music, 1.5 to 24 kbps, in which EnCodec is "
                     "superior to the baselines they evaluate (Opus and Lyra-v2 among them) in every setting",
    "dac-44khz": "quality quoted, not measured: Kumar et al. 2023 (High-Fidelity Audio Compression with Improved "
                 "RVQGAN) report that their 44.1 kHz model (8 kbps with all 9 codebooks) outperforms the "
                 "competing codecs they compare against, EnCodec among them, on objective metrics (ViSQOL, "
                 "mel distance, SI-SDR) and in a listening test",
}


@dataclass(frozen=True)
class Peer:
    """A neural codec architecture ready to time: encode maps (1, 1, S) audio to codes, decode maps back."""

    name: str
    sample_rate: int
    bitrate_kbps: float  # nominal: codebooks x bits per code x frames per second (no container)
    parameters: int
    encode: Callable[[torch.Tensor], object]
    decode: Callable[[object], torch.Tensor]
    quoted_quality: str


class PeerUnavailable(RuntimeError):
    """A peer's package is not installed or cannot be imported here."""


class _StandIn(types.ModuleType):
    """A module whose every public name is an empty `nn.Module` subclass (usable as a base class)."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        child = sys.modules.get(f"{self.__name__}.{name}")
        value = child if child is not None else type(name, (torch.nn.Module,), {"__module__": self.__name__})
        setattr(self, name, value)
        return value


@contextmanager
def _stand_ins(names: tuple[str, ...]) -> Iterator[None]:
    """Registers stand-in modules for those of `names` that are not installed, for the duration of an import."""
    added = [name for name in names if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is None]
    for name in added:
        sys.modules[name] = _StandIn(name)
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def _import_peer_package(name: str) -> None:
    """Makes the peers' install folder importable (after our own paths) and checks `name` is there."""
    if str(PEERS_DIR) not in sys.path and PEERS_DIR.is_dir():
        sys.path.append(str(PEERS_DIR))
    if importlib.util.find_spec(name) is None:
        raise PeerUnavailable(f"the {name} package is not installed; {SETUP_HINT}")


def encodec_24khz(bandwidth_kbps: float = 1.5) -> Peer:
    """EnCodec's 24 kHz model (causal, 75 Hz frames, 10-bit codebooks) at `bandwidth_kbps`, random weights."""
    _import_peer_package("encodec")
    with _stand_ins(("torchaudio",)):
        from encodec import EncodecModel
    model = EncodecModel.encodec_model_24khz(pretrained=False).eval()
    model.set_target_bandwidth(bandwidth_kbps)
    return Peer("encodec-24khz", model.sample_rate, bandwidth_kbps, _count(model),
                encode=model.encode, decode=model.decode, quoted_quality=QUOTED_QUALITY["encodec-24khz"])


def dac_44khz(codebooks: int = 2) -> Peer:
    """DAC's 44.1 kHz architecture (86 Hz frames, 10-bit codebooks) using `codebooks` codebooks, random weights.

    The package's `__init__` imports its training and file utilities; the model modules are imported from
    the package folder directly so that only `audiotools` needs a stand-in.
    """
    _import_peer_package("dac")
    if "dac" not in sys.modules:
        package = types.ModuleType("dac")
        package.__path__ = list(importlib.util.find_spec("dac").submodule_search_locations)
        sys.modules["dac"] = package
    with _stand_ins(("audiotools", "audiotools.ml")):
        DAC = importlib.import_module("dac.model.dac").DAC
    model = DAC().eval()  # the defaults are the released 44.1 kHz configuration
    frame_rate = model.sample_rate / model.hop_length
    bits = codebooks * torch.log2(torch.tensor(float(model.codebook_size))).item()

    def encode(audio: torch.Tensor) -> torch.Tensor:
        _, codes, *_ = model.encode(model.preprocess(audio, model.sample_rate), n_quantizers=codebooks)
        return codes[:, :codebooks]

    def decode(codes: torch.Tensor) -> torch.Tensor:
        return model.decode(model.quantizer.from_codes(codes)[0])

    return Peer("dac-44khz", model.sample_rate, bits * frame_rate / 1000, _count(model), encode=encode,
                decode=decode, quoted_quality=QUOTED_QUALITY["dac-44khz"])


PEERS: dict[str, Callable[[], Peer]] = {"encodec-24khz": encodec_24khz, "dac-44khz": dac_44khz}


def load_peer(name: str) -> Peer:
    """Builds a peer by name. Raises PeerUnavailable with the reason when it cannot be imported here."""
    try:
        return PEERS[name]()
    except PeerUnavailable:
        raise
    except Exception as err:  # a third-party import can fail in many ways; report it, do not crash the run
        raise PeerUnavailable(f"{name}: {type(err).__name__}: {err}") from err


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
