"""The HSS operations in XML, through huaweicloudsdkhss: the SDK parses a response as XML exactly when
its Content-Type is `application/xml`, which taskemu sends when asked with `Accept: application/xml`.

Every field must come back as in the JSON answer, with two differences that belong to the SDK's XML
reader (huaweicloudsdkcore XmlTransfer), not to the wire: an empty list has no element, so it reads
back as None; and a boolean goes through `bool(text)`, so `false` reads back True. Each pair of calls
is made from the same start (a reset between them), since reading a task counts towards its
read-bounded phases.
"""

from __future__ import annotations

import pytest
from huaweicloudsdkhss.v5 import ListImageScanTaskRequest, ListTasksRequest, ListTasksRequestBody

import clients


def as_dict(model):
    return model.to_dict()


def as_xml_reads_it(value):
    """What the SDK's XML reader makes of a JSON answer: empty lists gone, booleans all True."""
    if isinstance(value, dict):
        return {k: (None if v == [] else as_xml_reads_it(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [as_xml_reads_it(v) for v in value]
    if isinstance(value, bool):
        return True
    return value


@pytest.fixture()
def xml_client(emu):
    client = clients.HuaweiClient(emu.url)
    client.sdk.preset_headers = {"Accept": "application/xml"}
    return client


@pytest.fixture()
def json_client(emu):
    return clients.HuaweiClient(emu.url)


@pytest.mark.parametrize("image_type", ["image_scan", "image_sync"])
def test_list_image_scan_task_in_xml_reads_as_in_json(emu, xml_client, json_client, image_type):
    request = ListImageScanTaskRequest(type=image_type, limit=200)
    in_json = json_client.list_image_scan_task(request)
    emu.reset()
    in_xml = xml_client.list_image_scan_task(request)
    assert xml_client.last_headers["content-type"] == "application/xml"
    assert json_client.last_headers["content-type"] == "application/json"
    assert in_json.total_num > 0
    assert in_xml.total_num == in_json.total_num
    assert [as_dict(t) for t in in_xml.data_list] == as_xml_reads_it([as_dict(t) for t in in_json.data_list])


def test_list_tasks_in_xml_reads_as_in_json(emu, xml_client, json_client):
    request = ListTasksRequest(body=ListTasksRequestBody(sort_dir="asc"), limit=200)
    in_json = json_client.list_tasks(request)
    emu.reset()
    in_xml = xml_client.list_tasks(request)
    assert xml_client.last_headers["content-type"] == "application/xml"
    assert in_json.total_num > 2
    assert in_xml.total_num == in_json.total_num
    assert [as_dict(t) for t in in_xml.data_list] == as_xml_reads_it([as_dict(t) for t in in_json.data_list])


def test_errors_in_xml_keep_code_and_message(xml_client):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    with pytest.raises(ClientRequestException) as raised:
        xml_client.list_image_scan_task(ListImageScanTaskRequest(type="image_scan", limit=5))
    error = raised.value
    assert error.status_code == 400
    assert xml_client.last_headers["content-type"] == "application/xml"
    assert error.request_id == xml_client.last_headers["x-request-id"]
