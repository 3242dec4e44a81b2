"""Decoder comparison: frame-rate ConvNeXt + inverse-STFT head against a transposed-conv decoder.

    snn-codec train --config configs/piano.yaml                         # runs/piano-v1 (iSTFT)
    snn-codec train --config configs/piano-conv.yaml --max-steps 1000   # runs/piano-conv
    python benchmarks/decoders.py [--step 1000]

Both runs share the encoder, bottleneck, data, seed and schedule; only the decoder differs. Quality is
read from each run's validation log at the same step (32 validation crops of 4 s, unseen music);
speed is measured here, for both architectures in the same process: decoding 60 s of events on one
CPU thread, best of 3. Writes benchmarks/results/decoders.{json,md}.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine, markdown_table, write_results  # noqa: E402

from snn_codec.codec import Codec  # noqa: E402
from snn_codec.config import load_config  # noqa: E402

VALIDATION_KEYS = ("val/log_mel_db", "val/si_sdr", "val/payload_kbps", "val/firing_rate")


def validation_at(run_dir: Path, step: int) -> dict[str, float]:
    """Validation metrics logged at `step` (the last row at or before it) across the run's log versions."""
    rows = []
    for path in sorted(run_dir.glob("logs/version_*/metrics.csv")):
        with path.open() as handle:
            rows += [r for r in csv.DictReader(handle) if r.get("val/log_mel_db")]
    rows = [r for r in rows if int(r["step"]) + 1 <= step]
    if not rows:
        raise SystemExit(f"{run_dir}: no validation logged by step {step}")
    last = max(rows, key=lambda r: int(r["step"]))
    return {"step": int(last["step"]) + 1, **{k.split("/")[1]: float(last[k]) for k in VALIDATION_KEYS}}


def decode_speed(codec: Codec, seconds: float = 60.0) -> float:
    torch.set_num_threads(1)
    events = torch.rand(codec.units, int(seconds * codec.config.frame_rate)) < 0.4
    return seconds / best_time(lambda: codec.decode(events))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--istft-run", default="runs/piano-v1")
    parser.add_argument("--conv-run", default="runs/piano-conv")
    parser.add_argument("--step", type=int, default=1000)
    args = parser.parse_args()

    rows = []
    for name, run in (("istft", Path(args.istft_run)), ("conv", Path(args.conv_run))):
        config = load_config(run / "config.yaml")
        torch.manual_seed(0)
        codec = Codec(config.model).eval()
        rows.append({
            "decoder": name,
            "decoder_params_M": sum(p.numel() for p in codec.decoder.parameters()) / 1e6,
            "decode_x_realtime_1_thread": decode_speed(codec),
            **validation_at(run, args.step),
        })
    columns = ["decoder", "decoder_params_M", "decode_x_realtime_1_thread", "step", "log_mel_db", "si_sdr",
               "payload_kbps", "firing_rate"]
    istft, conv = rows
    verdict = (f"At step {istft['step']} the iSTFT decoder is {conv['log_mel_db'] - istft['log_mel_db']:+.2f} dB "
               f"better in log-mel distance and decodes {istft['decode_x_realtime_1_thread'] / conv['decode_x_realtime_1_thread']:.1f}x "
               "as fast on one thread.")
    markdown = "\n\n".join([
        "# Decoder comparison (`python benchmarks/decoders.py`)",
        markdown_table(rows, columns),
        verdict,
    ]) + "\n"
    print(markdown)
    print(f"written: {write_results('decoders', {'machine': machine(), 'rows': rows}, markdown)}")


if __name__ == "__main__":
    main()
