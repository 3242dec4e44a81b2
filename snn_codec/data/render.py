"""MIDI -> audio with the `fluidsynth` command-line synthesizer and General MIDI soundfonts."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from snn_codec.audio import Audio, check_sample_rate, load_audio
from snn_codec.errors import CodecError

INSTALL_HINT = "run scripts/install_system_deps.sh (Debian/Ubuntu: apt-get install fluidsynth fluid-soundfont-gm)"
SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"), Path("/usr/share/soundfonts"))
SOUNDFONT_FILES = {  # short name -> file names to look for, first found wins
    "fluidr3_gm": ("FluidR3_GM.sf2",),
    "timgm6mb": ("TimGM6mb.sf2",),
    "fluidr3mono_gm": ("FluidR3Mono_GM.sf3", "FluidR3Mono_GM.sf2"),
    "csound_gm": ("sf_GMbank.sf2",),
    "musescore_general": ("MuseScore_General.sf3", "MuseScore_General.sf2"),
}
# Every soundfont above but MuseScore General, which is reserved for independent evaluation. Debian's
# fluid-soundfont-gs is not among them: FluidR3_GS.sf2 only extends FluidR3 GM with GS variations and has
# no bank-0 pianos of its own, so alone it renders silence or stray presets.
TRAINING_SOUNDFONTS = ("fluidr3_gm", "timgm6mb", "fluidr3mono_gm", "csound_gm")
SILENCE_PEAK = 1e-4  # a render whose peak stays below this (-80 dBFS) made no sound
REVERB_KEYS = ("room-size", "damp", "width", "level")  # synth.reverb.* settings of fluidsynth 2.x
DEFAULT_TIMEOUT_S = 600.0


class RenderError(CodecError):
    """fluidsynth or a soundfont is missing, or rendering failed."""


def find_soundfonts(dirs: tuple[Path, ...] = SOUNDFONT_DIRS) -> dict[str, Path]:
    """The known GM soundfonts installed on this machine, keyed by short name (only those that exist)."""
    found: dict[str, Path] = {}
    for name, files in SOUNDFONT_FILES.items():
        for directory in dirs:
            path = next((directory / f for f in files if (directory / f).is_file()), None)
            if path is not None:
                found[name] = path
                break
    return found


def resolve_soundfont(soundfont: str | os.PathLike) -> Path:
    """A short name from `find_soundfonts()` or a path to a .sf2/.sf3 file -> an existing path."""
    if isinstance(soundfont, str) and soundfont in SOUNDFONT_FILES:
        found = find_soundfonts()
        if soundfont not in found:
            raise RenderError(f"soundfont {soundfont!r} is not installed; {INSTALL_HINT}")
        return found[soundfont]
    path = Path(soundfont)
    if not path.is_file():
        known = ", ".join(SOUNDFONT_FILES)
        raise RenderError(f"soundfont {soundfont!s}: no such file (known names: {known}); {INSTALL_HINT}")
    return path


def fluidsynth_command(
    midi_path: Path, soundfont: Path, out_path: Path, sample_rate: int, gain: float,
    reverb: dict[str, float] | None, chorus: bool,
) -> list[str]:
    """The fluidsynth command line that renders `midi_path` to a float wav file `out_path`."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RenderError(f"the fluidsynth program is not installed; {INSTALL_HINT}")
    settings = {
        "synth.reverb.active": "1" if reverb else "0",
        "synth.chorus.active": "1" if chorus else "0",
        "audio.file.type": "wav",
        "audio.file.format": "float",  # no clipping or 16-bit rounding before our own normalization
    }
    for key, value in (reverb or {}).items():
        if key not in REVERB_KEYS:
            raise RenderError(f"unknown reverb setting {key!r}; expected some of {', '.join(REVERB_KEYS)}")
        settings[f"synth.reverb.{key}"] = f"{float(value):.4f}"
    command = [exe, "-n", "-i", "-q", "-g", f"{gain:.4f}", "-r", str(sample_rate), "-F", str(out_path)]
    for key, value in settings.items():
        command += ["-o", f"{key}={value}"]
    return command + [str(soundfont), str(midi_path)]


def render_midi(
    midi_path: str | os.PathLike,
    soundfont: str | os.PathLike,
    out_path: str | os.PathLike | None,
    sample_rate: int,
    *,
    gain: float = 0.5,
    reverb: dict[str, float] | None = None,
    chorus: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Audio:
    """Renders a MIDI file with fluidsynth and returns the (stereo) audio.

    Args:
        midi_path: the .mid file.
        soundfont: a short name from `find_soundfonts()` ("fluidr3_gm", ...) or a .sf2/.sf3 path.
        out_path: where to keep the rendered float wav, or None to render into a temporary file.
        sample_rate: synthesis rate in Hz (fluidsynth accepts 8000-96000).
        gain: fluidsynth master gain (0-10).
        reverb: None or {} for no reverb, else synth.reverb settings: room-size, damp, width, level.
        chorus: whether fluidsynth's chorus is on.
        timeout_s: the rendering is killed after this many seconds.

    Returns:
        The rendered Audio, (2, samples) float32 at `sample_rate`; downmixing is the caller's choice.

    Raises:
        RenderError: fluidsynth or the soundfont is missing, or fluidsynth failed or timed out.
    """
    midi_path = Path(midi_path)
    check_sample_rate(sample_rate)
    if not 8000 <= sample_rate <= 96000:
        raise RenderError(f"fluidsynth renders at 8000-96000 Hz, got {sample_rate}")
    if not midi_path.is_file():
        raise RenderError(f"{midi_path}: no such MIDI file")
    font = resolve_soundfont(soundfont)
    with tempfile.TemporaryDirectory(prefix="snn_render_") as tmp:
        target = Path(out_path) if out_path is not None else Path(tmp) / "render.wav"
        command = fluidsynth_command(midi_path, font, target, sample_rate, gain, reverb, chorus)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RenderError(f"fluidsynth took more than {timeout_s:.0f} s to render {midi_path}") from None
        if result.returncode != 0 or not target.is_file() or target.stat().st_size <= 44:
            detail = (result.stderr or result.stdout).strip()[-2000:]
            raise RenderError(f"fluidsynth failed on {midi_path} (exit {result.returncode}): {detail or 'no output'}")
        audio = load_audio(target)
    if not audio.samples.size or float(abs(audio.samples).max()) < SILENCE_PEAK:
        raise RenderError(f"{font.name} rendered {midi_path.name} as silence: the soundfont has no preset for its "
                          "instruments (a General MIDI soundfont is needed)")
    return audio
