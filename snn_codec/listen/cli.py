"""`snn-codec listen`: build and serve a MUSHRA test, aggregate its results, or write a static report."""

from __future__ import annotations

import argparse
import sys

from snn_codec.errors import CodecError

DESCRIPTION = """\
MUSHRA listening tests (ITU-R BS.1534-3).
  snn-codec listen CLIPS... --model piano-v1 --condition opus@6=DIR   build the test in --test-dir and serve it
  snn-codec listen --test-dir DIR                                    serve a test built before
  snn-codec listen --results DIR                                     screen listeners, scores with 95% CIs
  snn-codec listen --report OUT_DIR CLIPS... --model piano-v1        static HTML report, no server needed
"""


def add_listen_parser(sub: argparse._SubParsersAction) -> None:
    """Registers the `listen` command on the CLI's subparsers."""
    p = sub.add_parser("listen", help="MUSHRA listening test: build and serve it, aggregate results, or a report",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("references", nargs="*", metavar="CLIP", help="reference clips: audio files or folders")
    p.add_argument("--model", action="append", default=[], metavar="[LABEL=]MODEL",
                   help="an snn_codec model to test: shipped name or .safetensors path (repeatable)")
    p.add_argument("--condition", action="append", default=[], metavar="NAME[@KBPS]=DIR",
                   help="an extra condition: a folder of decoded files named like the clips (repeatable)")
    p.add_argument("--test-dir", default="listening_test", help="folder of the test (default: listening_test)")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0 picks a free one)")
    p.add_argument("--seed", type=int, default=0, help="seed of the per-listener randomisation")
    p.add_argument("--sample-rate", type=int, default=48000, help="sample rate of the stimuli (Hz)")
    p.add_argument("--max-duration", type=float, default=12.0, help="seconds of each clip to use (default 12)")
    p.add_argument("--no-serve", action="store_true", help="build the test, do not serve it")
    p.add_argument("--force", action="store_true", help="rebuild an existing test or overwrite a report")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--results", metavar="DIR", help="aggregate the ratings of a test (its folder or results/)")
    mode.add_argument("--report", metavar="OUT_DIR", help="write a static HTML report of the clips and systems")
    p.add_argument("--out", default=None, help="with --results: folder for summary.md and scores.png")
    p.set_defaults(command=listen_cmd)


def listen_cmd(args: argparse.Namespace) -> None:
    if args.results:
        _results_cmd(args)
    elif args.report:
        _report_cmd(args)
    else:
        _test_cmd(args)


def _inputs(args: argparse.Namespace):
    from snn_codec.listen.systems import load_clips, load_systems

    if not args.references:
        raise CodecError("give the reference clips (audio files or folders)")
    if args.max_duration is not None and args.max_duration <= 0:
        raise CodecError("--max-duration must be positive")
    return load_clips(args.references, args.max_duration), load_systems(args.model, args.condition)


def _test_cmd(args: argparse.Namespace) -> None:
    from snn_codec.listen.design import build_test, load_test
    from snn_codec.listen.server import make_server

    if args.references:
        clips, systems = _inputs(args)
        test = build_test(clips, systems, args.test_dir, seed=args.seed, sample_rate=args.sample_rate,
                          force=args.force, progress=True)
        names = ", ".join(test.conditions)
        print(f"test built in {test.folder}: {len(test.clips)} trials, conditions {names}")
    elif args.model or args.condition:
        raise CodecError("--model and --condition need reference clips to process")
    else:
        test = load_test(args.test_dir)
    if args.no_serve:
        return
    server = make_server(test, args.port)
    print(f"serving the test at {server.url} (Ctrl-C to stop); ratings are saved in {test.results_dir}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()


def _results_cmd(args: argparse.Namespace) -> None:
    from snn_codec.listen.results import write_results

    if args.references or args.model or args.condition:
        raise CodecError("--results takes only a folder of results (and --out)")
    _, path = write_results(args.results, args.out)
    print(path.read_text(), end="")
    print(f"written: {path}", file=sys.stderr)


def _report_cmd(args: argparse.Namespace) -> None:
    from snn_codec.listen.report import write_report

    clips, systems = _inputs(args)
    index = write_report(clips, systems, args.report, force=args.force, progress=True)
    print(f"report written: {index}")
