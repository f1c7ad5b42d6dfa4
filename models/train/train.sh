#!/usr/bin/env bash
# Retrain every bundle in models/ and rewrite the generated test fixtures (test/fixtures/iris-zipmap, iris-batch1,
# tensor/, byom/) in a pinned Python 3.11 venv.
# Python is needed only for this; serving, building and testing never run Python training code.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -c 'import sys; sys.version_info[:2] == (3, 11) or print(f"warning: pins were chosen for Python 3.11, this venv has {sys.version.split()[0]}", file=sys.stderr)'
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$here/requirements.txt" -r "$here/requirements-tensor.txt"
root="$(cd "$here/../.." && pwd)"
export PYTHONHASHSEED=0
"$venv/bin/python" "$here/train.py" "$@"                      # scikit-learn bundles (iris, breast-cancer, diabetes)
"$venv/bin/python" "$here/train_tensor.py"                    # wine-xgb, digits-cnn, digits-cnn-int8
"$venv/bin/python" "$here/train_keras.py"                     # diabetes-keras
"$venv/bin/python" "$here/baseline.py"                        # baseline.json in every bundle (docs/DRIFT.md)
"$venv/bin/python" "$root/test/fixtures/tensor/make_fixtures.py"
"$venv/bin/python" "$root/test/fixtures/byom/make_byom.py"
