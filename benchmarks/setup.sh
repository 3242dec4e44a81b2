#!/usr/bin/env bash
# Extra Debian packages the benchmarks use: the MuseScore General soundfont, reserved for evaluation
# (piano timbre that no training corpus uses).
set -euo pipefail
bash "$(dirname "$0")/../scripts/install_system_deps.sh"
if ! dpkg -s musescore-general-soundfont >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends musescore-general-soundfont >/dev/null
fi
