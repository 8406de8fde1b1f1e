//! HSS ListImageScanTask (`GET /v5/{project_id}/image/tasks`) over HTTP: the required `type`, every
//! query filter with its documented range, offset/limit, enterprise projects, and the derived item
//! fields.

mod common;

use common::*;
use serde_json::{json, Value};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// In the default project, newest first: i6 (waiting sync), i2 (scanning, half-way), i7 (in
/// enterprise project ep-1), i5 (failed), i4 (terminated), i3 (timed out), i1 (finished sync); one
/// task in another project, one not yet created, and 25 generated tasks in project "pager".
const SCENARIO: &str = r#"
name = "hss image tests"
# Made-up Huawei projects, declared on purpose (a real one is 32 hex digits).
projects = ["other0000", "pager"]

[clock]
start = "2026-01-01T00:00:00Z"

[[hss.image_tasks]]
task_id = "i1-sync"
task_name = "AutomaticImageAssetSynchronization_1767214800000"
task_type = "autoSync"
sync_task_type = "auto"
images = 3
created = "-3h"
lifecycle = [{ status = "scanning", for = "1m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "i2-cycle"
policy_id = "policy-nightly"
task_name = "nightly registry scan"
task_type = "cycle"
image_type = "registry"
scan_scope = 983040
rate_limit = 100
images = 40
failures = 2
risky = 6
created = "-10m"
failed_images = [
  { id = 42, registry_id = "reg-1", registry_name = "swr", image_name = "nginx", image_version = "1.25", namespace = "web", registry_type = "SwrPrivate", failed_reason = "image pull timed out" },
  { id = 43, registry_id = "reg-1", registry_name = "swr", image_name = "redis", image_version = "7.2", namespace = "cache", registry_type = "Harbor", failed_reason = "manifest unknown" },
]
lifecycle = [{ status = "scanning", for = "20m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "i3-timeout"
task_name = "manual scan of local images"
task_type = "manual"
image_type = "local"
scan_scope = 61440
images = 12
created = "-2h"
lifecycle = [{ status = "scanning", for = "30m" }, { status = "timeout" }]

[[hss.image_tasks]]
task_id = "i4-terminated"
task_name = "stopped scan"
task_type = "manual"
scan_scope = 0
is_all = false
images = 5
created = "-50m"
lifecycle = [{ status = "scanning", for = "5m" }, { status = "terminated" }]

[[hss.image_tasks]]
task_id = "i5-failed"
task_name = "broken registry scan"
task_type = "manual"
images = 8
failures = 8
failed_reason = "registry unreachable"
created = "-40m"
lifecycle = [{ status = "scanning", for = "2m" }, { status = "failed" }]

[[hss.image_tasks]]
task_id = "i6-waiting"
task_name = "queued manual sync"
task_type = "manualSync"
images = 9
created = "-1s"
lifecycle = [{ status = "waiting", for = "2m" }, { status = "scanning", for = "3m" }, { status = "finished" }]

[[hss.image_tasks]]
task_id = "i7-ep"
task_name = "enterprise project scan"
task_type = "manual"
enterprise_project_id = "ep-1"
created = "-20m"

[[hss.image_tasks]]
task_id = "i8-other"
task_name = "other project scan"
task_type = "manual"
project_id = "other0000"
created = "-1h"

[[hss.image_tasks]]
task_id = "i9-future"
task_name = "later scan"
task_type = "manual"
created = "+1h"

[[hss.image_generate]]
count = 25
project_id = "pager"
task_type = ["manual", "cycle"]
created = "-1d..-1h"
"#;

async fn emu() -> Emulator {
    start(SCENARIO).await
}

fn ids(doc: &Value) -> Vec<String> {
    pluck(&doc["data_list"], "task_id")
}

async fn list(emu: &Emulator, params: &[(&str, &str)]) -> Value {
    hss_ok(&hss_get(emu, PROJECT, params).await)
}

async fn scan_ids(emu: &Emulator, extra: &[(&str, &str)]) -> Vec<String> {
    let mut params = vec![("type", "image_scan")];
    params.extend_from_slice(extra);
    let doc = list(emu, &params).await;
    let ids = ids(&doc);
    assert_eq!(doc["total_num"], ids.len(), "one page holds them all here");
    ids
}

#[tokio::test]
async fn type_is_required_and_splits_scans_from_syncs() {
    let emu = emu().await;
    assert_hss_invalid(&hss_get(&emu, PROJECT, &[]).await, "type");
    for bad in ["", "image", "IMAGE_SCAN", "image_scan,image_sync"] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", bad)]).await, "type");
    }
    assert_eq!(scan_ids(&emu, &[]).await, strings(&["i2-cycle", "i5-failed", "i4-terminated", "i3-timeout"]));
    assert_eq!(ids(&list(&emu, &[("type", "image_sync")]).await), strings(&["i6-waiting", "i1-sync"]));
}

#[tokio::test]
async fn items_carry_the_derived_state() {
    let emu = emu().await;
    let doc = list(&emu, &[("type", "image_scan"), ("task_id", "i2-cycle")]).await;
    assert_eq!(
        doc,
        json!({"data_list": [{
            "task_id": "i2-cycle", "policy_id": "policy-nightly", "task_name": "nightly registry scan", "begin_time": T0 - 10 * MINUTE,
            "remain_min": 10, "task_type": "cycle", "image_type": "registry", "task_status": 50, "scan_scope": 983040, "rate_limit": 100,
            "is_all": true, "failed_num": 1, "success_num": 19, "total_num": 40, "risky_num": 3,
            "failed_images": [{"id": 42, "registry_id": "reg-1", "registry_name": "swr", "image_name": "nginx", "image_version": "1.25",
                               "namespace": "web", "registry_type": "SwrPrivate", "failed_reason": "image pull timed out"}],
        }], "total_num": 1})
    );
    let mut ended = list(&emu, &[("type", "image_scan"), ("task_status", "finished")]).await;
    // i5-failed declares `failures = 8` and lists no image: eight are drawn (seeded, fake names),
    // so that failed_num and failed_images agree (issue 14, item 4).
    let drawn = ended["data_list"][0]["failed_images"].take();
    let drawn = drawn.as_array().expect("failed_images is a list");
    assert_eq!(drawn.len(), 8);
    for (i, image) in drawn.iter().enumerate() {
        assert_eq!(image["id"], i + 1);
        assert_eq!((&image["registry_type"], &image["failed_reason"]), (&json!("SwrPrivate"), &json!("image pull timed out")));
        assert!(image["image_name"].as_str().is_some_and(|n| !n.is_empty()), "{image}");
    }
    assert_eq!(
        ended["data_list"],
        json!([
            {"task_id": "i5-failed", "task_name": "broken registry scan", "begin_time": T0 - 40 * MINUTE, "end_time": T0 - 38 * MINUTE,
             "remain_min": 0, "task_type": "manual", "image_type": "registry", "task_status": -3, "scan_scope": 2147483647, "is_all": true,
             "failed_num": 8, "success_num": 0, "total_num": 8, "risky_num": 0, "failed_reason": "registry unreachable", "failed_images": null},
            {"task_id": "i4-terminated", "task_name": "stopped scan", "begin_time": T0 - 50 * MINUTE, "end_time": T0 - 45 * MINUTE,
             "remain_min": 0, "task_type": "manual", "image_type": "registry", "task_status": -1, "scan_scope": 0, "is_all": false,
             "failed_num": 0, "success_num": 5, "total_num": 5, "risky_num": 0, "failed_images": []},
            {"task_id": "i3-timeout", "task_name": "manual scan of local images", "begin_time": T0 - 2 * HOUR, "end_time": T0 - 90 * MINUTE,
             "remain_min": 0, "task_type": "manual", "image_type": "local", "task_status": -2, "scan_scope": 61440, "is_all": true,
             "failed_num": 0, "success_num": 12, "total_num": 12, "risky_num": 0, "failed_images": []},
        ])
    );
    let syncs = list(&emu, &[("type", "image_sync")]).await;
    assert_eq!(
        syncs["data_list"],
        json!([
            {"task_id": "i6-waiting", "task_name": "queued manual sync", "begin_time": T0 - 1000, "remain_min": 5, "task_type": "manualSync",
             "image_type": "registry", "task_status": 0, "scan_scope": 2147483647, "is_all": true, "failed_num": 0, "success_num": 0,
             "total_num": 9, "risky_num": 0, "failed_images": []},
            {"task_id": "i1-sync", "task_name": "AutomaticImageAssetSynchronization_1767214800000", "begin_time": T0 - 3 * HOUR,
             "end_time": T0 - 3 * HOUR + MINUTE, "remain_min": 0, "task_type": "autoSync", "image_type": "registry", "task_status": 100,
             "scan_scope": 2147483647, "is_all": true, "failed_num": 0, "success_num": 3, "total_num": 3, "risky_num": 0,
             "sync_task_type": "auto", "failed_images": []},
        ])
    );
}

#[tokio::test]
async fn offset_and_limit() {
    let emu = emu().await;
    let page = |offset: &'static str, limit: &'static str| {
        let emu = &emu;
        async move { hss_ok(&hss_get(emu, "pager", &[("type", "image_scan"), ("offset", offset), ("limit", limit)]).await) }
    };
    let default = hss_ok(&hss_get(&emu, "pager", &[("type", "image_scan")]).await);
    assert_eq!((default["total_num"].clone(), ids(&default).len()), (json!(25), 10), "limit defaults to 10");
    let (a, b, c) = (page("0", "10").await, page("10", "10").await, page("20", "10").await);
    assert_eq!(ids(&a), ids(&default), "offset defaults to 0");
    assert_eq!((ids(&a).len(), ids(&b).len(), ids(&c).len()), (10, 10, 5));
    let all = page("0", "200").await;
    let joined: Vec<String> = [ids(&a), ids(&b), ids(&c)].concat();
    assert_eq!(joined, ids(&all), "pages tile the whole list");
    assert_eq!(ids(&page("3", "10").await), ids(&all)[3..13].to_vec(), "offset counts records, not pages");
    let begins: Vec<i64> = all["data_list"].as_array().unwrap().iter().map(|t| t["begin_time"].as_i64().unwrap()).collect();
    assert!(begins.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let far = page("2000000", "200").await;
    assert_eq!((far["total_num"].clone(), far["data_list"].clone()), (json!(25), json!([])));
}

#[tokio::test]
async fn offset_and_limit_ranges() {
    let emu = emu().await;
    for bad in ["-1", "2000001", "x", "1.5", ""] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), ("offset", bad)]).await, "offset");
    }
    for bad in ["9", "201", "0", "-10", "ten", ""] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), ("limit", bad)]).await, "limit");
    }
    for good in ["10", "200"] {
        assert_eq!(scan_ids(&emu, &[("limit", good)]).await.len(), 4);
    }
}

#[tokio::test]
async fn strings_are_1_to_256_characters() {
    let emu = emu().await;
    let long = "x".repeat(257);
    let longest = "é".repeat(256);
    for name in ["task_name", "task_id", "enterprise_project_id"] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), (name, "")]).await, name);
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), (name, &long)]).await, name);
        let ok = list(&emu, &[("type", "image_scan"), (name, &longest)]).await;
        assert_eq!(ok, json!({"data_list": [], "total_num": 0}), "{name} of 256 characters is valid and matches nothing");
    }
    let project = "p".repeat(257);
    assert_hss_invalid(&hss_get(&emu, &project, &[("type", "image_scan")]).await, "project_id");
    assert_eq!(hss_get(&emu, &"p".repeat(256), &[("type", "image_scan")]).await.status, 200);
}

#[tokio::test]
async fn task_type_and_image_type() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("task_type", "cycle")]).await, strings(&["i2-cycle"]));
    assert_eq!(scan_ids(&emu, &[("task_type", "manual")]).await, strings(&["i5-failed", "i4-terminated", "i3-timeout"]));
    assert_eq!(scan_ids(&emu, &[("task_type", "autoSync")]).await, Vec::<String>::new(), "a sync is not an image_scan");
    assert_eq!(ids(&list(&emu, &[("type", "image_sync"), ("task_type", "autoSync")]).await), strings(&["i1-sync"]));
    assert_eq!(ids(&list(&emu, &[("type", "image_sync"), ("task_type", "manualSync")]).await), strings(&["i6-waiting"]));
    assert_eq!(scan_ids(&emu, &[("global_image_type", "local")]).await, strings(&["i3-timeout"]));
    assert_eq!(scan_ids(&emu, &[("global_image_type", "registry")]).await, strings(&["i2-cycle", "i5-failed", "i4-terminated"]));
    for (name, bad) in [("task_type", "daily"), ("task_type", "Manual"), ("global_image_type", "remote"), ("global_image_type", "")] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), (name, bad)]).await, name);
    }
}

#[tokio::test]
async fn task_name_is_fuzzy_and_task_id_exact() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("task_name", "REGISTRY")]).await, strings(&["i2-cycle", "i5-failed"]));
    assert_eq!(scan_ids(&emu, &[("task_name", "stopped scan")]).await, strings(&["i4-terminated"]));
    assert_eq!(scan_ids(&emu, &[("task_name", "nope")]).await, Vec::<String>::new());
    assert_eq!(scan_ids(&emu, &[("task_id", "i4-terminated")]).await, strings(&["i4-terminated"]));
    assert_eq!(scan_ids(&emu, &[("task_id", "i4")]).await, Vec::<String>::new());
    assert_eq!(scan_ids(&emu, &[("task_id", "i1-sync")]).await, Vec::<String>::new(), "a sync is not an image_scan");
    assert_eq!(scan_ids(&emu, &[("task_id", "i7-ep")]).await, Vec::<String>::new(), "in another enterprise project");
    assert_eq!(scan_ids(&emu, &[("task_id", "i8-other")]).await, Vec::<String>::new(), "in another project");
}

#[tokio::test]
async fn create_time_and_end_time() {
    let emu = emu().await;
    let at = |offset: i64| (T0 + offset).to_string();
    // create_time: created at or after; end_time: ended at or before.
    assert_eq!(scan_ids(&emu, &[("create_time", &at(-45 * MINUTE))]).await, strings(&["i2-cycle", "i5-failed"]));
    assert_eq!(scan_ids(&emu, &[("create_time", &at(-40 * MINUTE))]).await, strings(&["i2-cycle", "i5-failed"]));
    assert_eq!(scan_ids(&emu, &[("end_time", &at(-HOUR))]).await, strings(&["i3-timeout"]));
    assert_eq!(scan_ids(&emu, &[("end_time", &at(-45 * MINUTE))]).await, strings(&["i4-terminated", "i3-timeout"]));
    assert_eq!(scan_ids(&emu, &[("end_time", &at(0))]).await, strings(&["i5-failed", "i4-terminated", "i3-timeout"]), "a running task has not ended");
    assert_eq!(scan_ids(&emu, &[("create_time", &at(-HOUR)), ("end_time", &at(-30 * MINUTE))]).await, strings(&["i5-failed", "i4-terminated"]));
    assert_eq!(scan_ids(&emu, &[("create_time", "0")]).await.len(), 4);
    assert_eq!(scan_ids(&emu, &[("create_time", "4070880000000")]).await, Vec::<String>::new());
    assert_eq!(scan_ids(&emu, &[("end_time", "0")]).await, Vec::<String>::new());
    for name in ["create_time", "end_time"] {
        for bad in ["-1", "4070880000001", "yesterday", "1.5", ""] {
            assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), (name, bad)]).await, name);
        }
    }
    assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), ("create_time", &at(0)), ("end_time", &at(-1))]).await, "end_time");
}

#[tokio::test]
async fn task_status_is_scanning_or_finished() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("task_status", "scanning")]).await, strings(&["i2-cycle"]));
    assert_eq!(scan_ids(&emu, &[("task_status", "finished")]).await, strings(&["i5-failed", "i4-terminated", "i3-timeout"]));
    assert_eq!(ids(&list(&emu, &[("type", "image_sync"), ("task_status", "scanning")]).await), strings(&["i6-waiting"]), "waiting has not finished");
    assert_eq!(ids(&list(&emu, &[("type", "image_sync"), ("task_status", "finished")]).await), strings(&["i1-sync"]));
    for bad in ["running", "Finished", "100", ""] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), ("task_status", bad)]).await, "task_status");
    }
}

#[tokio::test]
async fn scan_scope_is_a_bit_mask() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("scan_scope", "0")]).await, strings(&["i4-terminated"]), "0 asks for tasks that scan nothing");
    assert_eq!(scan_ids(&emu, &[("scan_scope", "983040")]).await, strings(&["i2-cycle", "i5-failed"]), "vulnerabilities");
    assert_eq!(scan_ids(&emu, &[("scan_scope", "61440")]).await, strings(&["i5-failed", "i3-timeout"]), "baseline");
    assert_eq!(scan_ids(&emu, &[("scan_scope", "15")]).await, strings(&["i5-failed"]), "software compliance");
    assert_eq!(scan_ids(&emu, &[("scan_scope", "2147483647")]).await, strings(&["i2-cycle", "i5-failed", "i3-timeout"]));
    for bad in ["-1", "2147483648", "all", ""] {
        assert_hss_invalid(&hss_get(&emu, PROJECT, &[("type", "image_scan"), ("scan_scope", bad)]).await, "scan_scope");
    }
}

#[tokio::test]
async fn enterprise_projects() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("enterprise_project_id", "0")]).await, strings(&["i2-cycle", "i5-failed", "i4-terminated", "i3-timeout"]));
    assert_eq!(scan_ids(&emu, &[("enterprise_project_id", "ep-1")]).await, strings(&["i7-ep"]));
    assert_eq!(
        scan_ids(&emu, &[("enterprise_project_id", "all_granted_eps")]).await,
        strings(&["i2-cycle", "i7-ep", "i5-failed", "i4-terminated", "i3-timeout"])
    );
    assert_eq!(scan_ids(&emu, &[("enterprise_project_id", "ep-2")]).await, Vec::<String>::new());
}

#[tokio::test]
async fn projects_are_separate_worlds_and_tasks_appear_on_time() {
    let emu = emu().await;
    assert_eq!(ids(&hss_ok(&hss_get(&emu, "other0000", &[("type", "image_scan")]).await)), strings(&["i8-other"]));
    assert_eq!(hss_ok(&hss_get(&emu, "nobody", &[("type", "image_scan")]).await), json!({"data_list": [], "total_num": 0}));
    assert_eq!(scan_ids(&emu, &[("task_id", "i9-future")]).await, Vec::<String>::new());
    emu.state.clock.advance(HOUR);
    assert_eq!(scan_ids(&emu, &[("task_id", "i9-future")]).await, strings(&["i9-future"]));
}

#[tokio::test]
async fn filters_combine() {
    let emu = emu().await;
    assert_eq!(scan_ids(&emu, &[("task_type", "manual"), ("task_status", "finished"), ("global_image_type", "registry")]).await, strings(&["i5-failed", "i4-terminated"]));
    let doc = list(&emu, &[("type", "image_scan"), ("task_name", "scan"), ("scan_scope", "61440"), ("offset", "1")]).await;
    assert_eq!((ids(&doc), doc["total_num"].clone()), (strings(&["i3-timeout"]), json!(2)));
}
