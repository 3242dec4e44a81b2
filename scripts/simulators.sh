#!/usr/bin/env bash
# One virtual environment per neuromorphic simulator, for benchmarks/simulators.py (docs/nir.md):
#   .venvs/rockpool  Rockpool 3.1.0 (torch backend)
#   .venvs/sinabs    Sinabs 3.1.3, which pins nir <= 1.0.4 (hence its own environment)
#   .venvs/spyx      Spyx 1.0.0 on CPU JAX
# Each runs benchmarks/simulators/run_<name>.py and nothing of snn_codec. Versions are pinned; torch comes
# first as torch==2.13.0, the local CPU build the main environment uses, so that no CUDA build is pulled.
# Safe to run twice: an environment whose pins have not changed is left alone. Usage:
#   bash scripts/simulators.sh [rockpool] [sinabs] [spyx]      (default: all three)
# Lava-dl is not built: lava-dl 0.6.0 declares Python < 3.11 and this project is Python 3.11 only.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENVS=.venvs

# name -> pinned requirements (torch, when needed, is installed before them)
declare -A NEEDS_TORCH=([rockpool]=1 [sinabs]=1 [spyx]=0)
declare -A PINS=(
  [rockpool]="rockpool==3.1.0 nir==1.0.8 nirtorch==2.6 numpy==2.4.6 scipy==1.17.1"
  [sinabs]="sinabs==3.1.3 nir==1.0.4 nirtorch==2.0.2 numpy==2.4.6"
  [spyx]="spyx==1.0.0 nir==1.0.8 jax==0.10.2 jaxlib==0.10.2 flax==0.12.8 numpy==2.4.6"
)

build() {
  local name=$1 env=$VENVS/$1
  local spec="torch=${NEEDS_TORCH[$name]} ${PINS[$name]}"
  if [ -f "$env/.installed" ] && [ "$(cat "$env/.installed")" = "$spec" ]; then
    echo "$name: up to date ($env)"
    return
  fi
  echo "$name: building $env"
  [ -x "$env/bin/python" ] || "$PYTHON" -m venv "$env"
  "$env/bin/pip" install -q --upgrade pip
  if [ "${NEEDS_TORCH[$name]}" = 1 ]; then
    "$env/bin/pip" install -q torch==2.13.0     # the local CPU build; must come first
  fi
  # shellcheck disable=SC2086  # the pins are words
  "$env/bin/pip" install -q ${PINS[$name]} $([ "${NEEDS_TORCH[$name]}" = 1 ] && echo torch==2.13.0)
  if [ "${NEEDS_TORCH[$name]}" = 1 ]; then
    "$env/bin/python" -c "import torch; assert torch.version.cuda is None, torch.version.cuda"
  fi
  if "$env/bin/pip" list 2>/dev/null | grep -Ei '^(nvidia-|triton|torchvision|torchaudio) '; then
    echo "$name: CUDA packages were pulled in; not using this environment" >&2
    exit 1
  fi
  echo "$spec" >"$env/.installed"
}

mkdir -p "$VENVS"
echo "*" >"$VENVS/.gitignore"  # nothing built here is committed
for name in "${@:-rockpool sinabs spyx}"; do
  for one in $name; do
    [ -n "${PINS[$one]+x}" ] || { echo "unknown simulator $one; choose from: ${!PINS[*]}" >&2; exit 2; }
    build "$one"
  done
done
