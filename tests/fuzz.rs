//! Bounded property tests: random and mutated requests and scenario files thrown at the parsers
//! and the operations, in-process (no sockets, so many cases run fast). Each must end in a
//! well-formed answer or error, never a panic.

use std::sync::Arc;

use proptest::prelude::*;
use taskemu::test_support::{Prepared, WireRequest};
use taskemu::scenario::{self, Source};
use taskemu::{Config, State};

fn state() -> Arc<State> {
    Arc::new(State::new(Config::default(), vec![Source::demo()]).expect("the demo scenario loads"))
}

/// Every answer is a cloud error or success in a parseable document, with a sane status.
fn assert_well_formed(req: &WireRequest, status: u16, content_type: &str, body: &[u8]) {
    assert!((200..600).contains(&status), "status {status} for {req:?}");
    if content_type.contains("json") {
        let doc: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}) for {req:?}: {}", String::from_utf8_lossy(body)));
        if status >= 400 {
            let has_alibaba = doc.get("Code").is_some() && doc.get("Message").is_some() && doc.get("RequestId").is_some();
            let has_huawei = doc.get("error_code").is_some() && doc.get("error_msg").is_some();
            assert!(has_alibaba || has_huawei, "error without the cloud's envelope for {req:?}: {doc}");
        }
    } else {
        assert!(content_type.contains("xml"), "unexpected content type {content_type}");
        let text = std::str::from_utf8(body).expect("XML is UTF-8");
        let mut reader = quick_xml::Reader::from_str(text);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("malformed XML ({e}) for {req:?}: {text}"),
            }
        }
    }
}

fn run(state: &State, req: &WireRequest) {
    let prepared = Prepared::new(state, req);
    let response = match prepared.authenticate(req) {
        Err(refused) => refused,
        Ok(()) => prepared.run(req, state.clock.now()),
    };
    assert_well_formed(req, response.status, response.content_type, &response.body);
    if matches!(prepared, Prepared::Huawei(_)) {
        assert!(response.headers.iter().any(|(k, _)| *k == "x-request-id"), "Huawei answers carry X-Request-Id");
    }
}

const PARAMS: &[&str] = &[
    "Action", "Version", "Format", "RegionId", "TaskIds", "TaskStatus", "TaskAction", "StartTime", "EndTime", "PageNumber", "PageSize",
    "TaskId", "CurrentPage", "ScanId", "Search", "SourceIp", "StatusList.1", "StatusList.99", "offset", "limit", "type", "task_type",
    "task_name", "task_id", "create_time", "end_time", "task_status", "scan_scope", "global_image_type", "enterprise_project_id",
];
const VALUES: &[&str] = &[
    "", "DescribeTasks", "DescribeScanTaskProgress", "DescribeScanSessions", "2014-05-26", "2018-12-03", "2017-11-29", "XML", "xml",
    "json", "cn-hangzhou", "cn-nowhere", "1e30", "-1", "0", "9223372036854775808", "18446744073709551616", "100", "101", "%zz", "%",
    "%FF%FE", "+", "*", "a*b*", "1.2.*.*", "2015-11-23T15:10:00Z", "2015-13-45T99:99:99Z", "finished", "image_scan", "image_sync",
    "all_granted_eps", "[\"t-1\"]", "[", "t-1,t-2,,", "\u{0}", "💥",
];

fn query_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(PARAMS), prop::sample::select(VALUES), any::<bool>()), 0..12).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, encode)| if encode { format!("{k}={}", taskemu::test_support::pct(v)) } else { format!("{k}={v}") })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn path_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("/v5/0123456789abcdef0123456789abcdef/image/tasks".to_string()),
        Just("/v5/0123456789abcdef0123456789abcdef/common/tasks/batch-query".to_string()),
        "/v5/[a-z0-9%]{0,300}/image/tasks",
        "/v5/[a-z]{1,8}/common/tasks/batch-query/?",
        "/[a-zA-Z0-9/%._-]{0,40}",
    ]
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"{}".to_vec()),
        Just(br#"{"task_type":"cluster_scan","sort_key":"start_time","sort_dir":"asc","cluster_scan_info":{"scan_type_list":["cluster_vul"]}}"#.to_vec()),
        Just(br#"{"task_type":5,"start_create_time":-1,"iac_scan_info":[],"cluster_scan_info":{"scan_type_list":"x"}}"#.to_vec()),
        Just(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
        "[a-zA-Z0-9=&%+*.]{0,200}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_get_well_formed_answers(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "G\u{e9}T"]),
        path in path_strategy(),
        query in query_strategy(),
        body in body_strategy(),
        form in any::<bool>(),
        headers in prop::collection::vec((prop::sample::select(vec!["x-acs-action", "x-acs-version", "accept", "authorization", "x-taskemu-dialect", "x-auth-token"]), prop::sample::select(VALUES)), 0..4),
    ) {
        let state = state();
        let mut all_headers: Vec<(String, String)> = headers.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if form {
            all_headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        }
        let req = WireRequest { method: method.to_string().into(), path: path.into(), query, headers: all_headers.into_iter().collect(), body: body.into() };
        run(&state, &req);
    }

    #[test]
    fn mutated_scenarios_load_or_fail_with_a_position(
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec!["", "\"", "[", "]", "=", "\n", "-", "99999999999999999999", "status = \"Nope\"", "for = \"1x\"", "{", "}", "#", "é"])), 1..4),
    ) {
        let mut text = scenario::DEMO.to_string();
        for (at, insert) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert_str(i, insert);
        }
        match scenario::load(&[Source::new("mutated.toml", text.clone())], 0, None) {
            Ok(loaded) => prop_assert!(loaded.world.task_count() > 0),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert_eq!(&e.file, "mutated.toml");
                    prop_assert!(e.line >= 1 && e.line <= text.lines().count() + 1, "line {} out of range: {}", e.line, e);
                    prop_assert!(e.column >= 1);
                    prop_assert!(!e.message.is_empty());
                }
            }
        }
    }
}
