#!/usr/bin/env bash
# Creates the peers' Python environment: PyTorch, HuggingFace transformers and
# reformer-pytorch from PyPI, in reformer-bench/peers/.venv (or $PEERS_VENV).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEERS_VENV:-$here/.venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet torch transformers reformer-pytorch
"$venv/bin/python" -c "import torch, transformers, reformer_pytorch; print('peers ready: torch', torch.__version__, '| transformers', transformers.__version__)"
