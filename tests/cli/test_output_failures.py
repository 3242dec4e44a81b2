"""Failures on the output side (unwritable folders, a full disk, a closed pipe, a file that appears while
ours is written) are one `snn-codec: error:` line and exit 1, never a traceback; batches go on."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import soundfile as sf

from snn_codec import api
from snn_codec.bitstream.stream import ContainerWriter
from snn_codec.cli import main


@pytest.fixture
def wav(tmp_path, make_audio):
    path = tmp_path / "in.wav"
    sf.write(path, make_audio(1.0, 8000)[0], 8000)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(code, err, *words):
    lines = err.strip().splitlines()
    assert code == 1 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("snn-codec: error: "), err
    assert all(word in lines[0] for word in words), err


@pytest.fixture
def snnc_files(tmp_path, wav, tiny_model_file, capsys):
    folder = tmp_path / "snnc"
    folder.mkdir()
    for name in ("a", "b", "c"):
        assert run(capsys, "compress", wav, folder / f"{name}.snnc", "--model", tiny_model_file)[0] == 0
    return folder


def read_only(monkeypatch, folder: Path):
    """Root may write anywhere, so a read-only folder is simulated where its temporary file is created."""
    original = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).resolve() == folder.resolve():
            raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / ".x.part"))
        return original(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_a_read_only_folder_is_one_line(tmp_path, wav, snnc_files, tiny_model_file, capsys, monkeypatch, command):
    out = tmp_path / "ro"
    out.mkdir()
    read_only(monkeypatch, out)
    source = wav if command == "compress" else snnc_files / "a.snnc"
    target = out / ("x.snnc" if command == "compress" else "x.wav")
    code, _, err = run(capsys, command, source, target, "--model", tiny_model_file)
    one_error_line(code, err, "permission denied", str(out))
    assert list(out.iterdir()) == []


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path, wav, tiny_model_file, capsys):
    code, _, err = run(capsys, "compress", wav, "-o", wav / "sub", "--model", tiny_model_file)
    one_error_line(code, err, "not a folder")
    code, _, err = run(capsys, "compress", wav, wav / "x.snnc", "--model", tiny_model_file)
    one_error_line(code, err, "is a file, not a folder")


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, wav, snnc_files, tiny_model_file, capsys, monkeypatch):
    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(ContainerWriter, "_write", full)
        code, _, err = run(capsys, "compress", wav, tmp_path / "full.snnc", "--model", tiny_model_file)
    one_error_line(code, err, "no space left")
    assert not (tmp_path / "full.snnc").exists()

    def full_audio(self, *args, **kwargs):
        raise sf.LibsndfileError(errno.ENOSPC, "Error writing audio: ")

    monkeypatch.setattr(sf.SoundFile, "write", full_audio)
    code, _, err = run(capsys, "decompress", snnc_files / "a.snnc", tmp_path / "full.wav", "--model", tiny_model_file)
    one_error_line(code, err, "cannot write the audio file")
    assert not (tmp_path / "full.wav").exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".part"]


def test_a_batch_reports_every_failure_goes_on_and_summarises(tmp_path, snnc_files, tiny_model_file, capsys,
                                                              monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    read_only(monkeypatch, out)
    code, _, err = run(capsys, "decompress", snnc_files, "-o", out, "--model", tiny_model_file)
    lines = [line[line.index("snn-codec"):] for line in err.splitlines() if "snn-codec" in line]  # no progress bar
    assert code == 1 and "Traceback" not in err and len(lines) == 4, err
    assert all("permission denied" in line for line in lines[:3])
    assert [Path(line.split(": ")[2]).name for line in lines[:3]] == ["a.snnc", "b.snnc", "c.snnc"]
    assert lines[3] == "snn-codec: error: 3 of 3 files failed (0 written); see the errors above"

    (snnc_files / "b.snnc").write_bytes((snnc_files / "b.snnc").read_bytes() + b"\x00")  # trailing byte
    code, _, err = run(capsys, "decompress", snnc_files, "-o", tmp_path / "out", "--model", tiny_model_file)
    assert code == 1 and "b.snnc: corrupted" in err and "1 of 3 files failed (2 written)" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.decoded.wav", "c.decoded.wav"]


def test_an_output_that_is_its_input_is_refused(tmp_path, snnc_files, tiny_model_file, capsys):
    same = snnc_files / "a.snnc"
    code, _, err = run(capsys, "decompress", same, same, "--model", tiny_model_file)
    one_error_line(code, err, "more than once")
    alias = tmp_path / "alias.wav"
    os.link(same, alias)  # another name of the same file
    code, _, err = run(capsys, "decompress", same, alias, "--model", tiny_model_file, "--force")
    one_error_line(code, err, "is also the input")
    assert alias.read_bytes() == same.read_bytes()


def test_a_file_that_appears_while_ours_is_written_is_never_replaced(tmp_path, wav, tiny_model_file, capsys,
                                                                     monkeypatch):
    """Two compressions to one new path: the check before encoding passes for both; the link refuses the later."""
    target = tmp_path / "race.snnc"
    original = api.compress_to

    def other_writer_finishes_first(source, out, *args, **kwargs):
        target.write_bytes(b"the other file")
        return original(source, out, *args, **kwargs)

    monkeypatch.setattr(api, "compress_to", other_writer_finishes_first)
    code, _, err = run(capsys, "compress", wav, target, "--model", tiny_model_file)
    one_error_line(code, err, "exists", "--force")
    assert target.read_bytes() == b"the other file" and not [p for p in tmp_path.iterdir() if p.suffix == ".part"]
    assert run(capsys, "compress", wav, target, "--model", tiny_model_file, "--force")[0] == 0
    assert target.read_bytes()[:4] == b"SNNC"


def test_the_library_refuses_to_replace_without_overwrite(tmp_path, wav, tiny_codec):
    target = tmp_path / "x.snnc"
    target.write_bytes(b"keep")
    with pytest.raises(api.CodecError, match="exists"):
        api.compress_file(wav, target, model=tiny_codec, overwrite=False)
    assert target.read_bytes() == b"keep"
    api.compress_file(wav, target, model=tiny_codec)  # the default replaces, as before
    assert target.read_bytes()[:4] == b"SNNC"


class ClosedPipe(io.RawIOBase):
    def writable(self):
        return True

    def write(self, data):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


@pytest.mark.parametrize("command", ["compress", "decompress", "info"])
def test_a_closed_pipe_ends_quietly(tmp_path, wav, snnc_files, tiny_model_file, capsys, monkeypatch, command):
    stdout = io.TextIOWrapper(io.BufferedWriter(ClosedPipe()))
    monkeypatch.setattr(sys, "stdout", stdout)
    argv = {"compress": [wav, "-"], "decompress": [snnc_files / "a.snnc", "-"], "info": [snnc_files / "a.snnc"]}
    model = ["--model", tiny_model_file] if command != "info" else []
    code = main([str(a) for a in [command, *argv[command], *model]])
    assert code == 1 and capsys.readouterr().err == ""


def test_a_closed_pipe_in_a_real_process_prints_no_traceback(wav, tiny_model_file):
    """`snn-codec compress in.wav - | head -c 0`: the reader is gone before the first byte."""
    process = subprocess.Popen([sys.executable, "-m", "snn_codec", "compress", str(wav), "-", "--model",
                                str(tiny_model_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1 and "Traceback" not in err and "Exception ignored" not in err, err
