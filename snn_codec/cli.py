"""Command line: `snn-codec compress|decompress|info|demo|data|train|listen`. A thin layer over the library.

Exit codes: 0 success; 1 a failure the user can cause (bad input, bad file, bad config, an output that
cannot be written: one line on stderr per problem; in a batch, the other files are still processed and a
summary follows), or a closed standard output (quietly, as other Unix tools); 2 bad command-line usage;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from snn_codec.errors import CodecError, describe_os_error

PRECISION_CHOICES = ("auto", "float32", "bfloat16")  # snn_codec.codec.PRECISIONS, named here without importing torch


def _status(message: str, to_stdout: bool) -> None:
    print(message, file=sys.stdout if to_stdout else sys.stderr)


def _failure_message(err: BaseException) -> str | None:
    """One line for a failure the user can cause, or None for anything else (a bug keeps its traceback)."""
    import soundfile

    if isinstance(err, CodecError):
        return str(err)
    if isinstance(err, OSError):
        return describe_os_error(err)
    if isinstance(err, soundfile.SoundFileError):  # libsndfile failing to read or write a file
        return f"{err}"
    return None


def _run_jobs(jobs, work, label: str, force: bool) -> list:
    """Runs `work(job)` for every job with a progress bar; a failing file is reported and skipped, and a
    summary closes a batch with failures."""
    from tqdm.auto import tqdm

    from snn_codec.batch import check_not_input, check_overwrite

    results, failures = [], 0
    for job in tqdm(jobs, desc=label, unit="file", disable=len(jobs) < 2, leave=False):
        try:
            check_overwrite(job.output, force)
            check_not_input(job)
            results.append(work(job))
        except BrokenPipeError:  # standard output is gone: nothing more can be reported
            raise
        except Exception as err:
            message = _failure_message(err)
            if len(jobs) == 1 or message is None:
                raise
            failures += 1
            tqdm.write(f"snn-codec: error: {job.input}: {message}", file=sys.stderr)  # above the progress bar
    if failures:
        raise CodecError(f"{failures} of {len(jobs)} files failed ({len(results)} written); see the errors above")
    return results


def compress_cmd(args: argparse.Namespace) -> None:
    from snn_codec import api
    from snn_codec.batch import AUDIO_SUFFIXES, STDIO, plan_jobs, readable_path
    from snn_codec.model_io import DEFAULT_MODEL, load_model
    from snn_codec.streaming import AudioSource

    jobs = plan_jobs(args.paths, args.out_dir, AUDIO_SUFFIXES, (".snnc",), ".snnc")
    codec = load_model(args.model or DEFAULT_MODEL)
    to_stdout = all(job.output != STDIO for job in jobs)

    def work(job):
        with readable_path(job.input) as path:
            source = AudioSource(path)
            if source.info.channels > 1:
                print(f"note: {job.input}: downmixing {source.info.channels} channels to mono (decoding "
                      f"restores {source.info.channels} identical channels)", file=sys.stderr)
            if job.output == STDIO:
                size = api.compress_to(source, sys.stdout.buffer, codec, args.coder, progress=True,
                                       target_kbps=args.kbps, precision=args.precision)
                sys.stdout.buffer.flush()
            else:
                api.compress_file(path, job.output, model=codec, coder=args.coder, progress=True,
                                  target_kbps=args.kbps, overwrite=args.force, precision=args.precision)
                size = Path(job.output).stat().st_size
        kbps = size * 8 / source.info.duration_s / 1000
        _status(f"{job.output}: {size} bytes, {source.info.duration_s:.2f} s, {kbps:.3f} kbps", to_stdout)
        return size, source.info.duration_s

    results = _run_jobs(jobs, work, "compress", args.force)
    if len(results) > 1:
        total_bytes, total_s = sum(r[0] for r in results), sum(r[1] for r in results)
        _status(f"compressed {len(results)} files: {total_s:.1f} s of audio into {total_bytes} bytes "
                f"({total_bytes * 8 / total_s / 1000:.3f} kbps)", to_stdout)


def decompress_cmd(args: argparse.Namespace) -> None:
    from snn_codec import api
    from snn_codec.batch import AUDIO_SUFFIXES, STDIO, plan_jobs, writable_path

    jobs = plan_jobs(args.paths, args.out_dir, (".snnc",), AUDIO_SUFFIXES, ".decoded.wav")
    to_stdout = all(job.output != STDIO for job in jobs)

    def work(job):
        with writable_path(job.output, ".wav") as out:
            source = sys.stdin.buffer if job.input == STDIO else job.input
            header = api.decompress_file(source, out, model=args.model, progress=True, start_s=args.start,
                                         duration_s=args.duration, overwrite=args.force, precision=args.precision)
        duration_s = header.num_samples / header.sample_rate - args.start
        if args.duration is not None:
            duration_s = min(duration_s, args.duration)
        _status(f"{job.output}: {duration_s:.2f} s, {header.sample_rate} Hz, {header.channels} channel(s)",
                to_stdout)
        return duration_s

    results = _run_jobs(jobs, work, "decompress", args.force)
    if len(results) > 1:
        _status(f"decompressed {len(results)} files: {sum(results):.1f} s of audio", to_stdout)


def info_cmd(args: argparse.Namespace) -> None:
    from snn_codec import api

    from snn_codec.model_io import shipped_config

    with api.open_snnc(args.input) as source:
        info = api.inspect_stream(source)
    header = info.header
    config = shipped_config(header.model_id)
    if info.stores_indices:  # a VQ model: one codebook is a plain VQ, more a residual VQ
        model_kind = {"bottleneck": config.bottleneck["kind"] if config else "vq" if header.num_units == 1 else "rvq"}
    else:
        model_kind = {"neuron_model": config.bottleneck["kind"] if config else
                      "unknown (the model does not ship with snn_codec)"}
    fields = {
        "file": args.input,
        "model": header.model_id,
        **model_kind,
        "weight_hash": header.weight_hash.hex(),
        "sample_rate_hz": header.sample_rate,
        "channels": header.channels,
        "samples": header.num_samples,
        "duration_s": round(info.duration_s, 4),
        "bytes": info.total_bytes,
        "version": info.version,
        "overhead_bytes": info.overhead_bytes,
        "payload_bytes": info.payload_bytes,
        "bitrate_kbps": round(info.bitrate_kbps, 4),
        "payload_kbps": round(info.payload_kbps, 4),
        "coder": info.coder,
        "chunks": info.chunks,
    }
    if info.stores_indices:
        fields.update({
            "quantizers": header.num_units,
            "codebook_size": info.codebook_size,
            "frames": header.num_frames,
            "bits_per_index": round(info.bits_per_index, 3),
        })
    else:
        fields.update({
            "units": header.num_units,
            "frames": header.num_frames,
            "events": info.events,
            "events_per_s": round(info.events_per_s, 2),
            "firing_rate": round(info.firing_rate, 4),
            "bits_per_event": round(info.bits_per_event, 3),
        })
    fields["bits_per_frame"] = round(info.bits_per_frame, 2)
    if args.json:
        print(json.dumps(fields, indent=2))
    else:
        width = max(map(len, fields))
        for key, value in fields.items():
            print(f"{key:<{width}}  {value}")


def models_cmd(args: argparse.Namespace) -> None:
    from snn_codec.model_io import DEFAULT_MODEL, PRETRAINED_DIR, model_card_summary, shipped_config, shipped_models

    models = []
    for name in shipped_models():
        config = shipped_config(name)
        bottleneck = dict(config.bottleneck) if config else {}
        models.append({"name": name, "default": name == DEFAULT_MODEL, "bottleneck": bottleneck.get("kind"),
                       "units": bottleneck.get("units"), "frame_rate_hz": config.frame_rate if config else None,
                       "sample_rate_hz": config.sample_rate if config else None,
                       "file_mb": round((PRETRAINED_DIR / f"{name}.safetensors").stat().st_size / 1e6, 1),
                       "card": str(PRETRAINED_DIR / f"{name}.md"), "summary": model_card_summary(name)})
    if args.json:
        print(json.dumps(models, indent=2))
        return
    for model in models:
        units = f" x{model['units']}" if model["units"] else ""
        print(f"{model['name']}{' (default)' if model['default'] else ''}: {model['bottleneck']}{units}, "
              f"{model['frame_rate_hz']} frames/s, {model['sample_rate_hz'] / 1000:g} kHz, {model['file_mb']} MB")
        for line in textwrap.wrap(model["summary"], 100):
            print(f"    {line}")
    print(f"\nUse one with --model NAME; each card (training, measured numbers): {PRETRAINED_DIR}/NAME.md")


def demo_cmd(args: argparse.Namespace) -> None:
    from snn_codec.demo import run_demo

    run_demo(args.out, model=args.model, input_path=args.input, with_visqol=not args.no_visqol)


def synth_piano_cmd(args: argparse.Namespace) -> None:
    from snn_codec.data.render import TRAINING_SOUNDFONTS
    from snn_codec.data.synth_piano import build_corpus

    out = build_corpus(
        args.out,
        num_pieces=args.pieces,
        duration_s=args.duration,
        sample_rate=args.sample_rate,
        soundfonts=tuple(args.soundfonts.split(",")) if args.soundfonts else TRAINING_SOUNDFONTS,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
    )
    print(f"corpus ready: {out} (see {out / 'manifest.json'})")


def train_cmd(args: argparse.Namespace) -> None:
    from snn_codec.config import load_config
    from snn_codec.model_io import model_name
    from snn_codec.rate import Trim
    from snn_codec.train.run import run_training, training_warnings, with_overrides

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    config = load_config(args.config)
    run_dir = Path(args.run_dir or Path("runs") / (args.name or config.model.name))
    # the model is named after its run, so that it is never taken for the model whose config it started from
    config = with_overrides(config, steps=args.steps, data=args.data, target_kbps=args.target_kbps,
                            init_from=args.init_from, name=args.name or run_dir.resolve().name,
                            val_every=args.val_every, checkpoint_every=args.checkpoint_every)
    for warning in training_warnings(config):
        print(f"snn-codec: warning: {warning}", file=sys.stderr)
    model = run_training(
        config, run_dir, resume=not args.no_resume, accelerator=args.accelerator, devices=args.devices,
        max_steps=args.max_steps,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    if "trim/kbps_after" in metrics:
        trim = Trim(metrics["trim/offset"], metrics["trim/kbps_before"], metrics["trim/kbps_after"],
                    config.train.rate_control.target_kbps)
        print(f"rate trimmed to the target {trim.target_kbps:g} kbps: {trim.kbps_before:.3f} -> "
              f"{trim.kbps_after:.3f} kbps on the validation audio ({trim.describe_offset()})")
        if trim.missed:
            print(f"snn-codec: warning: the model codes at {trim.kbps_after:.3f} kbps, not {trim.target_kbps:g}: "
                  "its events allow no closer rate (at high rates most units fire half the time; more units help)",
                  file=sys.stderr)
    print(f"model written: {model}, named {model_name(model)!r} (config and checkpoints in {run_dir})")


def retarget_cmd(args: argparse.Namespace) -> None:
    from snn_codec.rate import retarget

    out = Path(args.output)
    if out.with_suffix(".safetensors").exists() and not args.force:
        raise CodecError(f"{out.with_suffix('.safetensors')} exists; pass --force to overwrite it")
    result = retarget(args.model, args.data, args.target_kbps, out, crops=args.crops, seconds=args.seconds,
                      exclude_soundfont=args.exclude_soundfont)
    trim = result.trim
    print(f"{args.model}: {trim.kbps_before:.3f} -> {trim.kbps_after:.3f} kbps for {trim.target_kbps:g} "
          f"({trim.error:+.1%}) on {args.data}'s validation audio; {trim.describe_offset()}; "
          f"log-mel distance {result.log_mel_db_before:.2f} -> {result.log_mel_db_after:.2f} dB")
    print(f"model written: {out.with_suffix('.safetensors')}")


def analyze_cmd(args: argparse.Namespace) -> None:
    from snn_codec.eval.analysis import run_analysis

    out = Path(args.out)
    run_analysis(args.models, args.data, out, split=args.split, soundfont=args.soundfont, pieces=args.pieces,
                 controls=args.controls, seed=args.seed)
    print((out / "report.md").read_text())
    used = len(json.loads((out / "report.json").read_text())["pieces"])
    if used < args.pieces:
        other = "train" if args.split != "train" else "validation"
        print(f"note: the {args.split} split has {used} piece(s) with notes, not the {args.pieces} asked for; "
              f"--split {other} has others", file=sys.stderr)
    print(f"report and figures in {out}")


def export_cmd(args: argparse.Namespace) -> None:
    from snn_codec.model_io import model_name
    from snn_codec.train.run import export_checkpoint

    model = export_checkpoint(args.run_dir, args.output, half=args.half, force=args.force)
    print(f"model written: {model}, named {model_name(model)!r} ({model.stat().st_size / 1e6:.1f} MB)")


def export_nir_cmd(args: argparse.Namespace) -> None:
    import nir

    from snn_codec.audio import atomic_output
    from snn_codec.bottlenecks.nir_export import bottleneck_to_nir
    from snn_codec.model_io import load_model

    codec = load_model(args.model)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise CodecError(f"{out} exists; pass --force to overwrite it")
    dt = args.dt if args.dt is not None else 1.0 / codec.config.frame_rate
    graph = bottleneck_to_nir(codec.bottleneck.eval(), dt=dt, target=args.target)
    with atomic_output(out) as tmp:
        nir.write(tmp, graph)
    print(f"{out}: {codec.config.bottleneck['kind']} bottleneck of {codec.config.name} "
          f"({codec.units} units, dt {dt:g} s, target {args.target}) as NIR nodes {sorted(graph.nodes)}")


def quantize_cmd(args: argparse.Namespace) -> None:
    from snn_codec.quantization import quantize_model

    quantization = quantize_model(args.model, args.output, args.weight_bits, args.input_bits, data=args.data,
                                  crops=args.crops, force=args.force)
    print(quantization.describe())


def deploy_report_cmd(args: argparse.Namespace) -> None:
    from snn_codec.audio import atomic_output, load_audio
    from snn_codec.demo import EXAMPLE
    from snn_codec.eval.deploy import deploy_report
    from snn_codec.eval.hardware import targets_by_name
    from snn_codec.model_io import load_model

    targets = targets_by_name(args.target)
    out = Path(args.out)
    codec = load_model(args.model)
    paths = [out / f"{codec.config.name}.md", out / f"{codec.config.name}.json"]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not args.force:
        raise CodecError(f"{', '.join(existing)} exist(s); pass --force to overwrite")
    audio_path = Path(args.audio) if args.audio else EXAMPLE
    report = deploy_report(codec, load_audio(audio_path), targets, weight_bits=args.weight_bits,
                           state_bits=args.state_bits,
                           audio_name="the bundled example" if args.audio is None else audio_path.name)
    out.mkdir(parents=True, exist_ok=True)
    markdown = report.to_markdown()
    for path, text in zip(paths, (markdown, report.to_json())):
        with atomic_output(path, overwrite=args.force) as tmp:
            Path(tmp).write_text(text)
    print(markdown)
    print(f"report written: {paths[0]}, {paths[1]}")


def _silence_stdout() -> None:
    """Points standard output at /dev/null, so that flushing it at exit does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured in tests): nothing to flush
        pass


def build_parser() -> argparse.ArgumentParser:
    from snn_codec import __version__

    parser = argparse.ArgumentParser(prog="snn-codec", description="Event-based neural audio compression.")
    parser.add_argument("--version", action="version", version=f"snn_codec {__version__}")
    sub = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")

    p = sub.add_parser("compress", help="audio files -> .snnc")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="IN [OUT.snnc], or several files, folders or globs; '-' is standard input/output")
    p.add_argument("-o", "--out-dir", default=None, help="folder for the outputs (default: beside each input)")
    p.add_argument("--model", default=None, help="shipped model name or .safetensors path (default piano-v6)")
    p.add_argument("--coder", default="auto", help="event coder: auto (smallest per chunk), dense, sparse, entropy; "
                   "for VQ models index-fixed, index-entropy")
    p.add_argument("--kbps", type=float, default=None,
                   help="bitrate of each file: moves the model's firing thresholds for that audio (spiking models)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                   help="the encoder's arithmetic: auto takes bfloat16 where the CPU has it natively and the "
                        "model allows it (piano-v6: faster, same rate and quality), else float32, the reference")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(command=compress_cmd)

    p = sub.add_parser("decompress", help=".snnc -> audio at the original rate, length and channels")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="IN.snnc [OUT.wav|.flac|.ogg], or several files, folders or globs; '-' for stdin/stdout")
    p.add_argument("-o", "--out-dir", default=None, help="folder for the outputs (default: beside each input)")
    p.add_argument("--model", default=None, help="needed only for models that do not ship with snn_codec")
    p.add_argument("--start", type=float, default=0.0, help="decode from this time (seconds); skips earlier chunks")
    p.add_argument("--duration", type=float, default=None, help="decode only this many seconds")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                   help="the decoder's arithmetic: auto takes bfloat16 where the CPU has it natively (faster, "
                        "same quality); float32 is the reference")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(command=decompress_cmd)

    p = sub.add_parser("info", help="header, size, actual bitrate and events of a .snnc file")
    p.add_argument("input")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(command=info_cmd)

    p = sub.add_parser("models", help="the models that ship with snn_codec: bottleneck, size, and what each is for")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(command=models_cmd)

    p = sub.add_parser("demo", help="compress and decompress the bundled piano clip, print the numbers")
    p.add_argument("--out", default="demo_output", help="folder for the .snnc and decoded wav")
    p.add_argument("--input", default=None, help="another audio file instead of the bundled clip")
    p.add_argument("--model", default=None)
    p.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (the slowest metric)")
    p.set_defaults(command=demo_cmd)

    data = sub.add_parser("data", help="build datasets").add_subparsers(dest="data", required=True, metavar="KIND")
    p = data.add_parser("synth-piano", help="render generated piano MIDI with FluidSynth and GM soundfonts")
    p.add_argument("--out", required=True, help="corpus folder (resumable)")
    p.add_argument("--pieces", type=int, default=240, help="pieces in all, the last tenth for validation "
                   "(default: %(default)s; more pieces later grow the corpus)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of music per piece")
    p.add_argument("--sample-rate", type=int, default=24000)
    p.add_argument("--soundfonts", default=None,
                   help="comma-separated short names (default: every Debian GM soundfont but MuseScore General)")
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(command=synth_piano_cmd)

    p = sub.add_parser("train", help="train a model from a YAML config (PyTorch Lightning)")
    p.add_argument("--config", required=True)
    p.add_argument("--run-dir", default=None,
                   help="default: runs/NAME (--name, else the config's model name); resumes when it holds a run")
    p.add_argument("--name", default=None,
                   help="the model's name (default: the run folder's name), stored in the model and its files")
    p.add_argument("--steps", type=int, default=None, help="override train.steps")
    p.add_argument("--target-kbps", type=float, default=None,
                   help="train to this entropy-coded bitrate: a controller sets the sparsity weight")
    p.add_argument("--init-from", default=None, metavar="MODEL",
                   help="start from this trained model's weights (override train.init_from)")
    p.add_argument("--max-steps", type=int, default=None, help="stop early at this step (resume later)")
    p.add_argument("--val-every", type=int, default=None, help="override train.val_every (steps)")
    p.add_argument("--checkpoint-every", type=int, default=None,
                   help="override train.checkpoint_every (steps; Ctrl-C also saves the step it stops at)")
    p.add_argument("--data", default=None, help="override the data spec (synth:DIR, maestro:DIR, folder:DIR)")
    p.add_argument("--accelerator", default="auto", help="cpu, gpu or auto")
    p.add_argument("--devices", default="auto", help="number of devices (DDP when > 1) or auto")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--no-resume", action="store_true", help="start over even if the run folder has a checkpoint")
    p.set_defaults(command=train_cmd)

    p = sub.add_parser("retarget", help="a trained spiking model set to another bitrate, without training "
                                        "(moves its firing thresholds)")
    p.add_argument("model", help="shipped model name or .safetensors path")
    p.add_argument("output", help="the .safetensors file to write (its .yaml goes beside it)")
    p.add_argument("--target-kbps", type=float, required=True, help="the entropy-coded bitrate to set")
    p.add_argument("--data", required=True,
                   help="data spec whose validation audio the rate is measured on (synth:DIR, maestro:DIR, folder:DIR)")
    p.add_argument("--exclude-soundfont", default=None, help="leave out this soundfont's pieces (synth:DIR)")
    p.add_argument("--crops", type=int, default=32, help="validation crops, spread evenly over the files")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each crop")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(command=retarget_cmd)

    p = sub.add_parser("analyze", help="are units selective for and synchronous with key strikes? (MIDI ground truth)")
    p.add_argument("models", nargs="+", metavar="MODEL", help="shipped model names or .safetensors paths")
    p.add_argument("data", help="a synthetic piano corpus (snn-codec data synth-piano), e.g. data/piano-multi")
    p.add_argument("--out", default="analysis", help="folder for report.md, report.json and the figures")
    p.add_argument("--split", default="validation")
    p.add_argument("--soundfont", default=None, help="only pieces rendered with this soundfont")
    p.add_argument("--pieces", type=int, default=12, help="how many pieces to encode")
    p.add_argument("--controls", type=int, default=1000,
                   help="shifted / shuffled controls per test (the smallest p-value is 1 / (controls + 1))")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(command=analyze_cmd)

    p = sub.add_parser("export-nir", help="the model's bottleneck (affine + neurons) as a NIR graph file")
    p.add_argument("model", help="shipped model name or .safetensors path")
    p.add_argument("output", help="the .nir file to write")
    p.add_argument("--dt", type=float, default=None,
                   help="simulation step in seconds the graph is exact for (default: one latent frame)")
    p.add_argument("--target", default="generic", choices=["generic", "norse", "rockpool", "sinabs", "spyx"],
                   help="the simulator whose NIR importer will read the graph (docs/nir.md); default: generic, "
                        "for forward-Euler readers")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(command=export_nir_cmd)

    p = sub.add_parser("quantize", help="a trained model's spiking part at integer weights and fixed-point inputs, "
                                        "without training (docs/quantization.md)")
    p.add_argument("model", help="shipped model name or .safetensors path (a threshold or leaky model)")
    p.add_argument("output", help="the quantised model's .safetensors file (its .yaml is written beside it)")
    p.add_argument("--weight-bits", type=int, default=8)
    p.add_argument("--input-bits", type=int, default=8, help="fixed-point latent width; 0 keeps the latent float")
    p.add_argument("--data", default=None,
                   help="data spec whose validation crops calibrate the input step, e.g. synth:data/piano-multi "
                        "(default: the bundled example, a weaker calibration)")
    p.add_argument("--crops", type=int, default=8, help="calibration crops")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(command=quantize_cmd)

    p = sub.add_parser("deploy-report", help="does the model's spiking part fit neuromorphic chips? counts, "
                                             "events and SynOps on real audio, energy, pass/fail per chip")
    p.add_argument("model", help="shipped model name or .safetensors path (a spiking model)")
    p.add_argument("--target", action="append", default=None, metavar="NAME",
                   help="a chip to check, repeatable (default: all): xylo-audio-2, xylo-audio-3, speck, loihi-2")
    p.add_argument("--audio", default=None, help="audio to measure events and SynOps on (default: the bundled example)")
    p.add_argument("--out", default="deploy_report", help="folder for MODEL.md and MODEL.json")
    p.add_argument("--weight-bits", type=int, default=None,
                   help="evaluate a planned weight precision (default: 32, float)")
    p.add_argument("--state-bits", type=int, default=None,
                   help="evaluate a planned state precision (default: 32, float)")
    p.add_argument("--force", action="store_true", help="overwrite existing reports")
    p.set_defaults(command=deploy_report_cmd)

    p = sub.add_parser("export", help="a run's last checkpoint -> model .safetensors (+ .yaml), also mid-training")
    p.add_argument("run_dir")
    p.add_argument("output", nargs="?", help="default: RUN_DIR/model.safetensors")
    p.add_argument("--half", nargs="?", const="decoder", choices=("decoder", "networks"), default=None,
                   help="store weights as float16: the decoder's (the default with --half; about half the size, "
                        "same events) or the encoder's too (networks; measure the exported model)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.set_defaults(command=export_cmd)

    from snn_codec.listen.cli import add_listen_parser

    add_listen_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.command(args)
        sys.stdout.flush()  # a closed pipe shows here rather than at exit
    except BrokenPipeError:  # e.g. `snn-codec compress in.wav - | head -c 10`: stop quietly, like other tools
        _silence_stdout()
        return 1
    except Exception as err:
        message = _failure_message(err)
        if message is None:
            raise
        print(f"snn-codec: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        print(f"snn-codec: {err}" if str(err) else "snn-codec: interrupted", file=sys.stderr)
        return 130
    return 0
