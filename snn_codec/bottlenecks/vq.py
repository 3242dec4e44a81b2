"""The VQ-VAE baseline: vector quantization (`vq`) and residual vector quantization (`rvq`) of the latent
frames with vector-quantize-pytorch. Each frame becomes one codebook index per quantizer: what is stored."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, State, check_decay
from snn_codec.errors import ConfigError

MAX_CODEBOOK_SIZE = 2**16  # the largest alphabet an index payload may declare (bitstream MAX_ALPHABET)


class CodebookBottleneck(Bottleneck):
    """Shared by `vq` and `rvq`: latent (B, C, T) -> Q codebook indices per frame -> z (B, C, T).

    Each frame is projected to `codebook_dim`, quantized to the nearest code (for residual VQ: Q codes,
    each quantizing what the previous ones left), and projected back to C channels. Codebooks learn by
    exponential moving averages of the frames assigned to them; the encoder gets the straight-through
    gradient (quantizing counts as the identity on the way back). The auxiliary loss is the commitment
    loss (weighted by `commitment_weight`). Frames are quantized independently, so chunked streams equal
    a single pass. Bitrate before entropy coding: frame_rate * Q * log2(codebook_size) bits per second.

    Args:
        latent_dim: channels C of the encoder output.
        codebook_size: codes per codebook K (the stored alphabet), 2..65536.
        num_quantizers: Q, codebooks applied one after the other.
        codebook_dim: dimension of the codes; the latent is projected to it and back.
        commitment_weight: weight of the commitment loss in `aux_loss`.
        decay: per-step decay of the codebooks' moving averages (0 <= decay < 1).
        kmeans_init: initialise the codebooks by k-means on the first training batch.
        dead_code_threshold: codes whose moving-average usage falls below this many frames are
            replaced by frames of the batch (0: never).
        output_channels: channels of z, which the decoder reads (0: C). With the spiking models' unit
            count the decoder has their shape, so one can be fine-tuned from the other's weights.
        input_norm: batch-normalise the latent before quantizing (as the spiking bottlenecks do before
            their neurons), so codebooks and the commitment loss see unit-scale frames whatever the
            encoder's output scale.
    """

    stores_indices = True

    def __init__(
        self,
        latent_dim: int,
        codebook_size: int,
        num_quantizers: int,
        codebook_dim: int,
        commitment_weight: float,
        decay: float,
        kmeans_init: bool,
        dead_code_threshold: int,
        output_channels: int = 0,
        input_norm: bool = True,
    ):
        super().__init__()
        if not 2 <= codebook_size <= MAX_CODEBOOK_SIZE:
            raise ConfigError(f"codebook_size must be in 2..{MAX_CODEBOOK_SIZE}, got {codebook_size}")
        if num_quantizers < 1 or codebook_dim < 1:
            raise ConfigError(f"num_quantizers and codebook_dim must be >= 1, got {num_quantizers}, {codebook_dim}")
        if commitment_weight < 0 or dead_code_threshold < 0:
            raise ConfigError("commitment_weight and dead_code_threshold must be >= 0")
        if not 0 <= output_channels <= 4096:
            raise ConfigError(f"output_channels must be in 0..4096 (0: latent_dim), got {output_channels}")
        self.units, self.alphabet_size, self.latent_dim = num_quantizers, codebook_size, latent_dim
        self.quantizer = self._build(
            dim=latent_dim,
            codebook_size=codebook_size,
            codebook_dim=codebook_dim,
            commitment_weight=float(commitment_weight),
            decay=check_decay("decay", decay),
            kmeans_init=bool(kmeans_init),
            threshold_ema_dead_code=dead_code_threshold,
            rotation_trick=False,  # `forward` computes its own straight-through output
        )
        self.input_norm = nn.BatchNorm1d(latent_dim) if input_norm else nn.Identity()
        self._output_channels = output_channels or latent_dim
        self.expand = nn.Identity() if self._output_channels == latent_dim else nn.Conv1d(
            latent_dim, self._output_channels, 1)

    def _build(self, **options) -> nn.Module:
        """The vector-quantize-pytorch module, taking and returning channel-last (B, T, C) frames."""
        raise NotImplementedError

    @property
    def output_channels(self) -> int:
        return self._output_channels

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        frames = self.input_norm(latent).transpose(1, 2)  # (B, T, C)
        with contextlib.nullcontext() if self.training else self._without_kmeans():
            _, indices, loss = self.quantizer(frames)  # indices (B, T) or (B, T, Q); learns in training
        indices = indices.reshape(latent.shape[0], latent.shape[-1], self.units)  # (B, T, Q)
        projected = self.quantizer.project_in(frames)
        with torch.no_grad():
            codes = self._codes(indices)
        # Straight-through: the codes pass on the gradient of the frames they replace. Adding x - x.detach()
        # changes no bit of the value, so z is exactly what `decode` computes from the stored indices.
        z = self.expand(self.quantizer.project_out(codes + (projected - projected.detach())).transpose(1, 2))
        events = indices.transpose(1, 2)  # (B, Q, T)
        return BottleneckOutput(
            z=z, events=events, aux_loss=loss.sum(), stats=index_stats(events, self.alphabet_size), state={}
        )

    @contextlib.contextmanager
    def _without_kmeans(self) -> Iterator[None]:
        """The library initialises codebooks by k-means on the first input it sees, even in eval mode; at
        inference that would change the model mid-stream, so codebooks count as initialised meanwhile."""
        flags = [module.initted for module in self.quantizer.modules() if hasattr(module, "initted")]
        saved = [flag.clone() for flag in flags]
        for flag in flags:
            flag.fill_(True)
        try:
            yield
        finally:
            for flag, value in zip(flags, saved):
                flag.copy_(value)

    def decode(self, events: Tensor) -> Tensor:
        """Indices (B, Q, T) -> z (B, C, T)."""
        codes = self._codes(events.long().transpose(1, 2))
        return self.expand(self.quantizer.project_out(codes).transpose(1, 2))

    def _codes(self, indices: Tensor) -> Tensor:
        """Indices (B, T, Q) -> the sum of their codes (B, T, codebook_dim)."""
        raise NotImplementedError


class VQBottleneck(CodebookBottleneck):
    """Vector quantization: one codebook, log2(codebook_size) bits per frame. See `CodebookBottleneck`."""

    def __init__(
        self,
        latent_dim: int,
        codebook_size: int = 1024,
        codebook_dim: int = 16,
        commitment_weight: float = 0.25,
        decay: float = 0.99,
        kmeans_init: bool = True,
        dead_code_threshold: int = 2,
        output_channels: int = 0,
        input_norm: bool = True,
    ):
        super().__init__(
            latent_dim, codebook_size, 1, codebook_dim, commitment_weight, decay, kmeans_init, dead_code_threshold,
            output_channels, input_norm,
        )

    def _build(self, **options) -> nn.Module:
        from vector_quantize_pytorch import VectorQuantize

        return VectorQuantize(**options)

    def _codes(self, indices: Tensor) -> Tensor:
        return self.quantizer.get_codes_from_indices(indices[..., 0])


class ResidualVQBottleneck(CodebookBottleneck):
    """Residual vector quantization: `num_quantizers` codebooks, each quantizing the previous residual;
    num_quantizers * log2(codebook_size) bits per frame. See `CodebookBottleneck`."""

    def __init__(
        self,
        latent_dim: int,
        codebook_size: int = 1024,
        num_quantizers: int = 3,
        codebook_dim: int = 16,
        commitment_weight: float = 0.25,
        decay: float = 0.99,
        kmeans_init: bool = True,
        dead_code_threshold: int = 2,
        output_channels: int = 0,
        input_norm: bool = True,
    ):
        super().__init__(
            latent_dim, codebook_size, num_quantizers, codebook_dim, commitment_weight, decay, kmeans_init,
            dead_code_threshold, output_channels, input_norm,
        )

    def _build(self, **options) -> nn.Module:
        from vector_quantize_pytorch import ResidualVQ

        return ResidualVQ(num_quantizers=self.units, **options)

    def _codes(self, indices: Tensor) -> Tensor:
        return self.quantizer.get_codes_from_indices(indices).sum(dim=0)  # (Q, B, T, D) -> (B, T, D)


def index_stats(indices: Tensor, codebook_size: int) -> dict[str, Tensor]:
    """Codebook statistics of (B, Q, T) indices, averaged over the Q codebooks, detached.

    `codebook_usage` is the fraction of codes used; `perplexity` is 2 ** (entropy of the index histogram in
    bits), the number of equally likely codes with the same entropy; `bits_per_frame` is the fixed-width size.
    """
    rows = indices.detach().transpose(0, 1).reshape(indices.shape[1], -1)  # (Q, B * T)
    counts = torch.stack([torch.bincount(row, minlength=codebook_size) for row in rows]).float()
    p = counts / counts.sum(dim=1, keepdim=True).clamp_min(1)
    entropy_bits = -(p * torch.log2(p.clamp_min(1e-12))).sum(dim=1)
    return {
        "codebook_usage": (counts > 0).float().mean(),
        "perplexity": torch.exp2(entropy_bits).mean(),
        "bits_per_frame": torch.tensor(indices.shape[1] * math.log2(codebook_size)),
    }
