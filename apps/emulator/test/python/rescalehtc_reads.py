"""Reads the emulator's answers the way Rescale's Python client (rescalehtc 1.1) does, with the standard library only.

rescalehtc indexes parsed JSON with json["member"], so an absent member raises KeyError; it follows a page's "next"
whenever the key is there (a null would break its URL match); HtcJobBatch.to_jobs() copies the submitted batch's
"group" into every job, also when the batch was submitted without one. This script makes the same calls with the
same request bodies and reads exactly those members the same way (written here from the client's documented
behaviour, not copied from it). The image-status wait of create_job_batch_raw is left out: it needs a registry.

Takes one JSON argument (baseUrl, apiKey) and prints one JSON object with what it read; a missing member ends it
with a KeyError traceback and exit status 1.
"""
import json
import re
import sys
import time
import urllib.request

cfg = json.loads(sys.argv[1])
base = cfg["baseUrl"]
BASE_URL = re.compile(r"https?://[^ /]+")


def call(method, url, auth, body=None, params=None):
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": auth})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def get_pages(url, auth, params=None):
    """The client's paginated GET: the items of every page, or a body without "items" as it is."""
    items = []
    while url:
        page = call("GET", url, auth, params=params)
        params = None
        if "items" not in page:
            return page
        items += page["items"]
        if "next" in page:
            # The client compares the next link's host with the current one: a null here is a TypeError.
            if BASE_URL.match(url).group(0) != BASE_URL.search(page["next"]).group(0):
                return items
            url = page["next"]
        else:
            url = None
    return items


read = {}

# internals/authenticate: the API key is exchanged for a bearer token.
token = call("GET", f"{base}/auth/token", f"Token {cfg['apiKey']}")
bearer = f"Bearer {token['tokenValue']}"
read["expiresIn"] = token["expiresIn"]

# scripts/rauthenticate: who the key belongs to.
who = get_pages(f"{base}/auth/token/whoami", bearer)
read["whoami"] = [who["userFullName"], who["userEmail"], who["workspaceName"], who["workspaceId"], who["organizationCode"]]

# htcprojects: created, then found by name in the list and read.
created = call("POST", f"{base}/htc/projects", bearer, {"projectName": "rescalehtc-reads", "projectDescription": ""})
projects = get_pages(f"{base}/htc/projects", bearer, {"pageSize": 100})
found = next(p for p in projects if p["projectName"] == "rescalehtc-reads")
project = call("GET", f"{base}/htc/projects/{created['projectId']}", bearer)
project_id = project["projectId"]
read["project"] = [found["projectName"], project["regions"], project["containerRegistry"], project["repositories"]]

# htctasks: create_task_with_name, then get_tasks_with_name over the list.
task = call("POST", f"{base}/htc/projects/{project_id}/tasks", bearer, {"taskName": "reads", "taskDescription": ""})
task_id = task["taskId"]
read["task"] = [task_id, task["projectId"]]
tasks = get_pages(f"{base}/htc/projects/{project_id}/tasks", bearer)
read["tasks"] = [[t["taskName"], t["lifecycleStatus"], t["taskId"]] for t in tasks]

# htcjobs.create_job_batch: the client's own payload (no group; a region, the cloud provider, an empty map of
# job tags), then HtcJobBatch(res[0]).to_jobs().
region = project["regions"][0]
payload = [
    {
        "jobName": "rescalehtc_default_jobname",
        "batchSize": 3,
        "tags": [],
        "region": region,
        "cloudProvider": "GCP" if "GCP" in region else "AWS",
        "htcJobDefinition": {
            "imageName": cfg["image"],
            "maxVCpus": 1,
            "maxMemory": 4000,
            "maxDiskGiB": 10,
            "maxSwap": 0,
            "tags": {},
            "commands": ["sh", "-c", "echo read me"],
            "envs": [],
            "claims": [],
            "execTimeoutSeconds": 60,
            "architecture": cfg["architecture"],
            "priority": "ON_DEMAND_ECONOMY",
        },
    }
]
batch = call("POST", f"{base}/htc/projects/{project_id}/tasks/{task_id}/jobs/batch", bearer, payload)[0]
jobs = [
    {"group": batch["group"], "projectId": batch["projectId"], "taskId": batch["taskId"], "jobUUID": f'{batch["parentJobId"]}:{i}'}
    for i in range(batch["batchSize"])
]
read["toJobs"] = jobs

# HtcTask.get_task_summary / is_still_running, until nothing runs.
RUNNING = ["SUBMITTED_TO_RESCALE", "SUBMITTED_TO_PROVIDER", "RUNNABLE", "STARTING", "RUNNING"]
deadline = time.time() + 60
while True:
    summary = call("GET", f"{base}/htc/projects/{project_id}/tasks/{task_id}/summary-statistics", bearer)
    running = sum(summary["jobStatuses"][status] for status in RUNNING)
    if running == 0 or time.time() > deadline:
        break
    time.sleep(0.25)
read["stillRunning"] = running

# HtcJob.get_update on every job of to_jobs(), then get_jobs and get_logs.
statuses = []
for job in jobs:
    job = call("GET", f"{base}/htc/projects/{job['projectId']}/tasks/{job['taskId']}/jobs/{job['jobUUID']}", bearer)
    statuses.append([job["jobUUID"], job["status"], job["projectId"], job["taskId"]])
read["updates"] = statuses
listed = get_pages(f"{base}/htc/projects/{project_id}/tasks/{task_id}/jobs", bearer)
read["jobs"] = sorted([j["jobUUID"], j["status"], j["projectId"], j["taskId"]] for j in listed)
logs = get_pages(f"{base}/htc/projects/{project_id}/tasks/{task_id}/jobs/{jobs[0]['jobUUID']}/logs", bearer, {"pageSize": 100})
read["logs"] = [line["message"] for line in logs]

# container_registry.get_images.
read["images"] = call("GET", f"{base}/htc/projects/{project_id}/container-registry/images", bearer)["images"]

print(json.dumps(read))
