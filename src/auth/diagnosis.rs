//! Why a request failed authentication, told to the person who signed it: what the server computed
//! (canonical request, string to sign, the signed headers it used) next to what the request claimed
//! (signature, signed-headers list, key id, timestamp), and the differences found, the first one
//! first: clock skew, a body hash that does not describe the body, a required header absent or left
//! unsigned, a signed header absent, a key id or credential scope that matches nothing, a parameter
//! signed in another percent-encoding than the scheme's RFC 3986 form, or else a wrong secret.
//!
//! Only a refused request is diagnosed (the gate's [`Refusal`] in hand), so a request that passes
//! pays nothing; what the client is answered is decided before and is not touched here. Every text
//! kept is cut to [`TEXT_CAP`] bytes and the findings to [`MAX_FINDINGS`], so a hostile request
//! yields a diagnosis of bounded size; the journal cuts it further to the entry's byte budget.

use serde::Serialize;

use super::aliyun::{self, AliyunScheme, ACS3_ALGORITHM, ACS3_ALWAYS_SIGNED, ACS3_SIGNED_IF_PRESENT};
use super::gate::{Gate, Refusal, Secret, SKEW_MS};
use super::huawei;
use super::{hmac_sha256_hex_matches, parse_aliyun_timestamp, parse_huawei_sdk_date, pct, sha256_hex, unescape, AuthFields, SignedRequest};

/// Bytes kept of any one text (a canonical request, a signature, a message).
pub const TEXT_CAP: usize = 2048;
/// Findings kept per diagnosis.
pub const MAX_FINDINGS: usize = 8;
/// Percent-encoding hypotheses tried per request (one HMAC each), so a request with thousands of
/// oddly encoded parameters costs a bounded amount to diagnose.
const MAX_HYPOTHESES: usize = 16;
/// Parameter names listed in one message.
const MAX_NAMES: usize = 5;

/// A refused request's diagnosis, as the journal keeps and shows it (`auth_failure`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnosis {
    /// `RPC-HMAC-SHA1`, `ACS3-HMAC-SHA256`, `SDK-HMAC-SHA256`, `X-Auth-Token`, or `none`.
    pub scheme: &'static str,
    /// The first finding's cause: the first difference found.
    pub cause: &'static str,
    pub findings: Vec<Finding>,
    pub computed: Computed,
    pub claimed: Claimed,
    /// The signed timestamp minus the server's real time, in whole seconds, when it could be read.
    pub skew_seconds: Option<i64>,
    /// Whether the journal cut these texts to its entry budget (`--journal-entry-bytes`).
    pub truncated: bool,
}

/// One difference between what the request claimed and what the server expected.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// A stable name: `clock_skew`, `bad_timestamp`, `body_hash_mismatch`, `required_header_missing`,
    /// `unsigned_required_header`, `signed_header_absent`, `unknown_key_id`, `credential_scope`,
    /// `unknown_token`, `percent_encoding`, `signature_mismatch`, `incomplete`, `nonce_reused`,
    /// `permission_denied`.
    pub cause: &'static str,
    /// The header or parameter the finding is about, when there is one.
    pub subject: Option<String>,
    pub message: String,
}

/// What the server computed for the request (absent when the request lacked the parts to compute it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Computed {
    pub canonical_request: Option<String>,
    pub string_to_sign: Option<String>,
    /// The headers the server signed, lower-case, `;`-joined (RPC v1 signs none).
    pub signed_headers: Option<String>,
}

/// What the request said about its own signature.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Claimed {
    /// The access key id (Alibaba `AccessKeyId` / ACS3 `Credential`, Huawei `Access`), or a token's
    /// first characters.
    pub key_id: Option<String>,
    pub signature: Option<String>,
    pub signed_headers: Option<String>,
    /// `Timestamp`, `x-acs-date` or `X-Sdk-Date`, as sent.
    pub timestamp: Option<String>,
}

impl Diagnosis {
    fn new(scheme: &'static str) -> Diagnosis {
        Diagnosis { scheme, ..Diagnosis::default() }
    }

    fn find(&mut self, cause: &'static str, subject: Option<&str>, message: impl Into<String>) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(Finding { cause, subject: subject.map(cap), message: cap(&message.into()) });
        }
    }

    fn has(&self, cause: &str) -> bool {
        self.findings.iter().any(|f| f.cause == cause)
    }

    /// Names the cause; a refusal nothing explained still gets one.
    fn finish(mut self, refusal: &Refusal) -> Diagnosis {
        if self.findings.is_empty() {
            self.find("incomplete", None, format!("refused: {refusal:?}"));
        }
        self.cause = self.findings[0].cause;
        self
    }

    /// Every text kept, the most telling first: the journal cuts them in this order.
    pub(crate) fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        let findings = self.findings.iter_mut().flat_map(|f| f.subject.iter_mut().chain(std::iter::once(&mut f.message)));
        let Claimed { key_id, signature, signed_headers, timestamp } = &mut self.claimed;
        let Computed { canonical_request, string_to_sign, signed_headers: used } = &mut self.computed;
        findings.chain([key_id, signature, signed_headers, timestamp, used, string_to_sign, canonical_request].into_iter().flatten())
    }

    /// Bytes of text kept.
    pub fn text_len(&mut self) -> usize {
        self.texts_mut().map(|t| t.len()).sum()
    }
}

/// `text`, cut to [`TEXT_CAP`] bytes on a character boundary (with `…` when cut).
fn cap(text: &str) -> String {
    if text.len() <= TEXT_CAP {
        return text.to_string();
    }
    let mut end = TEXT_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn capped(text: Option<&str>) -> Option<String> {
    text.map(cap)
}

/// One `name=value` segment of a query or form as sent, with its decoded name and value.
struct RawPair<'a> {
    raw: &'a str,
    key: String,
    value: String,
}

impl RawPair<'_> {
    /// The segment as the client wrote it, with the `=` a bare name implies.
    fn as_sent(&self) -> String {
        if self.raw.contains('=') {
            self.raw.to_string()
        } else {
            format!("{}=", self.raw)
        }
    }

    /// The segment as the schemes sign it: RFC 3986 name and value.
    fn canonical(&self) -> String {
        format!("{}={}", pct(&self.key), pct(&self.value))
    }
}

fn raw_pairs(raw: &str) -> impl Iterator<Item = RawPair<'_>> {
    raw.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        RawPair { raw: p, key: unescape(k, true), value: unescape(v, true) }
    })
}

/// The canonical query with the pairs `as_sent` picks written as the client sent them instead of in
/// their RFC 3986 form: the string a signer that skipped re-encoding would have signed.
fn query_variant(pairs: &[RawPair<'_>], as_sent: impl Fn(usize) -> bool) -> String {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by(|&a, &b| (&pairs[a].key, &pairs[a].value).cmp(&(&pairs[b].key, &pairs[b].value)));
    order.iter().map(|&i| if as_sent(i) { pairs[i].as_sent() } else { pairs[i].canonical() }).collect::<Vec<_>>().join("&")
}

/// `canonical` (a six-line canonical request) with its query line replaced.
fn with_query_line(canonical: &str, query: &str) -> String {
    let mut lines = canonical.splitn(4, '\n');
    let (method, uri, _, rest) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next(), lines.next().unwrap_or(""));
    format!("{method}\n{uri}\n{query}\n{rest}")
}

/// Tries the encodings a signer may have used instead of RFC 3986 (each parameter as sent, then all
/// of them); `verifies` says whether a canonical query signs to the claimed signature. Records a
/// `percent_encoding` finding for the one that verifies, else a `signature_mismatch`.
fn explain_mismatch(d: &mut Diagnosis, pairs: &[RawPair<'_>], key_id: &str, verifies: impl Fn(&str) -> bool) {
    let odd: Vec<usize> = (0..pairs.len()).filter(|&i| pairs[i].as_sent() != pairs[i].canonical()).collect();
    let names = |which: &[usize]| which.iter().take(MAX_NAMES).map(|&i| format!("{:?}", pairs[i].key)).collect::<Vec<_>>().join(", ");
    for &i in odd.iter().take(MAX_HYPOTHESES) {
        if verifies(&query_variant(pairs, |j| j == i)) {
            let p = &pairs[i];
            d.find(
                "percent_encoding",
                Some(&p.key),
                format!("parameter {:?} was signed as sent ({:?}), but the scheme signs its RFC 3986 form ({:?}): encode it with only A-Z a-z 0-9 - _ . ~ left as they are, space as %20", p.key, p.as_sent(), p.canonical()),
            );
            return;
        }
    }
    if odd.len() > 1 && verifies(&query_variant(pairs, |j| odd.contains(&j))) {
        d.find(
            "percent_encoding",
            Some(&pairs[odd[0]].key),
            format!("the parameters were signed as sent, but the scheme signs their RFC 3986 form; these differ: {}", names(&odd)),
        );
        return;
    }
    let mut message = format!(
        "the signature is not the one computed with the secret declared for {key_id:?}, though every part it covers is there: most likely the secret differs, or the signer built another string to sign (compare computed.string_to_sign with the client's)"
    );
    if !odd.is_empty() {
        message.push_str(&format!("; parameters not sent in RFC 3986 form (which the signature must use): {}", names(&odd)));
    }
    d.find("signature_mismatch", None, message);
}

/// The signed time against real time: `clock_skew` past the window, `bad_timestamp` when unreadable.
fn check_clock(d: &mut Diagnosis, at: Option<i64>, now_real: i64, name: &str) {
    match at {
        None => d.find("bad_timestamp", Some(name), format!("{name} {:?} is not a time the scheme reads", d.claimed.timestamp.as_deref().unwrap_or(""))),
        Some(at) => {
            let skew = (at - now_real) / 1000;
            d.skew_seconds = Some(skew);
            if (at - now_real).abs() > SKEW_MS {
                let side = if skew > 0 { "ahead of" } else { "behind" };
                d.find("clock_skew", Some(name), format!("{name} is {} s {side} the server's clock; at most {} s either way is accepted", skew.abs(), SKEW_MS / 1000));
            }
        }
    }
}

/// A key id that matches no credential: near misses (case, spaces, a scoped credential, the other
/// cloud's key) are named, else the declared ones.
fn unknown_key(d: &mut Diagnosis, gate: &Gate, key: &str, alibaba: bool) {
    let (own, other): (Vec<&str>, Vec<&str>) = gate.credentials.iter().fold((Vec::new(), Vec::new()), |(mut own, mut other), c| {
        match &c.secret {
            Secret::Alibaba { key_id, .. } if alibaba => own.push(key_id.as_str()),
            Secret::Alibaba { key_id, .. } => other.push(key_id.as_str()),
            Secret::HuaweiAkSk { ak, .. } if !alibaba => own.push(ak.as_str()),
            Secret::HuaweiAkSk { ak, .. } => other.push(ak.as_str()),
            Secret::HuaweiToken { .. } => {}
        }
        (own, other)
    });
    let bare = key.split('/').next().unwrap_or(key);
    if key.contains('/') && own.contains(&bare) {
        d.find("credential_scope", Some(key), format!("the credential {key:?} carries a scope; the scheme takes the bare key id {bare:?}"));
    } else if let Some(near) = own.iter().find(|k| k.trim().eq_ignore_ascii_case(key.trim())) {
        d.find("unknown_key_id", Some(key), format!("key id {key:?} is not declared; {near:?} is (key ids are compared exactly: case and spaces count)"));
    } else if other.contains(&key) {
        let cloud = if alibaba { "a Huawei AK" } else { "an Alibaba AccessKeyId" };
        d.find("unknown_key_id", Some(key), format!("{key:?} is {cloud}, not a key of this cloud"));
    } else {
        let declared = own.iter().take(MAX_NAMES).map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
        d.find("unknown_key_id", Some(key), format!("key id {key:?} matches no declared credential (declared: {declared})"));
    }
}

/// The refusals that come after the signature passed.
fn after_signature(d: &mut Diagnosis, refusal: &Refusal, permission: &str) {
    match refusal {
        Refusal::NonceUsed => d.find("nonce_reused", None, "the signature nonce was used already within the last 15 minutes: send a fresh one per request"),
        Refusal::Denied { caller } if !d.has("credential_scope") => d.find("permission_denied", Some(permission), format!("{caller:?} signed correctly but may not call {permission} (the credential's allow / deny lists)")),
        _ => {}
    }
}

impl Gate {
    /// Why `refusal` refused an Alibaba request; `permission` is the one it asked for.
    pub fn diagnose_alibaba(&self, req: &SignedRequest<'_>, refusal: &Refusal, permission: &str, now_real: i64) -> Diagnosis {
        let Some(scheme) = aliyun::detect(req) else {
            let mut d = Diagnosis::new("none");
            d.find("incomplete", None, "the request is unsigned: neither an ACS3-HMAC-SHA256 Authorization header nor a Signature parameter");
            return d.finish(refusal);
        };
        let mut d = match scheme {
            AliyunScheme::RpcV1 => rpc_v1_claimed(req),
            AliyunScheme::Acs3 => acs3_claimed(req),
        };
        let claims = match aliyun::parse_claims(req) {
            Ok(claims) => claims,
            Err(e) => {
                if scheme == AliyunScheme::Acs3 {
                    acs3_structure(&mut d, req);
                }
                if d.findings.is_empty() {
                    d.find("incomplete", None, e.to_string());
                }
                return d.finish(refusal);
            }
        };
        let string_to_sign = aliyun::string_to_sign(req, &claims).ok();
        d.computed.string_to_sign = capped(string_to_sign.as_deref());
        let canonical = (scheme == AliyunScheme::Acs3).then(|| aliyun::acs3_canonical_request(req, &claims).ok()).flatten();
        d.computed.canonical_request = capped(canonical.as_deref());
        if scheme == AliyunScheme::Acs3 {
            d.computed.signed_headers = Some(cap(&claims.signed_headers.to_ascii_lowercase()));
        }
        let Some((_, secret)) = self.alibaba_secret(&claims.access_key_id) else {
            unknown_key(&mut d, self, &claims.access_key_id, true);
            return d.finish(refusal);
        };
        let name = if scheme == AliyunScheme::Acs3 { "x-acs-date" } else { "Timestamp" };
        check_clock(&mut d, claims.timestamp.as_deref().and_then(parse_aliyun_timestamp), now_real, name);
        if scheme == AliyunScheme::Acs3 {
            let declared = req.header("x-acs-content-sha256").unwrap_or("").trim();
            let actual = sha256_hex(req.body);
            if !declared.eq_ignore_ascii_case(&actual) {
                d.find("body_hash_mismatch", Some("x-acs-content-sha256"), format!("x-acs-content-sha256 is {declared:?}, but the {} body bytes received hash to {actual:?}", req.body.len()));
            }
        }
        if matches!(refusal, Refusal::BadSignature(_)) && !d.has("body_hash_mismatch") {
            match (scheme, string_to_sign, canonical) {
                (AliyunScheme::RpcV1, Some(_), _) => {
                    let form = req.form_body().map(String::from_utf8_lossy).unwrap_or_default();
                    let pairs: Vec<RawPair<'_>> = raw_pairs(req.raw_query).chain(raw_pairs(&form)).filter(|p| p.key != "Signature").collect();
                    explain_mismatch(&mut d, &pairs, &claims.access_key_id, |query| {
                        aliyun::rpc_v1_matches(secret, &format!("{}&{}&{}", req.method, pct("/"), pct(query)), &claims.signature)
                    });
                }
                (AliyunScheme::Acs3, _, Some(canonical)) => {
                    let pairs: Vec<RawPair<'_>> = raw_pairs(req.raw_query).collect();
                    explain_mismatch(&mut d, &pairs, &claims.access_key_id, |query| {
                        let sts = format!("{ACS3_ALGORITHM}\n{}", sha256_hex(with_query_line(&canonical, query).as_bytes()));
                        hmac_sha256_hex_matches(secret.as_bytes(), sts.as_bytes(), &claims.signature)
                    });
                }
                _ => {}
            }
        }
        after_signature(&mut d, refusal, permission);
        d.finish(refusal)
    }

    /// Why `refusal` refused a Huawei request to `project_id`; `permission` is the one it asked for.
    pub fn diagnose_huawei(&self, req: &SignedRequest<'_>, refusal: &Refusal, permission: &str, project_id: &str, now_real: i64) -> Diagnosis {
        if let Some(token) = huawei::token(req) {
            let mut d = Diagnosis::new("X-Auth-Token");
            d.claimed.key_id = Some(format!("{}…", token.chars().take(8).collect::<String>()));
            if matches!(refusal, Refusal::BadToken) {
                d.find("unknown_token", Some("X-Auth-Token"), "unknown token: it matches no declared token (a token carries no signature to compare)");
            }
            huawei_scope(&mut d, refusal, project_id);
            after_signature(&mut d, refusal, permission);
            return d.finish(refusal);
        }
        let mut d = Diagnosis::new(huawei::ALGORITHM);
        let fields = req.header("authorization").and_then(|v| AuthFields::parse(v, huawei::ALGORITHM));
        d.claimed = Claimed {
            key_id: capped(fields.as_ref().and_then(|f| f.get("Access"))),
            signature: capped(fields.as_ref().and_then(|f| f.get("Signature"))),
            signed_headers: capped(fields.as_ref().and_then(|f| f.get("SignedHeaders"))),
            timestamp: capped(req.header("x-sdk-date")),
        };
        let claims = match huawei::parse_claims(req) {
            Ok(claims) => claims,
            Err(e) => {
                if req.header("authorization").is_none() {
                    d.find("incomplete", None, "neither an Authorization (AK/SK) nor an X-Auth-Token header");
                } else if req.header("x-sdk-date").is_none_or(|v| v.trim().is_empty()) {
                    d.find("required_header_missing", Some("x-sdk-date"), "the X-Sdk-Date header is missing: SDK-HMAC-SHA256 signs it into the string to sign");
                } else if let Some(signed) = d.claimed.signed_headers.clone() {
                    signed_but_absent(&mut d, req, &signed);
                }
                if d.findings.is_empty() {
                    d.find("incomplete", None, e.to_string());
                }
                return d.finish(refusal);
            }
        };
        let canonical = huawei::canonical(req, &claims).ok();
        d.computed.canonical_request = capped(canonical.as_deref());
        d.computed.string_to_sign = huawei::string_to_sign(req, &claims).ok().as_deref().map(cap);
        d.computed.signed_headers = Some(cap(&claims.signed_headers.to_ascii_lowercase()));
        let found = self.credentials.iter().find_map(|c| match &c.secret {
            Secret::HuaweiAkSk { ak, sk } if *ak == claims.access_key => Some(sk.as_str()),
            _ => None,
        });
        let Some(sk) = found else {
            unknown_key(&mut d, self, &claims.access_key, false);
            return d.finish(refusal);
        };
        check_clock(&mut d, parse_huawei_sdk_date(&claims.sdk_date), now_real, "X-Sdk-Date");
        if let Some(declared) = req.header("x-sdk-content-sha256").map(str::trim) {
            let actual = sha256_hex(req.body);
            if declared != "UNSIGNED-PAYLOAD" && !declared.eq_ignore_ascii_case(&actual) {
                d.find("body_hash_mismatch", Some("x-sdk-content-sha256"), format!("X-Sdk-Content-Sha256 is {declared:?}, but the {} body bytes received hash to {actual:?}", req.body.len()));
            }
        }
        if matches!(refusal, Refusal::BadSignature(_)) && huawei::verify(req, &claims, sk).is_err() {
            if let Some(canonical) = canonical {
                let pairs: Vec<RawPair<'_>> = raw_pairs(req.raw_query).collect();
                explain_mismatch(&mut d, &pairs, &claims.access_key, |query| {
                    let sts = format!("{}\n{}\n{}", huawei::ALGORITHM, claims.sdk_date, sha256_hex(with_query_line(&canonical, query).as_bytes()));
                    hmac_sha256_hex_matches(sk.as_bytes(), sts.as_bytes(), &claims.signature)
                });
            }
        }
        huawei_scope(&mut d, refusal, project_id);
        after_signature(&mut d, refusal, permission);
        d.finish(refusal)
    }

}

/// A Huawei credential bound to another project than the path's: its scope does not match.
fn huawei_scope(d: &mut Diagnosis, refusal: &Refusal, project_id: &str) {
    if let Refusal::Denied { caller } = refusal {
        if caller != project_id {
            d.find("credential_scope", Some(project_id), format!("the credential is bound to project {caller:?}, but the path names project {project_id:?}"));
        }
    }
}

/// RPC v1's claims, read leniently (what is there, even when the rest is missing).
fn rpc_v1_claimed(req: &SignedRequest<'_>) -> Diagnosis {
    let params = aliyun::rpc_params(req);
    let get = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| cap(v));
    let mut d = Diagnosis::new("RPC-HMAC-SHA1");
    d.claimed = Claimed { key_id: get("AccessKeyId"), signature: get("Signature"), signed_headers: None, timestamp: get("Timestamp") };
    d
}

/// ACS3's claims, read leniently.
fn acs3_claimed(req: &SignedRequest<'_>) -> Diagnosis {
    let fields = req.header("authorization").and_then(|v| AuthFields::parse(v, ACS3_ALGORITHM));
    let get = |key: &str| capped(fields.as_ref().and_then(|f| f.get(key)));
    let mut d = Diagnosis::new(ACS3_ALGORITHM);
    d.claimed = Claimed { key_id: get("Credential"), signature: get("Signature"), signed_headers: get("SignedHeaders"), timestamp: capped(req.header("x-acs-date")) };
    d
}

/// Names the header behind an ACS3 request's structural refusal.
fn acs3_structure(d: &mut Diagnosis, req: &SignedRequest<'_>) {
    for header in ["x-acs-date", "x-acs-content-sha256"] {
        if req.header(header).is_none() {
            d.find("required_header_missing", Some(header), format!("the {header} header is missing: ACS3-HMAC-SHA256 requires it, signed"));
        }
    }
    let Some(signed) = d.claimed.signed_headers.clone() else { return };
    let listed = |name: &str| signed.split(';').any(|n| n.eq_ignore_ascii_case(name));
    let required = ACS3_ALWAYS_SIGNED.iter().chain(ACS3_SIGNED_IF_PRESENT.iter().filter(|h| req.header(h).is_some()));
    for header in required {
        if req.header(header).is_some() && !listed(header) {
            d.find("unsigned_required_header", Some(header), format!("{header} is sent but not listed in SignedHeaders ({signed:?}); ACS3-HMAC-SHA256 requires it signed"));
        }
    }
    signed_but_absent(d, req, &signed);
}

/// SignedHeaders names that are empty or that the request does not carry.
fn signed_but_absent(d: &mut Diagnosis, req: &SignedRequest<'_>, signed: &str) {
    for name in signed.split(';') {
        if name.is_empty() {
            d.find("incomplete", None, format!("SignedHeaders {signed:?} contains an empty name"));
        } else if req.header(name).is_none() {
            d.find("signed_header_absent", Some(name), format!("{name} is listed in SignedHeaders but the request does not carry it (a proxy may have dropped it)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_capped_on_a_character_boundary() {
        let long = "é".repeat(TEXT_CAP);
        let cut = cap(&long);
        assert!(cut.len() <= TEXT_CAP + "…".len() && cut.ends_with('…'));
        assert_eq!(cap("short"), "short");
    }

    #[test]
    fn a_query_variant_writes_the_picked_pairs_as_sent_in_canonical_order() {
        let pairs: Vec<RawPair<'_>> = raw_pairs("b=x*y&a=1+2&flag").collect();
        assert_eq!(query_variant(&pairs, |_| false), "a=1%202&b=x%2Ay&flag=");
        assert_eq!(query_variant(&pairs, |i| i == 0), "a=1%202&b=x*y&flag=");
        assert_eq!(with_query_line("GET\n/\nold\nh:1\n\nh\nhash", "new"), "GET\n/\nnew\nh:1\n\nh\nhash");
    }

    #[test]
    fn diagnosing_never_panics_on_nasty_input() {
        use super::super::gate::Credential;
        let credential = |secret| Credential { secret, project_id: Some("p".into()), allow: None, deny: Vec::new() };
        let gate = Gate::new(vec![
            credential(Secret::Alibaba { key_id: "a".into(), secret: "s".into() }),
            credential(Secret::HuaweiAkSk { ak: "a".into(), sk: "s".into() }),
            credential(Secret::HuaweiToken { token: "t".into() }),
        ]);
        let refusals = [Refusal::Incomplete(String::new()), Refusal::UnknownKey("a".into()), Refusal::BadSignature(None), Refusal::Expired, Refusal::NonceUsed, Refusal::BadToken, Refusal::Denied { caller: "p".into() }];
        for s in crate::auth::testutil::nasty_strings() {
            let headers = [
                ("Authorization".to_owned(), format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;x-acs-date;{s},Signature={s}")),
                ("host".to_owned(), s.clone()),
                ("x-acs-date".to_owned(), s.clone()),
                ("x-acs-content-sha256".to_owned(), s.clone()),
                ("x-sdk-date".to_owned(), s.clone()),
            ];
            let query = format!("Signature={s}&AccessKeyId=a&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&{s}=%zz+*");
            let huawei = [("Authorization".to_owned(), format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host;{s}, Signature={s}")), ("host".to_owned(), s.clone()), ("X-Sdk-Date".to_owned(), s.clone())];
            let token = [("X-Auth-Token".to_owned(), s.clone())];
            for headers in [&headers[..], &headers[1..], &huawei[..], &token[..]] {
                let req = SignedRequest { method: &s, path: &s, raw_query: &query, headers, body: s.as_bytes(), content_type: None };
                for refusal in &refusals {
                    for d in [gate.diagnose_alibaba(&req, refusal, "ecs:X", 0), gate.diagnose_huawei(&req, refusal, "hss:X", &s, 0)] {
                        assert!(!d.findings.is_empty() && d.cause == d.findings[0].cause);
                    }
                }
            }
        }
    }

    #[test]
    fn findings_are_bounded() {
        let mut d = Diagnosis::new("x");
        for _ in 0..100 {
            d.find("incomplete", Some(&"n".repeat(10_000)), "m".repeat(10_000));
        }
        assert_eq!(d.findings.len(), MAX_FINDINGS);
        assert!(d.text_len() <= MAX_FINDINGS * 2 * (TEXT_CAP + 3));
    }
}
