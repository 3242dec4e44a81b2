"""The bundled example: compress a piano clip with the bundled model, decode it, print what happened."""

from __future__ import annotations

import os
import time
from pathlib import Path

from snn_codec import api
from snn_codec.audio import atomic_output, load_audio, save_audio, to_mono
from snn_codec.eval.cost import input_layer_cost
from snn_codec.eval.metrics import quality_report
from snn_codec.eval.plots import plot_round_trip
from snn_codec.model_io import DEFAULT_MODEL, load_model

EXAMPLE = Path(__file__).parent / "data" / "examples" / "piano_example.flac"


def run_demo(
    out_dir: str | os.PathLike = "demo_output",
    *,
    model: str | None = None,
    input_path: str | os.PathLike | None = None,
    with_visqol: bool = True,
) -> dict[str, float]:
    """Compresses and decompresses a clip (the bundled one by default), writes both files, prints a report.

    Returns:
        The figures printed: duration, bytes, bitrate, events, firing rate, speed and quality.
    """
    source_path = Path(input_path) if input_path else EXAMPLE
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    codec = load_model(model or DEFAULT_MODEL)
    source = load_audio(source_path)

    start = time.perf_counter()
    data = api.compress(source, model=codec, progress=True)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = api.decompress(data, model=codec, progress=True)
    decode_s = time.perf_counter() - start

    snnc_path = out / (source_path.stem + ".snnc")
    wav_path = out / (source_path.stem + ".decoded.wav")
    with atomic_output(snnc_path) as tmp:
        Path(tmp).write_bytes(data)
    save_audio(wav_path, decoded.samples, decoded.sample_rate)

    info = api.inspect(data)
    original, restored = to_mono(source.samples)[0], to_mono(decoded.samples)[0]
    quality = quality_report(original, restored, source.sample_rate, with_visqol=with_visqol)
    _, events = api.read_events(data)
    png_path = plot_round_trip(
        out / (source_path.stem + ".png"), original, restored, events, source.sample_rate,
        title=f"{source_path.name} through {codec.config.name} at {info.bitrate_kbps:.2f} kbps",
    )
    report = {
        "duration_s": info.duration_s,
        "bytes": info.total_bytes,
        "bitrate_kbps": info.bitrate_kbps,
        "events": info.events,
        "events_per_s": info.events_per_s,
        "firing_rate": info.firing_rate,
        "bits_per_event": info.bits_per_event,
        "encode_realtime_x": info.duration_s / encode_s,
        "decode_realtime_x": info.duration_s / decode_s,
        **quality,
    }
    pcm_kbps = source.sample_rate * source.channels * 16 / 1000
    print(f"input      {source_path} ({source.channels} ch, {source.sample_rate} Hz, {info.duration_s:.2f} s)")
    print(f"model      {codec.config.name} ({codec.units} units at {codec.config.frame_rate} Hz, "
          f"{codec.config.bottleneck['kind']} bottleneck)")
    print(f"compressed {snnc_path}: {info.total_bytes} bytes = {info.bitrate_kbps:.3f} kbps "
          f"({pcm_kbps / info.bitrate_kbps:.0f}x smaller than 16-bit PCM), coder {info.coder}")
    print(f"events     {info.events} ({info.events_per_s:.0f}/s), firing rate {info.firing_rate:.1%}, "
          f"{info.bits_per_event:.2f} bits per event")
    cost = input_layer_cost(codec.decoder, codec.units, codec.config.frame_rate, info.events_per_s)
    print(f"synapses   {cost.synops_per_s / 1e6:.2f} M SynOps/s into the decoder vs {cost.dense_macs_per_s / 1e6:.2f} M "
          f"MACs/s dense ({cost.event_energy_uj_per_s:.0f} vs {cost.dense_energy_uj_per_s:.0f} uJ/s, 45 nm estimate)")
    print(f"speed      encode {report['encode_realtime_x']:.0f}x, decode {report['decode_realtime_x']:.0f}x real time")
    quality_line = f"SI-SDR {quality['si_sdr_db']:.2f} dB, log-mel distance {quality['log_mel_db']:.2f} dB"
    if "visqol" in quality:
        quality_line += f", ViSQOL {quality['visqol']:.2f}"
    print(f"quality    {quality_line}")
    print(f"listen     {wav_path}")
    print(f"look       {png_path} (input, events, decoded)")
    return report
