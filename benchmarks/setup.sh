#!/usr/bin/env bash
# Extra packages the benchmarks use (safe to run twice):
# - Debian: the MuseScore General soundfont, reserved for evaluation (piano timbre that no training corpus
#   uses); flite and espeak-ng, speech synthesisers for the comparison's speech clips. The classical codec
#   tools (opus-tools, lame, codec2) come with scripts/install_system_deps.sh, since the tests use them.
# - pip: the EnCodec and DAC packages, speed peers of benchmarks/run.py, installed with --no-deps into
#   .venv/benchmark-peers, outside site-packages, so that torch stays the local CPU build and pip check
#   stays clean: they declare torchaudio, whose wheels on the package index are CUDA builds that do not
#   load with our torch. Their model classes need only torch, numpy and einops (installed already);
#   benchmarks/peers.py imports them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
BENCH_PACKAGES=(musescore-general-soundfont flite espeak-ng)
missing=()
for pkg in "${BENCH_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PEERS_DIR=.venv/benchmark-peers
if ! [ -x .venv/bin/python ]; then
  echo "no .venv yet: run make install, then this script again for the neural speed peers" >&2
elif ! [ -d "$PEERS_DIR/encodec" ] || ! [ -d "$PEERS_DIR/dac" ]; then
  .venv/bin/pip install -q --no-deps --upgrade --target "$PEERS_DIR" encodec==0.1.1 descript-audio-codec==1.0.0
  .venv/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
fi
