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
use taskemu::auth::pct;

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

/// RPC v1: the full query (signature included) for these parameters.
fn rpc_v1_query(method: &str, params: &[(&str, &str)], key: &str, secret: &str, timestamp: &str, nonce: &str) -> String {
    let mut all: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in [("AccessKeyId", key), ("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"), ("SignatureNonce", nonce), ("Timestamp", timestamp), ("Format", "JSON")] {
        all.push((k.into(), v.into()));
    }
    all.sort();
    let canonical = all.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let string_to_sign = format!("{method}&%2F&{}", pct(&canonical));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{canonical}&Signature={}", pct(&signature))
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
    let mut pairs: Vec<(String, String)> = taskemu::auth::form_decode(query);
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
    let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let host = emu.addr.to_string();
    let signed = [("content-type", "application/json".to_string()), ("host", host), ("x-sdk-date", date.clone())];
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names = "content-type;host;x-sdk-date";
    let mut pairs = taskemu::auth::form_decode(query);
    pairs.sort();
    let canonical_query = pairs.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let canonical = format!("{method}\n{path}/\n{canonical_query}\n{canonical_headers}\n{names}\n{}", hex_sha256(body));
    let string_to_sign = format!("SDK-HMAC-SHA256\n{date}\n{}", hex_sha256(canonical.as_bytes()));
    let signature = hmac256_hex(sk.as_bytes(), &string_to_sign);
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("X-Sdk-Date".into(), date),
        ("Authorization".into(), format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={names}, Signature={signature}")),
    ]
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

#[tokio::test]
async fn bad_credential_entries_are_scenario_errors() {
    let broken = "[[credentials]]\naccess_key_id = \"k\"\nsk = \"s\"\n\n[[credentials]]\ntoken = \"t\"\nallow = [\"ecs\"]\n";
    let errors = taskemu::scenario::load(&[Source::new("creds.toml", broken)], 0, None).unwrap_err();
    let shown: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].starts_with("creds.toml:1:1: a credential is one of"), "{}", shown[0]);
    assert!(shown[1].starts_with("creds.toml:5:1: bad permission \"ecs\""), "{}", shown[1]);
}
