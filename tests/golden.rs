//! Golden tests: each documented example (fixtures/docs/doc_*) and each SDK-parseable shape
//! (fixtures/sdk/fixed_*) reproduced by the emulator from its scenario, compared as whole parsed
//! documents (JSON as `serde_json::Value`, XML as a tree). fixtures/docs/README.md says what each
//! fixture reproduces, which request each test sends, and where a doc contradicts itself.

mod common;

use common::*;
use serde_json::Value;

async fn serve(scenario: &str) -> Emulator {
    start_sources(Config::default(), vec![fixture(scenario)]).await
}

fn json_fixture(path: &str) -> Value {
    serde_json::from_str(&read_fixture(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn xml_fixture(path: &str) -> Value {
    xml_tree(&read_fixture(path))
}


/// The doc's request example, verbatim.
const ECS_DOC_REQUEST: &[(&str, &str)] = &[
    ("RegionId", "cn-hangzhou"),
    ("PageNumber", "1"),
    ("PageSize", "2"),
    ("TaskIds", "t-bp10e8or********74o8X"),
    ("TaskAction", "ImportImage"),
    ("TaskStatus", "Finished"),
    ("StartTime", "2015-11-23T15:10:00Z"),
    ("EndTime", "2015-11-23T15:16:00Z"),
];

/// The AVDS doc's request example, verbatim (the quotes around "finished" included).
const AVDS_DOC_REQUEST: &[(&str, &str)] =
    &[("CurrentPage", "1"), ("PageSize", "20"), ("ScanId", "1111"), ("Search", "任务名"), ("SourceIp", "111"), ("StatusList.1", "\"finished\"")];

async fn json_in(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)], dialect: &str) -> Value {
    let reply = rpc_dialect(emu, op, params, Some(dialect)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json;charset=utf-8");
    reply.json()
}

async fn xml_in(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)], dialect: &str) -> Value {
    let mut with_format = params.to_vec();
    with_format.push(("Format", "XML"));
    let reply = rpc_dialect(emu, op, &with_format, Some(dialect)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), "text/xml;charset=utf-8");
    assert!(reply.text().starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{}", reply.text());
    reply.xml()
}

#[tokio::test]
async fn ecs_doc_json_example_in_the_docs_dialect() {
    let emu = serve("fixtures/docs/ecs_DescribeTasks.toml").await;
    let got = json_in(&emu, ECS, ECS_REQUEST, "docs").await;
    assert_eq!(got, json_fixture("fixtures/docs/doc_ecs_DescribeTasks.json"));
}

#[tokio::test]
async fn ecs_doc_request_verbatim_finds_neither_task_of_its_own_response() {
    let emu = serve("fixtures/docs/ecs_DescribeTasks.toml").await;
    let got = json_in(&emu, ECS, ECS_DOC_REQUEST, "docs").await;
    let mut expected = json_fixture("fixtures/docs/doc_ecs_DescribeTasks.json");
    expected["TotalCount"] = 0.into();
    expected["TaskSet"][0]["Task"] = Value::Array(vec![]);
    assert_eq!(got, expected);
}

#[tokio::test]
async fn ecs_doc_xml_example_in_both_dialects() {
    let emu = serve("fixtures/docs/ecs_DescribeTasks_xml.toml").await;
    let expected = xml_fixture("fixtures/docs/doc_ecs_DescribeTasks.xml");
    assert_eq!(xml_in(&emu, ECS, ECS_REQUEST, "sdk").await, expected);
    assert_eq!(xml_in(&emu, ECS, ECS_REQUEST, "docs").await, expected);
}

#[tokio::test]
async fn ecs_sdk_shape_in_the_sdk_dialect() {
    let emu = serve("fixtures/sdk/ecs_DescribeTasks.toml").await;
    let expected = json_fixture("fixtures/sdk/fixed_ecs_DescribeTasks.json");
    assert_eq!(json_in(&emu, ECS, ECS_REQUEST, "sdk").await, expected);
    // The server's default dialect is sdk.
    assert_eq!(rpc_ok(&emu, ECS, ECS_REQUEST).await, expected);
}

#[tokio::test]
async fn sas_doc_example_in_both_dialects() {
    let emu = serve("fixtures/docs/sas_DescribeScanTaskProgress.toml").await;
    let expected = json_fixture("fixtures/docs/doc_sas_DescribeScanTaskProgress.json");
    // The doc's request example is its parameter table's: TaskId=282832.
    assert_eq!(json_in(&emu, SAS, &[("TaskId", "282832")], "docs").await, expected);
    assert_eq!(json_in(&emu, SAS, &[("TaskId", "282832")], "sdk").await, expected);
}

#[tokio::test]
async fn sas_sdk_shape() {
    let emu = serve("fixtures/sdk/sas_DescribeScanTaskProgress.toml").await;
    let expected = json_fixture("fixtures/sdk/fixed_sas_DescribeScanTaskProgress.json");
    assert_eq!(json_in(&emu, SAS, &[("TaskId", "282832")], "sdk").await, expected);
}

// The AVDS examples show counters no consistent page can hold (a TotalCount of 100, or 30 with
// PageCount 2, beside a single session on a first page of 20); their scenarios pin those with
// `[responses.DescribeScanSessions]`, so the documents compare verbatim.

#[tokio::test]
async fn avds_doc_json_example_in_the_docs_dialect() {
    let emu = serve("fixtures/docs/avds_DescribeScanSessions.toml").await;
    let got = json_in(&emu, AVDS, AVDS_DOC_REQUEST, "docs").await;
    assert_eq!(got, json_fixture("fixtures/docs/doc_avds_DescribeScanSessions.json"));
}

#[tokio::test]
async fn avds_doc_xml_example_in_the_docs_dialect() {
    let emu = serve("fixtures/docs/avds_DescribeScanSessions.toml").await;
    let got = xml_in(&emu, AVDS, AVDS_DOC_REQUEST, "docs").await;
    assert_eq!(got, xml_fixture("fixtures/docs/doc_avds_DescribeScanSessions.xml"));
}

#[tokio::test]
async fn avds_sdk_shape_in_the_sdk_dialect() {
    let emu = serve("fixtures/sdk/avds_DescribeScanSessions.toml").await;
    let got = json_in(&emu, AVDS, &[("CurrentPage", "1"), ("PageSize", "20")], "sdk").await;
    assert_eq!(got, json_fixture("fixtures/sdk/fixed_avds_DescribeScanSessions.json"));
}

#[tokio::test]
async fn response_pins_change_only_what_they_name() {
    // Without the pin, the same world answers with its true count.
    let text = read_fixture("fixtures/sdk/avds_DescribeScanSessions.toml");
    let pin = "[responses.DescribeScanSessions]\nset = { TotalCount = 30, PageCount = 2 }\n";
    assert!(text.contains(pin), "the fixture pins its counters");
    let unpinned = text.replace(pin, "");
    let emu = start_sources(Config::default(), vec![Source::new("unpinned.toml", unpinned)]).await;
    let got = json_in(&emu, AVDS, &[("CurrentPage", "1"), ("PageSize", "20")], "sdk").await;
    assert_eq!((got["TotalCount"].as_u64(), got["PageCount"].as_u64(), got["Count"].as_u64()), (Some(1), Some(1), Some(1)));
    let mut expected = json_fixture("fixtures/sdk/fixed_avds_DescribeScanSessions.json");
    expected["TotalCount"] = 1.into();
    expected["PageCount"] = 1.into();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn hss_list_image_scan_task_doc_example() {
    let emu = serve("fixtures/docs/hss_ListImageScanTask.toml").await;
    // The doc has no request example; `type` is required, and an autoSync task is an image_sync.
    let reply = hss_get(&emu, PROJECT, &[("type", "image_sync")]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.content_type(), "application/json");
    assert_eq!(reply.header("x-request-id"), Some("0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"), "the pinned request id");
    assert_eq!(reply.json(), json_fixture("fixtures/docs/doc_hss_ListImageScanTask.json"));
    // Dialects change only ECS and AVDS.
    let docs = send(emu.addr, "GET", &with_query(&image_tasks_path(PROJECT), &[("type", "image_sync")]), &[("x-taskemu-dialect", "docs")], b"").await;
    assert_eq!(docs.json(), json_fixture("fixtures/docs/doc_hss_ListImageScanTask.json"));
}

#[tokio::test]
async fn hss_list_image_scan_task_sdk_shape() {
    let emu = serve("fixtures/sdk/hss_ListImageScanTask.toml").await;
    let reply = hss_get(&emu, PROJECT, &[("type", "image_sync")]).await;
    assert_eq!(hss_ok(&reply), json_fixture("fixtures/sdk/fixed_hss_ListImageScanTask.json"));
}

#[tokio::test]
async fn hss_list_tasks_doc_example() {
    let emu = serve("fixtures/docs/hss_ListTasks.toml").await;
    // The doc's SDK sample sends an empty ListTasksRequestBody: `{}`.
    let reply = hss_post(&emu, PROJECT, &[], "{}").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-request-id"), Some("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"));
    assert_eq!(reply.json(), json_fixture("fixtures/docs/doc_hss_ListTasks.json"));
}

#[tokio::test]
async fn hss_list_tasks_sdk_shape() {
    let emu = serve("fixtures/sdk/hss_ListTasks.toml").await;
    let reply = hss_post(&emu, PROJECT, &[], "{}").await;
    assert_eq!(hss_ok(&reply), json_fixture("fixtures/sdk/fixed_hss_ListTasks.json"));
}

#[test]
fn xml_trees_ignore_layout_but_not_content() {
    let a = xml_tree("<?xml version=\"1.0\"?>\n<R>\n  <A>1</A>\n  <L><X>a</X></L>\n  <L><X>b</X></L>\n  <E></E><F/>\n</R>");
    assert_eq!(a, serde_json::json!({"R": {"A": "1", "L": [{"X": "a"}, {"X": "b"}], "E": "", "F": ""}}));
    assert_ne!(a, xml_tree("<R><A>2</A><L><X>a</X></L><L><X>b</X></L><E/><F/></R>"));
    assert_eq!(xml_tree("<R><T>a&lt;b &amp; c</T></R>"), serde_json::json!({"R": {"T": "a<b & c"}}));
}
