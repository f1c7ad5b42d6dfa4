#!/usr/bin/env python3
"""Train the non-scikit-learn example models and write them as bundles (see SPEC.md, "Model bundle").

Writes, relative to the repository root:
  models/wine-xgb/         XGBoost classifier on sklearn's wine data, converted with onnxmltools (no ZipMap)
  models/digits-cnn/       a small PyTorch CNN on sklearn's 8x8 digits, input "pixels" [batch, 1, 8, 8]
  models/digits-cnn-int8/  the same CNN quantized to int8 (static, QDQ) with onnxruntime.quantization

Each bundle holds exactly model.onnx, model.json and golden.json. golden.json holds the training framework's own
outputs (xgboost's predict_proba, the float torch model's forward) on up to 64 held-out rows. Every bundle is then
loaded back from disk with onnxruntime and compared with golden.json; the int8 bundle is judged by top-1 agreement
with the float model and its stated largest error. The script exits non-zero on any failure. Only scikit-learn's
bundled datasets are used, every seed is fixed, and torch runs single-threaded with deterministic algorithms, so a
rerun on the same machine writes the same bytes.

Run it through `bash models/train/train.sh` (after train.py), which sets up the pinned environment first.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxmltools
import onnxruntime as ort
import sklearn
import torch
import xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from sklearn.datasets import load_digits, load_wine
from sklearn.model_selection import train_test_split
from bundles import GOLDEN_ROWS, MAX_BATCH, MODELS_DIR, SEED, TOLERANCE, finish, sorted_opsets

MIN_TOP1_AGREEMENT = 0.99
# onnxmltools 1.16 converts for ai.onnx opsets up to 15; the XGBoost model only needs ai.onnx.ml.
XGB_TARGET_OPSET = 15
TORCH_OPSET = 17


# --- shared helpers --------------------------------------------------------------------------------------------------


def num(v) -> str:
    return json.dumps(float(v))


def nested(a) -> str:
    """A float array as compact nested JSON; each value the exact decimal of its float32/float64."""
    a = np.asarray(a)
    if a.ndim == 0:
        return num(a)
    return "[" + ", ".join(nested(x) for x in a) + "]"


def golden_text(inputs: np.ndarray, outputs: np.ndarray, extra: dict) -> str:
    """golden.json with one instance (and one output row) per line."""
    in_lines = ",\n".join("    " + nested(r) for r in inputs)
    out_lines = ",\n".join("    " + nested(r) for r in outputs)
    tail = "".join(f',\n  "{k}": {json.dumps(v)}' for k, v in extra.items())
    return '{\n  "inputs": [\n' + in_lines + '\n  ],\n  "outputs": [\n' + out_lines + "\n  ]" + tail + "\n}\n"


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def canonical(onx: onnx.ModelProto, graph_name: str) -> onnx.ModelProto:
    """Fixed graph name (converters default to a random uuid) and sorted, de-duplicated opset imports."""
    onx.graph.name = graph_name
    return sorted_opsets(onx)


def prepare_dir(name: str) -> Path:
    out_dir = MODELS_DIR / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stray in out_dir.iterdir():  # a bundle holds exactly the three files
        if stray.name not in {"model.onnx", "model.json", "golden.json"} and stray.is_file():
            stray.unlink()
    return out_dir


def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def io_summary(sess: ort.InferenceSession) -> str:
    ins = ", ".join(f"{i.name} {i.type} {i.shape}" for i in sess.get_inputs())
    outs = ", ".join(f"{o.name} {o.type} {o.shape}" for o in sess.get_outputs())
    return f"inputs: {ins} | outputs: {outs}"


def round_up_2sig(x: float) -> float:
    """Round a positive number up to two significant digits (0.01234 -> 0.013)."""
    if x <= 0:
        return 0.0
    exp = math.floor(math.log10(x)) - 1
    scaled = x / 10.0**exp
    up = math.ceil(round(scaled, 9))  # guard against 12.000000001
    return float(f"{up}e{exp}")


def file_report(name: str, data: bytes) -> None:
    print(f"[{name}]   model.onnx {len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()}")


# --- a. XGBoost on wine -------------------------------------------------------------------------------------------


def build_wine_xgb() -> list[str]:
    name = "wine-xgb"
    failures = []
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    x_train32, x_test32 = x_train.astype(np.float32), x_test.astype(np.float32)
    model = xgboost.XGBClassifier(
        n_estimators=50, max_depth=3, learning_rate=0.3, tree_method="hist", n_jobs=1, random_state=0
    ).fit(x_train32, y_train)

    onx = onnxmltools.convert_xgboost(
        model, initial_types=[("float_input", FloatTensorType([None, x_train.shape[1]]))], target_opset=XGB_TARGET_OPSET
    )
    onx = canonical(onx, name)
    out_names = [o.name for o in onx.graph.output]
    if out_names != ["label", "probabilities"] or onx.graph.input[0].name != "float_input":
        failures.append(f"{name}: unexpected ONNX signature {onx.graph.input[0].name} -> {out_names}")

    out_dir = prepare_dir(name)
    data_bytes = onx.SerializeToString()
    (out_dir / "model.onnx").write_bytes(data_bytes)
    manifest = {
        "name": name,
        "version": "1",
        "task": "classification",
        "input": "float_input",
        "features": list(data.feature_names),
        "output": "probabilities",
        "labels": [str(n) for n in data.target_names],
        "maxBatch": MAX_BATCH,
    }
    write_json(out_dir / "model.json", manifest)
    x_golden = x_test32[:GOLDEN_ROWS]
    (out_dir / "golden.json").write_text(
        golden_text(x_golden, model.predict_proba(x_golden), {"tolerance": TOLERANCE})
    )

    # --- verify from disk ---
    golden = json.loads((out_dir / "golden.json").read_text())
    sess = session(out_dir / "model.onnx")
    g_in = np.asarray(golden["inputs"], dtype=np.float32)
    if not np.array_equal(g_in, x_golden):
        failures.append(f"{name}: golden inputs do not round-trip through float32")
    got = sess.run(["probabilities"], {"float_input": g_in})[0]
    golden_diff = float(np.max(np.abs(got - np.asarray(golden["outputs"]))))
    test_diff = float(np.max(np.abs(sess.run(["probabilities"], {"float_input": x_test32})[0]
                                    - model.predict_proba(x_test32))))
    labels = sess.run(["label"], {"float_input": x_test32})[0]
    if not np.array_equal(labels, model.predict(x_test32)):
        failures.append(f"{name}: ONNX label output disagrees with xgboost predict")
    for what, diff in (("golden", golden_diff), ("test set", test_diff)):
        if not diff <= golden["tolerance"]:
            failures.append(f"{name}: ONNX differs from xgboost on the {what} by {diff:.3g} > {golden['tolerance']}")
    acc = float(np.mean(model.predict(x_test32) == y_test))
    print(f"[{name}] XGBClassifier(n_estimators=50, max_depth=3); test accuracy {acc:.4f} ({len(y_test)} rows)")
    print(f"[{name}]   parity: max |onnx - xgboost| = {golden_diff:.3g} on {len(g_in)} golden rows, "
          f"{test_diff:.3g} on the whole test set (limit {TOLERANCE})")
    print(f"[{name}]   {io_summary(sess)}")
    file_report(name, data_bytes)
    return failures


# --- b. PyTorch CNN on digits -------------------------------------------------------------------------------------


class DigitsCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, kernel_size=3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, kernel_size=3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),  # 32 x 4 x 4
        )
        self.classifier = torch.nn.Sequential(
            torch.nn.Flatten(),
            torch.nn.Linear(32 * 4 * 4, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 10),
        )

    def forward(self, pixels):
        return torch.softmax(self.classifier(self.features(pixels)), dim=1)

    def logits(self, pixels):
        return self.classifier(self.features(pixels))


def digits_data():
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None, :, :]  # [N, 1, 8, 8], values k/16: exact in float32
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    return x_train, x_test, y_train, y_test


def train_cnn(x_train, y_train, epochs=30, batch=64) -> DigitsCNN:
    torch.manual_seed(0)
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64))
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model.logits(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    return model


def torch_probs(model, x) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy().astype(np.float64)


def export_cnn(model) -> onnx.ModelProto:
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, 8, 8),),
        buf,
        input_names=["pixels"],
        output_names=["probabilities"],
        dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=TORCH_OPSET,
        dynamo=False,  # the TorchScript exporter: no onnxscript needed
    )
    return canonical(onnx.load_from_string(buf.getvalue()), "digits-cnn")


def cnn_manifest(name: str) -> dict:
    # An image model: no "input"/"features" (the input comes from the ONNX file).
    return {"name": name, "version": "1", "task": "classification", "output": "probabilities",
            "labels": [str(d) for d in range(10)], "maxBatch": MAX_BATCH}


class DigitsReader(CalibrationDataReader):
    """Feeds calibration rows from the training set, 32 at a time."""

    def __init__(self, x: np.ndarray, batch: int = 32):
        self.chunks = [x[i:i + batch] for i in range(0, len(x), batch)]
        self.pos = 0

    def get_next(self):
        if self.pos >= len(self.chunks):
            return None
        self.pos += 1
        return {"pixels": self.chunks[self.pos - 1]}

    def rewind(self):
        self.pos = 0


def build_digits_cnn() -> list[str]:
    failures = []
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, x_test, y_train, y_test = digits_data()
    model = train_cnn(x_train, y_train)

    # ---- float bundle ----
    name = "digits-cnn"
    onx = export_cnn(model)
    out_dir = prepare_dir(name)
    float_bytes = onx.SerializeToString()
    (out_dir / "model.onnx").write_bytes(float_bytes)
    write_json(out_dir / "model.json", cnn_manifest(name))
    x_golden = x_test[:GOLDEN_ROWS]
    golden_out = torch_probs(model, x_golden)
    (out_dir / "golden.json").write_text(golden_text(x_golden[:, :, :, :], golden_out, {"tolerance": TOLERANCE}))

    golden = json.loads((out_dir / "golden.json").read_text())
    g_in = np.asarray(golden["inputs"], dtype=np.float32)  # [64, 1, 8, 8]: instances without the batch dim
    if g_in.shape != (len(x_golden), 1, 8, 8) or not np.array_equal(g_in, x_golden):
        failures.append(f"{name}: golden inputs do not round-trip through float32 ({g_in.shape})")
    sess = session(out_dir / "model.onnx")
    got = sess.run(["probabilities"], {"pixels": g_in})[0]
    golden_diff = float(np.max(np.abs(got - np.asarray(golden["outputs"]))))
    ref_test = torch_probs(model, x_test)
    onnx_test = sess.run(["probabilities"], {"pixels": x_test})[0].astype(np.float64)
    test_diff = float(np.max(np.abs(onnx_test - ref_test)))
    for what, diff in (("golden", golden_diff), ("test set", test_diff)):
        if not diff <= TOLERANCE:
            failures.append(f"{name}: ONNX differs from torch on the {what} by {diff:.3g} > {TOLERANCE}")
    float_acc = float(np.mean(ref_test.argmax(1) == y_test))
    if float_acc < 0.95:
        failures.append(f"{name}: held-out accuracy {float_acc:.4f} < 0.95")
    print(f"[{name}] torch CNN conv16-conv32-pool-fc64-fc10 + softmax; test accuracy {float_acc:.4f} "
          f"({len(y_test)} rows)")
    print(f"[{name}]   parity: max |onnx - torch| = {golden_diff:.3g} on {len(g_in)} golden rows, "
          f"{test_diff:.3g} on the whole test set (limit {TOLERANCE})")
    print(f"[{name}]   {io_summary(sess)}")
    file_report(name, float_bytes)

    # ---- int8 bundle ----
    name = "digits-cnn-int8"
    out_dir = prepare_dir(name)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = os.path.join(tmp, "float.onnx")
        q = os.path.join(tmp, "int8.onnx")
        Path(f32).write_bytes(float_bytes)
        # No quant_pre_process: on this model it changed neither the error nor the agreement, and its optimizer
        # saves eight unused opset imports (com.microsoft, ai.onnx.preview, ...). per_channel=True did not change
        # them either, and per-tensor weights are the smaller file.
        quantize_static(
            f32,
            q,
            DigitsReader(x_train),  # every training row
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=False,
            calibrate_method=CalibrationMethod.MinMax,
        )
        qmodel = canonical(onnx.load(q), "digits-cnn-int8")
    q_bytes = qmodel.SerializeToString()
    (out_dir / "model.onnx").write_bytes(q_bytes)
    write_json(out_dir / "model.json", cnn_manifest(name))

    qsess = session(out_dir / "model.onnx")
    q_golden = qsess.run(["probabilities"], {"pixels": x_golden})[0].astype(np.float64)
    q_test = qsess.run(["probabilities"], {"pixels": x_test})[0].astype(np.float64)
    max_err = float(max(np.max(np.abs(q_golden - golden_out)), np.max(np.abs(q_test - ref_test))))
    tolerance = round_up_2sig(max_err)
    (out_dir / "golden.json").write_text(golden_text(
        x_golden, golden_out, {"tolerance": tolerance, "minTop1Agreement": MIN_TOP1_AGREEMENT}))

    # --- verify from disk ---
    golden = json.loads((out_dir / "golden.json").read_text())
    g_in = np.asarray(golden["inputs"], dtype=np.float32)
    g_out = np.asarray(golden["outputs"])
    got = qsess.run(["probabilities"], {"pixels": g_in})[0]
    golden_err = float(np.max(np.abs(got - g_out)))
    agree_golden = float(np.mean(got.argmax(1) == g_out.argmax(1)))
    agree_test = float(np.mean(q_test.argmax(1) == ref_test.argmax(1)))
    q_acc = float(np.mean(q_test.argmax(1) == y_test))
    if not golden_err <= golden["tolerance"]:
        failures.append(f"{name}: int8 differs from golden by {golden_err:.3g} > {golden['tolerance']}")
    for what, agree in (("golden rows", agree_golden), ("test set", agree_test)):
        if not agree >= golden["minTop1Agreement"]:
            failures.append(f"{name}: top-1 agreement with the float model on the {what} {agree:.4f} "
                            f"< {golden['minTop1Agreement']}")
    print(f"[{name}] quantize_static QDQ (u8 activations, s8 per-tensor weights, MinMax on "
          f"{len(x_train)} training rows); test accuracy {q_acc:.4f} (float {float_acc:.4f})")
    print(f"[{name}]   top-1 agreement with float torch: {agree_golden:.4f} on {len(g_in)} golden rows, "
          f"{agree_test:.4f} on the whole test set ({len(y_test)} rows); largest abs error {max_err:.4g} "
          f"(golden {golden_err:.4g}), stated tolerance {tolerance}")
    print(f"[{name}]   {io_summary(qsess)}")
    file_report(name, q_bytes)
    print(f"[{name}]   size {len(q_bytes)} bytes vs float {len(float_bytes)} bytes "
          f"({100 * (1 - len(q_bytes) / len(float_bytes)):.1f}% smaller)")
    return failures


def main() -> int:
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"xgboost {xgboost.__version__}, onnxmltools {onnxmltools.__version__}, torch {torch.__version__}, "
          f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    failures: list[str] = []
    failures += build_wine_xgb()
    failures += build_digits_cnn()
    return finish(failures, "all tensor bundles verified")


if __name__ == "__main__":
    sys.exit(main())
