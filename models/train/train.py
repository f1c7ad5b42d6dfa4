#!/usr/bin/env python3
"""Train the example models and write them as bundles (see SPEC.md, "Model bundle").

Writes, relative to the repository root:
  models/iris/           LogisticRegression on sklearn's iris data (classification, 3 labels)
  models/breast-cancer/  GradientBoostingClassifier on sklearn's breast cancer data (classification, 2 labels)
  models/diabetes/       Ridge on sklearn's diabetes data (regression)
  test/fixtures/iris-zipmap/  the iris classifier exported WITH ZipMap (a non-tensor output), for tests
  test/fixtures/iris-batch1/  the iris classifier with its batch dimension fixed to 1 (fails at run time on 2 rows)

Each bundle holds exactly model.onnx, model.json and golden.json. Every bundle is then loaded back
from disk with onnxruntime and its outputs compared with golden.json; the script exits non-zero if
any difference exceeds 1e-4. Only scikit-learn's bundled datasets are used (no downloads), and every
random_state is fixed, so a rerun reproduces the same files.

Run it through `bash models/train/train.sh`, which sets up the pinned environment first.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
import skl2onnx
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from bundles import GOLDEN_ROWS, MAX_BATCH, MODELS_DIR, SEED, TOLERANCE, finish, sorted_opsets

REPO_ROOT = MODELS_DIR.parent
ZIPMAP_FIXTURE_DIR = REPO_ROOT / "test" / "fixtures" / "iris-zipmap"
BATCH1_FIXTURE_DIR = REPO_ROOT / "test" / "fixtures" / "iris-batch1"

INPUT_NAME = "float_input"
# ai.onnx opset 17 and ai.onnx.ml opset 3 are both well within what onnxruntime(-node) 1.30 runs.
# skl2onnx lowers each domain to the smallest version the model actually needs.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def snake(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def train_iris():
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    model = LogisticRegression(max_iter=1000, random_state=0).fit(x_train, y_train)
    return {
        "name": "iris",
        "task": "classification",
        "algorithm": "LogisticRegression(max_iter=1000)",
        "dataset": "sklearn.datasets.load_iris (150 rows, 70/30 stratified split)",
        "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
        "labels": [str(n) for n in data.target_names],  # setosa, versicolor, virginica
        "model": model,
        "x_test": x_test,
        "y_test": y_test,
    }


def train_breast_cancer():
    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    model = GradientBoostingClassifier(
        n_estimators=100, max_depth=3, learning_rate=0.1, random_state=0
    ).fit(x_train, y_train)
    return {
        "name": "breast-cancer",
        "task": "classification",
        "algorithm": "GradientBoostingClassifier(n_estimators=100, max_depth=3)",
        "dataset": "sklearn.datasets.load_breast_cancer (569 rows, 75/25 stratified split)",
        "features": [snake(n) for n in data.feature_names],
        "labels": [str(n) for n in data.target_names],  # malignant (0), benign (1)
        "model": model,
        "x_test": x_test,
        "y_test": y_test,
    }


def train_diabetes():
    data = load_diabetes()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED
    )
    model = Ridge(alpha=0.1, random_state=0).fit(x_train, y_train)
    return {
        "name": "diabetes",
        "task": "regression",
        "algorithm": "Ridge(alpha=0.1)",
        "dataset": "sklearn.datasets.load_diabetes (442 rows, scaled features, 75/25 split)",
        "features": [snake(n) for n in data.feature_names],  # age, sex, bmi, bp, s1..s6
        "labels": None,
        "model": model,
        "x_test": x_test,
        "y_test": y_test,
    }


def convert(spec, zipmap: bool = False) -> onnx.ModelProto:
    model = spec["model"]
    options = None
    if spec["task"] == "classification" and not zipmap:
        options = {id(model): {"zipmap": False}}
    onx = to_onnx(
        model,
        initial_types=[(INPUT_NAME, FloatTensorType([None, len(spec["features"])]))],
        options=options,
        target_opset=TARGET_OPSET,
        name=spec["name"],  # a fixed graph name; the default is a random uuid
    )
    if zipmap:
        # skl2onnx names ZipMap outputs output_label / output_probability. Give them the same names as
        # the tensor export so the manifest matches and only the output *type* differs.
        # Intermediate values already carry those names, so move them aside first.
        final = {"output_label": "label", "output_probability": "probabilities"}
        taken = set(final.values())
        rename = {v: v + "_tensor" for v in taken}
        rename.update(final)

        def renamed(values):
            return [rename.get(v, v) for v in values]

        for node in onx.graph.node:
            new_in, new_out = renamed(node.input), renamed(node.output)
            del node.input[:], node.output[:]
            node.input.extend(new_in)
            node.output.extend(new_out)
        for out in onx.graph.output:
            out.name = rename.get(out.name, out.name)
    return sorted_opsets(onx)


def manifest(spec, output_name: str) -> dict:
    m = {
        "name": spec["name"],
        "version": "1",
        "task": spec["task"],
        "input": INPUT_NAME,
        "features": spec["features"],
        "output": output_name,
    }
    if spec["task"] == "classification":
        m["labels"] = spec["labels"]
    m["maxBatch"] = MAX_BATCH
    return m


def reference_outputs(spec, x32: np.ndarray) -> np.ndarray:
    """scikit-learn's own outputs on float32-cast rows (what ONNX sees)."""
    if spec["task"] == "classification":
        return spec["model"].predict_proba(x32)
    return spec["model"].predict(x32)


def num(v) -> str:
    return json.dumps(float(v))


def golden_text(inputs: np.ndarray, outputs: np.ndarray) -> str:
    """golden.json, one row per line: small diffs, stable bytes."""

    def row(values) -> str:
        return "[" + ", ".join(num(v) for v in values) + "]"

    in_lines = ",\n".join("    " + row(r) for r in inputs)
    if outputs.ndim == 2:
        out_lines = ",\n".join("    " + row(r) for r in outputs)
    else:
        out_lines = ",\n".join("    " + num(v) for v in outputs)
    return '{\n  "inputs": [\n' + in_lines + '\n  ],\n  "outputs": [\n' + out_lines + "\n  ]\n}\n"


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def io_summary(sess: ort.InferenceSession) -> str:
    ins = ", ".join(f"{i.name} {i.type} {i.shape}" for i in sess.get_inputs())
    outs = ", ".join(f"{o.name} {o.type} {o.shape}" for o in sess.get_outputs())
    return f"inputs: {ins} | outputs: {outs}"


def run_onnx(sess: ort.InferenceSession, output: str, x32: np.ndarray) -> np.ndarray:
    return np.asarray(sess.run([output], {INPUT_NAME: x32})[0], dtype=np.float64)


def build_bundle(spec) -> list[str]:
    """Write models/<name>/ and verify it from disk. Returns a list of failures."""
    failures = []
    name = spec["name"]
    out_dir = MODELS_DIR / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stray in out_dir.iterdir():  # a bundle holds exactly the three files
        if stray.name not in {"model.onnx", "model.json", "golden.json"} and stray.is_file():
            stray.unlink()

    onx = convert(spec)
    # skl2onnx names the tensor outputs: classifiers label + probabilities, regressors variable.
    output_name = "probabilities" if spec["task"] == "classification" else onx.graph.output[0].name
    model_bytes = onx.SerializeToString()
    (out_dir / "model.onnx").write_bytes(model_bytes)
    write_json(out_dir / "model.json", manifest(spec, output_name))

    x_test32 = spec["x_test"].astype(np.float32)
    x_golden = x_test32[:GOLDEN_ROWS]
    (out_dir / "golden.json").write_text(golden_text(x_golden, reference_outputs(spec, x_golden)))

    # --- verify what is on disk ---
    golden = json.loads((out_dir / "golden.json").read_text())
    man = json.loads((out_dir / "model.json").read_text())
    sess = ort.InferenceSession(str(out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    g_in = np.asarray(golden["inputs"], dtype=np.float32)
    if not np.array_equal(g_in, x_golden):
        failures.append(f"{name}: golden inputs do not round-trip through float32")
    g_out = np.asarray(golden["outputs"], dtype=np.float64)
    got = run_onnx(sess, man["output"], g_in)
    if man["task"] == "regression":
        if got.shape not in {(len(g_in),), (len(g_in), 1)}:
            failures.append(f"{name}: regression output shape {got.shape}, expected [batch] or [batch, 1]")
        got = got.reshape(-1)
    elif got.shape != (len(g_in), len(man["labels"])):
        failures.append(f"{name}: probabilities shape {got.shape}, expected [batch, {len(man['labels'])}]")
    golden_diff = float(np.max(np.abs(got - g_out)))
    ref_test = reference_outputs(spec, x_test32)
    test_diff = float(np.max(np.abs(run_onnx(sess, man["output"], x_test32).reshape(ref_test.shape) - ref_test)))
    if not golden_diff <= TOLERANCE:
        failures.append(f"{name}: ONNX differs from golden by {golden_diff:.3g} > {TOLERANCE}")
    if not test_diff <= TOLERANCE:
        failures.append(f"{name}: ONNX differs from scikit-learn on the test set by {test_diff:.3g} > {TOLERANCE}")

    if man["task"] == "classification":
        labels = sess.run(["label"], {INPUT_NAME: x_test32})[0]
        if not np.array_equal(labels, spec["model"].predict(x_test32)):
            failures.append(f"{name}: ONNX label output disagrees with scikit-learn predict")
        metric = f"test accuracy {np.mean(spec['model'].predict(x_test32) == spec['y_test']):.4f}"
    else:
        metric = f"test R^2 {spec['model'].score(x_test32, spec['y_test']):.4f}"

    sha = hashlib.sha256(model_bytes).hexdigest()
    print(f"[{name}] {spec['algorithm']}; {metric} ({len(spec['y_test'])} held-out rows)")
    print(f"[{name}]   parity: max |onnx - sklearn| = {golden_diff:.3g} on {len(g_in)} golden rows, "
          f"{test_diff:.3g} on the whole test set (limit {TOLERANCE})")
    print(f"[{name}]   {io_summary(sess)}")
    print(f"[{name}]   model.onnx {len(model_bytes)} bytes sha256 {sha}")
    return failures


def build_zipmap_fixture(spec) -> list[str]:
    """test/fixtures/iris-zipmap: the iris classifier with ZipMap, i.e. a sequence-of-maps output."""
    failures = []
    ZIPMAP_FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    onx = convert(spec, zipmap=True)
    model_bytes = onx.SerializeToString()
    (ZIPMAP_FIXTURE_DIR / "model.onnx").write_bytes(model_bytes)
    write_json(ZIPMAP_FIXTURE_DIR / "model.json", manifest(spec, "probabilities"))

    sess = ort.InferenceSession(str(ZIPMAP_FIXTURE_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    prob = next(o for o in sess.get_outputs() if o.name == "probabilities")
    if not prob.type.startswith("seq(map("):
        failures.append(f"iris-zipmap: probabilities output is {prob.type}, expected a sequence of maps")
    x32 = spec["x_test"][:5].astype(np.float32)
    maps = sess.run(["probabilities"], {INPUT_NAME: x32})[0]
    as_rows = np.array([[m[k] for k in sorted(m)] for m in maps], dtype=np.float64)
    diff = float(np.max(np.abs(as_rows - spec["model"].predict_proba(x32))))
    if not diff <= TOLERANCE:
        failures.append(f"iris-zipmap: ZipMap probabilities differ from scikit-learn by {diff:.3g}")
    print(f"[iris-zipmap] fixture (ZipMap kept); {io_summary(sess)}")
    print(f"[iris-zipmap]   model.onnx {len(model_bytes)} bytes sha256 {hashlib.sha256(model_bytes).hexdigest()}")
    return failures


def build_batch1_fixture(spec) -> list[str]:
    """test/fixtures/iris-batch1: the iris classifier with its batch dimension fixed to 1. It loads and answers one
    row, and onnxruntime fails at run time on two: the tests' real source of an internal (500) error."""
    BATCH1_FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    onx = convert(spec)
    for value in list(onx.graph.input) + list(onx.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) > 0:
            dims[0].ClearField("dim_param")
            dims[0].dim_value = 1
    model_bytes = onx.SerializeToString()
    (BATCH1_FIXTURE_DIR / "model.onnx").write_bytes(model_bytes)
    write_json(BATCH1_FIXTURE_DIR / "model.json", manifest(spec, "probabilities"))
    sess = ort.InferenceSession(str(BATCH1_FIXTURE_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    try:
        sess.run(["probabilities"], {INPUT_NAME: spec["x_test"][:2].astype(np.float32)})
        return ["iris-batch1: a two-row batch ran; the fixture must fail on it"]
    except Exception:  # noqa: BLE001 - any runtime failure is what the fixture is for
        pass
    print(f"[iris-batch1] fixture (batch fixed to 1); model.onnx {len(model_bytes)} bytes "
          f"sha256 {hashlib.sha256(model_bytes).hexdigest()}")
    return []


def main() -> int:
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"skl2onnx {skl2onnx.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    failures: list[str] = []
    iris = train_iris()
    for spec in (iris, train_breast_cancer(), train_diabetes()):
        failures += build_bundle(spec)
    failures += build_zipmap_fixture(iris)
    failures += build_batch1_fixture(iris)
    return finish(failures, "all bundles verified")


if __name__ == "__main__":
    sys.exit(main())
