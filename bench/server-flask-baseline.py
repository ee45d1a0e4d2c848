"""The seed tutorial's design, as the baseline of bench/server-throughput.ts: a Flask app under gunicorn serving a
scikit-learn MLP of the same size (16-8) trained on the same rows (Seattle weather 2012-2014, vega-datasets) with
the same features (standardised numbers, cyclic day-of-year/day-of-week, one-hot location), answering the same
`POST /v1/models/weather:predict` with `{"instances": [...]}`.

Run: WEATHER_CSV=... gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench server-flask-baseline:app
(Debian's python3-flask, python3-sklearn, gunicorn.)
"""
import csv
import math
import os
import uuid
from datetime import datetime, timezone

import numpy as np
from flask import Flask, jsonify, request
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

NUMERIC = ["precipitation", "temp_max", "temp_min", "wind"]


def date_features(text):
    d = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    doy = (d.timetuple().tm_yday - 1) / 365.25
    dow = ((d.weekday() + 1) % 7) / 7
    return [math.sin(2 * math.pi * doy), math.cos(2 * math.pi * doy), math.sin(2 * math.pi * dow), math.cos(2 * math.pi * dow)]


def load():
    with open(os.environ["WEATHER_CSV"], newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["location"] == "Seattle" and r["date"] < "2015-01-01"]
    return rows


ROWS = load()
LOCATIONS = sorted({r["location"] for r in ROWS})
scaler = StandardScaler().fit(np.array([[float(r[c]) for c in NUMERIC] for r in ROWS]))


def featurise(instances):
    nums = scaler.transform(np.array([[float(i[c]) for c in NUMERIC] for i in instances]))
    rest = [date_features(i["date"]) + [1.0 if i["location"] == loc else 0.0 for loc in LOCATIONS] + [0.0 if i["location"] in LOCATIONS else 1.0] for i in instances]
    return np.hstack([nums, np.array(rest)])


model = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=300, random_state=7).fit(featurise(ROWS), [r["weather"] for r in ROWS])
app = Flask(__name__)


@app.post("/v1/models/weather:predict")
def predict():
    body = request.get_json(force=True)
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        return jsonify(error='"instances" must be a non-empty array'), 400
    labels = model.predict(featurise(instances))
    return jsonify(predictions=[str(x) for x in labels], prediction_ids=[str(uuid.uuid4()) for _ in instances])


@app.get("/health")
def health():
    return jsonify(ready=True)
