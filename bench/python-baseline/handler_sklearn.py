"""Lambda handler (a): a joblib-dumped scikit-learn model, loaded once at module scope, as most guides show it."""

import base64
import json
import os

import joblib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = joblib.load(os.path.join(HERE, "model.joblib"))
with open(os.path.join(HERE, "labels.json"), encoding="utf-8") as f:
    LABELS = json.load(f)
WIDTH = MODEL.n_features_in_


def respond(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        rows = np.asarray(json.loads(body)["instances"], dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != WIDTH:
            raise ValueError(f"instances must be rows of {WIDTH} numbers, got shape {rows.shape}")
    except (KeyError, TypeError, ValueError) as error:
        return respond(400, {"error": str(error)})
    probabilities = MODEL.predict_proba(rows)
    prediction = [LABELS[i] for i in probabilities.argmax(axis=1)]
    return respond(200, {"prediction": prediction, "probabilities": probabilities.tolist()})
