"""Runs Triton's HTTP client (tritonclient.http) against an Open Inference Protocol server, as a Triton user would.

    python triton-infer.py <host:port> <model> <input name> <rows as JSON> <output names as JSON>

Prints one JSON object: the server metadata, whether the model is ready, and for each way of sending the rows
(binary or JSON) and of asking for the outputs (binary or JSON), every output the client decoded.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, model, input_name, rows_json, outputs_json = sys.argv[1:6]
rows = np.array(json.loads(rows_json), dtype=np.float32)
output_names = json.loads(outputs_json)
client = httpclient.InferenceServerClient(url=url)
result = {"live": client.is_server_live(), "ready": client.is_model_ready(model), "metadata": client.get_server_metadata(), "infer": []}
for binary_in in (True, False):
    for binary_out in (True, False):
        tensor = httpclient.InferInput(input_name, list(rows.shape), "FP32")
        tensor.set_data_from_numpy(rows, binary_data=binary_in)
        outputs = [httpclient.InferRequestedOutput(name, binary_data=binary_out) for name in output_names]
        answer = client.infer(model, [tensor], outputs=outputs, request_id="triton")
        result["infer"].append({
            "binary_in": binary_in,
            "binary_out": binary_out,
            "id": answer.get_response()["id"],
            "outputs": {name: answer.as_numpy(name).tolist() for name in output_names},
        })
print(json.dumps(result))
