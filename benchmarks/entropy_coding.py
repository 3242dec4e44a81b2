"""Entropy event coder against dense and sparse: payload bits per frame over firing rates.

Run: .venv/bin/python benchmarks/entropy_coding.py
Writes results/entropy_coding.{json,md,png}.
"""

from __future__ import annotations

import glob
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, machine, markdown_table, write_results  # noqa: E402
from snn_codec.bitstream import DenseEventCoder, SparseEventCoder  # noqa: E402
from snn_codec.bitstream.entropy import EntropyEventCoder, model_cost_bits  # noqa: E402

RATES = [0.01, 0.02, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50]
UNITS, FRAMES = 64, 3000
STICKINESS = 0.6  # Markov events: P(1 | 1) = r + 0.6 (1 - r), P(1 | 0) = 0.4 r


def synthetic(kind: str, rate: float, seed: int) -> np.ndarray:
    """(UNITS, FRAMES) i.i.d. or Markov events with stationary firing rate `rate`."""
    rng = np.random.default_rng(seed)
    if kind == "iid":
        return rng.random((UNITS, FRAMES)) < rate
    events = np.zeros((UNITS, FRAMES), dtype=bool)
    state = rng.random(UNITS) < rate
    for t in range(FRAMES):
        state = rng.random(UNITS) < np.where(state, rate + STICKINESS * (1 - rate), rate * (1 - STICKINESS))
        events[:, t] = state
    return events


def real_events() -> list[tuple[str, np.ndarray]]:
    """Events of the shipped model on the bundled clip and up to 3 validation files."""
    import snn_codec
    from snn_codec.audio import load_audio, resample, to_mono

    codec = snn_codec.load_model("piano-v1")
    rate = codec.config.sample_rate
    paths = [str(snn_codec.EXAMPLE)] + sorted(glob.glob("data/piano/validation/*.flac"))[:3]
    out = []
    for path in paths:
        audio = load_audio(path)
        mono = resample(to_mono(audio.samples), audio.sample_rate, rate)[0]
        out.append((path.rsplit("/", 1)[-1], codec.encode(torch.from_numpy(mono)).numpy()))
    return out


def measure(source: str, events: np.ndarray) -> dict[str, object]:
    frames = events.shape[1]
    entropy = 8 * len(EntropyEventCoder().encode(events))
    dense = 8 * len(DenseEventCoder().encode(events))
    sparse = 8 * len(SparseEventCoder().encode(events))
    model = model_cost_bits(events)
    return {
        "source": source,
        "firing_rate": round(float(events.mean()), 4),
        "dense_bits_per_frame": dense / frames,
        "sparse_bits_per_frame": sparse / frames,
        "entropy_bits_per_frame": entropy / frames,
        "model_cost_bits_per_frame": model / frames,
        "coded_over_model": entropy / model if model else float("nan"),
        "entropy_over_dense": entropy / dense,
        "entropy_over_sparse": entropy / sparse,
    }


def main() -> None:
    torch.set_num_threads(1)
    rows = [measure(f"{kind} {rate:.0%}", synthetic(kind, rate, i)) for kind in ("iid", "markov")
            for i, rate in enumerate(RATES)]
    rows += [measure(f"real {name}", events) for name, events in real_events()]
    long = synthetic("markov", 0.1, 99)
    long = np.concatenate([long] * 10, axis=1)  # 64 x 30000: ten minutes at 50 frames/s
    coder = EntropyEventCoder()
    start = time.perf_counter()
    payload = coder.encode(long)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    coder.decode(payload, *long.shape)
    decode_s = time.perf_counter() - start
    speed = {"shape": list(long.shape), "encode_s": encode_s, "decode_s": decode_s}
    write_results("entropy_coding", {"machine": machine(), "speed": speed, "rows": rows}, "")
    plot(rows)
    columns = list(rows[0])
    md_rows = [{**r, "coded_over_model": f"{r['coded_over_model']:.4f}"} for r in rows]
    markdown = "\n".join([
        "# Entropy event coding", "",
        f"64 units; synthetic 3000 frames; real: shipped piano-v1 model. Speed (64 x 30000, one core, "
        f"shared machine): encode {encode_s:.2f} s, decode {decode_s:.2f} s.", "",
        markdown_table(md_rows, columns), "", summary(rows), "",
    ])
    (RESULTS / "entropy_coding.md").write_text(markdown)
    print(markdown)


def summary(rows: list[dict[str, object]]) -> str:
    """The paragraph under the table; every figure in it is computed from `rows`."""
    worst = max(abs(float(r["coded_over_model"]) - 1) for r in rows)
    real = [r for r in rows if str(r["source"]).startswith("real")]
    losers = [r for r in rows
              if r["entropy_bits_per_frame"] >= min(r["dense_bits_per_frame"], r["sparse_bits_per_frame"])]
    if losers:
        worst_loss = max(float(r["entropy_over_dense"]) for r in losers)
        exceptions = (f"except for {', '.join(str(r['source']) for r in losers)}, where it pays at most "
                      f"{100 * (worst_loss - 1):.1f}% over dense (independent events near 50% are incompressible; "
                      "`auto` then stores dense)")
    else:
        exceptions = "with no exception"
    savings = []
    for r in rows:
        if str(r["source"]).startswith("markov"):
            twin = next(i for i in rows if i["source"] == str(r["source"]).replace("markov", "iid"))
            savings.append(1 - float(r["entropy_bits_per_frame"]) / float(twin["entropy_bits_per_frame"]))
    sparse_ratio = [float(r["sparse_bits_per_frame"]) / float(r["dense_bits_per_frame"]) for r in real]
    return (
        f"The range coder stays within {100 * worst:.2f}% of the model's own information content in every "
        f"case (the rest is the 16-bit terminator and the coder's final word). Entropy coding is smaller than "
        f"both dense and sparse {exceptions}. Temporal correlation is where the context model earns its keep "
        f"(Markov events cost {100 * min(savings):.0f}-{100 * max(savings):.0f}% fewer bits than i.i.d. at the "
        f"same rate). The shipped model fires at {min(float(r['firing_rate']) for r in real):.0%}-"
        f"{max(float(r['firing_rate']) for r in real):.0%}, where the sparse layout needs "
        f"{min(sparse_ratio):.1f}-{max(sparse_ratio):.1f}x the dense size, yet its events are predictable per "
        f"unit: entropy coding needs {min(float(r['entropy_over_dense']) for r in real):.2f}-"
        f"{max(float(r['entropy_over_dense']) for r in real):.2f} of the dense size. Real events were only "
        f"measured at their natural rate, on {len(real)} clips."
    )


def plot(rows: list[dict[str, object]]) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, kind in zip(axes, ("iid", "markov")):
        sel = [r for r in rows if str(r["source"]).startswith(kind)]
        rates = [100 * float(r["firing_rate"]) for r in sel]
        for key, style in [("dense", "-"), ("sparse", "-"), ("entropy", "-"), ("model_cost", "--")]:
            ax.plot(rates, [r[f"{key}_bits_per_frame"] for r in sel], style, marker="o", label=key)
        real = [r for r in rows if str(r["source"]).startswith("real")]
        ax.scatter([100 * float(r["firing_rate"]) for r in real], [r["entropy_bits_per_frame"] for r in real],
                   marker="*", s=80, c="k", label="entropy, real events")
        ax.set(title=f"{kind} synthetic events, 64 units", xlabel="firing rate (%)", ylabel="bits per frame")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "entropy_coding.png", dpi=120)


if __name__ == "__main__":
    main()
