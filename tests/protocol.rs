//! The wire protocols over real HTTP: how the Alibaba RPC edge reads a request (GET and POST, form
//! bodies merged with the query, `+` as a space, x-acs-* headers, Format in any case), its error
//! envelopes (JSON and XML), how the Huawei REST edge routes and answers (gateway errors, 405,
//! X-Request-Id, JSON or XML), the body size limit, and the dialect header.

mod common;

use common::*;
use serde_json::json;
use tokio::io::AsyncWriteExt;

const SCENARIO: &str = r#"
name = "protocol tests"

[clock]
start = "2026-01-01T00:00:00Z"

[[ecs.tasks]]
id = "t-1"
action = "ImportImage"
created = "-1h"
support_cancel = false
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Finished" }]

[[ecs.tasks]]
id = "t-2"
action = "ExportImage"
created = "-10m"
lifecycle = [{ status = "Processing", for = "1h" }, { status = "Finished" }]

[[sas.tasks]]
id = 77
created = "-1h"
targets = [{ type = "uuid", name = "h", target = "u" }]
lifecycle = [{ status = "Processing", for = "10m" }, { status = "Success" }]

[[avds.scans]]
scan_id = "s-1"
task_id = 100
name = "one-off api audit"
targets = ["api.example.com"]
created = "-10m"
lifecycle = [{ status = "running", for = "30m" }, { status = "finished" }]

[[avds.scans]]
scan_id = "s-2"
task_id = 200
name = "nightly web scan"
targets = ["www.example.com"]
created = "-20m"
lifecycle = [{ status = "running", for = "5m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "img-1"
task_name = "scan <one> & more"
task_type = "manual"
images = 4
created = "-1h"
lifecycle = [{ status = "scanning", for = "10m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "img-2"
task_name = "scan two"
task_type = "cycle"
images = 2
created = "-2h"
lifecycle = [{ status = "scanning", for = "10m" }, { status = "finished" }]

[[hss.tasks]]
task_id = "k-1"
task_name = "cluster scan"
task_type = "cluster_scan"
created = "-1h"
lifecycle = [{ status = "running", for = "10m" }, { status = "finished" }]
"#;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const LIMIT: usize = 1024 * 1024;

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn ecs_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    pluck(&reply.json()["TaskSet"]["Task"], "TaskId")
}

fn avds_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    pluck(&reply.json()["List"], "TaskId")
}

// --- Alibaba RPC ----------------------------------------------------------------------------------

#[tokio::test]
async fn get_and_post_with_parameters_in_the_query() {
    let emu = emu().await;
    let target = with_query("/", &[("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou")]);
    let get = send(emu.addr, "GET", &target, &[], b"").await;
    let post = send(emu.addr, "POST", &target, &[], b"").await;
    assert_eq!(ecs_ids(&get), strings(&["t-2", "t-1"]));
    assert_eq!(ecs_ids(&post), strings(&["t-2", "t-1"]));
    let (mut a, mut b) = (get.json(), post.json());
    assert!(is_alibaba_request_id(a["RequestId"].as_str().unwrap()) && is_alibaba_request_id(b["RequestId"].as_str().unwrap()));
    assert_ne!(a["RequestId"], b["RequestId"], "a fresh request id per call");
    a["RequestId"] = json!(null);
    b["RequestId"] = json!(null);
    assert_eq!(a, b);
}

#[tokio::test]
async fn form_body_merges_with_the_query() {
    let emu = emu().await;
    // The old-generation Tea SDKs (AVDS): common parameters in the query, the rest in a form body.
    let target = with_query("/", &[("Action", "DescribeScanSessions"), ("Version", "2017-11-29"), ("Format", "json")]);
    let body = "CurrentPage=1&PageSize=20&StatusList.1=finished&StatusList.2=running";
    let reply = send(emu.addr, "POST", &target, &[FORM], body.as_bytes()).await;
    assert_eq!(avds_ids(&reply), strings(&["100", "200"]));
    let reply = send(emu.addr, "POST", &target, &[FORM], b"StatusList.1=finished").await;
    assert_eq!(avds_ids(&reply), strings(&["200"]));
    // Everything in the body, Action and Version included; a charset in the Content-Type is fine.
    let body = "Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou&TaskAction=ImportImage";
    let reply = send(emu.addr, "POST", "/", &[("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")], body.as_bytes()).await;
    assert_eq!(ecs_ids(&reply), strings(&["t-1"]));
    // A body that is not a form is not read as parameters.
    let reply = send(emu.addr, "POST", &with_query("/", &[("Action", "DescribeTasks"), ("Version", "2014-05-26")]), &[("Content-Type", "application/json")], b"RegionId=cn-hangzhou").await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "MissingParameter", &missing_parameter("RegionId"));
}

#[tokio::test]
async fn plus_is_a_space_in_the_query_and_the_form() {
    let emu = emu().await;
    let base = "/?Action=DescribeScanSessions&Version=2017-11-29";
    assert_eq!(avds_ids(&send(emu.addr, "GET", &format!("{base}&Search=api+audit"), &[], b"").await), strings(&["100"]));
    assert_eq!(avds_ids(&send(emu.addr, "GET", &format!("{base}&Search=api%20audit"), &[], b"").await), strings(&["100"]));
    assert_eq!(avds_ids(&send(emu.addr, "GET", &format!("{base}&Search=%2A+web+%2A"), &[], b"").await), strings(&["200"]));
    assert_eq!(avds_ids(&send(emu.addr, "POST", base, &[FORM], b"Search=api+audit").await), strings(&["100"]));
    assert_eq!(avds_ids(&send(emu.addr, "POST", base, &[FORM], b"Search=nightly+web%2A").await), strings(&["200"]));
    // A literal plus is sent encoded.
    assert_eq!(avds_ids(&send(emu.addr, "GET", &format!("{base}&Search=api%2Baudit"), &[], b"").await), Vec::<String>::new());
}

#[tokio::test]
async fn action_and_version_from_acs_headers() {
    let emu = emu().await;
    // Tea V3: POST /?<business params>, Action and Version only in headers, no Format.
    let headers = [("x-acs-action", "DescribeTasks"), ("x-acs-version", "2014-05-26"), ("accept", "application/json")];
    let reply = send(emu.addr, "POST", "/?RegionId=cn-hangzhou&TaskIds=t-1", &headers, b"").await;
    assert_eq!(ecs_ids(&reply), strings(&["t-1"]));
    let reply = send(emu.addr, "POST", "/?TaskId=77", &[("x-acs-action", "DescribeScanTaskProgress"), ("x-acs-version", "2018-12-03")], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["ScanTaskProgress"], "Success");
    // Tea v2 sends both; they agree.
    let reply = send(emu.addr, "POST", "/?Action=DescribeScanTaskProgress&Version=2018-12-03&TaskId=77", &[("x-acs-action", "DescribeScanTaskProgress"), ("x-acs-version", "2018-12-03")], b"").await;
    assert_eq!(reply.status, 200);
    // A version header alone routes the product; the action is still required.
    let reply = send(emu.addr, "POST", "/?TaskId=77", &[("x-acs-version", "2018-12-03")], b"").await;
    assert_aliyun_error(&reply, 400, "tds.aliyuncs.com", "Sas", "MissingParameter", &missing_parameter("Action"));
}

#[tokio::test]
async fn format_is_case_insensitive() {
    let emu = emu().await;
    for format in ["XML", "xml", "Xml"] {
        let reply = rpc(&emu, SAS, &[("TaskId", "77"), ("Format", format)]).await;
        assert_eq!((reply.status, reply.content_type()), (200, "text/xml;charset=utf-8"), "Format={format}");
        assert_eq!(reply.xml()["DescribeScanTaskProgressResponse"]["ScanTaskProgress"], "Success");
    }
    for format in ["JSON", "json", "Json", "yaml"] {
        let reply = rpc(&emu, SAS, &[("TaskId", "77"), ("Format", format)]).await;
        assert_eq!((reply.status, reply.content_type()), (200, "application/json;charset=utf-8"), "Format={format}");
        assert_eq!(reply.json()["ScanTaskProgress"], "Success");
    }
}

#[tokio::test]
async fn errors_in_xml_when_asked() {
    let emu = emu().await;
    let reply = rpc(&emu, SAS, &[("Format", "xml")]).await;
    assert_eq!((reply.status, reply.content_type()), (400, "text/xml;charset=utf-8"));
    assert!(reply.text().starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"), "{}", reply.text());
    let doc = reply.xml();
    let request_id = doc["Error"]["RequestId"].as_str().unwrap().to_string();
    assert!(is_alibaba_request_id(&request_id));
    assert_eq!(
        doc,
        json!({"Error": {"RequestId": request_id, "HostId": "tds.aliyuncs.com", "Code": "MissingParameter", "Message": missing_parameter("TaskId"),
            "Recommend": "https://api.aliyun.com/troubleshoot?q=MissingParameter&product=Sas"}})
    );
    let reply = rpc(&emu, ("NoSuchThing", "2017-11-29"), &[("Format", "XML")]).await;
    assert_eq!((reply.status, reply.content_type()), (404, "text/xml;charset=utf-8"));
    assert_eq!(reply.xml()["Error"]["Code"], "InvalidAction.NotFound");
    assert_eq!(reply.xml()["Error"]["HostId"], "avds.aliyuncs.com");
}

#[tokio::test]
async fn unknown_action_is_404_and_unknown_version_400() {
    let emu = emu().await;
    let not_found = "Specified api is not found, please check your url and method.";
    assert_aliyun_error(&rpc(&emu, ("DescribeInstances", "2014-05-26"), &[("RegionId", "cn-hangzhou")]).await, 404, "ecs.aliyuncs.com", "Ecs", "InvalidAction.NotFound", not_found);
    // An action of another product's version is unknown there.
    assert_aliyun_error(&rpc(&emu, ("DescribeTasks", "2018-12-03"), &[("RegionId", "cn-hangzhou")]).await, 404, "tds.aliyuncs.com", "Sas", "InvalidAction.NotFound", not_found);
    assert_aliyun_error(&rpc(&emu, ("describetasks", "2014-05-26"), &[("RegionId", "cn-hangzhou")]).await, 404, "ecs.aliyuncs.com", "Ecs", "InvalidAction.NotFound", not_found);
    for version in ["2014-05-27", "latest"] {
        assert_aliyun_error(&rpc(&emu, ("DescribeTasks", version), &[("RegionId", "cn-hangzhou")]).await, 400, "ecs.aliyuncs.com", "Ecs", "InvalidVersion", "Specified parameter Version is not valid.");
    }
    let reply = send(emu.addr, "GET", "/?Action=DescribeTasks&RegionId=cn-hangzhou", &[], b"").await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "MissingParameter", &missing_parameter("Version"));
    let reply = send(emu.addr, "GET", "/?Version=2014-05-26", &[], b"").await;
    assert_aliyun_error(&reply, 400, "ecs.aliyuncs.com", "Ecs", "MissingParameter", &missing_parameter("Action"));
    let reply = send(emu.addr, "PUT", "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou", &[], b"").await;
    assert_aliyun_error(&reply, 404, "ecs.aliyuncs.com", "Ecs", "InvalidAction.NotFound", not_found);
}

#[tokio::test]
async fn scenario_pins_request_ids_per_operation() {
    let pinned = format!("{SCENARIO}\n[request_ids]\nDescribeTasks = \"PINNED-ECS\"\nListTasks = \"feedfacefeedfacefeedfacefeedface\"\n");
    let emu = start(&pinned).await;
    assert_eq!(rpc_ok(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await["RequestId"], "PINNED-ECS");
    assert_eq!(rpc(&emu, ECS, &[]).await.json()["RequestId"], "PINNED-ECS", "errors carry it too");
    let sas = rpc_ok(&emu, SAS, &[("TaskId", "77")]).await;
    assert!(is_alibaba_request_id(sas["RequestId"].as_str().unwrap()), "other operations stay random");
    assert_eq!(hss_post(&emu, PROJECT, &[], "{}").await.header("x-request-id"), Some("feedfacefeedfacefeedfacefeedface"));
    let image = hss_get(&emu, PROJECT, &[("type", "image_scan")]).await;
    assert!(image.header("x-request-id").is_some_and(is_huawei_request_id));
    assert_ne!(image.header("x-request-id"), Some("feedfacefeedfacefeedfacefeedface"));
}

// --- Huawei REST ----------------------------------------------------------------------------------

fn assert_gateway_error(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    let request_id = reply.header("x-request-id").expect("X-Request-Id on gateway errors").to_string();
    assert!(is_huawei_request_id(&request_id), "{request_id}");
    assert_eq!(
        reply.json(),
        json!({"error_code": "APIGW.0101", "error_msg": "The API does not exist or has not been published in the environment.", "request_id": request_id})
    );
}

#[tokio::test]
async fn unknown_paths_are_apigw_0101_with_the_request_id_in_the_body() {
    let emu = emu().await;
    for path in [
        format!("/v5/{PROJECT}/image/task"),
        format!("/v5/{PROJECT}/image/tasks/extra"),
        format!("/v3/{PROJECT}/image/tasks"),
        format!("/v5/{PROJECT}/common/tasks"),
        "/v5".to_string(),
        "/favicon.ico".to_string(),
    ] {
        let reply = send(emu.addr, "GET", &path, &[], b"").await;
        assert_gateway_error(&reply, 404);
    }
    // A trailing slash is the same API.
    let reply = send(emu.addr, "GET", &format!("/v5/{PROJECT}/image/tasks/?type=image_scan"), &[], b"").await;
    assert_eq!(pluck(&hss_ok(&reply)["data_list"], "task_id"), strings(&["img-1", "img-2"]));
}

#[tokio::test]
async fn a_wrong_method_is_405() {
    let emu = emu().await;
    assert_gateway_error(&send(emu.addr, "POST", &with_query(&image_tasks_path(PROJECT), &[("type", "image_scan")]), &[], b"{}").await, 405);
    assert_gateway_error(&send(emu.addr, "GET", &batch_query_path(PROJECT), &[], b"").await, 405);
    assert_gateway_error(&send(emu.addr, "DELETE", &image_tasks_path(PROJECT), &[], b"").await, 405);
    assert_gateway_error(&send(emu.addr, "PUT", &batch_query_path(PROJECT), &[], b"{}").await, 405);
}

#[tokio::test]
async fn every_huawei_answer_has_a_fresh_request_id() {
    let emu = emu().await;
    let replies = [
        hss_get(&emu, PROJECT, &[("type", "image_scan")]).await,
        hss_get(&emu, PROJECT, &[]).await,
        hss_post(&emu, PROJECT, &[], "{}").await,
        hss_post(&emu, PROJECT, &[], "{").await,
        send(emu.addr, "GET", "/v5/x/nothing", &[], b"").await,
        send(emu.addr, "GET", &batch_query_path(PROJECT), &[], b"").await,
    ];
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 400, 200, 400, 404, 405]);
    let mut ids: Vec<&str> = replies.iter().map(|r| r.header("x-request-id").expect("X-Request-Id")).collect();
    assert!(ids.iter().all(|id| is_huawei_request_id(id)), "{ids:?}");
    for r in &replies {
        assert_eq!(r.headers_named("x-request-id").len(), 1, "one X-Request-Id header");
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), replies.len(), "all different");
}

#[tokio::test]
async fn hss_parse_errors_and_empty_bodies() {
    let emu = emu().await;
    assert_hss_error(&hss_post(&emu, PROJECT, &[], "{\"task_type\":").await, 400, "HSS.0002", "Failed to parse the request.");
    assert_hss_error(&hss_post(&emu, PROJECT, &[], "\u{feff}{}").await, 400, "HSS.0002", "Failed to parse the request.");
    let empty = hss_post(&emu, PROJECT, &[], "").await;
    assert_eq!(pluck(&hss_ok(&empty)["data_list"], "task_id"), strings(&["k-1"]));
}

#[tokio::test]
async fn hss_answers_xml_when_asked() {
    let emu = emu().await;
    let expected = |status: i64| {
        json!({"ListImageScanTaskResponse": {
            // One item: one element (an empty failed_images list writes none).
            "data_list": {"task_id": "img-1", "task_name": "scan <one> & more", "begin_time": "1767222000000", "end_time": "1767222600000",
                "remain_min": "0", "task_type": "manual", "image_type": "registry", "task_status": status.to_string(), "scan_scope": "2147483647",
                "is_all": "true", "failed_num": "0", "success_num": "4", "total_num": "4", "risky_num": "0"},
            "total_num": "1",
        }})
    };
    let by_format = hss_get(&emu, PROJECT, &[("type", "image_scan"), ("task_type", "manual"), ("Format", "XML")]).await;
    assert_eq!((by_format.status, by_format.content_type()), (200, "application/xml"));
    assert!(by_format.header("x-request-id").is_some_and(is_huawei_request_id));
    assert_eq!(by_format.xml(), expected(100));
    let by_accept = send(emu.addr, "GET", &with_query(&image_tasks_path(PROJECT), &[("type", "image_scan"), ("task_type", "manual")]), &[("Accept", "application/xml")], b"").await;
    assert_eq!((by_accept.status, by_accept.content_type()), (200, "application/xml"));
    assert_eq!(by_accept.xml(), expected(100));
    let both = send(emu.addr, "GET", &with_query(&image_tasks_path(PROJECT), &[("type", "image_scan")]), &[("Accept", "application/json, application/xml")], b"").await;
    assert_eq!(both.content_type(), "application/json");
    let tasks = send(emu.addr, "POST", &batch_query_path(PROJECT), &[("Accept", "application/xml")], b"{}").await;
    assert_eq!((tasks.status, tasks.content_type()), (200, "application/xml"));
    assert_eq!(tasks.xml()["ListTasksResponse"]["data_list"]["task_id"], "k-1");
    let error = hss_get(&emu, PROJECT, &[("Format", "xml")]).await;
    assert_eq!((error.status, error.content_type()), (400, "application/xml"));
    assert_eq!(error.xml(), json!({"error": {"error_code": "HSS.0001", "error_msg": "Invalid parameter: type"}}));
    let gateway = send(emu.addr, "GET", "/v5/p/nothing", &[("Accept", "application/xml")], b"").await;
    assert_eq!((gateway.status, gateway.content_type()), (404, "application/xml"));
    assert_eq!(gateway.xml()["error"]["request_id"], gateway.header("x-request-id").unwrap());
}

// --- Body limit -----------------------------------------------------------------------------------

fn assert_aliyun_too_large(reply: &Reply) {
    assert_aliyun_error(reply, 413, "ecs.aliyuncs.com", "Ecs", "RequestEntityTooLarge", &format!("The request body exceeds the limit of {LIMIT} bytes."));
}

fn assert_huawei_too_large(reply: &Reply) {
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    let request_id = reply.header("x-request-id").expect("X-Request-Id").to_string();
    assert_eq!(
        reply.json(),
        json!({"error_code": "APIGW.0201", "error_msg": format!("Request entity too large: the body exceeds {LIMIT} bytes."), "request_id": request_id})
    );
}

/// Declares a body over the limit and sends none of it, then shuts its side: the server must
/// refuse on the header (it would otherwise see the body cut short, a 400). It waits for the
/// refused body to discard it, so without the shutdown the connection would stay open a while.
async fn declared_too_large(emu: &Emulator, method: &str, target: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(emu.addr).await.unwrap();
    let head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", emu.addr, LIMIT + 1);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    read_reply(&mut stream).await
}

/// Streams a chunked body over the limit while reading the answer.
async fn streamed_too_large(emu: &Emulator, method: &str, target: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(emu.addr).await.unwrap();
    let head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n", emu.addr);
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let chunk = vec![b'a'; 64 * 1024];
        let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
        for _ in 0..(2 * LIMIT / (64 * 1024)) {
            if writer.write_all(&framed).await.is_err() {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n").await;
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::io::AsyncReadExt::read(&mut reader, &mut buf).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) if !raw.is_empty() => break,
            Err(e) => panic!("no answer to an oversized body: {e}"),
        }
    }
    writing.abort();
    parse_reply(&raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_1_mib_are_413_in_each_cloud_envelope_and_the_server_keeps_serving() {
    let emu = emu().await;
    let rpc_target = "/?Action=DescribeTasks&Version=2014-05-26&RegionId=cn-hangzhou";
    assert_aliyun_too_large(&declared_too_large(&emu, "POST", rpc_target).await);
    assert_huawei_too_large(&declared_too_large(&emu, "POST", &batch_query_path(PROJECT)).await);
    assert_aliyun_too_large(&streamed_too_large(&emu, "POST", rpc_target).await);
    assert_huawei_too_large(&streamed_too_large(&emu, "POST", &batch_query_path(PROJECT)).await);
    // Still serving, and a body of exactly the limit is read.
    assert_eq!(ecs_ids(&send(emu.addr, "GET", rpc_target, &[], b"").await), strings(&["t-2", "t-1"]));
    let mut padded = b"{}".to_vec();
    padded.resize(LIMIT, b' ');
    let reply = send(emu.addr, "POST", &batch_query_path(PROJECT), &[("Content-Type", "application/json")], &padded).await;
    assert_eq!(pluck(&hss_ok(&reply)["data_list"], "task_id"), strings(&["k-1"]));
    padded.push(b' ');
    assert_huawei_too_large(&send(emu.addr, "POST", &batch_query_path(PROJECT), &[("Content-Type", "application/json")], &padded).await);
    assert_eq!(hss_ok(&hss_post(&emu, PROJECT, &[], "{}").await)["total_num"], 1);
}

// --- Dialect --------------------------------------------------------------------------------------

#[tokio::test]
async fn the_dialect_header_picks_the_shape_per_request() {
    let emu = emu().await;
    let params = [("RegionId", "cn-hangzhou"), ("TaskIds", "t-1")];
    let sdk = rpc(&emu, ECS, &params).await.json();
    assert!(sdk["TaskSet"].is_object() && sdk["TaskSet"]["Task"][0]["SupportCancel"] == "false", "{sdk}");
    for value in ["docs", "DOCS", " docs "] {
        let docs = rpc_dialect(&emu, ECS, &params, Some(value)).await.json();
        assert!(docs["TaskSet"].is_array() && docs["TaskSet"][0]["Task"][0]["SupportCancel"] == false, "{value}: {docs}");
    }
    let unknown = rpc_dialect(&emu, ECS, &params, Some("verbatim")).await;
    assert_eq!((unknown.status, unknown.json()["Code"].as_str()), (400, Some("InvalidParameter")), "an unknown dialect is refused (issue 14): {}", unknown.text());
    let avds = rpc_dialect(&emu, AVDS, &[], Some("docs")).await.json();
    assert_eq!((avds["code"].clone(), avds["success"].clone(), avds["data"]["TotalCount"].clone()), (json!("200"), json!(true), json!(2)));
}

#[tokio::test]
async fn a_docs_server_answers_docs_unless_asked_for_sdk() {
    let emu = start_sources(Config { dialect: Dialect::Docs, ..Config::default() }, vec![Source::new("protocol.toml", SCENARIO)]).await;
    let docs = rpc(&emu, AVDS, &[]).await.json();
    assert_eq!(docs["data"]["PageNumber"], 1, "{docs}");
    let sdk = rpc_dialect(&emu, AVDS, &[], Some("sdk")).await.json();
    assert_eq!((sdk["CurrentPage"].clone(), sdk["Count"].clone()), (json!(1), json!(2)), "{sdk}");
}
