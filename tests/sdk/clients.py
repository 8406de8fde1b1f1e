"""The official SDK clients, each pointed at a local endpoint the way its own API allows.

Alibaba Tea (Darabonba): `Config(endpoint='127.0.0.1:PORT', protocol='http')`, V3 signing by default
or `signature_algorithm='v2'`; the old-generation AVDS client always signs RPC v1 and sends a form
body. Legacy aliyun-python-sdk-core: `AcsClient(..., port=PORT)` plus `request.set_endpoint` and
`set_protocol_type('http')` on each request. Huawei: `HssClient.new_builder().with_endpoints([...])`.
Credentials are the fake ones from sdk-notes.md by default (the main emulator runs with auth off);
every factory takes other keys for the authentication and tenant tests.
"""

from __future__ import annotations

import re

from alibabacloud_avds20171129 import models as avds_models
from alibabacloud_avds20171129.client import Client as TeaAvdsClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as TeaEcsClient
from alibabacloud_sas20181203 import models as sas_models
from alibabacloud_sas20181203.client import Client as TeaSasClient
from alibabacloud_tea_openapi import models as old_openapi_models
from alibabacloud_tea_openapi.utils_models import Config, GlobalParameters
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkecs.request.v20140526.DescribeTasksRequest import DescribeTasksRequest as LegacyDescribeTasks
from aliyunsdksas.request.v20181203.DescribeScanTaskProgressRequest import (
    DescribeScanTaskProgressRequest as LegacyDescribeScanTaskProgress,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkhss.v5 import HssClient

ALIBABA_AK = "LTAI5tTESTACCESSKEYID01"
ALIBABA_SECRET = "TestAccessKeySecret0123456789abc"
HUAWEI_AK = "HWTESTAKEXAMPLE0000001"
HUAWEI_SK = "HwTestSecretKeyExample0123456789abcdefgh"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "cn-hangzhou"

# RequestId: an upper-case UUID (Alibaba, in the body); X-Request-Id: 32 lower-case hex digits (Huawei).
ALIBABA_REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
HUAWEI_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")

TEA_V3 = "tea-v3"
TEA_V2 = "tea-v2"
LEGACY = "legacy"


def tea_config(endpoint: str, algorithm: str | None = None, headers: dict[str, str] | None = None,
               ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> Config:
    config = Config(
        access_key_id=ak,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        signature_algorithm=algorithm,
    )
    if headers:
        config.global_parameters = GlobalParameters(headers=headers)
    return config


def tea_algorithm(family: str) -> str | None:
    return {TEA_V3: None, TEA_V2: "v2"}[family]


def tea_ecs(endpoint: str, family: str = TEA_V3, headers: dict[str, str] | None = None,
            ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> TeaEcsClient:
    return TeaEcsClient(tea_config(endpoint, tea_algorithm(family), headers, ak, secret))


def tea_sas(endpoint: str, family: str = TEA_V3, headers: dict[str, str] | None = None,
            ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> TeaSasClient:
    return TeaSasClient(tea_config(endpoint, tea_algorithm(family), headers, ak, secret))


def tea_avds(endpoint: str, headers: dict[str, str] | None = None, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> TeaAvdsClient:
    # The old generation takes the old Config class; same fields.
    config = old_openapi_models.Config(access_key_id=ak, access_key_secret=secret, endpoint=endpoint, protocol="http")
    if headers:
        config.global_parameters = GlobalParameters(headers=headers)
    return TeaAvdsClient(config)


def legacy_client(port: int, region: str = REGION, ak: str = ALIBABA_AK, secret: str = ALIBABA_SECRET) -> AcsClient:
    return AcsClient(ak, secret, region, port=port)


def aim(request, host: str = "127.0.0.1"):
    """Points one legacy request at the local endpoint over plain HTTP."""
    request.set_endpoint(host)
    request.set_protocol_type("http")
    return request


def legacy_describe_tasks() -> LegacyDescribeTasks:
    return aim(LegacyDescribeTasks())


def legacy_scan_task_progress() -> LegacyDescribeScanTaskProgress:
    return aim(LegacyDescribeScanTaskProgress())


def legacy_common(product: str, version: str, action: str) -> CommonRequest:
    request = CommonRequest(domain="127.0.0.1", version=version, action_name=action, product=product)
    request.set_protocol_type("http")
    request.set_method("POST")
    return request


class HuaweiClient:
    """An HssClient plus the headers of the last response, seen through the SDK's own HttpHandler."""

    def __init__(self, url: str, project_id: str = PROJECT_ID, ak: str = HUAWEI_AK, sk: str = HUAWEI_SK):
        self.last_headers: dict[str, str] = {}
        config = HttpConfig.get_default_config()
        config.ignore_ssl_verification = True
        config.timeout = (5, 10)
        handler = HttpHandler().add_response_handler(self._keep_headers)
        self.sdk = (
            HssClient.new_builder()
            .with_http_config(config)
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([url])
            .with_http_handler(handler)
            .build()
        )

    def _keep_headers(self, **kwargs):
        self.last_headers = {k.lower(): v for k, v in kwargs["response"].headers.items()}

    def __getattr__(self, name):
        return getattr(self.sdk, name)

