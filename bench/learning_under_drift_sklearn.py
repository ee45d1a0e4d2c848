"""scikit-learn's side of bench/learning-under-drift.ts: the same streams, periods and features, test-then-train.

Reads a JSON document on stdin:
  {"mode": "prequential", "task": "classification"|"regression",
   "features": [{"name", "type": "numeric"|"categorical"}], "label": "...", "periods": [[{row}, ...], ...]}
(labelled rows only, in event-time order, one list per period; every value as text, "" when missing) and for each
model (LogisticRegression or LinearRegression on one-hot categories and standardised numbers; RandomForest on the
same columns) and each strategy (static: fitted on period 0 only; every-period: refitted on every earlier period
before predicting the next) prints one JSON line:
  {"model", "strategy", "predictions": [[...per period 1..n...]], "fits", "fitSeconds"}
where a prediction is a number (regression) or [predicted class, probability of the row's true class].

  {"mode": "speed", "rows", "width", "x", "y", "tx", "ty", "trows"}
times HistGradientBoostingClassifier and RandomForestClassifier on the same matrix as the engine's side and prints
one JSON line each: {"model", "fitSeconds", "fitRowsPerSecond", "predictRowsPerSecond", "accuracy"}.

Debian's python3-sklearn (no PyPI needed). Single-threaded (OMP_NUM_THREADS=1 set by the bench), like the engine.
"""
import json
import sys
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def frame(rows, features):
    """Rows as an object matrix: numbers as floats (NaN when missing), categories as text."""
    out = []
    for r in rows:
        line = []
        for f in features:
            v = r.get(f["name"], "")
            if f["type"] == "numeric":
                line.append(float(v) if v.strip() != "" else np.nan)
            else:
                line.append(v)
        out.append(line)
    return np.array(out, dtype=object)


def make_model(name, task, features):
    numeric = [i for i, f in enumerate(features) if f["type"] == "numeric"]
    categorical = [i for i, f in enumerate(features) if f["type"] == "categorical"]
    columns = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=5), categorical),
    ])
    # Sparse one-hot columns, as bench/prequential_sklearn.py: LinearRegression then solves with lsqr, which copes with
    # the one-hot columns' collinearity; its dense least squares gave coefficients of 1e13 on birdstrikes.
    if name == "RandomForest":
        model = (RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=1) if task == "classification"
                 else RandomForestRegressor(n_estimators=100, min_samples_leaf=3, random_state=42, n_jobs=1))
    elif task == "classification":
        model = LogisticRegression(max_iter=2000)
    else:
        model = LinearRegression()
    return make_pipeline(columns, model)


def predict(model, task, rows, features, label):
    x = frame(rows, features)
    if task == "regression":
        return [float(v) for v in model.predict(x)]
    probabilities = model.predict_proba(x)
    classes = list(model.classes_)
    out = []
    for r, p in zip(rows, probabilities):
        truth = r[label]
        out.append([classes[int(np.argmax(p))], float(p[classes.index(truth)]) if truth in classes else 0.0])
    return out


def prequential(doc):
    task, features, label, periods = doc["task"], doc["features"], doc["label"], doc["periods"]
    linear = "LogisticRegression" if task == "classification" else "LinearRegression"
    for name in (linear, "RandomForest"):
        for strategy in ("static", "every-period"):
            predictions, fits, seconds = [], 0, 0.0
            model = None
            for p in range(1, len(periods)):
                if model is None or strategy == "every-period":
                    seen = [r for period in periods[:p] for r in period]
                    start = time.perf_counter()
                    model = make_model(name, task, features)
                    y = [r[label] if task == "classification" else float(r[label]) for r in seen]
                    model.fit(frame(seen, features), y)
                    seconds += time.perf_counter() - start
                    fits += 1
                predictions.append(predict(model, task, periods[p], features, label))
            print(json.dumps({"model": "scikit-learn " + name, "strategy": strategy, "predictions": predictions, "fits": fits, "fitSeconds": seconds}), flush=True)


def speed(doc):
    x = np.array(doc["x"], dtype=np.float32).reshape(doc["rows"], doc["width"])
    tx = np.array(doc["tx"], dtype=np.float32).reshape(doc["trows"], doc["width"])
    y, ty = np.array(doc["y"]), np.array(doc["ty"])
    models = [
        ("HistGradientBoosting, 200 rounds, depth 6", HistGradientBoostingClassifier(max_iter=200, max_depth=6, max_leaf_nodes=None, early_stopping=False, random_state=1)),
        ("RandomForest, 100 trees, depth 16", RandomForestClassifier(n_estimators=100, max_depth=16, n_jobs=1, random_state=1)),
    ]
    for name, model in models:
        start = time.perf_counter()
        model.fit(x, y)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        p = model.predict(tx)
        pred = time.perf_counter() - start
        print(json.dumps({"model": "scikit-learn " + name, "fitSeconds": fit, "fitRowsPerSecond": doc["rows"] / fit, "predictRowsPerSecond": doc["trows"] / pred, "accuracy": float((p == ty).mean())}), flush=True)


def main():
    doc = json.load(sys.stdin)
    if doc["mode"] == "speed":
        speed(doc)
    else:
        prequential(doc)


if __name__ == "__main__":
    main()
