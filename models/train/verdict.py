"""The training scripts' last step: list what failed verification, or say that every bundle passed."""

from __future__ import annotations

import sys


def finish(failures: list[str], passed: str) -> int:
    """Prints the failures to stderr and returns 1, or prints `passed` and returns 0: the script's exit code."""
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"\n{passed}")
    return 0
