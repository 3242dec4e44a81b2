"""Codec = encoder + bottleneck + decoder, with windowed (flat-memory, deterministic) inference."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from snn_codec.bottlenecks import BottleneckOutput, build_bottleneck
from snn_codec.config import ModelConfig, validate_model_config
from snn_codec.models.decoder import build_decoder
from snn_codec.models.encoder import Encoder

WINDOW_FRAMES = 1500  # inference window: 30 s at 50 Hz; fixed so the bitstream never depends on I/O sizes


def _windows(total_frames: int, label: str, progress: bool) -> Iterable[int]:
    """Start frames of the inference windows, with a progress bar on inputs longer than one window."""
    starts = range(0, total_frames, WINDOW_FRAMES)
    show = progress and len(starts) > 1
    return tqdm(starts, desc=label, unit="window", disable=not show, leave=False)


@dataclass
class CodecOutput:
    audio: Tensor  # (B, 1, S) reconstruction
    bottleneck: BottleneckOutput


class Codec(nn.Module):
    """The whole auto-encoder. `forward` is for training; `encode`/`decode` for files of any length."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        validate_model_config(config)
        self.config = config
        self.hop_length = config.hop_length
        options = {k: v for k, v in config.bottleneck.items() if k != "kind"}
        self.encoder = Encoder(config)
        self.bottleneck = build_bottleneck(config.bottleneck["kind"], config.latent_dim, **options)
        self.decoder = build_decoder(config, self.bottleneck.units)

    @property
    def units(self) -> int:
        return self.bottleneck.units

    def forward(self, audio: Tensor) -> CodecOutput:
        """audio: (B, 1, S), S a multiple of hop_length -> reconstruction (B, 1, S) and events."""
        out = self.bottleneck(self.encoder(audio))
        return CodecOutput(audio=self.decoder(out.z), bottleneck=out)

    def num_frames(self, num_samples: int) -> int:
        return math.ceil(num_samples / self.hop_length)

    @torch.inference_mode()
    def encode(self, audio: Tensor, progress: bool = False) -> Tensor:
        """Mono audio (S,) at the model's rate -> events (N, T) bool, T = ceil(S / hop_length).

        Works window by window with enough context that each window sees what a single pass would,
        and carries the bottleneck state across windows.
        """
        hop, total = self.hop_length, self.num_frames(audio.shape[-1])
        padded = torch.nn.functional.pad(audio.float(), (0, total * hop - audio.shape[-1]))
        context, state, chunks = self.encoder.context_frames, None, []
        for start in _windows(total, "encode", progress):
            stop = min(start + WINDOW_FRAMES, total)
            lo, hi = max(0, start - context), min(total, stop + context)
            latent = self.encoder(padded[lo * hop : hi * hop].view(1, 1, -1))
            out = self.bottleneck(latent[..., start - lo : stop - lo], state)
            state = out.state
            chunks.append(out.events[0])
        return torch.cat(chunks, dim=-1) if chunks else torch.zeros(self.units, 0, dtype=torch.bool)

    @torch.inference_mode()
    def decode(self, events: Tensor, progress: bool = False) -> Tensor:
        """Events (N, T) -> mono audio (T * hop_length,) at the model's rate, window by window."""
        hop, total = self.hop_length, events.shape[-1]
        z = self.bottleneck.decode(events[None])
        context, chunks = self.decoder.context_frames, []
        for start in _windows(total, "decode", progress):
            stop = min(start + WINDOW_FRAMES, total)
            lo, hi = max(0, start - context), min(total, stop + context)
            audio = self.decoder(z[..., lo:hi])[0, 0]
            chunks.append(audio[(start - lo) * hop : (stop - lo) * hop])
        return torch.cat(chunks) if chunks else torch.zeros(0)

    def weight_hash(self) -> bytes:
        """First 16 bytes of the sha256 of the weights (names, shapes and values, in name order)."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.digest()[:16]
