#!/usr/bin/env bash
# Debian packages the corpus builder needs: FluidSynth and General MIDI soundfonts.
# Also Chromium and its WebDriver, for the browser test of the listening-test page.
# Safe to run twice; skips work when everything is already installed.
set -euo pipefail
# Every Debian GM soundfont except MuseScore General, which stays reserved for evaluation (benchmarks/setup.sh).
PACKAGES=(fluidsynth fluid-soundfont-gm fluidr3mono-gm-soundfont timgm6mb-soundfont csound-soundfont chromium chromium-driver)
PACKAGES+=(opus-tools lame codec2)  # classical codecs: tests/eval/test_classical.py, benchmarks/run.py
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
