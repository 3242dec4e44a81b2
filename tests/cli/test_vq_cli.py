"""The command line with a VQ model file: compress, decompress and info."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from snn_codec.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compress_decompress_info_with_a_vq_model(tmp_path, make_audio, tiny_vq_model_file, capsys):
    wav = tmp_path / "in.wav"
    sf.write(wav, make_audio(1.5, 16000)[0], 16000)
    snnc = tmp_path / "out.snnc"
    code, out, err = run(capsys, "compress", wav, snnc, "--model", tiny_vq_model_file)
    assert code == 0, err
    code, out, err = run(capsys, "decompress", snnc, tmp_path / "back.wav", "--model", tiny_vq_model_file)
    assert code == 0, err
    back, rate = sf.read(tmp_path / "back.wav")
    assert rate == 16000 and back.shape == (24000,)

    code, out, err = run(capsys, "info", snnc, "--json")
    assert code == 0, err
    fields = json.loads(out)
    assert fields["model"] == "tiny-vq-test" and fields["bottleneck"] == "rvq"
    assert fields["quantizers"] == 2 and fields["codebook_size"] == 32 and fields["frames"] == 75
    assert fields["bitrate_kbps"] == pytest.approx(snnc.stat().st_size * 8 / 1.5 / 1000, abs=1e-3)
    assert not {"neuron_model", "firing_rate", "events", "units"} & set(fields)
    code, out, err = run(capsys, "info", snnc)
    assert code == 0 and "codebook_size" in out and "firing_rate" not in out


def test_forcing_an_event_coder_on_a_vq_model_is_a_one_line_error(tmp_path, make_audio, tiny_vq_model_file, capsys):
    wav = tmp_path / "in.wav"
    sf.write(wav, make_audio(0.5, 8000)[0], 8000)
    code, out, err = run(capsys, "compress", wav, tmp_path / "out.snnc", "--model", tiny_vq_model_file,
                         "--coder", "sparse")
    assert code == 1 and "index-entropy" in err and err.count("\n") == 1
    code, out, err = run(capsys, "compress", wav, tmp_path / "out.snnc", "--model", tiny_vq_model_file,
                         "--coder", "index-fixed")
    assert code == 0, err
