#!/usr/bin/python3
"""A job-service client that is not ours: Python's grpcio, stubs compiled from the .proto files.

Usage: grpc_client.py PROTO_ROOT HOST:PORT JOB_JSON MODEL_OUT
  - compiles PROTO_ROOT/parallax/v1/*.proto with grpc_tools.protoc into a temporary folder;
  - submits the job (the JSON is a JobSpec in protobuf's JSON mapping), watches it to the end,
    lists jobs, and downloads the model into MODEL_OUT;
  - prints one JSON object: the job id, final state, epochs seen while watching, the last
    validation accuracy, event count, the model's size, and whether the job was listed.
Exit codes: 0 ok, 2 usage, 3 the job did not succeed, 77 grpcio/grpc_tools missing (skip).
"""
import glob
import importlib
import json
import os
import re
import sys
import tempfile

if len(sys.argv) != 5:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
proto_root, server, job_json, model_out = sys.argv[1:]

try:
    import grpc
    from grpc_tools import protoc
    from google.protobuf import json_format
except ImportError as e:  # the Java test skips on 77
    print(f"missing Python package: {e}", file=sys.stderr)
    sys.exit(77)

out = tempfile.mkdtemp(prefix="parallax-py-")
# Debian's grpc_tools bundles protoc 3.5, older than proto3's `optional` label. Dropping the
# label keeps every field's number and type, so the wire format is the same; only presence of
# a field set to its zero value is lost on this client's side, which this test never needs.
src = tempfile.mkdtemp(prefix="parallax-proto-")
protos = []
for path in sorted(glob.glob(os.path.join(proto_root, "parallax", "v1", "*.proto"))):
    rel = os.path.relpath(path, proto_root)
    os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
    with open(path) as f:
        text = re.sub(r"^(\s*)optional\s+", r"\1", f.read(), flags=re.M)
    with open(os.path.join(src, rel), "w") as f:
        f.write(text)
    protos.append(os.path.join(src, rel))
well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
args = ["protoc", f"-I{src}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}"] + protos
if protoc.main(args) != 0:
    print("protoc failed", file=sys.stderr)
    sys.exit(1)
sys.path.insert(0, out)
job_pb2 = importlib.import_module("parallax.v1.job_pb2")
service_pb2 = importlib.import_module("parallax.v1.job_service_pb2")
service_grpc = importlib.import_module("parallax.v1.job_service_pb2_grpc")

channel = grpc.insecure_channel(server)
stub = service_grpc.JobServiceStub(channel)

spec = job_pb2.JobSpec()
with open(job_json) as f:
    json_format.Parse(f.read(), spec)
job_id = stub.SubmitJob(spec, timeout=30)

events = 0
epochs = []
final = None
for event in stub.WatchJob(job_id, timeout=600):
    events += 1
    kind = event.WhichOneof("event")
    if kind == "epoch":
        epochs.append(event.epoch.val_accuracy)
    elif kind == "finished":
        final = event.finished

listed = any(j.id == job_id.id for j in stub.ListJobs(service_pb2.ListJobsRequest(), timeout=30).jobs)
record = stub.GetJob(job_id, timeout=30)
size = 0
if record.state == service_pb2.SUCCEEDED:
    with open(model_out, "wb") as f:
        for chunk in stub.GetModel(job_id, timeout=120):
            if chunk.offset != size or len(chunk.data) > 1 << 20:
                print(f"bad chunk at {chunk.offset}, expected {size}", file=sys.stderr)
                sys.exit(1)
            f.write(chunk.data)
            size += len(chunk.data)
print(json.dumps({
    "job_id": job_id.id,
    "state": service_pb2.JobState.Name(record.state),
    "watched_final_state": service_pb2.JobState.Name(final.state) if final else None,
    "epochs_watched": len(epochs),
    "val_accuracy": epochs[-1] if epochs else None,
    "events": events,
    "model_bytes": size,
    "listed": listed,
}))
sys.exit(0 if record.state == service_pb2.SUCCEEDED else 3)
