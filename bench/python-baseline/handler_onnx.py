"""Lambda handler (b): onnxruntime + numpy running the repository's model.onnx, set up once at module scope."""

import base64
import json
import os

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "model.json"), encoding="utf-8") as f:
    MANIFEST = json.load(f)
LABELS = MANIFEST["labels"]
WIDTH = len(MANIFEST["features"])
SESSION = ort.InferenceSession(os.path.join(HERE, "model.onnx"), providers=["CPUExecutionProvider"])
INPUT = SESSION.get_inputs()[0].name
OUTPUT = MANIFEST["output"]


def respond(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        rows = np.asarray(json.loads(body)["instances"], dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != WIDTH:
            raise ValueError(f"instances must be rows of {WIDTH} numbers, got shape {rows.shape}")
    except (KeyError, TypeError, ValueError) as error:
        return respond(400, {"error": str(error)})
    probabilities = SESSION.run([OUTPUT], {INPUT: rows})[0]
    prediction = [LABELS[i] for i in probabilities.argmax(axis=1)]
    return respond(200, {"prediction": prediction, "probabilities": probabilities.tolist()})
