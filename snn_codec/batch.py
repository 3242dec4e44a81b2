"""Which files a command works on: one input and output, several files, folders, globs, or `-` for
standard input and output. Used by the CLI; each job is then one library call."""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from snn_codec.errors import CodecError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
STDIO = "-"


@dataclass(frozen=True)
class Job:
    input: str  # a path, or "-" for standard input
    output: str  # a path, or "-" for standard output


def _expand(path: str, input_suffixes: tuple[str, ...]) -> list[str]:
    if path == STDIO:
        return [path]
    if Path(path).is_dir():
        found = sorted(str(p) for p in Path(path).rglob("*") if p.suffix.lower() in input_suffixes)
        if not found:
            raise CodecError(f"{path}: no {'/'.join(input_suffixes)} files in this folder")
        return found
    if glob.has_magic(path):
        found = sorted(p for p in glob.glob(path, recursive=True) if Path(p).is_file())
        if not found:
            raise CodecError(f"{path}: no file matches this pattern")
        return found
    return [path]


def plan_jobs(
    paths: list[str],
    out_dir: str | None,
    input_suffixes: tuple[str, ...],
    output_suffixes: tuple[str, ...],
    default_suffix: str,
) -> list[Job]:
    """Turns command-line paths into jobs.

    `IN OUT` (two paths, the second `-` or with an output suffix) is one job; otherwise every path (a file,
    a folder searched recursively, or a glob) is an input whose output goes beside it, or into `out_dir`,
    named `<stem><default_suffix>`.
    """
    if len(paths) == 2 and out_dir is None and not Path(paths[0]).is_dir() and not glob.has_magic(paths[0]):
        if paths[1] == STDIO or Path(paths[1]).suffix.lower() in output_suffixes:
            return [Job(paths[0], paths[1])]
    inputs = [p for path in paths for p in _expand(path, input_suffixes)]
    twice = sorted({p for p in inputs if inputs.count(p) > 1})
    if twice:
        raise CodecError(f"{twice[0]} is given more than once; name each input once (an output name ends in "
                         f"{' or '.join(output_suffixes)})")
    if STDIO in inputs and len(inputs) > 1:
        raise CodecError("'-' (standard input) must be the only input")
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    jobs = []
    for item in inputs:
        stem = "stdin" if item == STDIO else Path(item).stem
        folder = Path(out_dir) if out_dir is not None else Path(item).parent
        jobs.append(Job(item, STDIO if item == STDIO and out_dir is None else str(folder / (stem + default_suffix))))
    outputs = [job.output for job in jobs if job.output != STDIO]
    if len(set(outputs)) != len(outputs):
        raise CodecError("two inputs would write the same output (same name in different folders); use separate runs")
    return jobs


def check_overwrite(output: str, force: bool) -> None:
    """Refuses an existing output early, before any work; the write itself checks again (see `atomic_output`)."""
    if output != STDIO and Path(output).exists() and not force:
        raise CodecError(f"{output} exists; pass --force to overwrite it")


def check_not_input(job: Job) -> None:
    """Refuses a job whose output is its own input (the same name, or another name of the same file)."""
    if STDIO in (job.input, job.output) or not (Path(job.input).exists() and Path(job.output).exists()):
        return
    if os.path.samefile(job.input, job.output):
        raise CodecError(f"{job.output} is also the input; choose another output name")


@contextmanager
def readable_path(source: str) -> Iterator[str]:
    """A path to read: the file itself, or standard input spooled to a temporary file."""
    if source != STDIO:
        yield source
        return
    with tempfile.NamedTemporaryFile(prefix="snn_codec_stdin_") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
        spool.flush()
        yield spool.name


@contextmanager
def writable_path(output: str, suffix: str) -> Iterator[str]:
    """A path to write: the target itself, or a temporary file copied to standard output when complete."""
    if output != STDIO:
        yield output
        return
    folder = tempfile.mkdtemp(prefix="snn_codec_stdout_")
    try:
        path = os.path.join(folder, "out" + suffix)
        yield path
        with open(path, "rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
