"""Where a reconstruction goes wrong, beyond one average: per-band log-mel error, noise fill in quiet
cells, weak loud cells, and the noise that fills the space between partials.

- Band errors: the log-mel distance of `snn_codec.eval.metrics` (80 bands, -80 dB floor) restricted to the
  mel bands centred below `LOW_HZ`, between `LOW_HZ` and `HIGH_HZ`, and above `HIGH_HZ`.
- Quiet excess / loud deficit: the mean signed error (estimate - reference, dB) over the cells where the
  reference is near silent (below -60 dB), and over its loudest 10 % of cells. Positive quiet excess is
  noise filled in; negative loud deficit is partials rendered too weak. The cells are chosen by the
  reference's level, so any error, even an unbiased one, pulls both away from 0 (regression to the
  mean): compare systems with each other, not with 0. Quiet share: the percentage of cells whose reference is
  near silent; quiet error share: those cells' percentage of the summed |dB error| (of the log-mel distance).
- Partial contrast: on a fine STFT (about 5 Hz bins, 186 ms at 44.1 kHz), from `HIGH_HZ` to `FINE_TOP_HZ`
  (partials are strong there, and every compared codec passes it), the level of
  each frame's mean bin power minus the level of its geometric mean (dB; minus the spectral flatness):
  how far the partials stand above the floor between them. White noise has 2.5 dB; a clean harmonic
  spectrum tens of dB. A decoder that fills the gaps with noise lowers it. The diagnostic is the
  estimate's contrast minus the reference's (0 is perfect, negative is noise between partials), over
  frames where the reference is not silent.
- Fine log-spectral distance: mean |dB difference| of those fine-STFT bins, where
  inter-harmonic noise counts bin by bin instead of averaged away inside wide mel bands.
  A fine bin holds a small share of a mel band's power, so the fine levels are floored at
  `FINE_RANGE_DB` below the reference's loudest bin instead of at the metric's absolute -80 dB.
"""

from __future__ import annotations

import numpy as np
import torch

from snn_codec.eval.metrics import POWER_FLOOR, log_mel_db
from snn_codec.spectral import analysis_fft_size, mel_filterbank, stft_magnitude

LOW_HZ = 500.0
HIGH_HZ = 2000.0
QUIET_DB = -60.0
FINE_WINDOW_S = 0.186
FINE_RANGE_DB = 90.0
FINE_TOP_HZ = 8000.0  # where piano partials are strong, and below every compared codec's cut-off


def _db(power: torch.Tensor) -> np.ndarray:
    return (10 * power.clamp_min(POWER_FLOOR).log10()).numpy()


def mel_band_centres_hz(sample_rate: int) -> np.ndarray:
    """Centre frequency (Hz) of each of the 80 mel bands of the log-mel metric."""
    bank = mel_filterbank(sample_rate, analysis_fft_size(sample_rate)).numpy()
    freqs = np.linspace(0.0, sample_rate / 2, bank.shape[1])
    return freqs[bank.argmax(axis=1)]


def _fine_power(audio: np.ndarray, sample_rate: int) -> torch.Tensor:
    """Power of the fine STFT's bins from HIGH_HZ to FINE_TOP_HZ: (bins, frames)."""
    n_fft = 2 ** round(np.log2(FINE_WINDOW_S * sample_rate))
    tensor = torch.from_numpy(np.asarray(audio, dtype=np.float32).reshape(1, -1))
    power = stft_magnitude(tensor, n_fft, n_fft // 4)[0].square()
    freqs = np.linspace(0.0, sample_rate / 2, power.shape[0])
    return power[torch.from_numpy((freqs >= HIGH_HZ) & (freqs <= FINE_TOP_HZ))]


def _contrast_db(levels_db: np.ndarray) -> np.ndarray:
    """(bins, frames) levels in dB -> level of the mean power minus the mean level, per frame."""
    mean_power_db = 10 * np.log10(np.mean(10 ** (levels_db / 10), axis=0))
    return mean_power_db - levels_db.mean(axis=0)


def spectral_diagnostics(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Every diagnostic of the module docstring for mono `estimate` against `reference` (same length, dB)."""
    ref, est = log_mel_db(reference, sample_rate)[0].numpy(), log_mel_db(estimate, sample_rate)[0].numpy()
    centres = mel_band_centres_hz(sample_rate)
    error = np.abs(est - ref)
    bands = {"low": centres < LOW_HZ, "mid": (centres >= LOW_HZ) & (centres < HIGH_HZ), "high": centres >= HIGH_HZ}
    result = {f"log_mel_{name}_db": float(error[rows].mean()) for name, rows in bands.items()}
    quiet, loud = ref < QUIET_DB, ref >= np.quantile(ref, 0.9)
    result["quiet_share"] = 100 * float(quiet.mean())
    result["quiet_error_share"] = 100 * float(error[quiet].sum() / max(error.sum(), 1e-12))
    result["quiet_excess_db"] = float((est - ref)[quiet].mean()) if quiet.any() else 0.0
    result["loud_deficit_db"] = float((est - ref)[loud].mean())
    power_ref, power_est = _fine_power(reference, sample_rate), _fine_power(estimate, sample_rate)
    floor = max(float(power_ref.max()), POWER_FLOOR) * 10 ** (-FINE_RANGE_DB / 10)
    fine_ref = 10 * np.log10(power_ref.clamp_min(floor).numpy())
    fine_est = 10 * np.log10(power_est.clamp_min(floor).numpy())
    active = _db(power_ref.sum(dim=0)) > QUIET_DB
    result["fine_lsd_high_db"] = float(np.abs(fine_est - fine_ref).mean())
    if active.any():
        contrast_ref, contrast_est = _contrast_db(fine_ref[:, active]), _contrast_db(fine_est[:, active])
        result["partial_contrast_db"] = float(contrast_ref.mean())
        result["partial_contrast_loss_db"] = float((contrast_est - contrast_ref).mean())
    else:
        result["partial_contrast_db"] = result["partial_contrast_loss_db"] = 0.0
    return result
