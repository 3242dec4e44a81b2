"""Fixtures of the bottleneck tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture
def hand_made() -> tuple[nn.Conv1d, nn.BatchNorm1d]:
    """A projection of 2 channels to 2 units and its BatchNorm (eval mode), with eps = 1 so that
    sqrt(var + eps) = (2, 1). Folded by hand (snn_codec/bottlenecks/fixed_point.py's docstring):

        s  = gamma / sqrt(var + eps) = (4 / 2, -1 / 1)                       = (2, -1)
        W' = s * W = [[2 * 3.5, 2 * -1.25], [-1 * 1.75, -1 * -0.5]]         = [[7, -2.5], [-1.75, 0.5]]
        c  = s * (b - mu) + beta = (2 * (0.5 - 1) + 0.25, -1 * (-1 + 2) + 2) = (-0.75, 1)
    """
    project, norm = nn.Conv1d(2, 2, kernel_size=1), nn.BatchNorm1d(2, eps=1.0)
    with torch.no_grad():
        project.weight.copy_(torch.tensor([[3.5, -1.25], [1.75, -0.5]])[..., None])
        project.bias.copy_(torch.tensor([0.5, -1.0]))
        norm.running_mean.copy_(torch.tensor([1.0, -2.0]))
        norm.running_var.copy_(torch.tensor([3.0, 0.0]))
        norm.weight.copy_(torch.tensor([4.0, -1.0]))
        norm.bias.copy_(torch.tensor([0.25, 2.0]))
    return project, norm.eval()


@pytest.fixture
def trained():
    """`trained(kind, **options)`: a tiny bottleneck (4 latent channels, 5 units) whose BatchNorm statistics
    have moved away from their init, in eval mode."""
    from snn_codec.bottlenecks import build_bottleneck

    def build(kind: str, **options):
        torch.manual_seed(0)
        bottleneck = build_bottleneck(kind, latent_dim=4, units=5, **options)
        bottleneck(torch.randn(3, 4, 20) * 2)
        return bottleneck.eval()

    return build
