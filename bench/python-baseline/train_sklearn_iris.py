"""Prep step of package (a): trains iris as models/train/train.py does and dumps it with joblib.

Run with the package's own folder on PYTHONPATH, so the scikit-learn that trains is the one that loads.
Usage: python train_sklearn_iris.py <package dir> <models/iris dir>
Writes <package dir>/model.joblib and labels.json; exits non-zero unless predict_proba on golden.json's rows
matches golden.json's outputs within its tolerance.
"""

import json
import sys
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

SEED = 42  # models/train/train.py's SEED

package, bundle = Path(sys.argv[1]), Path(sys.argv[2])
data = load_iris()
x_train, _, y_train, _ = train_test_split(data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target)
model = LogisticRegression(max_iter=1000, random_state=0).fit(x_train, y_train)

labels = json.loads((bundle / "model.json").read_text())["labels"]
if labels != [str(n) for n in data.target_names]:
    sys.exit(f"model.json's labels {labels} are not sklearn's iris target names {list(data.target_names)}")
golden = json.loads((bundle / "golden.json").read_text())
diff = float(np.abs(model.predict_proba(np.asarray(golden["inputs"])) - np.asarray(golden["outputs"])).max())
if diff > golden.get("tolerance", 1e-4):
    sys.exit(f"the retrained model differs from golden.json by {diff:.3g}; the training settings drifted from train.py")

joblib.dump(model, package / "model.joblib")
(package / "labels.json").write_text(json.dumps(labels))
print(json.dumps({"maxDiffFromGolden": diff}))
