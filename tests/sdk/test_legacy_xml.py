"""The legacy core's XML path: `set_accept_format('XML')` then the deprecated `do_action()`, which
keeps Format=XML and hands back the raw XML (errors included, without raising). Its content must be
the JSON answer's content for the same request in the same world."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import clients
from world import ECS_FAILED, ECS_FINISHED, ECS_WAITING, HOURLY

# do_action() is deprecated, and still what keeps Format=XML: the path under test.
pytestmark = pytest.mark.filterwarnings(r"ignore:do_action\(\) method is deprecated:DeprecationWarning")


def leaf(text: str):
    """A scalar as comparable data: numbers by value (XML 100 and JSON 100.0 are one number)."""
    try:
        return float(text)
    except ValueError:
        return text


def from_json(value):
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return leaf(str(value))


def from_xml(element: ET.Element, lists: set[str], path: str = ""):
    """Element → data; a child whose path is in `lists` is always a list (XML repeats the element)."""
    children = list(element)
    holds_list = any(p.rpartition("/")[0] == path for p in lists)
    if not children and not holds_list:
        return leaf(element.text or "")
    data: dict = {}
    for child in children:
        child_path = f"{path}/{child.tag}"
        value = from_xml(child, lists, child_path)
        if child_path in lists:
            data.setdefault(child.tag, []).append(value)
        else:
            assert child.tag not in data, f"{child_path} repeats but is not a list"
            data[child.tag] = value
    for list_path in lists:
        parent, _, name = list_path.rpartition("/")
        if parent == path:
            data.setdefault(name, [])
    return data


def both(emu, wire, request_factory, lists):
    """(JSON data, XML root tag, XML data) for one request, each asked of a fresh world."""
    client = clients.legacy_client(wire.port)
    emu.reset()
    as_json = json.loads(client.do_action_with_exception(request_factory()))
    emu.reset()
    request = request_factory()
    request.set_accept_format("XML")
    raw = client.do_action(request)
    assert wire.last.param("Format") == "XML"
    assert wire.last.status == 200
    assert wire.last.response_header("content-type") == "text/xml;charset=utf-8"
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(raw)
    return as_json, root.tag, from_xml(root, lists)


def without_request_id(data):
    assert clients.ALIBABA_REQUEST_ID.match(str(data.pop("RequestId")))
    return data


def ecs_request(**setters):
    def make():
        request = clients.legacy_describe_tasks()
        for name, value in setters.items():
            getattr(request, name)(value)
        return request

    return make


@pytest.mark.parametrize(
    "setters",
    [
        {},
        {"set_TaskIds": f"{ECS_WAITING},{ECS_FAILED},{ECS_FINISHED}"},
        {"set_TaskStatus": "Finished"},
        {"set_PageSize": 2, "set_PageNumber": 4},  # an empty page: no <Task> at all
    ],
    ids=["all", "task-ids", "status", "empty-page"],
)
def test_ecs_describe_tasks_xml_matches_json(emu, wire, setters):
    as_json, root, as_xml = both(emu, wire, ecs_request(**setters), {"/TaskSet/Task"})
    assert root == "DescribeTasksResponse"
    assert without_request_id(as_xml) == without_request_id(from_json(as_json))
    assert as_xml["TotalCount"] == as_json["TotalCount"]


@pytest.mark.parametrize("task_id", [900001, 900002, 900003])
def test_sas_scan_task_progress_xml_matches_json(emu, wire, task_id):
    def make():
        request = clients.legacy_scan_task_progress()
        request.set_TaskId(task_id)
        return request

    as_json, root, as_xml = both(emu, wire, make, set())
    assert root == "DescribeScanTaskProgressResponse"
    assert without_request_id(as_xml) == without_request_id(from_json(as_json))
    assert json.loads(as_xml["TargetInfo"]) == json.loads(as_json["TargetInfo"])


@pytest.mark.parametrize("params", [{}, {"ScanId": HOURLY}, {"PageSize": 2, "CurrentPage": 2}, {"Search": "*nothing*"}],
                         ids=["all", "scan-id", "page-2", "none"])
def test_avds_scan_sessions_xml_matches_json(emu, wire, params):
    def make():
        request = clients.legacy_common("avds", "2017-11-29", "DescribeScanSessions")
        for name, value in params.items():
            request.add_query_param(name, value)
        return request

    as_json, root, as_xml = both(emu, wire, make, {"/List", "/List/Targets"})
    assert root == "DescribeScanSessionsResponse"
    assert without_request_id(as_xml) == without_request_id(from_json(as_json))


def test_an_error_comes_back_as_xml_without_raising(wire):
    request = clients.legacy_describe_tasks()
    request.set_PageSize(101)
    request.set_accept_format("XML")
    raw = clients.legacy_client(wire.port).do_action(request)
    assert wire.last.status == 400
    assert wire.last.response_header("content-type") == "text/xml;charset=utf-8"
    root = ET.fromstring(raw)
    assert root.tag == "Error"
    error = {child.tag: child.text for child in root}
    assert clients.ALIBABA_REQUEST_ID.match(error.pop("RequestId"))
    assert error == {
        "HostId": "ecs.aliyuncs.com",
        "Code": "InvalidParameter",
        "Message": 'The specified parameter "PageSize" is not valid.',
        "Recommend": "https://api.aliyun.com/troubleshoot?q=InvalidParameter&product=Ecs",
    }


def test_do_action_with_exception_asks_for_json_even_after_xml_was_set(wire):
    request = clients.legacy_describe_tasks()
    request.set_accept_format("XML")
    body = clients.legacy_client(wire.port).do_action_with_exception(request)
    assert wire.last.param("Format") == "JSON"
    assert json.loads(body)["TotalCount"] == 7
