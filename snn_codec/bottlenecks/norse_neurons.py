"""Norse adapter: a LIF neuron (`norse.torch.LIFBoxCell`) whose time steps are the latent frames.

Norse integrates dv/dt = tau_mem_inv * ((v_leak - v) + i) with one forward-Euler step of dt per call:

    v[t] = v'[t-1] + dt * tau_mem_inv * ((v_leak - v'[t-1]) + I[t])      z[t] = H(v[t] - v_th)

and then resets v'[t] = (1 - z) * v + z * v_reset ("zero", v_reset = 0) or v'[t] = v - z * v_th
("subtract"). With v_leak = 0 and a = dt * tau_mem_inv this is

    v[t] = (1 - a) * v'[t-1] + a * I[t]

so the per-frame decay is beta = 1 - a (forward Euler), not exp(-dt / tau_mem) as in snnTorch's
convention, and the input is scaled by a. Both libraries run the same discrete dynamics with

    tau_mem_inv = (1 - beta) / dt      and Norse's input = snnTorch's input / a

which NorseLIF does itself (`input_gain` = 1 / a), so its membrane v is snnTorch's pre-reset U and
NorseLIF(beta, v_th) spikes like SnnTorchLeaky(beta, threshold=v_th) on the same current, for the "zero"
reset (snnTorch's delayed reset of S[t-1] at step t is Norse's immediate reset). Spikes agree exactly
unless a membrane lies within float32 rounding of the threshold: Norse computes v + a * (I / a - v),
snnTorch beta * U + I. "subtract" does not coincide: Norse removes v_th before the decay, so the next
membrane loses beta * v_th, whereas snnTorch removes the full threshold after it.
Pass `beta` (our convention, exact) or `tau_mem` in seconds (Norse's: beta = 1 - dt / tau_mem).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import (
    SpikingBottleneck,
    BottleneckOutput,
    State,
    check_decay,
    check_neuron_options,
    spiking_output,
)
from snn_codec.errors import ConfigError

# our surrogate name -> Norse's `method` with the same derivative at alpha = 1:
# Norse's "triangle" is alpha * relu(1 - |x|), "super" (SuperSpike) is 1 / (1 + |x|)^2
NORSE_METHODS = {"triangle": "triangle", "fast_sigmoid": "super"}
NORSE_RESETS = ("zero", "subtract")


class NorseLIF(SpikingBottleneck):
    """Leaky integrate-and-fire (Norse `LIFBoxCell`, no synaptic current) over the latent frames.

    The projected current I = BN(Conv1d_1x1(latent)) (B, N, T) is converted to Norse's time-first
    (T, B, N) layout and fed one frame per step; see the module docstring for the update equation.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        beta: per-frame membrane decay, 0 <= beta < 1 (sets tau_mem_inv = (1 - beta) / dt); the
            default 0.9 applies when neither beta nor tau_mem is given.
        tau_mem: membrane time constant in seconds (Norse's parameter; beta = 1 - dt / tau_mem).
        v_th: firing threshold.
        reset: "zero" (to v_reset = 0) or "subtract" (v_th, before the decay).
        surrogate: "triangle" or "fast_sigmoid" (Norse's own, with slope 1: Norse has no arctan).
        dt: frame period in seconds, 1 / frame_rate.
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        beta: float | None = None,
        tau_mem: float | None = None,
        v_th: float = 1.0,
        reset: str = "zero",
        surrogate: str = "triangle",
        dt: float = 0.02,
    ):
        import norse.torch  # noqa: F401  (fail here, at build time, when Norse is missing)

        if reset not in NORSE_RESETS:
            raise ConfigError(f"norse_lif: unknown reset {reset!r}; choose from {list(NORSE_RESETS)}")
        check_neuron_options(units, v_th, reset)
        if surrogate not in NORSE_METHODS:
            raise ConfigError(f"norse_lif: unsupported surrogate {surrogate!r}; choose from {sorted(NORSE_METHODS)}")
        if dt <= 0:
            raise ConfigError(f"dt must be > 0 seconds, got {dt}")
        if beta is not None and tau_mem is not None:
            raise ConfigError("norse_lif: give beta or tau_mem, not both")
        if tau_mem is not None:
            if tau_mem < dt:
                raise ConfigError(f"tau_mem must be >= dt = {dt} s for a stable Euler step, got {tau_mem}")
            tau_mem_inv = 1.0 / tau_mem
        else:
            tau_mem_inv = (1.0 - check_decay("beta", 0.9 if beta is None else beta)) / dt
        super().__init__(latent_dim, units)
        self.reset = reset
        self.dt = dt
        self.surrogate = surrogate
        self.tau_mem_inv = tau_mem_inv
        self.v_th = float(v_th)
        self.neuron = self._build_neuron()
        # 1 / a: Norse scales its input by a = dt * tau_mem_inv; undo it so that v is snnTorch's U
        self.register_buffer("input_gain", 1.0 / (dt * self.neuron.p.tau_mem_inv), persistent=False)

    def _build_neuron(self) -> nn.Module:
        import norse.torch
        from norse.torch.functional.reset import reset_subtract, reset_value

        n = self.units
        params = norse.torch.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), self.tau_mem_inv),
            v_leak=torch.zeros(n),
            v_th=torch.full((n,), self.v_th),
            v_reset=torch.zeros(n),
            method=NORSE_METHODS[self.surrogate],
            alpha=torch.as_tensor(1.0),
            reset_method=reset_value if self.reset == "zero" else reset_subtract,
        )
        return norse.torch.LIFBoxCell(params, dt=self.dt)

    # Norse's parameter tuples are built by a metaclass that pickle cannot find: rebuild the cell
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_modules"] = {k: v for k, v in self._modules.items() if k != "neuron"}
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.neuron = self._build_neuron()

    @property
    def beta(self) -> Tensor:
        """Per-neuron per-frame decay 1 - dt * tau_mem_inv (N,)."""
        return 1.0 - self.dt * self.neuron.p.tau_mem_inv

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent (B, C, T) -> spikes (B, N, T); state: see `_norse_state` (post-reset values)."""
        current = self.input_current(latent) * self.input_gain[:, None]  # (B, N, T)
        current = current.permute(2, 0, 1)  # (T, B, N): Norse is time-first
        norse_state = self._norse_state(state, current.new_zeros(current.shape[1:]))
        spikes = []
        for frame in current:
            z, norse_state = self.neuron(frame, norse_state)
            spikes.append(z)
        return spiking_output(torch.stack(spikes, dim=-1), norse_state._asdict())

    def _norse_state(self, state: State | None, zeros: Tensor):
        """The cell's state from ours, {"v": (B, N)} membrane, or the resting state (`zeros` is (B, N))."""
        from norse.torch.functional.lif_box import LIFBoxFeedForwardState

        return LIFBoxFeedForwardState(v=state["v"] if state else zeros)


class NorseLSNN(NorseLIF):
    """LIF with an adaptive threshold (Norse `LSNNCell`, Bellec et al. 2018) over the latent frames.

    Each spike raises the unit's threshold by `adapt`; it relaxes back to `v_th` with time constant
    `tau_adapt`. Per frame (Norse's Euler step, a = dt * tau_mem_inv, r = dt / tau_adapt):

        v[t] = v[t-1] + a * (i[t-1] - v[t-1])      b[t] = b[t-1] + r * (v_th - b[t-1])
        z[t] = H(v[t] - b[t])      then v -> 0 where z, b -> b + adapt * z, i[t] = I[t]

    The synaptic current lasts one frame (tau_syn = dt), so frame t's current reaches the membrane at
    step t + 1. The input is scaled by 1 / a as in `NorseLIF`. Reset is to zero only.

    Args (besides NorseLIF's beta / tau_mem, v_th, surrogate, dt):
        tau_adapt: threshold recovery time constant in seconds (>= dt).
        adapt: threshold increase per spike (Norse's beta), >= 0.
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        beta: float | None = None,
        tau_mem: float | None = None,
        v_th: float = 1.0,
        tau_adapt: float = 0.2,
        adapt: float = 0.5,
        surrogate: str = "triangle",
        dt: float = 0.02,
    ):
        if not tau_adapt >= dt:
            raise ConfigError(f"norse_lsnn: tau_adapt must be >= dt = {dt} s for a stable Euler step, got {tau_adapt}")
        if not 0 <= adapt < 100:
            raise ConfigError(f"norse_lsnn: adapt must be in [0, 100), got {adapt}")
        self.tau_adapt, self.adapt = float(tau_adapt), float(adapt)
        super().__init__(latent_dim, units, beta=beta, tau_mem=tau_mem, v_th=v_th, reset="zero",
                         surrogate=surrogate, dt=dt)

    def _build_neuron(self) -> nn.Module:
        import norse.torch

        n = self.units
        params = norse.torch.LSNNParameters(
            tau_syn_inv=torch.full((n,), 1.0 / self.dt),
            tau_mem_inv=torch.full((n,), self.tau_mem_inv),
            tau_adapt_inv=torch.full((n,), 1.0 / self.tau_adapt),
            v_leak=torch.zeros(n),
            v_th=torch.full((n,), self.v_th),
            v_reset=torch.zeros(n),
            beta=torch.full((n,), self.adapt),
            method=NORSE_METHODS[self.surrogate],
            alpha=torch.as_tensor(1.0),
        )
        return norse.torch.LSNNCell(params, dt=self.dt)

    def _norse_state(self, state: State | None, zeros: Tensor):
        """{"v", "i", "b"} (B, N): membrane, current and threshold; at rest the threshold is v_th."""
        from norse.torch.functional.lsnn import LSNNFeedForwardState

        if state:
            return LSNNFeedForwardState(v=state["v"], i=state["i"], b=state["b"])
        return LSNNFeedForwardState(v=zeros, i=zeros, b=zeros + self.v_th)
