"""Codebook-free quantizers from vector-quantize-pytorch: finite scalar quantization (`fsq`, Mentzer et al.
2023) and lookup-free quantization (`lfq`, Yu et al. 2023). Like the VQ baselines they store one index per
codebook and frame; their codebooks are implicit grids, so nothing is learned but the projections."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, State
from snn_codec.bottlenecks.vq import MAX_CODEBOOK_SIZE, index_stats
from snn_codec.errors import ConfigError


class GridQuantizerBottleneck(Bottleneck):
    """Shared by `fsq` and `lfq`: latent (B, C, T) -> BN -> Q indices per frame -> z (B, C', T).

    Each frame is projected to Q x D numbers, each codebook's D numbers are rounded to a fixed grid (the
    index is the grid point's number), and the grid points are projected back. The encoder gets the
    straight-through gradient, added as `x - x.detach()` so that z is bit for bit what `decode` computes
    from the stored indices. Frames are independent: chunked streams equal a single pass. Bitrate before
    entropy coding: frame_rate * Q * log2(alphabet_size) bits per second.
    """

    stores_indices = True

    def __init__(self, latent_dim: int, num_codebooks: int, output_channels: int, input_norm: bool):
        super().__init__()
        if num_codebooks < 1:
            raise ConfigError(f"num_codebooks must be >= 1, got {num_codebooks}")
        if not 0 <= output_channels <= 4096:
            raise ConfigError(f"output_channels must be in 0..4096 (0: latent_dim), got {output_channels}")
        self.units, self.latent_dim = num_codebooks, latent_dim
        self.input_norm = nn.BatchNorm1d(latent_dim) if input_norm else nn.Identity()
        self._output_channels = output_channels or latent_dim
        self.expand = nn.Identity() if self._output_channels == latent_dim else nn.Conv1d(
            latent_dim, self._output_channels, 1)
        self.quantizer: nn.Module  # set by the subclass

    @property
    def output_channels(self) -> int:
        return self._output_channels

    def _z(self, codes: Tensor) -> Tensor:
        """Grid points (B, T, Q * D) -> z (B, C', T)."""
        return self.expand(self.quantizer.project_out(codes).transpose(1, 2))

    def decode(self, events: Tensor) -> Tensor:
        """Indices (B, Q, T) -> z (B, C', T)."""
        return self._z(self._codes(events.long().transpose(1, 2)))

    def _codes(self, indices: Tensor) -> Tensor:
        """Indices (B, T, Q) -> their grid points (B, T, Q * D)."""
        raise NotImplementedError

    def _output(self, latent: Tensor, indices: Tensor, soft: Tensor, aux_loss: Tensor) -> BottleneckOutput:
        """`soft` (B, T, Q * D) carries the gradient; the value of z comes from `indices` (B, T, Q) alone."""
        indices = indices.long().reshape(latent.shape[0], latent.shape[-1], self.units)
        with torch.no_grad():
            codes = self._codes(indices)
        z = self._z(codes + (soft - soft.detach()))
        events = indices.transpose(1, 2)  # (B, Q, T)
        return BottleneckOutput(z=z, events=events, aux_loss=aux_loss, stats=index_stats(events, self.alphabet_size),
                                state={})


class FSQBottleneck(GridQuantizerBottleneck):
    """Finite scalar quantization: each of D = len(levels) numbers per codebook is bounded (tanh) and
    rounded to one of `levels[d]` values; a codebook has prod(levels) codes, log2(prod(levels)) bits.

    Args:
        latent_dim: channels C of the encoder output.
        levels: quantization levels per dimension, each >= 3 (the library needs another option for 2);
            their product (the alphabet) at most 65536. Powers of two give a whole number of bits.
        num_codebooks: Q, codebooks per frame (each quantizes its own D projected numbers).
        output_channels: channels of z (0: C).
        input_norm: batch-normalise the latent before projecting it.
    """

    def __init__(
        self,
        latent_dim: int,
        levels: tuple[int, ...] | list[int] = (8, 5, 5, 5),
        num_codebooks: int = 1,
        output_channels: int = 0,
        input_norm: bool = True,
    ):
        from vector_quantize_pytorch import FSQ

        levels = list(levels)
        if not levels or any(not isinstance(n, int) or isinstance(n, bool) or n < 3 for n in levels):
            raise ConfigError(f"fsq: levels must be a list of integers >= 3, got {levels}")
        if not 2 <= math.prod(levels) <= MAX_CODEBOOK_SIZE:
            raise ConfigError(f"fsq: the product of levels (the codebook size) must be in 2..{MAX_CODEBOOK_SIZE}, "
                              f"got {math.prod(levels)}")
        super().__init__(latent_dim, num_codebooks, output_channels, input_norm)
        self.levels = levels
        self.alphabet_size = math.prod(levels)
        self.quantizer = FSQ(levels=levels, dim=latent_dim, num_codebooks=num_codebooks, keep_num_codebooks_dim=True)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        frames = self.input_norm(latent).transpose(1, 2)  # (B, T, C)
        projected = self.quantizer.project_in(frames)  # (B, T, Q * D)
        grouped = projected.unflatten(-1, (self.units, len(self.levels)))  # (B, T, Q, D)
        rounded = self.quantizer.quantize(grouped)  # straight-through rounding of the bounded values
        indices = self.quantizer.codes_to_indices(rounded.detach())  # (B, T, Q)
        return self._output(latent, indices, rounded.flatten(-2), latent.new_zeros(()))

    def _codes(self, indices: Tensor) -> Tensor:
        return self.quantizer.implicit_codebook[indices].flatten(-2)  # (B, T, Q, D) -> (B, T, Q * D)


class LFQBottleneck(GridQuantizerBottleneck):
    """Lookup-free quantization: each of D = log2(codebook_size) numbers per codebook is binarised by its
    sign (to -1 or +1), one bit each. The auxiliary loss is the library's entropy penalty: low entropy of
    each frame's code distribution (confident bits), high entropy of the batch's (all codes used).

    Args:
        latent_dim: channels C of the encoder output.
        codebook_size: codes per codebook, a power of two in 2..65536 (the entropy penalty costs
            batch frames x codebook_size per codebook: keep it at 2**10 or below for CPU training).
        num_codebooks: Q, codebooks per frame.
        entropy_weight: weight of the entropy penalty in `aux_loss`.
        diversity_gamma: weight of the batch (codebook-usage) entropy within the penalty.
        commitment_weight: weight of the commitment loss (the projected numbers' distance to +-1).
        output_channels: channels of z (0: C).
        input_norm: batch-normalise the latent before projecting it.
    """

    def __init__(
        self,
        latent_dim: int,
        codebook_size: int = 1024,
        num_codebooks: int = 1,
        entropy_weight: float = 0.1,
        diversity_gamma: float = 1.0,
        commitment_weight: float = 0.25,
        output_channels: int = 0,
        input_norm: bool = True,
    ):
        from vector_quantize_pytorch import LFQ

        if not 2 <= codebook_size <= MAX_CODEBOOK_SIZE or codebook_size & (codebook_size - 1):
            raise ConfigError(f"lfq: codebook_size must be a power of two in 2..{MAX_CODEBOOK_SIZE}, "
                              f"got {codebook_size}")
        if entropy_weight < 0 or diversity_gamma < 0 or commitment_weight < 0:
            raise ConfigError("lfq: entropy_weight, diversity_gamma and commitment_weight must be >= 0")
        super().__init__(latent_dim, num_codebooks, output_channels, input_norm)
        self.alphabet_size = codebook_size
        self.quantizer = LFQ(
            dim=latent_dim, codebook_size=codebook_size, num_codebooks=num_codebooks, keep_num_codebooks_dim=True,
            entropy_loss_weight=float(entropy_weight), diversity_gamma=float(diversity_gamma),
            commitment_loss_weight=float(commitment_weight), has_projections=True,
        )

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        frames = self.input_norm(latent).transpose(1, 2)  # (B, T, C)
        _, indices, loss = self.quantizer(frames)  # indices (B, T, Q); the penalty is 0 in eval mode
        projected = self.quantizer.project_in(frames)  # (B, T, Q * D): the straight-through path
        return self._output(latent, indices, projected, loss.sum())

    def _codes(self, indices: Tensor) -> Tensor:
        return self.quantizer.indices_to_codes(indices, project_out=False)  # (B, T, Q * D) of +-1
