#!/usr/bin/env python3
"""Train a Keras model and write it as a bundle (see SPEC.md, "Model bundle"):

  models/diabetes-keras/  a Keras MLP regressor (Normalization, Dense 32 relu, Dense 1) on sklearn's diabetes data,
                          converted with tf2onnx: a tabular bundle whose model is not scikit-learn's

golden.json holds Keras's own predictions on the float32 held-out rows. The bundle is then loaded back from disk
with onnxruntime and compared with golden.json; the script exits non-zero if they differ by more than 1e-4.
Seeds are fixed, TensorFlow runs single-threaded with deterministic ops and without oneDNN, so a rerun on the
same machine writes the same bytes.

Run it through `bash models/train/train.sh`, which sets up the pinned environment first.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # before TensorFlow loads: plain, reproducible kernels
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from bundles import GOLDEN_ROWS, MAX_BATCH, MODELS_DIR, SEED, TOLERANCE, finish, sorted_opsets  # noqa: E402

OPSET = 17


def num(v) -> str:
    return json.dumps(float(v))


def golden_text(inputs: np.ndarray, outputs: np.ndarray) -> str:
    in_lines = ",\n".join("    [" + ", ".join(num(v) for v in r) + "]" for r in inputs)
    out_lines = ",\n".join("    " + num(v) for v in outputs)
    return ('{\n  "inputs": [\n' + in_lines + '\n  ],\n  "outputs": [\n' + out_lines + "\n  ],\n"
            f'  "tolerance": {json.dumps(TOLERANCE)}\n}}\n')


def build_diabetes_keras() -> list[str]:
    name = "diabetes-keras"
    failures = []
    data = load_diabetes()
    x_train, x_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=SEED)
    x_train32, x_test32 = x_train.astype(np.float32), x_test.astype(np.float32)
    y_train32 = y_train.astype(np.float32)

    norm = tf.keras.layers.Normalization(axis=-1)
    norm.adapt(x_train32)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(x_train.shape[1],), name="float_input"),
        norm,
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(1),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.fit(x_train32, y_train32, epochs=200, batch_size=32, shuffle=True, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec([None, x_train.shape[1]], tf.float32, name="float_input")])
    def serve(float_input):
        return {"variable": model(float_input, training=False)}

    # Freeze the variables into constants first. tf2onnx's from_function would leave the Normalization layer's
    # mean and variance as extra graph inputs, and its from_keras does not handle Keras 3 models.
    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())
    onx, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        input_names=[t.name for t in frozen.inputs],
        output_names=[t.name for t in frozen.outputs],
        opset=OPSET,
    )
    # TensorFlow tensor names end in ":0"; give the bundle's names to the graph input and output.
    rename = {onx.graph.input[0].name: "float_input", onx.graph.output[0].name: "variable"}
    for value in list(onx.graph.input) + list(onx.graph.output):
        value.name = rename.get(value.name, value.name)
    for node in onx.graph.node:
        node.input[:] = [rename.get(v, v) for v in node.input]
        node.output[:] = [rename.get(v, v) for v in node.output]
    for value in list(onx.graph.input) + list(onx.graph.output):  # tf2onnx names the unknown dimension unk__N
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    onx.graph.name = name
    onx.doc_string = ""  # tf2onnx writes its version and a timestamp-free note; keep only the graph
    sorted_opsets(onx)
    if [i.name for i in onx.graph.input] != ["float_input"] or [o.name for o in onx.graph.output] != ["variable"]:
        failures.append(f"{name}: unexpected signature {[i.name for i in onx.graph.input]} -> "
                        f"{[o.name for o in onx.graph.output]}")

    out_dir = MODELS_DIR / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for stray in out_dir.iterdir():
        if stray.name not in {"model.onnx", "model.json", "golden.json"} and stray.is_file():
            stray.unlink()
    model_bytes = onx.SerializeToString()
    (out_dir / "model.onnx").write_bytes(model_bytes)
    manifest = {"name": name, "version": "1", "task": "regression", "input": "float_input",
                "features": list(data.feature_names), "output": "variable", "maxBatch": MAX_BATCH}
    (out_dir / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")

    def keras_predict(x):
        return serve(tf.constant(x))["variable"].numpy().reshape(-1).astype(np.float64)

    x_golden = x_test32[:GOLDEN_ROWS]
    (out_dir / "golden.json").write_text(golden_text(x_golden, keras_predict(x_golden)))

    # --- verify from disk ---
    golden = json.loads((out_dir / "golden.json").read_text())
    g_in = np.asarray(golden["inputs"], dtype=np.float32)
    if not np.array_equal(g_in, x_golden):
        failures.append(f"{name}: golden inputs do not round-trip through float32")
    sess = ort.InferenceSession(str(out_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(["variable"], {"float_input": g_in})[0]
    if got.shape != (len(g_in), 1):
        failures.append(f"{name}: output shape {got.shape}, expected [batch, 1]")
    golden_diff = float(np.max(np.abs(got.reshape(-1) - np.asarray(golden["outputs"]))))
    ref_test = keras_predict(x_test32)
    test_diff = float(np.max(np.abs(sess.run(["variable"], {"float_input": x_test32})[0].reshape(-1) - ref_test)))
    for what, diff in (("golden", golden_diff), ("test set", test_diff)):
        if not diff <= TOLERANCE:
            failures.append(f"{name}: ONNX differs from Keras on the {what} by {diff:.3g} > {TOLERANCE}")
    r2 = 1 - np.sum((ref_test - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
    ins = ", ".join(f"{i.name} {i.type} {i.shape}" for i in sess.get_inputs())
    outs = ", ".join(f"{o.name} {o.type} {o.shape}" for o in sess.get_outputs())
    print(f"[{name}] Keras MLP Normalization-Dense(32, relu)-Dense(1), Adam 200 epochs; test R^2 {r2:.4f} "
          f"({len(y_test)} held-out rows)")
    print(f"[{name}]   parity: max |onnx - keras| = {golden_diff:.3g} on {len(g_in)} golden rows, "
          f"{test_diff:.3g} on the whole test set (limit {TOLERANCE})")
    print(f"[{name}]   inputs: {ins} | outputs: {outs}; opsets "
          + ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in onx.opset_import))
    print(f"[{name}]   model.onnx {len(model_bytes)} bytes sha256 {hashlib.sha256(model_bytes).hexdigest()}")
    return failures


def main() -> int:
    tf.keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    print(f"python {sys.version.split()[0]}, tensorflow {tf.__version__}, keras {tf.keras.__version__}, "
          f"tf2onnx {tf2onnx.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    failures = build_diabetes_keras()
    return finish(failures, "keras bundle verified")


if __name__ == "__main__":
    sys.exit(main())
