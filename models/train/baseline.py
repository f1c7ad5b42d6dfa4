#!/usr/bin/env python3
"""Write baseline.json, the training data's distribution, into each trained bundle (see docs/DRIFT.md).

For every bundle the training scripts write, this loads the same training rows (scikit-learn's bundled datasets,
the same train_test_split, test size, stratification and seed as train.py, train_tensor.py and train_keras.py), runs
the bundle's model.onnx on them with onnxruntime, and writes models/<name>/baseline.json:

  - per input feature of a tabular bundle (model.json "features"), or per input tensor of any other bundle (over all
    its values): count, min, max, mean, the distinct decile cut points ("edges") and each bin's share of the values;
  - the model's answers on those rows: a classifier's share of each label (its highest probability), a regressor's
    predicted values summarised as above.

The schema, the quantile method (numpy's default, linear interpolation) and the bin rule (bin i holds
edges[i-1] < v <= edges[i]) are the ones `npm run bundle -- --baseline-from` uses (commands/drift/baseline.ts); the
test suite reads these files with that reader. Nothing here retrains or rewrites model.onnx, model.json or
golden.json. Before writing, each bundle's golden.json inputs must equal the first held-out rows of the split this
script rebuilt, which proves the split (and so the training rows) is the training script's.

Run by `bash models/train/train.sh` after training; alone: `models/train/.venv/bin/python models/train/baseline.py`
(needs only requirements.txt: numpy, scikit-learn, onnxruntime).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from bundles import GOLDEN_ROWS, MODELS_DIR, SEED, finish

BASELINE_FILE = "baseline.json"  # functions/contract/capture.ts BASELINE_FILE
BASELINE_TYPE = "training-baseline"
BASELINE_VERSION = 1
QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]  # functions/contract/capture.ts BASELINE_QUANTILES
WRITER = "models/train/baseline.py"


def split(x, y, test_size: float, stratify: bool):
    """train_test_split as the training scripts call it: (x_train, x_test) as float32, what the model sees."""
    x_train, x_test, _, _ = train_test_split(
        x, y, test_size=test_size, random_state=SEED, stratify=y if stratify else None
    )
    return x_train.astype(np.float32), x_test.astype(np.float32)


def tabular(loader, test_size: float, stratify: bool, text: str):
    def rows():
        data = loader()
        return (*split(data.data, data.target, test_size, stratify), text)
    return rows


def digits():
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]  # train_tensor.py digits_data()
    return (*split(x, data.target, 0.25, True),
            "sklearn load_digits (pixels / 16) training split: train_test_split(test_size=0.25, stratified, "
            f"random_state={SEED})")


def described(name: str, test_size: float, stratify: bool) -> str:
    how = f"test_size={test_size}{', stratified' if stratify else ''}, random_state={SEED}"
    return f"sklearn {name} training split: train_test_split({how})"


# Each bundle and where its training rows come from (the script that trained it).
BUNDLES = {
    "iris": tabular(load_iris, 0.3, True, described("load_iris", 0.3, True)),  # train.py
    "breast-cancer": tabular(load_breast_cancer, 0.25, True, described("load_breast_cancer", 0.25, True)),  # train.py
    "diabetes": tabular(load_diabetes, 0.25, False, described("load_diabetes", 0.25, False)),  # train.py
    "diabetes-keras": tabular(load_diabetes, 0.25, False, described("load_diabetes", 0.25, False)),  # train_keras.py
    "wine-xgb": tabular(load_wine, 0.25, True, described("load_wine", 0.25, True)),  # train_tensor.py
    "digits-cnn": digits,  # train_tensor.py
    "digits-cnn-int8": digits,  # train_tensor.py
}


def summary(values: np.ndarray) -> dict:
    """count, min, max, mean, distinct decile edges and each bin's share (bin i: edges[i-1] < v <= edges[i])."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)  # float32 widened exactly, as JavaScript reads a Float32Array
    v = v[~np.isnan(v)]
    edges = np.unique(np.quantile(v, QUANTILES))  # method="linear", numpy's default
    bins = np.searchsorted(edges, v, side="left")  # the number of edges below each value
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return {
        "count": int(v.size),
        "min": float(v.min()),
        "max": float(v.max()),
        "mean": float(v.mean()),
        "edges": [float(e) for e in edges],
        "shares": [float(c) / v.size for c in counts],
    }


def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def baseline(name: str) -> tuple[dict | None, list[str]]:
    out_dir = MODELS_DIR / name
    manifest = json.loads((out_dir / "model.json").read_text())
    x_train, x_test, source = BUNDLES[name]()
    golden = np.asarray(json.loads((out_dir / "golden.json").read_text())["inputs"], dtype=np.float32)
    if not np.array_equal(golden, x_test[:GOLDEN_ROWS]):
        return None, [f"{name}: golden.json's inputs are not the first held-out rows of the rebuilt split; "
                      "the split here no longer matches the training script's"]
    model_bytes = (out_dir / "model.onnx").read_bytes()
    sess = session(out_dir / "model.onnx")
    input_name = sess.get_inputs()[0].name
    features = manifest.get("features")
    if features is not None:
        inputs = [{"name": f, "input": manifest.get("input", input_name), "column": j, "summary": summary(x_train[:, j])}
                  for j, f in enumerate(features)]
    else:
        inputs = [{"name": input_name, "input": input_name, "summary": summary(x_train)}]
    output = manifest["output"]
    answers = np.asarray(sess.run([output], {input_name: x_train})[0], dtype=np.float64)
    if manifest["task"] == "classification":
        labels = manifest["labels"]
        counts = np.bincount(np.argmax(answers, axis=1), minlength=len(labels))  # first highest, as /predict picks
        prediction = {"kind": "labels", "output": output, "count": int(len(answers)), "labels": labels,
                      "shares": [float(c) / len(answers) for c in counts]}
    else:
        prediction = {"kind": "values", "output": output, "summary": summary(answers)}
    return {
        "_type": BASELINE_TYPE,
        "version": BASELINE_VERSION,
        "model": {"name": manifest["name"], "version": manifest["version"], "task": manifest["task"],
                  "sha256": hashlib.sha256(model_bytes).hexdigest()},
        "rows": int(len(x_train)),
        "source": source,
        "writer": WRITER,
        "inputs": inputs,
        "skipped": [],
        "prediction": prediction,
    }, []


def main() -> int:
    failures: list[str] = []
    for name in BUNDLES:
        written, problems = baseline(name)
        failures += problems
        if written is None:
            continue
        (MODELS_DIR / name / BASELINE_FILE).write_text(json.dumps(written, indent=2) + "\n")
        p = written["prediction"]
        answered = (", ".join(f"{label} {share:.3f}" for label, share in zip(p["labels"], p["shares"]))
                    if p["kind"] == "labels" else f"predicted mean {p['summary']['mean']:.4g}")
        print(f"[{name}] {BASELINE_FILE}: {written['rows']} training rows, {len(written['inputs'])} input "
              f"summaries; {answered}")
    return finish(failures, "all baselines written")


if __name__ == "__main__":
    sys.exit(main())
