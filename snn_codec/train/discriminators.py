"""Discriminators for adversarial training (training only: they never ship in a model file).

Two families, as in HiFi-GAN and Vocos, sized for CPU training:
- `PeriodDiscriminator`: the waveform folded into rows of `period` samples, 2-D convolutions along time.
  It sees the periodic structure of the waveform, i.e. the harmonics and their phases.
- `SpectrogramDiscriminator`: 2-D convolutions over a log-magnitude STFT at one resolution. The finest
  resolution resolves single partials, so noise between them is visible to it (the mel loss cannot see it
  at high frequencies, where a mel band spans several harmonics).

Each returns its score map and the feature maps of every layer, for the feature-matching loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

Features = list[Tensor]


def _score(x: Tensor, convs: nn.ModuleList, post: nn.Module) -> tuple[Tensor, Features]:
    """Leaky-ReLU conv stack, then the score map: (B, score values) and every layer's feature map."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), 0.1)
        features.append(x)
    score = post(x)
    features.append(score)
    return score.flatten(1), features


class PeriodDiscriminator(nn.Module):
    """Waveform (B, 1, S) -> rows of `period` samples (B, 1, S / period, period) -> strided 2-D convs."""

    def __init__(self, period: int, channels: int = 16, layers: int = 4):
        super().__init__()
        self.period = period
        widths = [1] + [channels * 2**i for i in range(layers)]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(widths[i], widths[i + 1], kernel_size=(5, 1), stride=(3, 1), padding=(2, 0)))
            for i in range(layers)
        )
        self.post = weight_norm(nn.Conv2d(widths[-1], 1, kernel_size=(3, 1), padding=(1, 0)))

    def forward(self, audio: Tensor) -> tuple[Tensor, Features]:
        length = audio.shape[-1]
        padded = F.pad(audio, (0, -length % self.period), mode="reflect")
        x = padded.view(audio.shape[0], 1, -1, self.period)  # (B, 1, S / period, period)
        return _score(x, self.convs, self.post)


class SpectrogramDiscriminator(nn.Module):
    """Waveform (B, 1, S) -> log-magnitude STFT (B, 1, F, frames) at one resolution -> 2-D convs."""

    def __init__(self, n_fft: int, channels: int = 16, layers: int = 4):
        super().__init__()
        self.n_fft, self.hop = n_fft, n_fft // 4
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        # (frequency, time) kernels; every layer halves the frequency axis, the later ones time as well.
        convs = [weight_norm(nn.Conv2d(1, channels, kernel_size=(7, 3), stride=(2, 1), padding=(3, 1)))]
        convs += [weight_norm(nn.Conv2d(channels, channels, kernel_size=(5, 3), stride=(2, 2), padding=(2, 1)))
                  for _ in range(layers - 1)]
        self.convs = nn.ModuleList(convs)
        self.post = weight_norm(nn.Conv2d(channels, 1, kernel_size=(3, 3), padding=(1, 1)))

    def forward(self, audio: Tensor) -> tuple[Tensor, Features]:
        spec = torch.stft(audio[:, 0].float(), self.n_fft, self.hop, window=self.window, return_complex=True)
        x = torch.log(spec.abs() + 1e-5).unsqueeze(1)  # (B, 1, F, frames)
        return _score(x, self.convs, self.post)


class Discriminators(nn.Module):
    """All the discriminators of a run: one per period and one per STFT resolution."""

    def __init__(self, periods: tuple[int, ...], fft_sizes: tuple[int, ...], channels: int):
        super().__init__()
        self.members = nn.ModuleList(
            [PeriodDiscriminator(p, channels) for p in periods]
            + [SpectrogramDiscriminator(n, channels) for n in fft_sizes]
        )

    def forward(self, audio: Tensor) -> list[tuple[Tensor, Features]]:
        """(B, 1, S) -> (score, features) of each discriminator."""
        return [member(audio) for member in self.members]


def discriminator_loss(real: list[tuple[Tensor, Features]], fake: list[tuple[Tensor, Features]]) -> Tensor:
    """Hinge loss: real scores pushed above +1, generated ones below -1 (mean over discriminators)."""
    losses = [F.relu(1 - r).mean() + F.relu(1 + f).mean() for (r, _), (f, _) in zip(real, fake)]
    return torch.stack(losses).mean()


def generator_loss(fake: list[tuple[Tensor, Features]]) -> Tensor:
    """Hinge loss of the generator: its scores pushed above +1 (mean over discriminators)."""
    return torch.stack([F.relu(1 - f).mean() for f, _ in fake]).mean()


def feature_matching_loss(real: list[tuple[Tensor, Features]], fake: list[tuple[Tensor, Features]]) -> Tensor:
    """L1 between the discriminators' feature maps of real and generated audio, each map's distance
    relative to the mean magnitude of its real features (so that every layer counts alike)."""
    losses = []
    for (_, real_maps), (_, fake_maps) in zip(real, fake):
        for r, f in zip(real_maps, fake_maps):
            r = r.detach()
            losses.append((r - f).abs().mean() / (r.abs().mean() + 1e-5))
    return torch.stack(losses).mean()
