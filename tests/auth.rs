//! Authentication over real HTTP: requests signed here (RPC v1 HMAC-SHA1, ACS3-HMAC-SHA256,
//! Huawei SDK-HMAC-SHA256, X-Auth-Token) against a scenario that declares credentials. The
//! signing code below is checked against the SDK vectors by the unit tests of src/auth; the
//! official SDKs sign for themselves in tests/sdk.

mod common;

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use taskemu::test_support::pct;

const KEY: &str = "LTAIauthtest";
const SECRET: &str = "alibaba-secret";
const AK: &str = "HWAKAUTHTEST";
const SK: &str = "huawei-secret";
const TOKEN: &str = "static-token-123";

const SCENARIO: &str = r#"
[[credentials]]
access_key_id = "LTAIauthtest"
access_key_secret = "alibaba-secret"
deny = ["sas:DescribeScanTaskProgress"]

[[credentials]]
access_key_id = "LTAIecsonly"
access_key_secret = "ecs-only-secret"
allow = ["ecs:*"]

[[credentials]]
ak = "HWAKAUTHTEST"
sk = "huawei-secret"
deny = ["hss:ListTasks"]

[[credentials]]
token = "static-token-123"
project_id = "0123456789abcdef0123456789abcdef"

[[ecs.tasks]]
id = "t-auth"

[[sas.tasks]]
id = 1

[[avds.scans]]
scan_id = "s-auth"

[[hss.tasks]]
task_id = "hw-auth"
"#;

fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn nonce() -> String {
    format!("{:032x}", rand_u128())
}

fn rand_u128() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    (u128::from(std::process::id()) << 64) | u128::from(NEXT.fetch_add(1, Ordering::Relaxed)) | (chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u128) << 32
}

/// How a signer percent-encodes names and values: [`pct`] (RFC 3986) is what the schemes sign.
type Encode = fn(&str) -> String;

/// RPC v1: the full query (signature included) for these parameters.
fn rpc_v1_query(method: &str, params: &[(&str, &str)], key: &str, secret: &str, timestamp: &str, nonce: &str) -> String {
    rpc_v1_query_encoded(pct, method, params, key, secret, timestamp, nonce)
}

/// [`rpc_v1_query`] by a signer that encodes with `encode`, and sends what it signed.
fn rpc_v1_query_encoded(pct: Encode, method: &str, params: &[(&str, &str)], key: &str, secret: &str, timestamp: &str, nonce: &str) -> String {
    let mut all: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in [("AccessKeyId", key), ("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"), ("SignatureNonce", nonce), ("Timestamp", timestamp), ("Format", "JSON")] {
        all.push((k.into(), v.into()));
    }
    all.sort();
    let canonical = all.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let string_to_sign = format!("{method}&%2F&{}", taskemu::test_support::pct(&canonical));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{canonical}&Signature={}", taskemu::test_support::pct(&signature))
}

async fn rpc_signed(emu: &Emulator, op: (&str, &str), params: &[(&str, &str)], key: &str, secret: &str) -> Reply {
    let mut all = vec![("Action", op.0), ("Version", op.1)];
    all.extend_from_slice(params);
    let query = rpc_v1_query("GET", &all, key, secret, &now_rfc3339(), &nonce());
    send(emu.addr, "GET", &format!("/?{query}"), &[], b"").await
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac256_hex(key: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// ACS3-HMAC-SHA256 headers for a POST / with the query given.
fn acs3_headers(emu: &Emulator, op: (&str, &str), query: &str, secret: &str, key: &str) -> Vec<(String, String)> {
    acs3_headers_encoded(pct, emu, op, query, secret, key)
}

/// [`acs3_headers`] by a signer that writes the canonical query with `encode`.
fn acs3_headers_encoded(pct: Encode, emu: &Emulator, op: (&str, &str), query: &str, secret: &str, key: &str) -> Vec<(String, String)> {
    let date = now_rfc3339();
    let nonce = nonce();
    let payload = hex_sha256(b"");
    let host = emu.addr.to_string();
    let mut signed: Vec<(&str, String)> = vec![
        ("host", host),
        ("x-acs-action", op.0.to_string()),
        ("x-acs-content-sha256", payload.clone()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", op.1.to_string()),
    ];
    signed.sort();
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names = signed.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
    let mut pairs: Vec<(String, String)> = taskemu::test_support::form_decode(query);
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let canonical = format!("POST\n/\n{canonical_query}\n{canonical_headers}\n{names}\n{payload}");
    let string_to_sign = format!("ACS3-HMAC-SHA256\n{}", hex_sha256(canonical.as_bytes()));
    let signature = hmac256_hex(secret.as_bytes(), &string_to_sign);
    let mut headers: Vec<(String, String)> = signed.into_iter().filter(|(k, _)| *k != "host").map(|(k, v)| (k.to_string(), v)).collect();
    headers.push(("Authorization".into(), format!("ACS3-HMAC-SHA256 Credential={key},SignedHeaders={names},Signature={signature}")));
    headers
}

/// SDK-HMAC-SHA256 headers for a Huawei request.
fn huawei_headers(emu: &Emulator, method: &str, path: &str, query: &str, body: &[u8], ak: &str, sk: &str) -> Vec<(String, String)> {
    huawei_headers_for(emu, (method, path, query, body), ak, sk, None)
}

/// SDK-HMAC-SHA256 headers, with a signed `X-Project-Id` as the SDK sends when `project_header`
/// is given.
fn huawei_headers_for(emu: &Emulator, request: (&str, &str, &str, &[u8]), ak: &str, sk: &str, project_header: Option<&str>) -> Vec<(String, String)> {
    huawei_headers_encoded(pct, emu, request, (ak, sk), project_header)
}

/// [`huawei_headers_for`] by a signer that writes the canonical query with `encode`.
fn huawei_headers_encoded(pct: Encode, emu: &Emulator, (method, path, query, body): (&str, &str, &str, &[u8]), (ak, sk): (&str, &str), project_header: Option<&str>) -> Vec<(String, String)> {
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let host = emu.addr.to_string();
    let mut signed = vec![("content-type", "application/json".to_string()), ("host", host), ("x-sdk-date", date.clone())];
    if let Some(project) = project_header {
        signed.push(("x-project-id", project.to_string()));
        signed.sort();
    }
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names = signed.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
    let mut pairs = taskemu::test_support::form_decode(query);
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let canonical = format!("{method}\n{path}/\n{canonical_query}\n{canonical_headers}\n{names}\n{}", hex_sha256(body));
    let string_to_sign = format!("SDK-HMAC-SHA256\n{date}\n{}", hex_sha256(canonical.as_bytes()));
    let signature = hmac256_hex(sk.as_bytes(), &string_to_sign);
    let mut headers = vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-Sdk-Date".into(), date),
        ("Authorization".into(), format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={names}, Signature={signature}")),
    ];
    if let Some(project) = project_header {
        headers.push(("X-Project-Id".into(), project.to_string()));
    }
    headers
}

async fn hss_signed(emu: &Emulator, method: &str, path: &str, query: &str, body: &[u8], ak: &str, sk: &str) -> Reply {
    let headers = huawei_headers(emu, method, path, query, body, ak, sk);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
    send(emu.addr, method, &target, &refs, body).await
}

/// A gateway error: the envelope plus the request id in the body, equal to X-Request-Id.
fn assert_gateway_error(reply: &Reply, status: u16, code: &str, message: &str) {
    let id = reply.header("x-request-id").expect("X-Request-Id on every Huawei answer");
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.json(), serde_json::json!({ "error_code": code, "error_msg": message, "request_id": id }));
}

fn alibaba_code(reply: &Reply) -> (u16, String, String) {
    let doc = reply.json();
    (reply.status, doc["Code"].as_str().unwrap_or("").to_string(), doc["Message"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn auth_turns_on_when_a_scenario_declares_credentials_and_off_on_request() {
    let emu = start(SCENARIO).await;
    let unsigned = rpc(&emu, ECS, &[("RegionId", "cn-hangzhou")]).await;
    assert_eq!(alibaba_code(&unsigned), (400, "IncompleteSignature".into(), "The request signature does not conform to Aliyun standards.".into()));
    let off = start_sources(Config { auth: Some(false), ..Config::default() }, vec![Source::new("s.toml", SCENARIO)]).await;
    rpc_ok(&off, ECS, &[("RegionId", "cn-hangzhou")]).await;
    let forced = start_sources(Config { auth: Some(true), ..Config::default() }, vec![Source::demo()]).await;
    assert_eq!(alibaba_code(&rpc(&forced, ECS, &[("RegionId", "cn-hangzhou")]).await).1, "IncompleteSignature");
}

#[tokio::test]
async fn rpc_v1_signatures_are_verified() {
    let emu = start(SCENARIO).await;
    let good = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], KEY, SECRET).await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(pluck(&good.json()["TaskSet"]["Task"], "TaskId"), ["t-auth"]);

    let wrong = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], KEY, "not-the-secret").await;
    let (status, code, message) = alibaba_code(&wrong);
    assert_eq!((status, code.as_str()), (400, "SignatureDoesNotMatch"));
    let sts = message.strip_prefix("Specified signature is not matched with our calculation. server string to sign is:").expect("the documented message");
    assert!(sts.starts_with("GET&%2F&AccessKeyId%3DLTAIauthtest%26Action%3DDescribeTasks"), "{sts}");

    let unknown = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], "LTAIwho", SECRET).await;
    assert_eq!(alibaba_code(&unknown), (404, "InvalidAccessKeyId.NotFound".into(), "Specified access key is not found.".into()));

    // Tampering after signing breaks it.
    let query = rpc_v1_query("GET", &[("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou")], KEY, SECRET, &now_rfc3339(), &nonce());
    let tampered = send(emu.addr, "GET", &format!("/?{}", query.replace("cn-hangzhou", "cn-shanghai")), &[], b"").await;
    assert_eq!(alibaba_code(&tampered).1, "SignatureDoesNotMatch");
    let as_post = send(emu.addr, "POST", &format!("/?{query}"), &[], b"").await;
    assert_eq!(alibaba_code(&as_post).1, "SignatureDoesNotMatch", "the method is signed");
}

#[tokio::test]
async fn timestamps_and_nonces_are_checked() {
    let emu = start(SCENARIO).await;
    let params = [("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou")];
    let stale = (chrono::Utc::now() - chrono::Duration::minutes(16)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let old = send(emu.addr, "GET", &format!("/?{}", rpc_v1_query("GET", &params, KEY, SECRET, &stale, &nonce())), &[], b"").await;
    assert_eq!(alibaba_code(&old), (400, "InvalidTimeStamp.Expired".into(), "Specified time stamp or date value is expired.".into()));
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(14)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let once = rpc_v1_query("GET", &params, KEY, SECRET, &recent, "nonce-used-twice");
    assert_eq!(send(emu.addr, "GET", &format!("/?{once}"), &[], b"").await.status, 200);
    let replay = send(emu.addr, "GET", &format!("/?{once}"), &[], b"").await;
    assert_eq!(alibaba_code(&replay), (400, "SignatureNonceUsed".into(), "Specified signature nonce was used already.".into()));
}

#[tokio::test]
async fn permissions_deny_with_each_products_error() {
    let emu = start(SCENARIO).await;
    let denied = rpc_signed(&emu, SAS, &[("TaskId", "1")], KEY, SECRET).await;
    assert_eq!(alibaba_code(&denied), (403, "NoPermission".into(), "caller has no permission".into()));
    assert_eq!(denied.json()["HostId"], "tds.aliyuncs.com");
    let ecs_only = rpc_signed(&emu, AVDS, &[], "LTAIecsonly", "ecs-only-secret").await;
    assert_eq!(
        alibaba_code(&ecs_only),
        (403, "Forbidden.RAM".into(), "User not authorized to operate on the specified resource, or this API doesn't support RAM.".into())
    );
    assert_eq!(rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], "LTAIecsonly", "ecs-only-secret").await.status, 200);
    assert_eq!(rpc_signed(&emu, AVDS, &[], KEY, SECRET).await.status, 200);
}

#[tokio::test]
async fn acs3_signatures_are_verified() {
    let emu = start(SCENARIO).await;
    let query = "RegionId=cn-hangzhou&TaskIds=t-auth";
    let headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let good = send(emu.addr, "POST", &format!("/?{query}"), &refs, b"").await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(pluck(&good.json()["TaskSet"]["Task"], "TaskId"), ["t-auth"]);
    let wrong = acs3_headers(&emu, ECS, query, "wrong", KEY);
    let refs: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &format!("/?{query}"), &refs, b"").await).1, "SignatureDoesNotMatch");
    // A body the content hash does not describe is a mismatch too.
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &format!("/?{query}"), &refs, b"extra").await).1, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn huawei_aksk_and_token_are_verified() {
    let emu = start(SCENARIO).await;
    let path = format!("/v5/{PROJECT}/image/tasks");
    let good = hss_signed(&emu, "GET", &path, "type=image_scan", b"", AK, SK).await;
    assert_eq!(good.status, 200, "{}", good.text());

    let wrong = hss_signed(&emu, "GET", &path, "type=image_scan", b"", AK, "wrong").await;
    assert_gateway_error(&wrong, 401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail");
    let unknown = hss_signed(&emu, "GET", &path, "type=image_scan", b"", "HWWHO", SK).await;
    assert_gateway_error(&unknown, 401, "APIGW.0301", "Incorrect IAM authentication information: Get secretKey failed,ak:HWWHO,err:ak not exist");
    let denied = hss_signed(&emu, "POST", &format!("/v5/{PROJECT}/common/tasks/batch-query"), "", b"{}", AK, SK).await;
    assert_hss_error(&denied, 403, "HSS.0013", "Insufficient permissions.");
    let bare = hss_get(&emu, PROJECT, &[("type", "image_scan")]).await;
    assert_eq!((bare.status, bare.json()["error_code"].as_str()), (401, Some("APIGW.0301")));

    let batch = format!("/v5/{PROJECT}/common/tasks/batch-query");
    let with_token = send(emu.addr, "POST", &batch, &[("X-Auth-Token", TOKEN), ("Content-Type", "application/json")], b"{}").await;
    assert_eq!(hss_ok(&with_token)["total_num"], 1);
    let bad_token = send(emu.addr, "POST", &batch, &[("X-Auth-Token", "forged")], b"{}").await;
    assert_gateway_error(&bad_token, 401, "APIGW.0301", "Incorrect IAM authentication information: decrypt token fail");
    let other_project = send(emu.addr, "POST", "/v5/another/common/tasks/batch-query", &[("X-Auth-Token", TOKEN)], b"{}").await;
    assert_hss_error(&other_project, 403, "HSS.0013", "Insufficient permissions.");
}

/// The error lines a scenario of credentials makes, each `creds.toml:LINE:COLUMN: message`.
fn credential_errors(text: &str) -> Vec<String> {
    match taskemu::scenario::load(&[Source::new("creds.toml", text)], 0, None) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

const SHAPES: &str = "a credential is one of: access_key_id + access_key_secret (Alibaba), ak + sk (Huawei), or token (Huawei)";

/// Issue 14: a credential of the wrong shape is told at the field that breaks it (the entry only
/// when it gives nothing), every problem of every entry at once; a permission at itself.
#[test]
fn a_credential_of_the_wrong_shape_is_told_at_the_field_that_breaks_it() {
    let text = r#"[[credentials]]
access_key_id = "k"
sk = "s"

[[credentials]]
token = "t"
allow = ["ecs", "ecs:DescribeTask"]

[[credentials]]
allow = ["*"]

[[credentials]]
access_key_secret = "only-half"

[[credentials]]
ak = "HWAK"
token = "t2"
sk = "s2"

[[credentials]]
access_key_id = "fine"
access_key_secret = "fine-secret"
"#;
    assert_eq!(
        credential_errors(text),
        [
            format!("creds.toml:3:6: `sk` does not go with `access_key_id`: {SHAPES}"),
            "creds.toml:7:10: bad permission \"ecs\": expected \"*\", \"product:*\" or \"product:Operation\" (e.g. \"ecs:DescribeTasks\")".to_string(),
            "creds.toml:7:17: unknown operation \"DescribeTask\" in permission \"ecs:DescribeTask\": ecs has * or DescribeTasks (did you mean \"DescribeTasks\"?)".to_string(),
            format!("creds.toml:9:1: this credential gives no secret: {SHAPES}"),
            format!("creds.toml:13:21: `access_key_secret` needs `access_key_id` beside it: {SHAPES}"),
            format!("creds.toml:17:9: `token` does not go with `ak`: {SHAPES}"),
        ]
    );
}

/// Issue 14: a credential's Huawei project is 32 hex characters or declared in `projects`, as a
/// task's is (the same rule and message), and the error is at the value.
#[test]
fn a_credentials_project_is_32_hex_characters_or_declared() {
    let text = r#"projects = ["tenant-a"]

[[credentials]]
ak = "HWAK1"
sk = "sk1"
project_id = "short"

[[credentials]]
token = "t"
project_id = "tenant-b"

[[credentials]]
token = "t-upper"
project_id = "0123456789ABCDEF0123456789abcdef"

[[credentials]]
ak = "HWAK2"
sk = "sk2"
project_id = "tenant-a"
"#;
    let not_a_project = |line: usize, id: &str, hint: &str| {
        format!("creds.toml:{line}:14: project_id \"{id}\" is not a Huawei project id (32 hex characters, e.g. \"0123456789abcdef0123456789abcdef\"){hint}: declare a made-up one at the top of the file: projects = [\"{id}\"]")
    };
    assert_eq!(credential_errors(text), [not_a_project(6, "short", ""), not_a_project(10, "tenant-b", " (did you mean \"tenant-a\"?)")]);
    // Declared in another file of the same load counts, as for tasks.
    let declared = Source::new("projects.toml", "projects = [\"short\", \"tenant-b\"]\n");
    let loaded = taskemu::scenario::load(&[declared, Source::new("creds.toml", text)], 0, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.settings.credentials.len(), 4);
}

/// A snapshot of a world whose credential has a made-up project declares it, so the snapshot
/// loads again (it is what `--state` restarts from).
#[tokio::test]
async fn a_snapshot_declares_a_credentials_made_up_project() {
    let emu = start("projects = [\"lab\"]\n\n[[credentials]]\ntoken = \"t\"\nproject_id = \"lab\"\n").await;
    let snapshot = send(emu.addr, "GET", "/_emu/snapshot", &[], b"").await.text();
    let reloaded = taskemu::scenario::load(&[Source::new("snapshot.toml", snapshot.as_str())], 0, None).unwrap_or_else(|e| panic!("{e}\n{snapshot}"));
    assert_eq!(reloaded.settings.credentials[0].project_id.as_deref(), Some("lab"));
}

// --- Identity from what was verified (issue 11, S1) and one form-body rule (S3) -----------------

const ALPHA: &str = "LTAIalphavictim";
const BETA: &str = "LTAIbetaspoofer";
const BETA_SECRET: &str = "beta-secret";
const PROJECT_A: &str = "projectaaaa";
const PROJECT_B: &str = "projectbbbb";
const HW_BOUND: (&str, &str) = ("HWAKBOUNDTOA", "bound-secret");
const HW_ANY: (&str, &str) = ("HWAKANYPROJECT", "any-secret");
const TOKEN_B: &str = "token-of-project-b";

/// Two Alibaba keys with a task of each product apiece, and every one of ALPHA's calls and
/// PROJECT_B's failing by a tenant-scoped fault rule: a call attributed to them shows at once.
const IDENTITY: &str = r#"
# Made-up Huawei projects, declared so that the loader accepts them (a real one is 32 hex digits).
projects = ["projectaaaa", "projectbbbb"]

[[credentials]]
access_key_id = "LTAIalphavictim"
access_key_secret = "alpha-secret"

[[credentials]]
access_key_id = "LTAIbetaspoofer"
access_key_secret = "beta-secret"

[[credentials]]
ak = "HWAKBOUNDTOA"
sk = "bound-secret"
project_id = "projectaaaa"

[[credentials]]
ak = "HWAKANYPROJECT"
sk = "any-secret"

[[credentials]]
token = "token-of-project-b"
project_id = "projectbbbb"

[[ecs.tasks]]
id = "t-shared"

[[ecs.tasks]]
id = "t-alpha"
owner = "LTAIalphavictim"

[[ecs.tasks]]
id = "t-beta"
owner = "LTAIbetaspoofer"

[[sas.tasks]]
id = 7001
owner = "LTAIalphavictim"

[[sas.tasks]]
id = 7002
owner = "LTAIbetaspoofer"

[[avds.scans]]
scan_id = "aaaaaaaa-0000-4000-8000-00000000a001"
task_id = 8001
owner = "LTAIalphavictim"
targets = ["alpha.example.com"]

[[avds.scans]]
scan_id = "bbbbbbbb-0000-4000-8000-00000000b002"
task_id = 8002
owner = "LTAIbetaspoofer"
targets = ["beta.example.com"]

[[hss.tasks]]
task_id = "hw-a"
project_id = "projectaaaa"

[[hss.tasks]]
task_id = "hw-b"
project_id = "projectbbbb"

[[faults]]
tenant = "LTAIalphavictim"
error = { code = "InternalError" }

[[faults]]
tenant = "projectbbbb"
error = { code = "HSS.1001" }
"#;

/// An ACS3-signed `POST /?query` with an empty body.
async fn acs3_signed(emu: &Emulator, op: (&str, &str), query: &str, key: &str, secret: &str) -> Reply {
    let headers = acs3_headers(emu, op, query, secret, key);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send(emu.addr, "POST", &format!("/?{query}"), &refs, b"").await
}

/// The journal's tenants, oldest first, read in-process (the control API's own tests cover its HTTP).
fn journal_tenants(emu: &Emulator) -> Vec<(String, u16, Option<String>)> {
    let mut entries = emu.state.journal.query(&taskemu::journal::Filter::default());
    entries.sort_by_key(|e| e.seq());
    entries
        .iter()
        .map(|e| {
            let e = e.entry();
            (e.operation.to_string(), e.status, e.tenant.map(str::to_string))
        })
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn an_acs3_caller_is_its_credential_not_the_access_key_id_it_adds() {
    let emu = start(IDENTITY).await;
    // BETA signs with its own secret and claims ALPHA's key as a parameter.
    let claim = format!("AccessKeyId={ALPHA}");
    let ecs = acs3_signed(&emu, ECS, &format!("RegionId=cn-hangzhou&{claim}"), BETA, BETA_SECRET).await;
    assert_eq!(ecs.status, 200, "{}", ecs.text());
    assert_eq!(sorted(pluck(&ecs.json()["TaskSet"]["Task"], "TaskId")), ["t-beta", "t-shared"], "BETA's world, not ALPHA's");

    let alpha_sas = acs3_signed(&emu, SAS, &format!("TaskId=7001&{claim}"), BETA, BETA_SECRET).await;
    assert_eq!(alibaba_code(&alpha_sas), (400, "InvalidTaskId.NotFound".into(), "The specified TaskId 7001 does not exist.".into()));
    let own_sas = acs3_signed(&emu, SAS, &format!("TaskId=7002&{claim}"), BETA, BETA_SECRET).await;
    assert_eq!(own_sas.status, 200, "{}", own_sas.text());

    let avds = acs3_signed(&emu, AVDS, &claim, BETA, BETA_SECRET).await;
    assert_eq!(avds.status, 200, "{}", avds.text());
    assert_eq!(pluck(&avds.json()["List"], "TaskId"), ["8002"]);

    // ALPHA's fault rule hits ALPHA's own verified calls, and none of BETA's above.
    let alpha = acs3_signed(&emu, ECS, "RegionId=cn-hangzhou", ALPHA, "alpha-secret").await;
    assert_eq!(alibaba_code(&alpha).0, 500, "{}", alpha.text());
    // A signature that does not verify proves no one: the journal names no tenant for it.
    let forged = acs3_signed(&emu, ECS, &format!("RegionId=cn-hangzhou&{claim}"), ALPHA, BETA_SECRET).await;
    assert_eq!(alibaba_code(&forged).1, "SignatureDoesNotMatch");

    let beta = Some(BETA.to_string());
    assert_eq!(
        journal_tenants(&emu),
        [
            ("DescribeTasks".into(), 200, beta.clone()),
            ("DescribeScanTaskProgress".into(), 400, beta.clone()),
            ("DescribeScanTaskProgress".into(), 200, beta.clone()),
            ("DescribeScanSessions".into(), 200, beta),
            ("DescribeTasks".into(), 500, Some(ALPHA.to_string())),
            ("DescribeTasks".into(), 400, None),
        ]
    );
}

#[tokio::test]
async fn an_rpc_v1_caller_is_the_signed_access_key_id_and_auth_off_believes_the_declared_one() {
    let emu = start(IDENTITY).await;
    let beta = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], BETA, BETA_SECRET).await;
    assert_eq!(sorted(pluck(&beta.json()["TaskSet"]["Task"], "TaskId")), ["t-beta", "t-shared"]);
    // A denied call was still proven: it is attributed to the key that signed it.
    let denied_scenario = IDENTITY.replace("access_key_secret = \"beta-secret\"", "access_key_secret = \"beta-secret\"\ndeny = [\"ecs:*\"]");
    let denying = start(&denied_scenario).await;
    let denied = rpc_signed(&denying, ECS, &[("RegionId", "cn-hangzhou")], BETA, BETA_SECRET).await;
    assert_eq!(alibaba_code(&denied).0, 403);
    assert_eq!(journal_tenants(&denying), [("DescribeTasks".into(), 403, Some(BETA.to_string()))]);

    // With auth off any key works, and the one the request names is who it is.
    let off = start_sources(Config { auth: Some(false), ..Config::default() }, vec![Source::new("identity.toml", IDENTITY)]).await;
    let declared = rpc(&off, ECS, &[("RegionId", "cn-hangzhou"), ("AccessKeyId", BETA)]).await;
    assert_eq!(sorted(pluck(&declared.json()["TaskSet"]["Task"], "TaskId")), ["t-beta", "t-shared"]);
    assert_eq!(rpc(&off, ECS, &[("RegionId", "cn-hangzhou"), ("AccessKeyId", ALPHA)]).await.status, 500, "ALPHA's fault rule");
    assert_eq!(journal_tenants(&off).iter().map(|e| e.2.as_deref()).collect::<Vec<_>>(), [Some(BETA), Some(ALPHA)]);
}

/// A signed Huawei ListTasks (`POST .../batch-query`, body `{}`) on `path_project`, with a signed
/// `X-Project-Id` when given.
async fn hss_list_tasks_as(emu: &Emulator, path_project: &str, (ak, sk): (&str, &str), project_header: Option<&str>) -> Reply {
    let path = batch_query_path(path_project);
    let headers = huawei_headers_for(emu, ("POST", &path, "", b"{}"), ak, sk, project_header);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send(emu.addr, "POST", &path, &refs, b"{}").await
}

#[tokio::test]
async fn a_huawei_caller_is_its_credentials_project_not_the_one_it_names() {
    let emu = start(IDENTITY).await;
    // A key bound to project A that names project B, in the path or in X-Project-Id.
    let other_path = hss_list_tasks_as(&emu, PROJECT_B, HW_BOUND, Some(PROJECT_B)).await;
    assert_hss_error(&other_path, 403, "HSS.0013", "Insufficient permissions.");
    let other_header = hss_list_tasks_as(&emu, PROJECT_A, HW_BOUND, Some(PROJECT_B)).await;
    assert_eq!(pluck(&hss_ok(&other_header)["data_list"], "task_id"), ["hw-a"], "project B's fault rule does not fire");

    // The token bound to project B meets project B's fault rule, whatever X-Project-Id says.
    let token = send(emu.addr, "POST", &batch_query_path(PROJECT_B), &[("X-Auth-Token", TOKEN_B), ("X-Project-Id", PROJECT_A)], b"{}").await;
    assert_eq!((token.status, token.json()["error_code"].as_str()), (500, Some("HSS.1001")));
    // A key bound to no project may act for any: it is the project it names, faults and all.
    let any_b = hss_list_tasks_as(&emu, PROJECT_B, HW_ANY, Some(PROJECT_A)).await;
    assert_eq!((any_b.status, any_b.json()["error_code"].as_str()), (500, Some("HSS.1001")));
    let any_a = hss_list_tasks_as(&emu, PROJECT_A, HW_ANY, None).await;
    assert_eq!(pluck(&hss_ok(&any_a)["data_list"], "task_id"), ["hw-a"]);
    // An AK whose signature fails proves no project.
    let forged = hss_list_tasks_as(&emu, PROJECT_B, (HW_BOUND.0, "wrong"), None).await;
    assert_eq!(forged.status, 401);

    let journal = journal_tenants(&emu);
    let tenants: Vec<(u16, Option<&str>)> = journal.iter().map(|e| (e.1, e.2.as_deref())).collect();
    let (a, b) = (Some(PROJECT_A), Some(PROJECT_B));
    assert_eq!(tenants, [(403, a), (200, a), (500, b), (500, b), (200, a), (401, None)]);
}

/// RPC v1 signed GET: `signed` are all the parameters the signature covers (the first `in_body` of
/// them travel in the body, the rest in the query); `unsigned_body`, when given, is the body
/// instead. Sent with `content_type`.
async fn rpc_v1_with_body(emu: &Emulator, signed: &[(&str, &str)], in_body: &[&str], unsigned_body: Option<&str>, content_type: &str) -> Reply {
    let query = rpc_v1_query("GET", signed, BETA, BETA_SECRET, &now_rfc3339(), &nonce());
    let (body, query): (Vec<&str>, Vec<&str>) = query.split('&').partition(|pair| in_body.iter().any(|name| pair.starts_with(&format!("{name}="))));
    let body = unsigned_body.map_or_else(|| body.join("&"), str::to_string);
    send(emu.addr, "GET", &format!("/?{}", query.join("&")), &[("Content-Type", content_type)], body.as_bytes()).await
}

#[tokio::test]
async fn a_body_is_read_as_a_form_only_when_the_signature_covers_it() {
    let emu = start(IDENTITY).await;
    let op = [("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou")];
    let filters = "PageSize=1&TaskIds=t-beta";
    // The issue's input: a look-alike content type, unsigned filters in the body of a signed GET.
    let lookalike = rpc_v1_with_body(&emu, &op, &[], Some(filters), "application/x-www-form-urlencoded-x").await;
    assert_eq!(lookalike.status, 200, "{}", lookalike.text());
    assert_eq!(lookalike.json()["TotalCount"], 2, "the unsigned filters are not applied");
    assert_eq!(sorted(pluck(&lookalike.json()["TaskSet"]["Task"], "TaskId")), ["t-beta", "t-shared"]);
    // Sent as a form, the same unsigned body is covered by the signature, and so refused.
    let unsigned_form = rpc_v1_with_body(&emu, &op, &[], Some(filters), "application/x-www-form-urlencoded; charset=UTF-8").await;
    assert_eq!(alibaba_code(&unsigned_form).1, "SignatureDoesNotMatch");
    // Signed as a form (with the charset parameter the Tea AVDS SDK sends, in any case), it is read.
    let mut all = op.to_vec();
    all.extend([("PageSize", "1"), ("TaskIds", "t-beta")]);
    let form = rpc_v1_with_body(&emu, &all, &["PageSize", "TaskIds"], None, "Application/X-WWW-Form-Urlencoded ;charset=UTF-8").await;
    assert_eq!(form.status, 200, "{}", form.text());
    assert_eq!((form.json()["TotalCount"].as_u64(), pluck(&form.json()["TaskSet"]["Task"], "TaskId")), (Some(1), strings(&["t-beta"])));
}

// --- Signature diagnostics (issue 15, deliverable 4) ----------------------------------------------
//
// Each case signs a valid request with the helpers above, breaks one thing, and checks two things:
// the client gets exactly the cloud's answer it got before, and the journal's `auth_failure` names
// the difference.

/// The calls authentication refused, oldest first, as `GET /_emu/requests?auth_failures=true` shows them.
async fn auth_failures(emu: &Emulator) -> Vec<serde_json::Value> {
    let reply = send(emu.addr, "GET", "/_emu/requests?auth_failures=true&limit=1000", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["requests"].as_array().cloned().unwrap_or_default()
}

/// The newest refused call's diagnosis.
async fn last_diagnosis(emu: &Emulator) -> serde_json::Value {
    auth_failures(emu).await.last().expect("a refused call in the journal")["auth_failure"].clone()
}

/// Asserts the diagnosis names `cause` first (about `subject`, when given) and returns it.
async fn assert_cause(emu: &Emulator, cause: &str, subject: Option<&str>) -> serde_json::Value {
    let d = last_diagnosis(emu).await;
    assert_eq!(d["cause"], cause, "{d:#}");
    assert_eq!(d["findings"][0]["cause"], cause, "{d:#}");
    if let Some(subject) = subject {
        assert_eq!(d["findings"][0]["subject"], subject, "{d:#}");
    }
    d
}

fn header_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn set(headers: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if let Some(value) = value {
        headers.push((name.to_string(), value));
    }
}

fn edit_authorization(headers: &mut [(String, String)], edit: impl Fn(&str) -> String) {
    for (k, v) in headers.iter_mut() {
        if k.eq_ignore_ascii_case("authorization") {
            *v = edit(v);
        }
    }
}

/// The encoding `java.net.URLEncoder` gives (space as `+`, `*` kept, `~` escaped): what a hand-rolled
/// signer that forgets the RFC 3986 fix-ups signs and sends.
fn url_encoder(s: &str) -> String {
    pct(s).replace("%2A", "*").replace("%20", "+").replace('~', "%7E")
}

fn skew_near(d: &serde_json::Value, expected: i64) {
    let skew = d["skew_seconds"].as_i64().unwrap_or_else(|| panic!("no skew in {d:#}"));
    assert!((skew - expected).abs() <= 5, "skew {skew}, expected about {expected}");
}

#[tokio::test]
async fn rpc_v1_failures_are_diagnosed_and_answered_as_before() {
    let emu = start(SCENARIO).await;
    let params = [("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou")];
    let good = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], KEY, SECRET).await;
    assert_eq!(good.status, 200);

    // A clock 16 minutes slow, signing correctly.
    let stale = (chrono::Utc::now() - chrono::Duration::minutes(16)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let old = send(emu.addr, "GET", &format!("/?{}", rpc_v1_query("GET", &params, KEY, SECRET, &stale, &nonce())), &[], b"").await;
    assert_eq!(alibaba_code(&old), (400, "InvalidTimeStamp.Expired".into(), "Specified time stamp or date value is expired.".into()));
    let d = assert_cause(&emu, "clock_skew", Some("Timestamp")).await;
    skew_near(&d, -960);
    assert_eq!((d["scheme"].as_str(), d["claimed"]["timestamp"].as_str(), d["claimed"]["key_id"].as_str()), (Some("RPC-HMAC-SHA1"), Some(stale.as_str()), Some(KEY)));
    assert!(d["findings"][0]["message"].as_str().unwrap().contains("behind"), "{d:#}");

    // A wrong secret: nothing differs but the signature; the server's string to sign is the one the
    // client is told.
    let wrong = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], KEY, "not-the-secret").await;
    let (status, code, message) = alibaba_code(&wrong);
    assert_eq!((status, code.as_str()), (400, "SignatureDoesNotMatch"));
    let d = assert_cause(&emu, "signature_mismatch", None).await;
    assert_eq!(message.strip_suffix(d["computed"]["string_to_sign"].as_str().unwrap()).map(|m| m.ends_with("server string to sign is:")), Some(true), "{message}");
    assert!(d["claimed"]["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(d["computed"]["canonical_request"], serde_json::Value::Null, "RPC v1 has none");

    // A signer that encodes a value its own way (`*` kept, space as `+`) and signs that.
    let all = [("Action", "DescribeTasks"), ("Version", "2014-05-26"), ("RegionId", "cn-hangzhou"), ("TaskIds", "t*auth")];
    let query = rpc_v1_query_encoded(url_encoder, "GET", &all, KEY, SECRET, &now_rfc3339(), &nonce());
    assert!(query.contains("TaskIds=t*auth"), "{query}");
    let encoded = send(emu.addr, "GET", &format!("/?{query}"), &[], b"").await;
    assert_eq!(alibaba_code(&encoded).1, "SignatureDoesNotMatch");
    let d = assert_cause(&emu, "percent_encoding", Some("TaskIds")).await;
    assert!(d["findings"][0]["message"].as_str().unwrap().contains("TaskIds=t%2Aauth"), "{d:#}");

    // A key id that is declared in another case.
    let unknown = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], "ltaiauthtest", SECRET).await;
    assert_eq!(alibaba_code(&unknown), (404, "InvalidAccessKeyId.NotFound".into(), "Specified access key is not found.".into()));
    let d = assert_cause(&emu, "unknown_key_id", Some("ltaiauthtest")).await;
    assert!(d["findings"][0]["message"].as_str().unwrap().contains("\"LTAIauthtest\" is"), "{d:#}");

    // Only refused calls carry a diagnosis, and only they are listed under auth_failures.
    let everything = send(emu.addr, "GET", "/_emu/requests", &[], b"").await.json();
    let with: Vec<bool> = everything["requests"].as_array().unwrap().iter().map(|r| r.get("auth_failure").is_some()).collect();
    assert_eq!(with, [false, true, true, true, true]);
    assert_eq!(auth_failures(&emu).await.len(), 4);
}

#[tokio::test]
async fn acs3_failures_are_diagnosed_and_answered_as_before() {
    let emu = start(SCENARIO).await;
    let query = "RegionId=cn-hangzhou&TaskIds=t-auth";
    let target = format!("/?{query}");
    let signed = acs3_headers(&emu, ECS, query, SECRET, KEY);
    assert_eq!(send(emu.addr, "POST", &target, &header_refs(&signed), b"").await.status, 200);
    let incomplete = (400, "IncompleteSignature".to_string(), "The request signature does not conform to Aliyun standards.".to_string());

    // A body the content hash does not describe.
    let headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"extra").await).1, "SignatureDoesNotMatch");
    let d = assert_cause(&emu, "body_hash_mismatch", Some("x-acs-content-sha256")).await;
    assert!(d["computed"]["canonical_request"].as_str().unwrap().ends_with(&hex_sha256(b"extra")), "{d:#}");
    assert_eq!(d["claimed"]["signed_headers"], d["computed"]["signed_headers"]);
    assert!(d["computed"]["string_to_sign"].as_str().unwrap().starts_with("ACS3-HMAC-SHA256\n"));

    // host left out of SignedHeaders.
    let mut headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    edit_authorization(&mut headers, |v| v.replace("SignedHeaders=host;", "SignedHeaders="));
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await), incomplete);
    assert_cause(&emu, "unsigned_required_header", Some("host")).await;

    // A header listed as signed that the request does not carry.
    let mut headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    edit_authorization(&mut headers, |v| v.replace("SignedHeaders=", "SignedHeaders=accept;"));
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await), incomplete);
    assert_cause(&emu, "signed_header_absent", Some("accept")).await;

    // x-acs-date dropped on the way.
    let mut headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    set(&mut headers, "x-acs-date", None);
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await), incomplete);
    assert_cause(&emu, "required_header_missing", Some("x-acs-date")).await;

    // x-acs-date 20 minutes slow: a mismatch to the client, the skew named first here.
    let mut headers = acs3_headers(&emu, ECS, query, SECRET, KEY);
    set(&mut headers, "x-acs-date", Some((chrono::Utc::now() - chrono::Duration::minutes(20)).format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await).1, "SignatureDoesNotMatch");
    skew_near(&assert_cause(&emu, "clock_skew", Some("x-acs-date")).await, -1200);

    // A parameter signed in the signer's own encoding.
    let odd = "RegionId=cn-hangzhou&TaskIds=t*auth";
    let headers = acs3_headers_encoded(url_encoder, &emu, ECS, odd, SECRET, KEY);
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &format!("/?{odd}"), &header_refs(&headers), b"").await).1, "SignatureDoesNotMatch");
    assert_cause(&emu, "percent_encoding", Some("TaskIds")).await;

    // A scoped credential where ACS3 takes the bare key id.
    let scoped = format!("{KEY}/20250102/cn-hangzhou/ecs/aliyun_v4_request");
    let headers = acs3_headers(&emu, ECS, query, SECRET, &scoped);
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await).1, "InvalidAccessKeyId.NotFound");
    assert_cause(&emu, "credential_scope", Some(&scoped)).await;

    // A wrong secret.
    let headers = acs3_headers(&emu, ECS, query, "wrong", KEY);
    assert_eq!(alibaba_code(&send(emu.addr, "POST", &target, &header_refs(&headers), b"").await).1, "SignatureDoesNotMatch");
    let d = assert_cause(&emu, "signature_mismatch", None).await;
    assert_eq!(d["claimed"]["key_id"], KEY);
}

#[tokio::test]
async fn huawei_failures_are_diagnosed_and_answered_as_before() {
    let emu = start(SCENARIO).await;
    let path = format!("/v5/{PROJECT}/image/tasks");
    let query = "type=image_scan";
    let target = format!("{path}?{query}");
    let fail = |detail: &str| format!("Incorrect IAM authentication information: {detail}");
    let sent = |headers: Vec<(String, String)>, target: String| async move { send(emu.addr, "GET", &target, &header_refs(&headers), b"").await };

    // A wrong SK: the canonical request the server built is shown.
    let wrong = hss_signed(&emu, "GET", &path, query, b"", AK, "wrong").await;
    assert_gateway_error(&wrong, 401, "APIGW.0301", &fail("verify aksk signature fail"));
    let d = assert_cause(&emu, "signature_mismatch", None).await;
    assert_eq!(d["scheme"], "SDK-HMAC-SHA256");
    assert!(d["computed"]["canonical_request"].as_str().unwrap().starts_with(&format!("GET\n{path}/\ntype=image_scan\n")), "{d:#}");
    assert!(d["computed"]["string_to_sign"].as_str().unwrap().starts_with("SDK-HMAC-SHA256\n"));

    // X-Sdk-Date an hour ahead.
    let mut headers = huawei_headers(&emu, "GET", &path, query, b"", AK, SK);
    set(&mut headers, "X-Sdk-Date", Some((chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y%m%dT%H%M%SZ").to_string()));
    assert_gateway_error(&sent(headers, target.clone()).await, 401, "APIGW.0301", &fail("verify aksk signature fail"));
    skew_near(&assert_cause(&emu, "clock_skew", Some("X-Sdk-Date")).await, 3600);

    // A content hash that does not describe the body.
    let mut headers = huawei_headers(&emu, "GET", &path, query, b"", AK, SK);
    set(&mut headers, "X-Sdk-Content-Sha256", Some("0".repeat(64)));
    assert_gateway_error(&sent(headers, target.clone()).await, 401, "APIGW.0301", &fail("verify aksk signature fail"));
    assert_cause(&emu, "body_hash_mismatch", Some("x-sdk-content-sha256")).await;

    // X-Sdk-Date dropped.
    let mut headers = huawei_headers(&emu, "GET", &path, query, b"", AK, SK);
    set(&mut headers, "X-Sdk-Date", None);
    let reply = sent(headers, target.clone()).await;
    assert_eq!((reply.status, reply.json()["error_code"].as_str()), (401, Some("APIGW.0301")));
    assert_cause(&emu, "required_header_missing", Some("x-sdk-date")).await;

    // X-Project-Id signed, then dropped.
    let mut headers = huawei_headers_for(&emu, ("GET", &path, query, b""), AK, SK, Some(PROJECT));
    set(&mut headers, "X-Project-Id", None);
    let reply = sent(headers, target.clone()).await;
    assert_eq!((reply.status, reply.json()["error_code"].as_str()), (401, Some("APIGW.0301")));
    assert_cause(&emu, "signed_header_absent", Some("x-project-id")).await;

    // A query parameter signed in the signer's own encoding.
    let odd = "type=image_scan&image_name=nginx*";
    let headers = huawei_headers_encoded(url_encoder, &emu, ("GET", &path, odd, b""), (AK, SK), None);
    assert_gateway_error(&sent(headers, format!("{path}?{odd}")).await, 401, "APIGW.0301", &fail("verify aksk signature fail"));
    assert_cause(&emu, "percent_encoding", Some("image_name")).await;

    // An AK no credential declares.
    let unknown = hss_signed(&emu, "GET", &path, query, b"", "HWWHO", SK).await;
    assert_gateway_error(&unknown, 401, "APIGW.0301", &fail("Get secretKey failed,ak:HWWHO,err:ak not exist"));
    assert_cause(&emu, "unknown_key_id", Some("HWWHO")).await;

    // Tokens carry no signature: an unknown one is just that.
    let batch = format!("/v5/{PROJECT}/common/tasks/batch-query");
    let bad_token = send(emu.addr, "POST", &batch, &[("X-Auth-Token", "forged-token")], b"{}").await;
    assert_gateway_error(&bad_token, 401, "APIGW.0301", &fail("decrypt token fail"));
    let d = assert_cause(&emu, "unknown_token", Some("X-Auth-Token")).await;
    assert_eq!((d["scheme"].as_str(), d["claimed"]["key_id"].as_str()), (Some("X-Auth-Token"), Some("forged-t…")));
    // A token bound to one project, used on another: its scope does not match.
    let other = send(emu.addr, "POST", "/v5/another/common/tasks/batch-query", &[("X-Auth-Token", TOKEN)], b"{}").await;
    assert_hss_error(&other, 403, "HSS.0013", "Insufficient permissions.");
    assert_cause(&emu, "credential_scope", Some("another")).await;
}

#[tokio::test]
async fn a_diagnosis_is_capped_and_cut_to_the_entry_budget() {
    // A 6 KB parameter, a wrong secret: the string to sign repeats it, encoded.
    let config = Config { journal_entry_bytes: 1_000, ..Config::default() };
    let emu = start_sources(config, vec![Source::new("auth.toml", SCENARIO)]).await;
    let long = "x".repeat(6_000);
    let wrong = rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", &long)], KEY, "wrong").await;
    let message = alibaba_code(&wrong).2;
    assert!(message.len() > 6_000, "the client still gets the whole string to sign");
    let entry = auth_failures(&emu).await.pop().expect("the refused call");
    let d = &entry["auth_failure"];
    assert_eq!((d["cause"].as_str(), d["truncated"].as_bool()), (Some("signature_mismatch"), Some(true)), "{d:#}");
    let texts: usize = [&d["findings"][0]["message"], &d["claimed"]["key_id"], &d["claimed"]["signature"], &d["claimed"]["timestamp"], &d["computed"]["string_to_sign"]]
        .iter()
        .map(|v| v.as_str().map_or(0, str::len))
        .sum();
    assert!(texts <= 1_000, "{texts} bytes of diagnosis kept");

    // With room to spare, a text is still capped on its own.
    let roomy = start_sources(Config::default(), vec![Source::new("auth.toml", SCENARIO)]).await;
    rpc_signed(&roomy, ECS, &[("RegionId", "cn-hangzhou"), ("TaskIds", &long)], KEY, "wrong").await;
    let d = last_diagnosis(&roomy).await;
    let sts = d["computed"]["string_to_sign"].as_str().unwrap();
    assert!(sts.len() <= taskemu::test_support::TEXT_CAP + "…".len() && sts.ends_with('…'), "{} bytes", sts.len());
    assert_eq!(d["truncated"], false);
}

#[tokio::test]
async fn the_cli_prints_each_auth_failure_readably() {
    let emu = start(SCENARIO).await;
    let query = "RegionId=cn-hangzhou";
    let headers = acs3_headers(&emu, ECS, query, "wrong", KEY);
    assert_eq!(send(emu.addr, "POST", &format!("/?{query}"), &header_refs(&headers), b"").await.status, 400);
    assert_eq!(rpc_signed(&emu, ECS, &[("RegionId", "cn-hangzhou")], KEY, SECRET).await.status, 200);
    let url = format!("http://{}", emu.addr);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_taskemu")).args(["requests", "--auth-failures", "--url", &url]).output().expect("the binary runs")
    })
    .await
    .expect("the CLI finished");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for needle in ["-> 400 SignatureDoesNotMatch", "scheme:   ACS3-HMAC-SHA256", "cause:    signature_mismatch: ", "claimed key id: LTAIauthtest", "server canonical request:\n    | POST\n    | /\n    | RegionId=cn-hangzhou\n", "server string to sign:\n    | ACS3-HMAC-SHA256\n", "1 refused call(s)"] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}
