#!/usr/bin/env python3
"""The journey of Rescale's official HTC tutorial, in Python, against the emulator's container (or production).

Plain `requests` for the API and `boto3` for storage, as the official tutorial does, top to bottom:

   1. a bearer token from the API key                 6. a batch of jobs in a group
   2. a project                                       7. the group's status counts until every job has ended
   3. a repository, `docker login`, tag, push         8. the logs of one job
   4. inputs uploaded to the project's shared storage 9. the results, read back from the task's storage
   5. a task                                         10. the task deleted

The workload: N parts of random integers; job i downloads part i from the shared storage with `htcctl`, sums it
with awk and uploads `results/part-<i>.json` to the task's storage. The script knows every sum and checks them.

    docker run -d --network host -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD/.htc:/data" htcemu/emulator
    export RESCALE_API_KEY=<the key the emulator printed: docker logs ...>
    python3 tutorial.py

Settings (environment): HTC_BASE_URL (default http://127.0.0.1:8787/api/v1), RESCALE_API_KEY (required),
HTC_PY_JOBS (number of jobs, default 10), HTC_PY_SOURCE_IMAGE (the image pushed, default htcemu/node:20: it has
htcctl and busybox's awk).
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import boto3
import requests
from botocore.config import Config

BASE_URL = os.environ.get("HTC_BASE_URL", "http://127.0.0.1:8787/api/v1").rstrip("/")
API_KEY = os.environ.get("RESCALE_API_KEY")
JOBS = int(os.environ.get("HTC_PY_JOBS", "10"))
SOURCE_IMAGE = os.environ.get("HTC_PY_SOURCE_IMAGE", "htcemu/node:20")
REPO, TAG = "numbers-htc-tutorial", "v1"
NUMBERS_PER_PART = 1000

started = time.monotonic()


def step(number, title):
    print(f"\n[{number:>2}] {title}  (+{time.monotonic() - started:.1f} s)", flush=True)


def say(text):
    print(f"     {text}", flush=True)


def check(condition, message):
    if not condition:
        raise SystemExit(f"tutorial failed: {message}")


if not API_KEY:
    raise SystemExit("set RESCALE_API_KEY to the emulator's API key (it prints it at start: docker logs <container>)")

api = requests.Session()


def call(method, path, expected=(200,), **kwargs):
    """One API call; the body parsed as JSON (or text), or a clear failure with the API's own error."""
    response = api.request(method, f"{BASE_URL}{path}", timeout=60, **kwargs)
    if response.status_code not in expected:
        raise SystemExit(f"tutorial failed: {method} {path} answered {response.status_code}: {response.text[:500]}")
    if not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def s3_client(token):
    """boto3 for the credentials of a storage token: the emulator names its S3 endpoint, production does not."""
    creds = token["credentials"]
    return boto3.client(
        "s3",
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        endpoint_url=token.get("endpointUrl"),
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


def folder_of(token):
    """`s3://<bucket>/<prefix>/` of a storage token, as (bucket, prefix)."""
    bucket, _, prefix = token["storagePath"][len("s3://"):].partition("/")
    return bucket, prefix


# --- 1. Authenticate -------------------------------------------------------------------------------------------
step(1, f"Authenticate at {BASE_URL}")
token = call("GET", "/auth/token", headers={"Authorization": f"Token {API_KEY}"})
api.headers["Authorization"] = f"Bearer {token['tokenValue']}"
me = call("GET", "/auth/whoami", headers={"Authorization": f"Token {API_KEY}"})
say(f"bearer token for {me['user']['email']} (workspace {me['user']['workspace']['name']}), valid {token['expiresIn']} s")

# --- 2. A project --------------------------------------------------------------------------------------------
step(2, "Create a project")
project = call("POST", "/htc/projects", json={"projectName": "numbers-python", "projectDescription": "the Python tutorial"})
project_id = project["projectId"]
say(f"project {project_id}, regions {', '.join(project.get('regions') or [])}")

# --- 3. The image, pushed to the project's registry ----------------------------------------------------------
step(3, f"Push {SOURCE_IMAGE} to the project's registry as {REPO}:{TAG}")
repo = call("POST", f"/htc/projects/{project_id}/container-registry/repo/{REPO}")
password = call("GET", f"/htc/projects/{project_id}/container-registry/token").strip()
registry_host = repo["registryURI"].split("/")[0]
target = f"{repo['registryURI']}{REPO}:{TAG}"
with tempfile.TemporaryDirectory(prefix="htc-python-docker-") as docker_config:
    # A docker configuration of its own: the login does not end up in ~/.docker.
    env = {**os.environ, "DOCKER_CONFIG": docker_config}

    def docker(*args, stdin=None):
        done = subprocess.run(["docker", *args], input=stdin, env=env, text=True, capture_output=True)
        check(done.returncode == 0, f"docker {' '.join(args)} failed: {done.stderr.strip()}")

    docker("login", "--username", "AWS", "--password-stdin", registry_host, stdin=password)
    docker("tag", SOURCE_IMAGE, target)
    docker("push", "-q", target)
    docker("rmi", target)
    docker("logout", registry_host)
while True:
    image = call("GET", f"/htc/projects/{project_id}/container-registry/images/{REPO}:{TAG}")
    if image["status"] == "READY":
        break
    time.sleep(0.5)
say(f"pushed {target}: {image['status']}")

# --- 4. Inputs to the project's shared storage -----------------------------------------------------------------
step(4, f"Upload {JOBS} input parts to the project's shared storage")
rng = random.Random(20240402)
parts = [[rng.randint(-1000, 1000) for _ in range(NUMBERS_PER_PART)] for _ in range(JOBS)]
shared = call("GET", f"/htc/projects/{project_id}/storage/token")
bucket, prefix = folder_of(shared)
s3 = s3_client(shared)
for index, numbers in enumerate(parts):
    body = "\n".join(str(n) for n in numbers) + "\n"
    s3.put_object(Bucket=bucket, Key=f"{prefix}inputs/part-{index}.txt", Body=body.encode())
listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}inputs/")
check(listed.get("KeyCount") == JOBS, f"expected {JOBS} inputs in the shared storage, found {listed.get('KeyCount')}")
say(f"{JOBS} parts of {NUMBERS_PER_PART} integers in {shared['storagePath']}inputs/")

# --- 5. A task -----------------------------------------------------------------------------------------------
step(5, "Create a task")
task = call("POST", f"/htc/projects/{project_id}/tasks", json={"taskName": "sums", "taskDescription": f"{JOBS} parts"})
task_id = task["taskId"]
jobs_path = f"/htc/projects/{project_id}/tasks/{task_id}"
say(f"task {task_id}")

# --- 6. The batch, in a group --------------------------------------------------------------------------------
step(6, f"Submit {JOBS} jobs in one batch, in a group")
group = f"numbers-{int(time.time())}"
workload = (
    "set -e; i=$AWS_BATCH_JOB_ARRAY_INDEX; "
    "htcctl -s -q download inputs/part-$i.txt; "
    "sum=$(awk '{s+=$1} END {print s}' inputs/part-$i.txt); "
    "mkdir -p results; echo \"{\\\"part\\\": $i, \\\"sum\\\": $sum}\" > results/part-$i.json; "
    "htcctl -q upload results/part-$i.json; "
    "echo \"part $i sums to $sum\""
)
definition = {
    "imageName": f"{REPO}:{TAG}",
    "commands": ["sh", "-c", workload],
    "workingDir": "/tmp",
    "maxVCpus": 1,
    "maxMemory": 256,
    "execTimeoutSeconds": 300,
}
batches = call(
    "POST",
    f"{jobs_path}/jobs/batch",
    params={"group": group},
    json=[{"jobName": "sum-part", "batchSize": JOBS, "htcJobDefinition": definition}],
)
parent = batches[0]["parentJobId"]
say(f"batch {parent} in group {group}: job i sums part i (AWS_BATCH_JOB_ARRAY_INDEX)")

# --- 7. Statistics until every job has ended -------------------------------------------------------------------
step(7, "Watch the group's status counts")
deadline = time.monotonic() + 600
while True:
    stats = call("GET", f"{jobs_path}/group-summary-statistics", params={"group": group})
    counts = stats["items"][0]["jobStatuses"]
    done = counts.get("SUCCEEDED", 0) + counts.get("FAILED", 0)
    say(", ".join(f"{status} {n}" for status, n in counts.items() if n) or "no jobs counted yet")
    if done == JOBS:
        break
    check(time.monotonic() < deadline, "the jobs did not finish within 10 minutes")
    time.sleep(1)
check(counts.get("SUCCEEDED", 0) == JOBS, f"{counts.get('FAILED', 0)} job(s) failed")

# --- 8. One job's logs -----------------------------------------------------------------------------------------
step(8, "Read the logs of the first job")
logs = call("GET", f"{jobs_path}/jobs/{parent}:0/logs", params={"sort": "asc"})
lines = [line["message"] for line in logs["items"]]
for line in lines:
    say(f"| {line}")
check(f"part 0 sums to {sum(parts[0])}" in lines, "the first job's log does not show its sum")

# --- 9. Results from the task's storage --------------------------------------------------------------------------
step(9, "Read the results from the task's storage")
task_storage = call("GET", f"{jobs_path}/storage/token")
bucket, prefix = folder_of(task_storage)
s3 = s3_client(task_storage)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}results/").get("Contents", [])]
results = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]
check(len(results) == JOBS, f"expected {JOBS} results in {task_storage['storagePath']}results/, found {len(results)}")
for result in results:
    check(result["sum"] == sum(parts[result["part"]]), f"part {result['part']}: {result['sum']} is not {sum(parts[result['part']])}")
total = sum(r["sum"] for r in results)
check(total == sum(map(sum, parts)), "the total is wrong")
say(f"{len(results)} results, every sum right; the grand total is {total}")

# --- 10. Clean up ------------------------------------------------------------------------------------------------
step(10, "Delete the task")
deleted = call("DELETE", jobs_path)
say(f"task {deleted['taskId']}: {deleted['lifecycleStatus']}")

print(f"\ntutorial complete in {time.monotonic() - started:.1f} s", flush=True)
sys.exit(0)
