"""scikit-learn's side of bench/prequential.ts: the same periods, the same features, test-then-train.

Reads a JSON document on stdin: {"features": [...categorical column names...], "label": "...",
"periods": [[{row}, ...], ...]} (labelled rows only, in event-time order, one list per period) and for each model
(LinearRegression on one-hot features, RandomForestRegressor) and each strategy (static: fitted on period 0 only;
every-period: refitted on every earlier period before predicting the next) prints one JSON line:
{"model", "strategy", "predictions": [[...per period 1..n...]], "fits", "fitSeconds"}.
Debian's python3-sklearn (no PyPI needed).
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import OneHotEncoder


def matrix(encoder, rows, features):
    return encoder.transform([[str(r.get(f, "")) for f in features] for r in rows])


def fit(model_name, rows, features, label):
    encoder = OneHotEncoder(handle_unknown="ignore", min_frequency=5)
    encoder.fit([[str(r.get(f, "")) for f in features] for r in rows])
    x = matrix(encoder, rows, features)
    y = np.array([float(r[label]) for r in rows])
    if model_name == "LinearRegression":
        model = LinearRegression()
    else:
        model = RandomForestRegressor(n_estimators=100, min_samples_leaf=3, random_state=42, n_jobs=1)
        x = x.toarray()
    model.fit(x, y)
    return encoder, model


def predict(model_name, fitted, rows, features):
    encoder, model = fitted
    x = matrix(encoder, rows, features)
    if model_name != "LinearRegression":
        x = x.toarray()
    return [float(v) for v in model.predict(x)]


def main():
    doc = json.load(sys.stdin)
    features, label, periods = doc["features"], doc["label"], doc["periods"]
    for model_name in ("LinearRegression", "RandomForest"):
        for strategy in ("static", "every-period"):
            predictions, fits, seconds = [], 0, 0.0
            fitted = None
            for p in range(1, len(periods)):
                if fitted is None or strategy == "every-period":
                    seen = [r for period in periods[:p] for r in period]
                    start = time.perf_counter()
                    fitted = fit(model_name, seen, features, label)
                    seconds += time.perf_counter() - start
                    fits += 1
                predictions.append(predict(model_name, fitted, periods[p], features))
            print(json.dumps({"model": model_name, "strategy": strategy, "predictions": predictions, "fits": fits, "fitSeconds": seconds}))


if __name__ == "__main__":
    main()
