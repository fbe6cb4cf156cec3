#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: Debian build dependencies through apt-get
# and a project-local venv (.venv) holding the pinned torch wheel (our LibTorch) and the
# Python reference packages used as test oracles. Safe to run again; does nothing when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LLMC_VENV:-$root/.venv}"
stamp="$venv/.llmc-setup-done"

apt_packages=(build-essential cmake python3-venv libyaml-cpp-dev nlohmann-json3-dev catch2 libgloo-dev)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}" >&2
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

req="$root/scripts/requirements.txt"
if [[ -f "$stamp" ]] && cmp -s "$stamp" "$req"; then
  exit 0
fi
echo "[setup] creating Python venv at $venv (torch wheel is ~3 GB on first run)" >&2
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q --progress-bar off -r "$req"
"$venv/bin/python" - <<'PY'
import torch
assert torch.__version__.startswith("2.11."), torch.__version__
assert torch.version.cuda and torch.version.cuda.startswith("13."), torch.version.cuda
PY
cp "$req" "$stamp"
echo "[setup] done" >&2
