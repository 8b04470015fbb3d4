#!/bin/bash
# Side-by-side benchmark of unistyle against OpenVINO (fp32, bf16) and PyTorch on the same
# encoder/decoder graphs (scripts/bench_engines.py). Makes a virtual environment with
# `pip install openvino onnx torch …` (default target/bench-venv, or $UNISTYLE_BENCH_VENV),
# builds the release binary, and passes its arguments on, e.g.
#   scripts/bench-engines.sh --sizes 256,512,1024 --repeat 5
# A benchmark, not a test: it is not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${UNISTYLE_BENCH_VENV:-target/bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import openvino, onnx, torch, numpy, PIL, safetensors" 2>/dev/null; then
    "$venv/bin/pip" install --quiet openvino onnx onnxscript torch numpy pillow safetensors
fi
cargo build --release --quiet
exec "$venv/bin/python" scripts/bench_engines.py "$@"
