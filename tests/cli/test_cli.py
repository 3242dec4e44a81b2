"""The command line, through main([...]): round trips, output rules and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from snn_codec.cli import main


@pytest.fixture
def wav(tmp_path, make_audio):
    path = tmp_path / "in.wav"
    sf.write(path, make_audio(1.5, 44100, channels=2).T, 44100)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compress_decompress_info(tmp_path, wav, tiny_model_file, capsys):
    snnc = tmp_path / "out.snnc"
    code, out, err = run(capsys, "compress", wav, snnc, "--model", tiny_model_file)
    assert code == 0, err
    assert "downmixing 2 channels" in err and "kbps" in out
    code, out, err = run(capsys, "decompress", snnc, tmp_path / "back.wav", "--model", tiny_model_file)
    assert code == 0, err
    back, rate = sf.read(tmp_path / "back.wav")
    assert rate == 44100 and back.shape == (int(1.5 * 44100), 2)
    code, out, err = run(capsys, "info", snnc, "--json")
    assert code == 0, err
    fields = json.loads(out)
    assert fields["bytes"] == snnc.stat().st_size
    assert fields["bitrate_kbps"] == pytest.approx(snnc.stat().st_size * 8 / 1.5 / 1000, abs=1e-3)
    assert fields["model"] == "tiny-test" and fields["channels"] == 2 and fields["sample_rate_hz"] == 44100


def test_outputs_are_inferred_and_never_overwritten_without_force(tmp_path, wav, tiny_model_file, capsys):
    assert run(capsys, "compress", wav, "--model", tiny_model_file)[0] == 0
    inferred = tmp_path / "in.snnc"
    assert inferred.is_file()
    before = inferred.read_bytes()
    code, _, err = run(capsys, "compress", wav, "--model", tiny_model_file)
    assert code == 1 and "exists; pass --force" in err
    assert run(capsys, "compress", wav, "--model", tiny_model_file, "--force")[0] == 0
    assert inferred.read_bytes() == before
    assert run(capsys, "decompress", inferred, "--model", tiny_model_file)[0] == 0
    assert (tmp_path / "in.decoded.wav").is_file()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part") or p.name.startswith("."))


@pytest.mark.parametrize(
    "make_input,message",
    [
        (lambda d: d / "missing.wav", "no such file"),
        (lambda d: (d / "notes.txt").write_text("hello") and d / "notes.txt", "not a readable audio file"),
        (lambda d: sf.write(d / "empty.wav", np.zeros((0, 1)), 8000) or d / "empty.wav", "no audio samples"),
        (lambda d: d, "no .wav/.flac/.ogg/.mp3 files in this folder"),
    ],
)
def test_bad_audio_input_is_a_one_line_error(tmp_path, tiny_model_file, capsys, make_input, message):
    folder = tmp_path / "work"
    folder.mkdir()
    source = make_input(folder)
    code, out, err = run(capsys, "compress", source, tmp_path / "out.snnc", "--model", tiny_model_file)
    assert code == 1
    assert message in err and err.startswith("snn-codec: error:") and err.count("\n") == 1
    assert not (tmp_path / "out.snnc").exists() and leftovers(tmp_path) == []


def snnc_bytes(tmp_path, wav, tiny_model_file, capsys) -> bytes:
    path = tmp_path / "good.snnc"
    assert run(capsys, "compress", wav, path, "--model", tiny_model_file)[0] == 0
    return path.read_bytes()


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:3], "truncated"),
        (lambda b: b"", "empty input"),
        (lambda b: b[:72] + bytes([b[72] ^ 0x10]) + b[73:], "checksum"),
        (lambda b: b"RIFF" + b[4:], "not a .snnc file"),
        (lambda b: b[:4] + b"\x09" + b[5:], "unsupported .snnc version"),
        (lambda b: b + b"\x00", "after the last chunk"),
        (lambda b: b + b, "after the last chunk"),  # a second copy appended
    ],
)
@pytest.mark.parametrize("command", ["decompress", "info"])
def test_damaged_files_are_one_line_errors(tmp_path, wav, tiny_model_file, capsys, damage, message, command):
    bad = tmp_path / "bad.snnc"
    bad.write_bytes(damage(snnc_bytes(tmp_path, wav, tiny_model_file, capsys)))
    out_wav = tmp_path / "bad.wav"
    argv = [command, bad] + ([out_wav, "--model", tiny_model_file] if command == "decompress" else [])
    code, out, err = run(capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1
    assert not out_wav.exists() and leftovers(tmp_path) == []


def test_unknown_model_is_a_one_line_error(tmp_path, wav, capsys):
    code, _, err = run(capsys, "compress", wav, tmp_path / "x.snnc", "--model", "no-such-model")
    assert code == 1 and "unknown model 'no-such-model'" in err
    assert not (tmp_path / "x.snnc").exists()


def test_decoding_with_the_wrong_model_is_a_one_line_error(tmp_path, wav, tiny_model_file, capsys):
    import torch

    from snn_codec.codec import Codec
    from snn_codec.model_io import load_model, save_model

    snnc = tmp_path / "good.snnc"
    assert run(capsys, "compress", wav, snnc, "--model", tiny_model_file)[0] == 0
    torch.manual_seed(1)
    other = save_model(Codec(load_model(tiny_model_file).config), tmp_path / "other.safetensors")
    code, _, err = run(capsys, "decompress", snnc, tmp_path / "o.wav", "--model", other)
    assert code == 1 and "written by model" in err and not (tmp_path / "o.wav").exists()


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compress"])
    assert exc.value.code == 2


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_every_input_format_round_trips(tmp_path, tiny_model_file, make_audio, capsys, suffix):
    source = tmp_path / f"in{suffix}"
    sf.write(source, make_audio(1.0, 22050).T, 22050)
    assert run(capsys, "compress", source, "--model", tiny_model_file)[0] == 0
    code, _, err = run(capsys, "decompress", tmp_path / "in.snnc", tmp_path / "out.flac", "--model", tiny_model_file)
    assert code == 0, err
    expected = sf.info(source).frames  # mp3 and ogg decoders may pad a little; we restore what was read
    back, rate = sf.read(tmp_path / "out.flac")
    assert rate == 22050 and len(back) == expected


def test_demo_writes_the_compressed_file_the_decoded_audio_and_a_figure(tmp_path, wav, tiny_model_file, capsys):
    out = tmp_path / "demo"
    code, stdout, err = run(capsys, "demo", "--out", out, "--input", wav, "--model", tiny_model_file, "--no-visqol")
    assert code == 0, err
    assert (out / "in.snnc").is_file() and (out / "in.png").stat().st_size > 10_000
    decoded, rate = sf.read(out / "in.decoded.wav")
    assert rate == 44100 and decoded.shape == (int(1.5 * 44100), 2)
    for label in ("kbps", "firing rate", "SI-SDR", "log-mel distance", "real time"):
        assert label in stdout


def test_batch_over_a_folder_and_a_glob_with_a_summary(tmp_path, tiny_model_file, make_audio, capsys):
    music = tmp_path / "music"
    (music / "sub").mkdir(parents=True)
    for name in ("a.wav", "sub/b.flac"):
        sf.write(music / name, make_audio(0.5, 16000).T, 16000)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "compress", music, "-o", out, "--model", tiny_model_file)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["a.snnc", "b.snnc"]
    assert "compressed 2 files" in stdout
    code, stdout, err = run(capsys, "decompress", str(out / "*.snnc"), "--model", tiny_model_file)
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.wav")) == ["a.decoded.wav", "b.decoded.wav"]
    assert "decompressed 2 files" in stdout


def test_a_bad_file_in_a_batch_is_reported_and_the_rest_done(tmp_path, tiny_model_file, make_audio, capsys):
    sf.write(tmp_path / "good.wav", make_audio(0.5, 16000).T, 16000)
    (tmp_path / "bad.wav").write_bytes(b"not audio at all")
    code, stdout, err = run(capsys, "compress", tmp_path / "bad.wav", tmp_path / "good.wav", "tmp_extra_missing.wav",
                            "--model", tiny_model_file)
    assert code == 1
    assert (tmp_path / "good.snnc").is_file() and not (tmp_path / "bad.snnc").exists()
    assert "bad.wav" in err and "tmp_extra_missing.wav" in err and "2 of 3 files failed" in err


def test_an_empty_glob_is_an_error(tmp_path, tiny_model_file, capsys):
    code, _, err = run(capsys, "compress", str(tmp_path / "*.wav"), "--model", tiny_model_file)
    assert code == 1 and "no file matches" in err


def test_pipes_through_stdin_and_stdout(tmp_path, wav, tiny_model_file):
    """compress IN - | decompress - OUT, with the installed command in a real shell pipe."""
    import subprocess
    import sys

    command = (f"{sys.executable} -m snn_codec compress {wav} - --model {tiny_model_file} | "
               f"{sys.executable} -m snn_codec decompress - {tmp_path / 'piped.wav'} --model {tiny_model_file}")
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    back, rate = sf.read(tmp_path / "piped.wav")
    assert rate == 44100 and back.shape == (int(1.5 * 44100), 2)
    result = subprocess.run(f"cat {wav} | {sys.executable} -m snn_codec compress - --model {tiny_model_file} | "
                            f"{sys.executable} -m snn_codec decompress - - --model {tiny_model_file} > "
                            f"{tmp_path / 'twice.wav'}", shell=True, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sf.read(tmp_path / "twice.wav")[0].shape == back.shape


def test_decompress_a_part(tmp_path, wav, tiny_model_file, capsys):
    snnc = tmp_path / "in.snnc"
    assert run(capsys, "compress", wav, snnc, "--model", tiny_model_file)[0] == 0
    code, _, err = run(capsys, "decompress", snnc, tmp_path / "part.wav", "--start", "0.5", "--duration", "0.25",
                       "--model", tiny_model_file)
    assert code == 0, err
    part, rate = sf.read(tmp_path / "part.wav")
    assert rate == 44100 and part.shape == (round(0.25 * 44100), 2)


def test_decompress_in_float32_gives_the_reference_audio(tmp_path, wav, tiny_model_file, capsys):
    import snn_codec

    snnc = tmp_path / "in.snnc"
    assert run(capsys, "compress", wav, snnc, "--model", tiny_model_file)[0] == 0
    code, _, err = run(capsys, "decompress", snnc, tmp_path / "f32.wav", "--precision", "float32",
                       "--model", tiny_model_file)
    assert code == 0, err
    reference = snn_codec.decompress(snnc.read_bytes(), model=snn_codec.load_model(tiny_model_file),
                                     precision="float32").samples
    written, _ = sf.read(tmp_path / "f32.wav", dtype="float32", always_2d=True)
    assert np.allclose(written.T, reference, atol=1e-4)  # 16-bit WAV by default
    with pytest.raises(SystemExit) as exit_:
        main(["decompress", str(snnc), str(tmp_path / "x.wav"), "--precision", "double"])
    assert exit_.value.code == 2 and "--precision: invalid choice" in capsys.readouterr().err


def test_compress_in_float32_writes_the_reference_file(tmp_path, wav, tiny_model_file, capsys):
    import snn_codec
    from snn_codec.cli import PRECISION_CHOICES
    from snn_codec.codec import PRECISIONS

    assert PRECISION_CHOICES == PRECISIONS
    snnc = tmp_path / "f32.snnc"
    code, _, err = run(capsys, "compress", wav, snnc, "--precision", "float32", "--model", tiny_model_file)
    assert code == 0, err
    model = snn_codec.load_model(tiny_model_file)
    assert snnc.read_bytes() == snn_codec.compress(str(wav), model=model, precision="float32")
    with pytest.raises(SystemExit) as exit_:
        main(["compress", str(wav), str(tmp_path / "x.snnc"), "--precision", "half"])
    assert exit_.value.code == 2 and "--precision: invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "x.snnc").exists()


def test_synth_piano_builds_a_corpus(tmp_path, capsys):
    import shutil

    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed (scripts/install_system_deps.sh installs it)")
    code, out, err = run(capsys, "data", "synth-piano", "--out", tmp_path / "corpus", "--pieces", "2",
                         "--duration", "2", "--validation-fraction", "0.5")
    assert code == 0, err
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert len(list((tmp_path / "corpus" / "train").glob("*.flac"))) == 1
    # the validation piece is rendered with every training soundfont (all but MuseScore General)
    fonts = {p["soundfont"] for p in manifest["pieces"] if p["split"] == "validation"}
    assert fonts == {"fluidr3_gm", "timgm6mb", "fluidr3mono_gm", "csound_gm"}
    assert len(list((tmp_path / "corpus" / "validation").glob("*.json"))) == len(fonts)


def test_synth_piano_refuses_the_reserved_soundfont(tmp_path, capsys):
    code, _, err = run(capsys, "data", "synth-piano", "--out", tmp_path / "c", "--soundfonts", "musescore_general")
    assert code == 1 and "reserved" in err


@pytest.mark.parametrize("kind,options", [("threshold", {}), ("snntorch_leaky", {"beta": 0.8})])
def test_export_nir_writes_a_graph_nir_can_read(tmp_path, tiny_config, capsys, kind, options):
    from dataclasses import replace

    import nir
    import torch

    from snn_codec.codec import Codec
    from snn_codec.model_io import save_model

    torch.manual_seed(0)
    config = replace(tiny_config, bottleneck={"kind": kind, "units": 8, **options})
    model = save_model(Codec(config).eval(), tmp_path / f"{kind}.safetensors")
    code, out, err = run(capsys, "export-nir", model, tmp_path / "b.nir")
    assert code == 0, err
    graph = nir.read(str(tmp_path / "b.nir"))
    assert {"input", "output"} <= set(graph.nodes) and len(graph.nodes) == 4
    assert run(capsys, "export-nir", model, tmp_path / "b.nir")[0] == 1  # no overwrite without --force


def test_synth_piano_help_shows_the_number_of_pieces(capsys):
    with pytest.raises(SystemExit):
        main(["data", "synth-piano", "--help"])
    assert "(default: 240;" in " ".join(capsys.readouterr().out.split())


def test_a_trained_model_is_found_by_its_name_for_decompression(tmp_path, wav, tiny_codec, capsys, monkeypatch):
    """Files written by a model that does not ship decompress without --model when the model file is beside
    them, in the current folder or in runs/*/; otherwise the error says which model to pass."""
    from snn_codec.model_io import save_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "my-run").mkdir(parents=True)
    model = save_model(tiny_codec, tmp_path / "runs" / "my-run" / "model.safetensors")
    snnc = tmp_path / "music" / "a.snnc"
    snnc.parent.mkdir()
    assert run(capsys, "compress", wav, snnc, "--model", model)[0] == 0
    assert run(capsys, "decompress", snnc, tmp_path / "1.wav")[0] == 0  # found in runs/*/
    beside = snnc.parent / "mine.safetensors"
    model.rename(beside)
    assert run(capsys, "decompress", snnc, tmp_path / "2.wav")[0] == 0  # found beside the file
    beside.rename(tmp_path / "elsewhere.bin")
    code, _, err = run(capsys, "decompress", snnc, tmp_path / "3.wav")
    assert code == 1 and "written by model 'tiny-test'" in err and "pass the .safetensors file of that model" in err


def test_quantize_writes_an_integer_model_that_compresses(tmp_path, wav, tiny_model_file, capsys):
    out = tmp_path / "tiny-w8.safetensors"
    code, stdout, err = run(capsys, "quantize", tiny_model_file, out, "--weight-bits", "8", "--input-bits", "8")
    assert code == 0, err
    assert str(out) in stdout and out.is_file()
    assert run(capsys, "quantize", tiny_model_file, out)[0] == 1  # exists: --force needed
    snnc = tmp_path / "q.snnc"
    code, _, err = run(capsys, "compress", wav, snnc, "--model", out)
    assert code == 0, err
    code, _, err = run(capsys, "decompress", snnc, tmp_path / "q.wav", "--model", out)
    assert code == 0, err
