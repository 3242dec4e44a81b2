"""Building blocks shared by the encoder and the decoders."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def split_hop(hop_length: int, stages: int) -> tuple[int, ...]:
    """Factors `hop_length` into `stages` strides, as balanced as possible, ascending.

    >>> split_hop(480, 4)
    (4, 4, 5, 6)
    """
    primes, n, p = [], hop_length, 2
    while n > 1:
        while n % p == 0:
            primes.append(p)
            n //= p
        p += 1
    strides = [1] * stages
    for prime in sorted(primes, reverse=True):
        smallest = min(range(stages), key=lambda i: strides[i])
        strides[smallest] *= prime
    return tuple(sorted(strides))


class ResidualUnit(nn.Module):
    """x + Conv1x1(ELU(DilatedConv3(ELU(x)))): same length, `dilation` samples of context each side."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.dilated = nn.Conv1d(channels, channels, kernel_size=3, dilation=dilation, padding=dilation)
        self.pointwise = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.pointwise(F.elu(self.dilated(F.elu(x))))


class Downsample(nn.Module):
    """Strided conv (kernel 2*stride) after an ELU (none with `activate=False`, e.g. on the waveform):
    length L -> L / stride exactly, for L a multiple of stride."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, activate: bool = True):
        super().__init__()
        self.stride = stride
        self.activation = nn.ELU() if activate else nn.Identity()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=2 * stride, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        left = (self.stride + 1) // 2
        return self.conv(F.pad(self.activation(x), (left, self.stride - left)))


class Upsample(nn.Module):
    """Transposed conv (kernel 2*stride): length L -> L * stride exactly."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.ConvTranspose1d(in_channels, out_channels, kernel_size=2 * stride, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[-1] * self.stride
        y = self.conv(F.elu(x))  # (B, C, (L + 1) * stride)
        left = self.stride // 2
        return y[..., left : left + length]


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (kernel 7) -> LayerNorm -> MLP (x3) -> layer scale, with a residual connection."""

    def __init__(self, dim: int, layer_scale: float = 1e-2):
        super().__init__()
        self.depthwise = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.expand = nn.Linear(dim, 3 * dim)
        self.contract = nn.Linear(3 * dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Tensor) -> Tensor:
        y = self.depthwise(x).transpose(1, 2)  # (B, T, C)
        y = self.contract(F.gelu(self.expand(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)
