"""What the training scripts share: where bundles go, the settings every bundle is written with, and the last steps."""

from __future__ import annotations

import sys
from pathlib import Path

import onnx

MODELS_DIR = Path(__file__).resolve().parent.parent
SEED = 42
MAX_BATCH = 256
GOLDEN_ROWS = 64  # at most this many held-out rows go into golden.json
TOLERANCE = 1e-4  # SPEC: ONNX outputs may differ from golden by at most this much


def sorted_opsets(onx: onnx.ModelProto) -> onnx.ModelProto:
    """Sorts and de-duplicates the opset imports, then checks the model.

    Converters collect opset imports in a set, whose order follows Python's string hashing (random per process), and
    "" may appear twice; sorted, model.onnx is byte-identical on every run.
    """
    opsets = {o.domain: o.version for o in onx.opset_import}
    del onx.opset_import[:]
    for domain in sorted(opsets):
        onx.opset_import.add(domain=domain, version=opsets[domain])
    onnx.checker.check_model(onx, full_check=True)
    return onx


def finish(failures: list[str], passed: str) -> int:
    """Prints the failures to stderr and returns 1, or prints `passed` and returns 0: the script's exit code."""
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"\n{passed}")
    return 0
