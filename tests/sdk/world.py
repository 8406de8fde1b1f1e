"""What scenarios/conformance.toml implies, restated for the assertions.

Times are derived from the clock start (T0) and each task's `created` and phase durations, so that a
reader can check every expected value against the scenario by hand.
"""

from __future__ import annotations

from datetime import datetime, timezone

T0_TEXT = "2030-01-15T10:00:00Z"
T0 = 1_894_701_600_000  # T0_TEXT in Unix milliseconds
SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def ms(offset: int) -> int:
    """T0 + offset (milliseconds)."""
    return T0 + offset


def ecs_time(at_ms: int) -> str:
    """ECS answers with minute precision: 2030-01-15T09:59Z."""
    return datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def iso(at_ms: int) -> str:
    """The yyyy-MM-ddTHH:mm:ssZ form ECS takes in StartTime/EndTime."""
    return datetime.fromtimestamp(at_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- ECS -------------------------------------------------------------------------------------------
REGION = "cn-hangzhou"
ECS_WAITING = "t-sdk0000000000waiting"
ECS_PROCESSING = "t-sdk000000processing"
ECS_POLLED = "t-sdk0000000000polled"
ECS_REDEPLOY = "t-sdk00000000redeploy"
ECS_DELETED = "t-sdk00000000deleted"
ECS_FAILED = "t-sdk00000000failed"
ECS_FINISHED = "t-sdk0000000finished"
ECS_FUTURE = "t-sdk000000000future"
ECS_BEIJING = "t-sdk00000000beijing"

ECS_FIELDS = ("CreationTime", "FinishedTime", "ResourceId", "SupportCancel", "TaskAction", "TaskId", "TaskStatus")


def ecs_task(task_id, action, created, status, finished=None, resource=None, cancel="true"):
    return {
        "CreationTime": ecs_time(created),
        "FinishedTime": None if finished is None else ecs_time(finished),
        "ResourceId": resource,
        "SupportCancel": cancel,
        "TaskAction": action,
        "TaskId": task_id,
        "TaskStatus": status,
    }


# Each task as the first read at T0 shows it, newest first (the order DescribeTasks lists them in).
ECS_AT_T0 = {
    ECS_WAITING: ecs_task(ECS_WAITING, "ImportImage", ms(-30 * SECOND), "Waiting", resource="m-sdk00000000image001"),
    ECS_PROCESSING: ecs_task(ECS_PROCESSING, "ExportImage", ms(-5 * MINUTE), "Processing", resource="m-sdk00000000image002"),
    ECS_POLLED: ecs_task(ECS_POLLED, "ImportImage", ms(-10 * MINUTE), "Waiting", resource="m-sdk00000000image003"),
    # support_cancel = false pinned in the scenario; Paused from 09:43 to 10:43.
    ECS_REDEPLOY: ecs_task(ECS_REDEPLOY, "RedeployInstance", ms(-20 * MINUTE), "Paused", resource="i-sdk0000000instance1", cancel="false"),
    # Waiting 5 minutes from 09:00, then Deleted: ended, so not cancellable; no resource.
    ECS_DELETED: ecs_task(ECS_DELETED, "ExportImage", ms(-HOUR), "Deleted", finished=ms(-55 * MINUTE), cancel="false"),
    ECS_FAILED: ecs_task(ECS_FAILED, "ImportImage", ms(-2 * HOUR), "Failed", finished=ms(-2 * HOUR + 12 * MINUTE), resource="m-sdk00000000image004", cancel="false"),
    ECS_FINISHED: ecs_task(ECS_FINISHED, "ImportImage", ms(-3 * HOUR), "Finished", finished=ms(-3 * HOUR + 30 * MINUTE), resource="m-sdk00000000image005", cancel="false"),
}
ECS_ORDER = list(ECS_AT_T0)

# --- SAS -------------------------------------------------------------------------------------------
SAS_TARGETS = {
    900001: [{"type": "uuid", "name": "sdk-host-a", "target": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1"}],
    900002: [
        {"type": "uuid", "name": "sdk-host-b", "target": "11111111-2222-4333-8444-555555555555"},
        {"type": "groupId", "name": "sdk web group", "target": "8076"},
    ],
    900003: [{"type": "uuid", "name": "sdk-db-01", "target": "7a1e0c44-93bd-4d0e-b4a8-2b65c1d40002"}],
    900004: [{"type": "groupId", "name": "sdk polled group", "target": "9001"}],
}
SAS_AT_T0 = {900001: "init", 900002: "Success", 900003: "Failed", 900004: "init"}

# --- AVDS ------------------------------------------------------------------------------------------
HOURLY = "5d1f0000-0000-4000-8000-00000000a001"
ONE_OFF = "5d1f0000-0000-4000-8000-00000000b002"
ABORTED = "5d1f0000-0000-4000-8000-00000000c003"
REPORT_FAILS = "5d1f0000-0000-4000-8000-00000000d004"
AVDS_POLLED = "5d1f0000-0000-4000-8000-00000000e005"
HOURLY_TARGETS = ["10.1.2.3", "www.sdk.example.com"]

AVDS_FIELDS = (
    "TaskId", "ScanId", "JobStatus", "CreatedAt", "FinishedAt", "Name", "TriggerType", "Period", "Interval",
    "ReportStatus", "ReportUrl", "RunPercent", "Targets",
)


def report_url(scan_id: str, task_id: int) -> str:
    return f"https://reports.sdk.example.com/{scan_id}/{task_id}.pdf"


def session(task_id, scan_id, name, targets, created, status, run_percent, finished=None, periodic=False,
            report="inexistent", url=None):
    return {
        "TaskId": task_id,
        "ScanId": scan_id,
        "JobStatus": status,
        "CreatedAt": created,
        "FinishedAt": finished,
        "Name": name,
        "TriggerType": "interval" if periodic else "date",
        "Period": "hour" if periodic else None,
        "Interval": 1 if periodic else None,
        "ReportStatus": report,
        "ReportUrl": url,
        "RunPercent": run_percent,
        "Targets": targets,
    }


def hourly(k: int, status: str, run_percent: float, finished=None, report="inexistent", url=None):
    """Session k of the hourly scan: started at 08:00 + k hours, TaskId 3000001 + k."""
    return session(3000001 + k, HOURLY, "sdk hourly perimeter", HOURLY_TARGETS, ms(-2 * HOUR + k * HOUR), status,
                   run_percent, finished=finished, periodic=True, report=report, url=url)


# Every session at T0, in answer order (newest start first). A session lives waiting 2m, running 40m,
# finished; its report is ready 30s after the end (the default report_delay).
AVDS_AT_T0 = [
    hourly(2, "waiting", 0.0),
    session(3300001, AVDS_POLLED, "sdk polled scan", ["poll.sdk.example.com"], ms(-5 * MINUTE), "waiting", 0.0),
    # running 10 of 30 minutes
    session(3100001, ONE_OFF, "sdk one-off api audit", ["api.sdk.example.com"], ms(-10 * MINUTE), "running", 33.33),
    hourly(1, "finished", 100.0, finished=ms(-HOUR + 42 * MINUTE), report="finished", url=report_url(HOURLY, 3000002)),
    session(3400001, REPORT_FAILS, "sdk report that fails", ["fail.sdk.example.com"], ms(-70 * MINUTE), "finished", 100.0,
            finished=ms(-60 * MINUTE), report="failed"),
    hourly(0, "finished", 100.0, finished=ms(-2 * HOUR + 42 * MINUTE), report="finished", url=report_url(HOURLY, 3000001)),
    # running 5 minutes, then aborted: the whole running phase is behind it; no report for an aborted scan.
    session(3200001, ABORTED, "sdk aborted legacy scan", ["legacy.sdk.example.com"], ms(-3 * HOUR), "aborted", 100.0,
            finished=ms(-3 * HOUR + 5 * MINUTE)),
]

# --- HSS ListImageScanTask -------------------------------------------------------------------------
PROJECT_ID = "0123456789abcdef0123456789abcdef"
OTHER_PROJECT = "ffffffffffffffffffffffffffffffff"
IMG_SYNC_DONE = "aa000000-0000-4000-8000-000000000001"
IMG_NIGHTLY = "aa000000-0000-4000-8000-000000000002"
IMG_TIMEOUT = "aa000000-0000-4000-8000-000000000003"
IMG_BROKEN = "aa000000-0000-4000-8000-000000000004"
IMG_QUEUED = "aa000000-0000-4000-8000-000000000005"
IMG_POLLED = "aa000000-0000-4000-8000-000000000006"
IMG_ENTERPRISE = "aa000000-0000-4000-8000-000000000007"
IMG_OTHER_PROJECT = "aa000000-0000-4000-8000-000000000008"
ALL_SCOPES = 0x7FFFFFFF

FAILED_NGINX = {
    "id": 42, "registry_id": "reg-sdk-1", "registry_name": "swr-sdk", "image_name": "nginx", "image_version": "1.25",
    "namespace": "web", "registry_type": "SwrPrivate", "failed_reason": "image pull timed out",
}
FAILED_REDIS = {
    "id": 43, "registry_id": "reg-sdk-2", "registry_name": "harbor-sdk", "image_name": "redis", "image_version": "7.2",
    "namespace": "cache", "registry_type": "Harbor", "failed_reason": "manifest unknown",
}
# The broken registry scan's eight failed images (failed_num 8, so eight listed).
FAILED_BROKEN = [
    {"id": i, "registry_id": "reg-sdk-3", "registry_name": "swr-sdk", "image_name": f"app-{i}", "image_version": "1.0",
     "namespace": "apps", "registry_type": "SwrPrivate", "failed_reason": "registry unreachable"}
    for i in range(1, 9)
]


def image_task(task_id, name, task_type, begin, status, *, end=None, remain=0, image_type="registry", scope=ALL_SCOPES,
               rate_limit=None, is_all=True, failed=0, success=0, total=0, risky=0, policy=None, sync=None,
               reason=None, failed_images=()):
    return {
        "task_id": task_id, "policy_id": policy, "task_name": name, "begin_time": begin, "end_time": end,
        "remain_min": remain, "task_type": task_type, "image_type": image_type, "task_status": status,
        "scan_scope": scope, "rate_limit": rate_limit, "is_all": is_all, "failed_num": failed,
        "success_num": success, "total_num": total, "risky_num": risky, "sync_task_type": sync,
        "failed_reason": reason, "failed_images": list(failed_images),
    }


# type=image_scan at T0, newest first. Nightly: scanning 10 of 20 minutes, so half of every counter.
IMAGE_SCANS_AT_T0 = [
    # first read: still waiting (a read-bounded phase, so no remaining time is known)
    image_task(IMG_POLLED, "sdk polled manual scan", "manual", ms(-5 * MINUTE), 0, total=10),
    image_task(IMG_NIGHTLY, "sdk nightly registry scan", "cycle", ms(-10 * MINUTE), 50, remain=10, scope=983040,
               rate_limit=100, failed=1, success=19, total=40, risky=3, policy="policy-sdk-nightly",
               failed_images=[FAILED_NGINX]),
    image_task(IMG_BROKEN, "sdk broken registry scan", "manual", ms(-40 * MINUTE), -3, end=ms(-38 * MINUTE), failed=8,
               success=0, total=8, reason="registry unreachable", failed_images=FAILED_BROKEN),
    image_task(IMG_TIMEOUT, "sdk local images timeout", "manual", ms(-2 * HOUR), -2, end=ms(-90 * MINUTE),
               image_type="local", scope=61440, is_all=False, success=12, total=12),
]
# type=image_sync at T0: the queued sync waits until 10:01:59, then scans 3 minutes (5 minutes left).
IMAGE_SYNCS_AT_T0 = [
    image_task(IMG_QUEUED, "sdk queued manual sync", "manualSync", ms(-1 * SECOND), 0, remain=5, total=9),
    image_task(IMG_SYNC_DONE, "sdk automatic sync", "autoSync", ms(-3 * HOUR), 100, end=ms(-3 * HOUR + MINUTE), success=3,
               total=3, sync="auto"),
]

# --- HSS ListTasks ---------------------------------------------------------------------------------
TASK_PROD = "bb000000-0000-4000-8000-000000000001"
TASK_IAC = "bb000000-0000-4000-8000-000000000002"
TASK_STAGING = "bb000000-0000-4000-8000-000000000003"
TASK_DOCKERFILE = "bb000000-0000-4000-8000-000000000004"
TASK_POLLED = "bb000000-0000-4000-8000-000000000005"


def cluster(types, scanning, success, failed):
    return {"scan_type_list": list(types), "scanning_cluster_num": scanning, "success_cluster_num": success,
            "failed_cluster_num": failed}


def iac(file_type, files, success, failed):
    return {"file_type": file_type, "scan_file_num": files, "success_file_num": success, "failed_file_num": failed}


def common_task(task_id, name, task_type, trigger, status, start, *, end=None, estimated=0, cluster_info=None,
                iac_info=None):
    return {
        "task_id": task_id, "task_type": task_type, "task_name": name, "trigger_type": trigger, "task_status": status,
        "start_time": start, "end_time": end, "estimated_time": estimated, "cluster_scan_info": cluster_info,
        "iac_scan_info": iac_info,
    }


# At T0, newest first (sort_dir desc, the default).
TASKS_AT_T0 = [
    # ready until 10:01:30, then 6 minutes running: 7m30s left, shown rounded up
    common_task(TASK_STAGING, "sdk cluster scan staging", "cluster_scan", "schedule", "ready", ms(-30 * SECOND),
                estimated=8, cluster_info=cluster(["risk_assessment", "cluster_vul"], 0, 0, 0)),
    # running 4 of 10 minutes: floor(4 x 0.4) = 1 cluster done, none failed yet, 3 in progress
    common_task(TASK_PROD, "sdk cluster scan prod", "cluster_scan", "manual", "running", ms(-4 * MINUTE), estimated=6,
                cluster_info=cluster(["cluster_vul", "benchmark"], 3, 1, 0)),
    common_task(TASK_POLLED, "sdk polled cluster scan", "cluster_scan", "manual", "ready", ms(-20 * MINUTE),
                cluster_info=cluster(["benchmark"], 0, 0, 0)),
    common_task(TASK_IAC, "sdk iac scan of manifests", "iac_scan", "schedule", "finished", ms(-HOUR),
                end=ms(-HOUR + 8 * MINUTE), iac_info=iac("k8s_yaml", 12, 11, 1)),
    common_task(TASK_DOCKERFILE, "sdk dockerfile check", "iac_scan", "manual", "finished", ms(-2 * HOUR),
                end=ms(-2 * HOUR + 5 * MINUTE), iac_info=iac("dockerfile", 3, 3, 0)),
]
