"""snnTorch RLeaky adapter: the recurrent layer adds V(S[t-1]) to the Leaky update."""

from __future__ import annotations

import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck


def pair(**options):
    torch.manual_seed(0)
    recurrent = build_bottleneck("snntorch_rleaky", latent_dim=4, units=5, **options).eval()
    torch.manual_seed(0)
    leaky = build_bottleneck("snntorch_leaky", latent_dim=4, units=5, **options).eval()
    return recurrent, leaky


@pytest.mark.parametrize("reset", ["zero", "subtract", "none"])
def test_without_recurrent_weights_it_is_the_leaky_neuron(reset):
    recurrent, leaky = pair(beta=0.8, threshold=0.5, reset=reset)
    with torch.no_grad():
        recurrent.neuron.recurrent.weight.zero_()
        recurrent.neuron.recurrent.bias.zero_()
    latent = torch.randn(2, 4, 30)
    assert torch.equal(recurrent(latent).events, leaky(latent).events)


def test_self_inhibition_silences_the_frame_after_a_spike():
    recurrent, leaky = pair(beta=0.5, reset="none")
    with torch.no_grad():
        recurrent.neuron.recurrent.weight.copy_(-100.0 * torch.eye(5))
        recurrent.neuron.recurrent.bias.zero_()
    latent = 3 * torch.randn(2, 4, 40).abs()
    spikes = recurrent(latent).events
    assert spikes.any() and not (spikes[..., 1:] & spikes[..., :-1]).any()
    assert (leaky(latent).events[..., 1:] & leaky(latent).events[..., :-1]).any()


def test_the_last_spikes_are_part_of_the_state():
    recurrent, _ = pair()
    out = recurrent(torch.randn(1, 4, 9))
    assert torch.equal(out.state["spk"] > 0, out.events[..., -1])
    assert recurrent.neuron.spk.numel() == 0 and recurrent.neuron.mem.numel() == 0  # no stream state kept
