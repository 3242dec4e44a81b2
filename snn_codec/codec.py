"""Codec = encoder + bottleneck + decoder, with windowed streaming inference (flat memory, deterministic)."""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from snn_codec.bottlenecks import BottleneckOutput, build_bottleneck
from snn_codec.config import ModelConfig, validate_model_config
from snn_codec.errors import CodecError
from snn_codec.models.decoder import build_decoder
from snn_codec.models.encoder import build_encoder

WINDOW_FRAMES = 1500  # inference window: 30 s at 50 Hz; fixed so the bitstream never depends on I/O sizes
PRECISIONS = ("auto", "float32", "bfloat16")  # of the encoder's and decoder's matrix products


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX), where it is the faster type."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def check_precision(precision: str) -> str:
    """`precision` if it is one of PRECISIONS; CodecError otherwise."""
    if precision not in PRECISIONS:
        raise CodecError(f"precision: unknown {precision!r}; choose from {list(PRECISIONS)}")
    return precision


def takes_bfloat16(precision: str) -> bool:
    """Whether `precision` (one of PRECISIONS) runs in bfloat16: "auto" does where the CPU has it natively."""
    check_precision(precision)
    return precision == "bfloat16" or precision == "auto" and native_bfloat16()


def precision_autocast(precision: str) -> torch.autocast:
    """The context the encoder network runs in; the bottleneck always runs in float32.

    In bfloat16 the events change where a current is within rounding of the threshold, which depends on
    the encoder, so the encoder's "auto" asks its model first (`Codec.encoder_precision`). The same input,
    machine, precision and thread count always give the same bytes; any file decodes at any precision.
    """
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=takes_bfloat16(precision))


@dataclass
class CodecOutput:
    audio: Tensor  # (B, 1, S) reconstruction
    bottleneck: BottleneckOutput


@dataclass(frozen=True)
class Window:
    """Frames [start, stop) are produced from input frames [lo, hi), which include the context."""

    start: int
    stop: int
    lo: int
    hi: int


def windows(total_frames: int, context_frames: int, window_frames: int) -> list[Window]:
    """The inference windows of a stream of `total_frames` frames, in order."""
    result = []
    for start in range(0, total_frames, window_frames):
        stop = min(start + window_frames, total_frames)
        result.append(Window(start, stop, max(0, start - context_frames), min(total_frames, stop + context_frames)))
    return result


class _Buffer:
    """A sliding buffer over a stream of arrays along their last axis, addressed by global index."""

    def __init__(self, source: Iterable[np.ndarray], total: int, leading: tuple[int, ...], dtype, offset: int = 0):
        self.source, self.total = iter(source), total
        self.parts: list[np.ndarray] = []
        self.start = offset  # global index of the first kept item
        self.end = offset  # global index after the last received item
        self.empty = np.zeros((*leading, 0), dtype=dtype)

    def get(self, lo: int, hi: int) -> np.ndarray:
        """Items [lo, hi); past the end of the source, zeros (up to `total`)."""
        while self.end < hi:
            part = next(self.source, None)
            if part is None:  # the source is shorter than announced: pad, as a single pass would
                part = np.zeros((*self.empty.shape[:-1], hi - self.end), dtype=self.empty.dtype)
            part = part[..., : self.total - self.end]
            self.parts.append(part)
            self.end += part.shape[-1]
        data = np.concatenate([self.empty, *self.parts], axis=-1)
        self.parts = [data]
        return data[..., lo - self.start : hi - self.start]

    def drop_before(self, index: int) -> None:
        if self.parts and index > self.start:
            self.parts = [self.parts[0][..., index - self.start :]]
            self.start = index


def _versions(tensors: Iterable[Tensor]) -> tuple:
    """What changes with any change of these tensors: each one's storage (replaced) and version counter
    (moved by every in-place change: optimiser steps, load_state_dict)."""
    return tuple((tensor.data_ptr(), tensor._version) for tensor in tensors)


class Codec(nn.Module):
    """The whole auto-encoder. `forward` is for training; the stream methods handle files of any length."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        validate_model_config(config)
        self.config = config
        self.hop_length = config.hop_length
        self.window_frames = WINDOW_FRAMES
        options = {k: v for k, v in config.bottleneck.items() if k != "kind"}
        self.encoder = build_encoder(config)
        self.bottleneck = build_bottleneck(config.bottleneck["kind"], config.latent_dim, **options)
        self.decoder = build_decoder(config, self.bottleneck.output_channels)

    @property
    def units(self) -> int:
        """Rows of the stored events: neurons, or codebooks of a VQ model."""
        return self.bottleneck.units

    def forward(self, audio: Tensor) -> CodecOutput:
        """audio: (B, 1, S), S a multiple of hop_length -> reconstruction (B, 1, S) and events."""
        out = self.bottleneck(self.encoder(audio))
        return CodecOutput(audio=self.decoder(out.z), bottleneck=out)

    def num_frames(self, num_samples: int) -> int:
        return math.ceil(num_samples / self.hop_length)

    def encoder_precision(self, precision: str) -> str:
        """The encoder's precision for a requested one: "auto" is "float32" unless the model's config allows
        bfloat16 (`model.encoder.auto_bfloat16`, set for encoders measured to keep their events), and then
        bfloat16 where the CPU has it natively; "float32" and "bfloat16" are taken as they are."""
        check_precision(precision)
        if precision == "auto" and not self.config.encoder.auto_bfloat16:
            return "float32"
        return precision

    @torch.inference_mode()
    def latent_stream(self, blocks: Iterable[np.ndarray], num_samples: int,
                      precision: str = "auto") -> Iterator[Tensor]:
        """Mono float32 blocks at the model's rate, `num_samples` in all -> the encoder's float32 latent
        (1, latent_dim, frames) of each window, its context cut off.

        Each window sees the same samples (context included) whatever the block sizes. `precision`: of the
        encoder's matrix products, one of PRECISIONS (see `encoder_precision`).
        """
        autocast = precision_autocast(self.encoder_precision(precision))
        hop, total = self.hop_length, self.num_frames(num_samples)
        audio = _Buffer(blocks, num_samples, (), np.float32)
        for w in windows(total, self.encoder.context_frames, self.window_frames):
            segment = np.zeros((w.hi - w.lo) * hop, dtype=np.float32)
            available = audio.get(w.lo * hop, min(w.hi * hop, num_samples))
            segment[: available.shape[-1]] = available
            with autocast:
                latent = self.encoder(torch.from_numpy(segment).view(1, 1, -1)).float()
            yield latent[..., w.start - w.lo : w.stop - w.lo]
            audio.drop_before(max(0, w.stop - self.encoder.context_frames) * hop)

    @torch.inference_mode()
    def events_from_latents(self, latents: Iterable[Tensor]) -> Iterator[np.ndarray]:
        """Latent windows (1, latent_dim, frames) in order -> events (N, frames) per window, the bottleneck
        state carried from window to window."""
        state = None
        for latent in latents:
            out = self.bottleneck(latent, state)
            state = out.state
            yield out.events[0].numpy()

    def encode_stream(self, blocks: Iterable[np.ndarray], num_samples: int,
                      precision: str = "auto") -> Iterator[np.ndarray]:
        """Mono float32 blocks at the model's rate, `num_samples` in all -> events (N, frames) per window
        (bool spikes, or int64 codebook indices of a VQ model).

        The events equal those of a single pass, whatever the block sizes (see `latent_stream`).
        """
        return self.events_from_latents(self.latent_stream(blocks, num_samples, precision))

    @torch.inference_mode()
    def decode_stream(
        self, chunks: Iterable[np.ndarray], num_frames: int, first_frame: int = 0, window_range: range | None = None,
        precision: str = "auto",
    ) -> Iterator[np.ndarray]:
        """Events in chunks of any size -> mono audio per window at the model's rate.

        Args:
            chunks: (N, frames) event blocks, starting at frame `first_frame` of a stream of `num_frames`.
            window_range: which windows to decode (default all); the chunks must cover them and their context.
            precision: the decoder's, one of PRECISIONS (see `decoder_at`).
        """
        decoder = self.decoder_at(precision)
        hop, context = self.hop_length, self.decoder.context_frames
        events = _Buffer(chunks, num_frames, (self.units,), self.bottleneck.event_dtype, offset=first_frame)
        selected = windows(num_frames, context, self.window_frames)
        if window_range is not None:
            selected = [selected[i] for i in window_range]
        for w in selected:
            z = self.bottleneck.decode(torch.from_numpy(events.get(w.lo, w.hi))[None])
            audio = decoder(z)[0, 0].float()
            yield audio[(w.start - w.lo) * hop : (w.stop - w.lo) * hop].numpy()
            events.drop_before(max(0, w.stop - context))

    def encode(self, audio: Tensor, precision: str = "auto") -> Tensor:
        """Mono audio (S,) at the model's rate -> events (N, T), T = ceil(S / hop_length)."""
        samples = audio.detach().float().cpu().numpy()
        parts = list(self.encode_stream([samples], samples.shape[-1], precision))
        empty = np.zeros((self.units, 0), self.bottleneck.event_dtype)
        return torch.from_numpy(np.concatenate(parts, axis=-1) if parts else empty)

    def decode(self, events: Tensor, precision: str = "auto") -> Tensor:
        """Events (N, T) -> mono audio (T * hop_length,) at the model's rate."""
        array = events.detach().cpu().numpy().astype(self.bottleneck.event_dtype)
        parts = list(self.decode_stream([array], array.shape[-1], precision=precision))
        return torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, np.float32))

    def decoder_at(self, precision: str) -> nn.Module:
        """The decoder that runs at `precision`: the decoder itself in float32; in bfloat16 a copy whose
        weights, and so its activations, are bfloat16 (the inverse STFT stays float32), kept until a weight
        changes. Decoding needs no bit-exactness (the events are the file): its audio differs from float32's
        by about -40 dB, well below the codec's own error, and its log-mel distance by about 0.002 dB.
        """
        if not takes_bfloat16(precision):
            return self.decoder
        key = _versions(self.decoder.parameters())
        cached = getattr(self, "_bfloat16_decoder", None)  # a tuple: not registered as a submodule
        if cached is None or cached[0] != key:
            decoder = copy.deepcopy(self.decoder).eval()
            for parameter in decoder.parameters():
                parameter.data = parameter.data.to(torch.bfloat16)
            self._bfloat16_decoder = cached = (key, decoder)
        return cached[1]

    def weight_hash(self) -> bytes:
        """First 16 bytes of the sha256 of the weights (names, shapes and values, in name order).

        Cached until a tensor changes: a tensor's version counter moves with every in-place change
        (optimiser steps, load_state_dict) and its storage with every replacement.
        """
        # The saved tensors only: a bottleneck's non-persistent buffers may be inference tensors, which
        # keep no version counter.
        state = sorted(self.state_dict().items())
        key = tuple(name for name, _ in state), _versions(tensor for _, tensor in state)
        cached = getattr(self, "_weight_hash", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        digest = hashlib.sha256()
        for name, tensor in state:
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        self._weight_hash = (key, digest.digest()[:16])
        return self._weight_hash[1]
