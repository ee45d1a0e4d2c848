"""Drives a Perennial model server over OIP v2 REST with the clients users have: tritonclient.http and the KServe
SDK's InferenceRESTClient, each with its ordinary calls (JSON and binary tensors, per-feature and [n, k] inputs,
outputs selection, health, metadata, statistics, the repository index).

Reads a job from stdin (JSON):
  {"url": "http://127.0.0.1:PORT", "model": "weather", "features": [{"name", "kind"}], "rows": [{feature: value}],
   "numeric": {"url", "model", "features", "rows"}}   # a second server on a model of numeric features only
and prints one JSON object: each case's answers (labels, probabilities, ids, ...) for the caller to compare with
the model in-process, and what the metadata, statistics and errors said. Any exception a client raises where the
call should succeed fails the script (exit 1, traceback on stderr).
"""

import asyncio
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from kserve import InferInput, InferRequest, InferenceRESTClient, RESTConfig
from kserve.protocol.infer_type import RequestedOutput


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def host_port(url):
    return url.split("://", 1)[1]


def column(rows, name, kind):
    values = [r[name] for r in rows]
    if kind == "numeric":
        return np.array(values, dtype=np.float64), "FP64"
    return np.array([text(v) for v in values], dtype=np.object_), "BYTES"


def triton_answers(result, n):
    """What a tritonclient InferResult carries, as plain lists."""
    out = {"id": result.get_response().get("id")}
    for o in result.get_response()["outputs"]:
        a = result.as_numpy(o["name"])
        if a.dtype == np.object_ or a.dtype.kind in ("S", "U"):
            out[o["name"]] = [text(x) for x in a.reshape(-1)]
            out[o["name"] + "_shape"] = list(a.shape)
        else:
            out[o["name"]] = a.reshape(n, -1).tolist() if a.ndim == 2 else a.tolist()
    return out


def triton_cases(job):
    url, model, features, rows = job["url"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = httpclient.InferenceServerClient(url=host_port(url))
    out = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "server_metadata": client.get_server_metadata(),
        "metadata": client.get_model_metadata(model),
        "metadata_v1": client.get_model_metadata(model, model_version="v1"),
    }

    def per_feature(binary):
        inputs = []
        for f in features:
            data, datatype = column(rows, f["name"], f["kind"])
            t = httpclient.InferInput(f["name"], [n], datatype)
            t.set_data_from_numpy(data, binary_data=binary)
            inputs.append(t)
        return inputs

    # JSON both ways: inputs in JSON, every output asked for in JSON.
    outputs = [httpclient.InferRequestedOutput(o, binary_data=False) for o in ("label", "probabilities", "prediction_id")]
    out["triton_json"] = triton_answers(client.infer(model, per_feature(False), outputs=outputs, request_id="triton-json-1"), n)
    # tritonclient's default: binary inputs, no outputs named (so every output comes back in binary).
    out["triton_binary"] = triton_answers(client.infer(model, per_feature(True)), n)
    # One [n, k] tensor in the feature order the metadata publishes: BYTES for a model with categorical features.
    order = out["metadata"]["parameters"]["features"].split(",")
    kinds = {f["name"]: f["kind"] for f in features}
    matrix = np.array([[text(r[name]) for name in order] for r in rows], dtype=np.object_)
    t = httpclient.InferInput(out["metadata"]["parameters"]["matrix_input"], [n, len(order)], "BYTES")
    t.set_data_from_numpy(matrix, binary_data=True)
    out["triton_matrix_bytes"] = triton_answers(client.infer(model, [t]), n)
    out["matrix_order"] = order
    out["matrix_kinds"] = [kinds[name] for name in order]
    # Outputs selection: Triton's top-2 classification on probabilities (binary), the label in JSON, nothing else.
    sel = [httpclient.InferRequestedOutput("probabilities", binary_data=True, class_count=2), httpclient.InferRequestedOutput("label", binary_data=False)]
    out["triton_selected"] = triton_answers(client.infer(model, per_feature(True), outputs=sel, model_version="v1"), n)
    try:
        client.infer(model, per_feature(False), outputs=[httpclient.InferRequestedOutput("scores")])
        out["unknown_output_error"] = None
    except InferenceServerException as e:
        out["unknown_output_error"] = e.message()
    try:
        client.infer(model, per_feature(False), priority=3)
        out["priority_error"] = None
    except InferenceServerException as e:
        out["priority_error"] = e.message()
    out["statistics"] = client.get_inference_statistics(model)
    out["statistics_all"] = client.get_inference_statistics()
    out["repository_index"] = client.get_model_repository_index()
    try:
        client.load_model(model)
        out["load_error"] = None
    except InferenceServerException as e:
        out["load_error"] = e.message()
    client.close()
    return out


def triton_numeric_cases(job):
    """A model of numeric features only: a single [n, k] FP32 tensor, JSON and binary."""
    url, model, features, rows = job["url"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = httpclient.InferenceServerClient(url=host_port(url))
    order = client.get_model_metadata(model)["parameters"]["features"].split(",")
    matrix = np.array([[r[name] for name in order] for r in rows], dtype=np.float32)
    out = {"order": order}
    for binary in (False, True):
        t = httpclient.InferInput("input", [n, len(order)], "FP32")
        t.set_data_from_numpy(matrix, binary_data=binary)
        outputs = [httpclient.InferRequestedOutput(o, binary_data=binary) for o in ("label", "probabilities")]
        out["binary" if binary else "json"] = triton_answers(client.infer(model, [t], outputs=outputs), n)
    client.close()
    return out


def kserve_answers(response):
    out = {"id": response.id}
    for o in response.outputs:
        a = o.as_numpy()
        if a.dtype == np.object_ or a.dtype.kind in ("S", "U"):
            out[o.name] = [text(x) for x in a.reshape(-1)]
        else:
            out[o.name] = a.tolist()
    return out


async def kserve_cases(job):
    url, model, features, rows = job["url"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
    out = {
        "live": await client.is_server_live(url),
        "ready": await client.is_server_ready(url),
        "model_ready": await client.is_model_ready(url, model),
    }

    def inputs(binary):
        result = []
        for f in features:
            data, datatype = column(rows, f["name"], f["kind"])
            t = InferInput(f["name"], [n], datatype)
            t.set_data_from_numpy(data, binary_data=binary)
            result.append(t)
        return result

    json_request = InferRequest(model, inputs(False), request_id="kserve-json-1", request_outputs=[RequestedOutput("label"), RequestedOutput("probabilities")])
    out["kserve_json"] = kserve_answers(await client.infer(url, json_request, model_name=model))
    binary_request = InferRequest(model, inputs(True), request_id="kserve-binary-1", parameters={"binary_data_output": True})
    out["kserve_binary"] = kserve_answers(await client.infer(url, binary_request, model_name=model))
    await client.close()
    return out


def main():
    job = json.load(sys.stdin)
    out = {"triton": triton_cases(job), "kserve": asyncio.run(kserve_cases(job))}
    if job.get("numeric"):
        out["numeric"] = triton_numeric_cases(job["numeric"])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
