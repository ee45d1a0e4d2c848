"""Drives a Perennial model server over OIP v2 gRPC with the clients users have: tritonclient.grpc and the KServe
SDK's InferenceGRPCClient, each with its ordinary calls (per-feature and [n, k] inputs, outputs selection, health,
metadata, statistics, the repository index).

Run once per client: `oip_grpc_client.py triton` or `oip_grpc_client.py kserve` (each client registers its own
copy of the `inference.*` protobuf messages in the process-wide descriptor pool, so the two cannot share a process).
Reads a job from stdin (JSON):
  {"address": "127.0.0.1:PORT", "model": "weather", "features": [{"name", "kind"}], "rows": [{feature: value}],
   "matrix_input": "input",
   "numeric": {"address", "model", "features", "rows"}}   # a second server on a model of numeric features only
and prints one JSON object: each case's answers (labels, probabilities, ids, ...) for the caller to compare with
the model in-process, and what the metadata, statistics and errors said (gRPC status code names and details). Any
exception a client raises where the call should succeed fails the script (exit 1, traceback on stderr).
"""

import asyncio
import json
import sys

import numpy as np


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def column(rows, name, kind):
    values = [r[name] for r in rows]
    if kind == "numeric":
        return np.array(values, dtype=np.float64), "FP64"
    return np.array([text(v) for v in values], dtype=np.object_), "BYTES"


def plain(a, n):
    if a.dtype == np.object_ or a.dtype.kind in ("S", "U"):
        return [text(x) for x in a.reshape(-1)]
    return a.reshape(n, -1).tolist() if a.ndim == 2 else a.tolist()


def triton_answers(result, n):
    """What a tritonclient.grpc InferResult carries, as plain lists (it reads raw_output_contents)."""
    response = result.get_response(as_json=True)
    out = {"id": response.get("id", "")}
    for o in response["outputs"]:
        a = result.as_numpy(o["name"])
        out[o["name"]] = plain(a, n)
        out[o["name"] + "_shape"] = list(a.shape)
        out[o["name"] + "_datatype"] = o["datatype"]
    return out


def refusal(call):
    """The status and details of a call that should fail; None when it did not."""
    from tritonclient.utils import InferenceServerException

    try:
        call()
        return None
    except InferenceServerException as e:
        return {"status": e.status(), "message": e.message()}


def triton_cases(job):
    import tritonclient.grpc as grpcclient

    address, model, features, rows = job["address"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = grpcclient.InferenceServerClient(url=address)
    out = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "server_metadata": client.get_server_metadata(as_json=True),
        "metadata": client.get_model_metadata(model, as_json=True),
        "metadata_v1": client.get_model_metadata(model, model_version="v1", as_json=True),
    }

    def per_feature():
        inputs = []
        for f in features:
            data, datatype = column(rows, f["name"], f["kind"])
            t = grpcclient.InferInput(f["name"], [n], datatype)
            t.set_data_from_numpy(data)
            inputs.append(t)
        return inputs

    # tritonclient's ordinary call: one tensor per feature (raw_input_contents), every output.
    out["per_feature"] = triton_answers(client.infer(model, per_feature(), request_id="triton-grpc-1"), n)
    # One [n, k] BYTES tensor in the order of the metadata's inputs (a model with a categorical feature).
    order = [i["name"] for i in out["metadata"]["inputs"]]
    matrix = np.array([[text(r[name]) for name in order] for r in rows], dtype=np.object_)
    t = grpcclient.InferInput(job["matrix_input"], [n, len(order)], "BYTES")
    t.set_data_from_numpy(matrix)
    out["matrix_bytes"] = triton_answers(client.infer(model, [t]), n)
    out["matrix_order"] = order
    # Outputs selection: Triton's top-2 classification on probabilities, and the label; nothing else.
    sel = [grpcclient.InferRequestedOutput("probabilities", class_count=2), grpcclient.InferRequestedOutput("label")]
    out["selected"] = triton_answers(client.infer(model, per_feature(), outputs=sel, model_version="v1"), n)
    out["unknown_output"] = refusal(lambda: client.infer(model, per_feature(), outputs=[grpcclient.InferRequestedOutput("scores")]))
    out["unknown_model"] = refusal(lambda: client.infer("no-such-model", per_feature()))
    missing = [i for i in per_feature() if i.name() != "wind"]
    out["missing_input"] = refusal(lambda: client.infer(model, missing))
    out["statistics"] = client.get_inference_statistics(model, as_json=True)
    out["repository_index"] = client.get_model_repository_index(as_json=True)
    out["model_config"] = refusal(lambda: client.get_model_config(model))
    client.close()
    return out


def triton_numeric_cases(job):
    """A model of numeric features only: a single [n, k] FP32 tensor."""
    import tritonclient.grpc as grpcclient

    address, model, features, rows = job["address"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = grpcclient.InferenceServerClient(url=address)
    order = [i["name"] for i in client.get_model_metadata(model, as_json=True)["inputs"]]
    matrix = np.array([[r[name] for name in order] for r in rows], dtype=np.float32)
    t = grpcclient.InferInput("input", [n, len(order)], "FP32")
    t.set_data_from_numpy(matrix)
    outputs = [grpcclient.InferRequestedOutput(o) for o in ("label", "probabilities")]
    out = {"order": order, "matrix_fp32": triton_answers(client.infer(model, [t], outputs=outputs), n)}
    client.close()
    return out


def kserve_answers(response):
    out = {"id": response.id}
    for o in response.outputs:
        out[o.name] = plain(o.as_numpy(), len(o.as_numpy()))
    return out


async def kserve_cases(job):
    import grpc
    from kserve import InferenceGRPCClient, InferInput, InferRequest
    from kserve.protocol.infer_type import RequestedOutput

    address, model, features, rows = job["address"], job["model"], job["features"], job["rows"]
    n = len(rows)
    client = InferenceGRPCClient(address, timeout=60, retries=0)
    out = {
        "live": await client.is_server_live(),
        "ready": await client.is_server_ready(),
        "model_ready": await client.is_model_ready(model),
    }

    def inputs(binary):
        result = []
        for f in features:
            data, datatype = column(rows, f["name"], f["kind"])
            t = InferInput(f["name"], [n], datatype)
            t.set_data_from_numpy(data, binary_data=binary)
            result.append(t)
        return result

    # Typed contents (fp64_contents, bytes_contents): the SDK's non-binary form.
    typed = InferRequest(model, inputs(False), request_id="kserve-grpc-typed", request_outputs=[RequestedOutput("label"), RequestedOutput("probabilities")])
    out["typed"] = kserve_answers(await client.infer(typed))
    # Raw contents, every output.
    raw = InferRequest(model, inputs(True), request_id="kserve-grpc-raw")
    out["raw"] = kserve_answers(await client.infer(raw))
    try:
        bad = InferRequest(model, [InferInput("wind", [n], "FP64", data=[1.0])], request_id="kserve-bad")
        await client.infer(bad)
        out["shape_mismatch"] = None
    except grpc.aio.AioRpcError as e:
        out["shape_mismatch"] = {"status": e.code().name, "message": e.details()}
    await client.close()
    return out


def main():
    job = json.load(sys.stdin)
    if sys.argv[1:] == ["triton"]:
        out = {"triton": triton_cases(job)}
        if job.get("numeric"):
            out["numeric"] = triton_numeric_cases(job["numeric"])
    elif sys.argv[1:] == ["kserve"]:
        out = {"kserve": asyncio.run(kserve_cases(job))}
    else:
        sys.exit("usage: oip_grpc_client.py triton|kserve < job.json")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
