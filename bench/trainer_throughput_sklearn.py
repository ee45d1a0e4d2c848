"""scikit-learn's side of bench/trainer-throughput.ts: MLPClassifier on the same rows, the same layers and batches.

Reads a JSON document on stdin: {"x": [[...], ...], "y": [class index, ...], "epochs": n,
"shapes": [{"hiddenUnits": [64, 32], "batchSize": 32}, ...]} (the rows as the trainer's preprocessing encodes them)
and prints one JSON line per shape: {"hiddenUnits", "batchSize", "seconds", "rowsPerSecond", "epochs"}.
Adam with the trainer's learning rate, no L2, no shuffling, no early stopping: `epochs` passes over the rows, as
the tfjs side does. Debian's python3-sklearn (no PyPI needed).
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def main():
    doc = json.load(sys.stdin)
    x = np.asarray(doc["x"], dtype=np.float32)
    y = np.asarray(doc["y"])
    epochs = int(doc["epochs"])
    warnings.simplefilter("ignore", ConvergenceWarning)
    for shape in doc["shapes"]:
        def model():
            return MLPClassifier(hidden_layer_sizes=tuple(shape["hiddenUnits"]), batch_size=shape["batchSize"], solver="adam",
                                 learning_rate_init=0.01, alpha=0.0, shuffle=False, tol=0.0, n_iter_no_change=10**9,
                                 max_iter=epochs, random_state=1)
        model().set_params(max_iter=1).fit(x, y)  # warm-up, as the tfjs side does
        start = time.perf_counter()
        model().fit(x, y)
        seconds = time.perf_counter() - start
        print(json.dumps({"hiddenUnits": shape["hiddenUnits"], "batchSize": shape["batchSize"], "epochs": epochs,
                          "seconds": seconds, "rowsPerSecond": len(x) * epochs / seconds}), flush=True)


if __name__ == "__main__":
    main()
