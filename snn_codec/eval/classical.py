"""Classical codecs through their real command-line tools, for comparisons at equal actual bitrate.

Each codec encodes a waveform into its native file (Ogg Opus, MP3, raw codec2 frames), and the bitrate is
measured from the bytes of that file, container included, exactly as for a .snnc file. The file is then
decoded by the codec's own decoder, resampled back to the reference rate, delayed back into place (encoder
and decoder delays, found by cross-correlation, as a gapless player would remove them) and cut or padded
to the reference length.

Tools (Debian packages): opusenc/opusdec (opus-tools), lame (lame), c2enc/c2dec (codec2). codec2 codes
8 kHz 16-bit raw mono; the others take a 16-bit wav at the input's rate and resample internally.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from snn_codec.audio import fit_length, resample
from snn_codec.errors import CodecError
from snn_codec.eval.metrics import bitrate_kbps

CODEC2_RATE = 8000
MAX_DELAY_S = 0.1  # decoders add at most a few tens of ms; a wider search could lock onto repetitions
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ClassicalCodec:
    """A classical codec at one setting: its family ("opus", "mp3", "codec2") and nominal rate."""

    name: str
    family: str
    nominal_kbps: float
    package: str  # the Debian package with its tools
    tools: tuple[str, str]  # encoder, decoder


CLASSICAL_CODECS: dict[str, ClassicalCodec] = {
    codec.name: codec
    for codec in (
        *(ClassicalCodec(f"opus-{k}", "opus", k, "opus-tools", ("opusenc", "opusdec")) for k in (6, 8, 12)),
        *(ClassicalCodec(f"mp3-{k}", "mp3", k, "lame", ("lame", "lame")) for k in (8, 16)),
        *(ClassicalCodec(f"codec2-{m}", "codec2", m / 1000, "codec2", ("c2enc", "c2dec")) for m in (1200, 3200)),
    )
}


@dataclass(frozen=True)
class ClassicalResult:
    """One round trip through a classical codec."""

    codec: ClassicalCodec
    audio: np.ndarray  # (S,) float32, decoded, at `sample_rate`, aligned to the reference
    sample_rate: int
    num_bytes: int  # size of the native encoded file
    duration_s: float
    encode_s: float  # wall-clock seconds of the encoder process
    decode_s: float
    delay_samples: int  # delay removed from the decoded audio, at `sample_rate`

    @property
    def bitrate_kbps(self) -> float:
        return bitrate_kbps(self.num_bytes, self.duration_s)


def classical_codec(name: str) -> ClassicalCodec:
    """The codec called `name` ("opus-6", "mp3-16", "codec2-1200", ...)."""
    if name not in CLASSICAL_CODECS:
        raise CodecError(f"unknown classical codec {name!r}; choose from {', '.join(CLASSICAL_CODECS)}")
    return CLASSICAL_CODECS[name]


def check_tools(codec: ClassicalCodec) -> dict[str, str]:
    """Paths of the codec's programs. Raises CodecError naming the Debian package when one is missing."""
    found = {}
    for tool in codec.tools:
        path = shutil.which(tool)
        if path is None:
            raise CodecError(
                f"{codec.name} needs the {tool} program, which is not installed; install the Debian package "
                f"{codec.package} (apt-get install {codec.package}, or bash scripts/install_system_deps.sh)"
            )
        found[tool] = path
    return found


def run_classical(codec: ClassicalCodec | str, samples: np.ndarray, sample_rate: int) -> ClassicalResult:
    """Encodes mono `samples` with a classical codec, decodes them back and aligns them to the input.

    Args:
        codec: a `ClassicalCodec` or its name.
        samples: (S,) mono float audio in [-1, 1] (louder samples are clipped, as a 16-bit file would be).
        sample_rate: rate of `samples` in Hz.

    Returns:
        A `ClassicalResult`; its bitrate comes from the bytes of the encoded file.

    Raises:
        CodecError: a tool is missing, or it failed.
    """
    codec = classical_codec(codec) if isinstance(codec, str) else codec
    tools = check_tools(codec)
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    with tempfile.TemporaryDirectory(prefix="snn_classical_") as tmp:
        work = Path(tmp)
        source, encoded, decoded = _paths(codec, work)
        if codec.family == "codec2":
            pcm = np.clip(resample(samples[None], sample_rate, CODEC2_RATE)[0], -1, 1)
            (pcm * 32767).round().astype("<i2").tofile(source)
        else:
            sf.write(source, np.clip(samples, -1, 1), sample_rate, subtype="PCM_16")
        encode_command, decode_command = _commands(codec, tools, source, encoded, decoded)
        encode_s = _run(encode_command, codec)
        num_bytes = encoded.stat().st_size
        decode_s = _run(decode_command, codec)
        if codec.family == "codec2":
            out, out_rate = np.fromfile(decoded, dtype="<i2").astype(np.float32) / 32768, CODEC2_RATE
        else:
            out, out_rate = sf.read(decoded, dtype="float32", always_2d=True)
            out = out.mean(axis=1)
    out = resample(out[None], out_rate, sample_rate)[0] if out_rate != sample_rate else out
    delay = estimate_delay(samples, out, int(MAX_DELAY_S * sample_rate), sample_rate)
    aligned = fit_length(out[None, delay:] if delay >= 0 else np.pad(out, (-delay, 0))[None], len(samples))[0]
    return ClassicalResult(codec, aligned.astype(np.float32), sample_rate, num_bytes, len(samples) / sample_rate,
                           encode_s, decode_s, delay)


def estimate_delay(reference: np.ndarray, decoded: np.ndarray, max_lag: int, sample_rate: int) -> int:
    """The lag in [-max_lag, max_lag] samples by which `decoded` trails `reference` (negative: early).

    Coarse first, on 1 ms energy envelopes (parametric codecs such as codec2 synthesise their own phase, so
    only the envelope lines up), then refined to the sample on the waveforms within one envelope step.
    """
    hop = max(1, sample_rate // 1000)
    envelope_lag = _best_lag(_envelope(reference, hop), _envelope(decoded, hop), max_lag // hop) * hop
    shifted = decoded[envelope_lag:] if envelope_lag >= 0 else np.pad(decoded, (-envelope_lag, 0))
    return envelope_lag + _best_lag(reference, shifted, hop)


def _envelope(samples: np.ndarray, hop: int) -> np.ndarray:
    """Mean-removed RMS per block of `hop` samples."""
    blocks = samples[: len(samples) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1))
    return rms - rms.mean()


def _best_lag(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """The lag in [-max_lag, max_lag] that maximises the cross-correlation (FFT-based)."""
    n_fft = 1 << (len(reference) + len(decoded) - 1).bit_length()
    spectrum = np.fft.rfft(decoded, n_fft) * np.conj(np.fft.rfft(reference, n_fft))
    correlation = np.fft.irfft(spectrum, n_fft)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    return int(lags[np.argmax(correlation[lags])])


def _paths(codec: ClassicalCodec, work: Path) -> tuple[Path, Path, Path]:
    suffix = {"opus": ".opus", "mp3": ".mp3", "codec2": ".c2"}[codec.family]
    pcm = ".raw" if codec.family == "codec2" else ".wav"
    return work / f"input{pcm}", work / f"encoded{suffix}", work / f"decoded{pcm}"


def _commands(codec: ClassicalCodec, tools: dict[str, str], source: Path, encoded: Path,
              decoded: Path) -> tuple[list[str], list[str]]:
    """Encoder and decoder command lines for one codec setting."""
    encoder, decoder = (tools[t] for t in codec.tools)
    files = [str(source), str(encoded)], [str(encoded), str(decoded)]
    if codec.family == "opus":  # opusdec writes 48 kHz; the result is resampled afterwards
        return ([encoder, "--quiet", "--bitrate", f"{codec.nominal_kbps:g}", *files[0]],
                [decoder, "--quiet", "--rate", "48000", *files[1]])
    if codec.family == "mp3":  # -b alone is constant bitrate; lame picks a low internal rate
        return ([encoder, "--quiet", "-b", f"{codec.nominal_kbps:g}", *files[0]],
                [decoder, "--quiet", "--decode", *files[1]])
    mode = str(int(round(codec.nominal_kbps * 1000)))
    return [encoder, mode, *files[0]], [decoder, mode, *files[1]]


def _run(command: list[str], codec: ClassicalCodec) -> float:
    """Runs one tool; returns its wall-clock seconds. Raises CodecError when it fails."""
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CodecError(f"{codec.name}: {Path(command[0]).name} took more than {TIMEOUT_S:.0f} s") from None
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or not Path(command[-1]).is_file():
        detail = (result.stderr or result.stdout).strip()[-500:]
        raise CodecError(f"{codec.name}: {Path(command[0]).name} failed (exit {result.returncode}): {detail or 'no output'}")
    return elapsed


__all__ = ["CLASSICAL_CODECS", "ClassicalCodec", "ClassicalResult", "check_tools", "classical_codec",
           "estimate_delay", "run_classical"]
