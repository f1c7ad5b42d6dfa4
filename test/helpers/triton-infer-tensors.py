"""Runs Triton's HTTP client against an Open Inference Protocol server with tensors of any datatype and shape.

    python triton-infer-tensors.py <host:port> <model> <inputs as JSON> <output names as JSON>

<inputs> maps each input name to {"datatype": OIP datatype, "value": batched nested list}. Prints, for each way of
sending the inputs (binary or JSON) and of asking for the outputs (binary or JSON), every output the client decoded
(BYTES as UTF-8 strings).
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

NUMPY = {"FP32": np.float32, "FP64": np.float64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
         "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64, "BOOL": np.bool_, "BYTES": np.object_}

url, model, inputs_json, outputs_json = sys.argv[1:5]
specs = json.loads(inputs_json)
output_names = json.loads(outputs_json)
arrays = {}
for name, spec in specs.items():
    value = spec["value"]
    if spec["datatype"] == "BYTES":
        arrays[name] = np.array([[s.encode("utf-8") for s in row] if isinstance(row, list) else row.encode("utf-8") for row in value], dtype=np.object_)
    else:
        arrays[name] = np.array(value, dtype=NUMPY[spec["datatype"]])
client = httpclient.InferenceServerClient(url=url)
result = []


def plain(array):
    if array.dtype == np.object_:
        # Binary BYTES come back as bytes, JSON ones as str.
        return [plain(item) if isinstance(item, np.ndarray) else item.decode("utf-8") if isinstance(item, bytes) else item for item in array]
    return array.tolist()


for binary_in in (True, False):
    for binary_out in (True, False):
        tensors = []
        for name, spec in specs.items():
            tensor = httpclient.InferInput(name, list(arrays[name].shape), spec["datatype"])
            tensor.set_data_from_numpy(arrays[name], binary_data=binary_in)
            tensors.append(tensor)
        outputs = [httpclient.InferRequestedOutput(name, binary_data=binary_out) for name in output_names]
        answer = client.infer(model, tensors, outputs=outputs)
        result.append({"binary_in": binary_in, "binary_out": binary_out, "outputs": {name: plain(answer.as_numpy(name)) for name in output_names}})
print(json.dumps(result))
