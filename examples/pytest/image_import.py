"""Wait for an ECS image import to finish: the kind of helper a deployment script has.

`wait_for_image_import` polls ECS DescribeTasks (the Tea SDK, alibabacloud-ecs20140526) for one
ImportImage task until it is Finished, gives up at once when the task Failed or was cancelled, and
retries the cloud's transient errors (ServiceUnavailable, Throttling, 5xx) a few times in a row.
How it sleeps is a parameter, so a test can make its waiting move a virtual clock instead.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Optional

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config

TRANSIENT_CODES = {"ServiceUnavailable", "Throttling", "Throttling.User", "InternalError"}


class ImportFailed(Exception):
    """The import ended without an image: TaskStatus Failed, or Deleted (cancelled)."""


class ImportTimedOut(Exception):
    """The import was still running when the time allowed ran out."""


def ecs_client(endpoint: Optional[str] = None) -> EcsClient:
    """An ECS client from the environment: ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, and the endpoint
    (`ecs.aliyuncs.com` in production; `127.0.0.1:PORT`, over plain HTTP, against taskemu)."""
    endpoint = endpoint or os.environ.get("ECS_ENDPOINT", "ecs.aliyuncs.com")
    local = endpoint.startswith(("127.0.0.1", "localhost"))
    return EcsClient(Config(
        access_key_id=os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        access_key_secret=os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        endpoint=endpoint,
        protocol="http" if local else "https",
    ))


def _is_transient(error: AlibabaCloudException) -> bool:
    return error.code in TRANSIENT_CODES or (error.status_code or 0) >= 500


def wait_for_image_import(
    client: EcsClient,
    region_id: str,
    task_id: str,
    *,
    poll_every: float = 30.0,
    timeout: float = 3600.0,
    max_transient_errors: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> ecs_models.DescribeTasksResponseBodyTaskSetTask:
    """Polls until the task is Finished and returns it. Raises ImportFailed (Failed or Deleted),
    ImportTimedOut (still running after `timeout` seconds of waiting), or the SDK's error when it
    is not transient or came `max_transient_errors` times in a row."""
    waited = 0.0
    errors_in_a_row = 0
    request = ecs_models.DescribeTasksRequest(region_id=region_id, task_ids=task_id, task_action="ImportImage")
    while True:
        try:
            body = client.describe_tasks(request).body
            errors_in_a_row = 0
        except AlibabaCloudException as error:
            errors_in_a_row += 1
            if not _is_transient(error) or errors_in_a_row >= max_transient_errors:
                raise
            body = None
        if body is not None:
            tasks = body.task_set.task if body.task_set else []
            if not tasks:
                raise ImportFailed(f"no ImportImage task {task_id} in {region_id}")
            task = tasks[0]
            if task.task_status == "Finished":
                return task
            if task.task_status in ("Failed", "Deleted"):
                raise ImportFailed(f"import {task_id} ended {task.task_status}")
        if waited >= timeout:
            raise ImportTimedOut(f"import {task_id} still running after {timeout:.0f}s")
        sleep(poll_every)
        waited += poll_every
