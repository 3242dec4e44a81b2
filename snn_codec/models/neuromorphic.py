"""A neuromorphic encoder: a fixed band-pass filterbank, spike-encoded, feeding small layers of LIF neurons.

The front end is of the kind SynSense Xylo Audio's analog front end provides: `bands` 2nd-order band-pass
filters with log-spaced centres, full-wave rectification, smoothing, and one spike encoder per channel. The
filters are fixed: buffers computed from the config, never trained and never stored. Behind them, layers of
leaky integrate-and-fire neurons (surrogate gradients, optionally recurrent) run at time steps of `step_ms`;
the last layer's spikes, low-pass filtered like synaptic currents and pooled over each latent frame, are
the bottleneck's input currents. Inside the encode path there are only spikes, so the bottleneck's events
come from a spiking network.

Time: one step is `step_ms` (1 ms: 24 samples at 24 kHz, 20 steps per 20 ms latent frame). Every neuron
state starts at rest at the start of each latent frame (on a chip: a reset every frame). A frame thus
depends on its own samples and on the filters' impulse responses (cut at -60 dB) before them: the context
is finite and windowed inference equals a single pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.surrogate import triangle_spike
from snn_codec.config import ModelConfig

DYNAMIC_RANGE_DB = 80.0  # envelopes this far below full scale give no spikes (the compression's floor)
DECAY_DB = 60.0  # impulse responses are cut where they have decayed by this much
INPUT_GAIN = 3.0  # scales the default init of each layer's input weights; with biases at the threshold,
# a neuron starts out firing when its weighted input is positive (about 8 % of steps on piano)


def band_centres_hz(bands: int, low_hz: float, high_hz: float) -> Tensor:
    """`bands` log-spaced centre frequencies from low_hz to high_hz (float64)."""
    return torch.logspace(math.log10(low_hz), math.log10(high_hz), bands, dtype=torch.float64)


def band_q(bands: int, low_hz: float, high_hz: float) -> float:
    """The quality factor at which neighbouring bands meet at their -3 dB points: the bandwidth is the
    ratio r between centres, Q = sqrt(r) / (r - 1)."""
    ratio = (high_hz / low_hz) ** (1 / (bands - 1))
    return math.sqrt(ratio) / (ratio - 1)


def bandpass_impulse_responses(centres_hz: Tensor, q: float, sample_rate: int) -> Tensor:
    """Impulse responses of 2nd-order band-pass biquads (0 dB peak gain), cut at -DECAY_DB.

    Returns:
        (bands, L) float64, L set by the slowest-decaying (lowest) band.
    """
    w0 = 2 * math.pi * centres_hz / sample_rate
    alpha = torch.sin(w0) / (2 * q)
    a0 = 1 + alpha
    b0, a1, a2 = alpha / a0, -2 * torch.cos(w0) / a0, (1 - alpha) / a0
    discriminant = (a1.square() - 4 * a2).to(torch.complex128)  # poles: roots of z^2 + a1 z + a2 (real if Q < 0.5)
    pole_radius = float(torch.stack([(-a1 + discriminant.sqrt()) / 2, (-a1 - discriminant.sqrt()) / 2]).abs().max())
    length = math.ceil(DECAY_DB / 20 * math.log(10) / -math.log(pole_radius)) + 1
    impulse = torch.zeros(len(centres_hz), length, dtype=torch.float64)
    y1 = y2 = torch.zeros_like(w0)
    for n in range(length):  # y[n] = b0 x[n] - b0 x[n-2] - a1 y[n-1] - a2 y[n-2], x a unit impulse
        x_term = b0 if n == 0 else -b0 if n == 2 else 0.0
        y = x_term - a1 * y1 - a2 * y2
        impulse[:, n] = y
        y1, y2 = y, y1
    return impulse


class BandPassFilterbank(nn.Module):
    """Fixed filterbank: (B, 1, S) audio -> (B, bands, S) causal band-pass outputs (float64).

    Convolution with the impulse responses through the FFT, in float64 so that a frame's output does not
    depend (in float32) on how long the whole input is.
    """

    def __init__(self, sample_rate: int, bands: int, low_hz: float, high_hz: float):
        super().__init__()
        centres = band_centres_hz(bands, low_hz, high_hz)
        self.register_buffer("centres_hz", centres, persistent=False)
        impulse = bandpass_impulse_responses(centres, band_q(bands, low_hz, high_hz), sample_rate)
        self.register_buffer("impulse", impulse, persistent=False)

    @property
    def length(self) -> int:
        """Samples of an impulse response: the filterbank's memory."""
        return self.impulse.shape[-1]

    def forward(self, audio: Tensor) -> Tensor:
        samples = audio.shape[-1]
        n_fft = fast_fft_size(samples + self.length - 1)
        spectrum = torch.fft.rfft(audio[:, :1].to(torch.float64), n_fft)  # (B, 1, F)
        filters = torch.fft.rfft(self.impulse, n_fft)  # (bands, F)
        return torch.fft.irfft(spectrum * filters, n_fft)[..., :samples]


def fast_fft_size(n: int) -> int:
    """The smallest 5-smooth number (2^a 3^b 5^c) >= n: FFTs of such sizes are fast (a prime factor is not)."""
    best = 1 << max(n - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35 << max(0, (n - 1) // power35).bit_length()  # times the smallest power of 2 reaching n
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


def compress(envelope: Tensor) -> Tensor:
    """Rectified envelope (full scale 1) -> input current in [0, 1]: log-compressed over DYNAMIC_RANGE_DB."""
    floor = 10 ** (-DYNAMIC_RANGE_DB / 20)
    return (torch.log1p(envelope / floor) / math.log1p(1 / floor)).clamp(0.0, 1.0)


def integrate_and_fire(current: Tensor) -> Tensor:
    """The front end's spike encoder: v += current each step, a spike and v -= 1 when v >= 1.

    Args:
        current: (M, K, channels) in [0, 1], K steps of a frame; v starts at 0.
    Returns:
        (M, K, channels) 0/1 spikes: about `current` spikes per step on average.
    """
    v = torch.zeros_like(current[:, 0])
    spikes = []
    for k in range(current.shape[1]):
        v = v + current[:, k]
        s = (v >= 1.0).to(current.dtype)
        v = v - s
        spikes.append(s)
    return torch.stack(spikes, dim=1)


class LifLayer(nn.Module):
    """Current-based LIF neurons, one step of `step_ms` at a time, state at rest at step 0:

        syn[k] = alpha * syn[k-1] + (1 - alpha) * (W_in x[k] + W_rec s[k-1] + b)
        mem[k] = beta * mem[k-1] + (1 - beta) * syn[k] - s[k-1]
        s[k]   = H(mem[k] - 1)            (triangle surrogate gradient; reset by subtracting the threshold)

    `alpha` and `beta` are the per-step decays of the synaptic current and the membrane (exp(-step / tau));
    the (1 - decay) factors make a constant input I settle at mem = I.
    """

    def __init__(self, inputs: int, neurons: int, alpha: float, beta: float, recurrent: bool):
        super().__init__()
        self.alpha, self.beta = alpha, beta
        self.input = nn.Linear(inputs, neurons)
        with torch.no_grad():
            self.input.weight.mul_(INPUT_GAIN)
            self.input.bias.fill_(1.0)
        self.recurrent = nn.Linear(neurons, neurons, bias=False) if recurrent else None

    def forward(self, spikes: Tensor) -> Tensor:
        """spikes (M, K, inputs) -> spikes (M, K, neurons)."""
        drive = self.input(spikes)  # (M, K, neurons): the feed-forward input of every step at once
        syn = mem = out = torch.zeros_like(drive[:, 0])
        outputs = []
        for k in range(drive.shape[1]):
            current = drive[:, k] if self.recurrent is None else drive[:, k] + self.recurrent(out)
            syn = self.alpha * syn + (1 - self.alpha) * current
            mem = self.beta * mem + (1 - self.beta) * syn - out
            out = triangle_spike(mem - 1.0)
            outputs.append(out)
        return torch.stack(outputs, dim=1)


@dataclass
class EncoderSpikes:
    """Every spike of the encode path, for activity counts: (B, T, K, width) 0/1 tensors."""

    inputs: Tensor  # the front end's spike encoders
    hidden: tuple[Tensor, ...]  # one per LIF layer


@dataclass(frozen=True)
class SpikingLayers:
    """The encoder's spiking network as a chip sees it: spike-encoded bands in, LIF layers, and the readout
    folded into the bottleneck's projection (so the bottleneck's neurons take the last layer's spikes)."""

    input_channels: int  # filterbank bands: the chip's input spike trains
    widths: tuple[int, ...]  # LIF neurons per layer
    recurrent: bool

    @property
    def neurons(self) -> int:
        return sum(self.widths)

    def fan_ins(self) -> list[int]:
        """Synapses into one neuron of each layer."""
        sources = (self.input_channels, *self.widths)
        return [inputs + (width if self.recurrent else 0) for inputs, width in zip(sources, self.widths)]

    @property
    def synapses(self) -> int:
        return sum(fan_in * width for fan_in, width in zip(self.fan_ins(), self.widths))

    def synaptic_operations(self, spikes: EncoderSpikes, output_neurons: int) -> float:
        """Synaptic operations of `spikes`: each input spike reaches the first layer, each hidden spike its own
        layer (recurrent) and the next one, the last layer's the `output_neurons` (the bottleneck)."""
        targets = (*self.widths[1:], output_neurons)
        total = float(spikes.inputs.sum()) * self.widths[0]
        for layer, width, target in zip(spikes.hidden, self.widths, targets):
            total += float(layer.sum()) * (target + (width if self.recurrent else 0))
        return total


class FilterbankEncoder(nn.Module):
    """Filterbank front end + LIF layers + pooled synaptic readout: (B, 1, S) -> (B, latent_dim, S / hop).

    The readout is linear in the last layer's filtered spikes, so on a chip it folds into the bottleneck's
    input projection: the bottleneck's neurons then take the hidden neurons' spikes through synapses.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        encoder = config.encoder
        self.hop_length = config.hop_length
        self.step_samples = round(config.sample_rate * encoder.step_ms / 1000)
        self.steps = self.hop_length // self.step_samples  # K, steps per latent frame
        self.filterbank = BandPassFilterbank(config.sample_rate, encoder.bands, encoder.low_hz, encoder.high_hz)
        self.alpha = math.exp(-encoder.step_ms / encoder.tau_syn_ms)
        beta = math.exp(-encoder.step_ms / encoder.tau_mem_ms)
        widths = (encoder.bands, *encoder.hidden)
        self.layers = nn.ModuleList(LifLayer(a, b, self.alpha, beta, encoder.recurrent)
                                    for a, b in zip(widths, widths[1:]))
        self.readout = nn.Linear(widths[-1], config.latent_dim)
        self.context_frames = math.ceil((self.filterbank.length - 1) / self.hop_length) + 1
        self.spiking_layers = SpikingLayers(encoder.bands, tuple(encoder.hidden), encoder.recurrent)

    def input_spikes(self, audio: Tensor) -> Tensor:
        """(B, 1, S) -> the front end's spikes (B * T, K, bands), frames in order: fixed, no gradient."""
        with torch.no_grad():
            bands = self.filterbank(audio)  # (B, bands, S) float64
            batch, channels, samples = bands.shape
            envelope = bands.abs().view(batch, channels, samples // self.step_samples, self.step_samples).mean(-1)
            current = compress(envelope).to(audio.dtype)  # (B, bands, T * K)
            frames = current.view(batch, channels, -1, self.steps).permute(0, 2, 3, 1)  # (B, T, K, bands)
            return integrate_and_fire(frames.reshape(-1, self.steps, channels))

    def spikes(self, audio: Tensor) -> EncoderSpikes:
        """All the encode path's spikes on (B, 1, S) audio."""
        batch, frames = audio.shape[0], audio.shape[-1] // self.hop_length
        x = self.input_spikes(audio)
        hidden = []
        for layer in self.layers:
            x = layer(x)
            hidden.append(x)
        shape = (batch, frames, self.steps, -1)
        return EncoderSpikes(self.input_spikes(audio).view(shape), tuple(h.view(shape) for h in hidden))

    def forward(self, audio: Tensor) -> Tensor:
        """audio: (B, 1, S), S a multiple of hop_length -> latent (B, latent_dim, S / hop_length)."""
        batch = audio.shape[0]
        x = self.input_spikes(audio)
        for layer in self.layers:
            x = layer(x)
        pooled = self.pool(x)  # (B * T, neurons)
        return self.readout(pooled).view(batch, -1, self.readout.out_features).transpose(1, 2)

    def pool(self, spikes: Tensor) -> Tensor:
        """(M, K, neurons) spikes -> their synaptic currents syn[k] = alpha syn[k-1] + (1 - alpha) s[k], averaged
        over the K steps. A spike at step j adds (1 - alpha^(K - j)) / K to that average."""
        remaining = torch.arange(self.steps, 0, -1, dtype=spikes.dtype, device=spikes.device)  # K - j
        weights = (1 - self.alpha ** remaining) / self.steps
        return torch.einsum("mkn,k->mn", spikes, weights)
