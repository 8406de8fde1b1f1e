//! Request-signature verification for the schemes the official SDKs use: Alibaba Cloud RPC v1
//! (HMAC-SHA1) and ACS3-HMAC-SHA256, and Huawei Cloud SDK-HMAC-SHA256.
//!
//! This module owns one thing: recomputing, byte for byte, what an SDK signed and comparing it with the
//! signature it sent. It works over the raw pieces of a request ([`SignedRequest`]: method, encoded
//! path and query, headers as received, body bytes) and never touches HTTP library types, so any
//! server stack can call it and the tests can replay the captured SDK vectors as they are. Choosing the
//! secret for an access key, the clock-skew and nonce-replay policies, and rendering errors into each
//! cloud's envelope belong to the callers; [`parse_aliyun_timestamp`] and [`parse_huawei_sdk_date`]
//! turn the signed clock claims into instants for them.
//!
//! Every input here comes from the network: nothing panics, and nothing allocates more than a small
//! multiple of the input's size.

pub mod aliyun;
pub mod diagnosis;
pub mod huawei;
pub mod gate;
mod skew;

pub use skew::{parse_aliyun_timestamp, parse_huawei_sdk_date};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

// Decoding is the edges': a signature covers what they read, decoded as they decode it.
use crate::cloud::pairs::{form_body, form_decode, pct, unescape};

/// The parts of an HTTP request that the signature schemes cover, borrowed from whatever server
/// stack received it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The request method, as received (`GET`, `POST`).
    pub method: &'a str,
    /// The path without the query, still percent-encoded as it was on the wire.
    pub path: &'a str,
    /// Everything after the `?`, still encoded; `""` when there is no query.
    pub raw_query: &'a str,
    /// Headers with their names as received (any case). For a repeated header only the first
    /// occurrence counts; a stack that folds repeats into one comma-joined value may pass that.
    pub headers: &'a [(String, String)],
    /// The body bytes exactly as received.
    pub body: &'a [u8],
    /// The request's content type when the caller has already extracted it; when `None`, the
    /// `Content-Type` header is used.
    pub content_type: Option<&'a str>,
}

impl<'a> SignedRequest<'a> {
    /// The first header called `name`, compared case-insensitively (HTTP header names are).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request's content type: the one the caller extracted, else the first `Content-Type`.
    fn content_type(&self) -> Option<&'a str> {
        self.content_type.or_else(|| self.header("content-type"))
    }

    /// The body when it is a form whose parameters are signed along with the query (Alibaba RPC
    /// v1): decided by [`form_body`], the rule the operations read their parameters by.
    pub(crate) fn form_body(&self) -> Option<&'a [u8]> {
        form_body(self.content_type(), self.body)
    }
}

/// Lower-case hex SHA-256, the digest format of ACS3 and SDK-HMAC-SHA256 alike.
fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Whether `claimed_hex` is the HMAC-SHA256 of `message` under `key`. The comparison is constant-time
/// (`verify_slice`), so a caller cannot learn the expected signature byte by byte; a claim that is not
/// hex simply does not match.
fn hmac_sha256_hex_matches(key: &[u8], message: &[u8], claimed_hex: &str) -> bool {
    let Ok(claimed) = hex::decode(claimed_hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false; // HMAC accepts keys of any length; kept total rather than unwrapped.
    };
    mac.update(message);
    mac.verify_slice(&claimed).is_ok()
}

/// Canonical query string shared by all three schemes: decoded pairs sorted by key then value (byte
/// order, as the SDKs' sorts of Python strings give), each written `pct(k)=pct(v)`, joined by `&`.
/// Sorting by value too only matters for repeated keys, which only the Huawei signer produces.
fn canonical_query(mut pairs: Vec<(String, String)>) -> String {
    pairs.sort_unstable();
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&pct(key));
        out.push('=');
        out.push_str(&pct(value));
    }
    out
}

/// Canonical URI: each `/`-separated segment of the encoded path becomes `pct(unescape(seg))`, so
/// `~`, `%7E` and `%7e` all sign the same. An empty path is `/`.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let segments: Vec<String> = path
        .split('/')
        .map(|seg| pct(&unescape(seg, false)))
        .collect();
    segments.join("/")
}

/// The six-line canonical request that ACS3 and SDK-HMAC-SHA256 share:
/// method, URI, query, one `name:trim(value)` line per signed header, an empty line, the signed
/// header list exactly as the client gave it, and the payload hash.
///
/// The error is a reason for the caller's "incomplete"/"malformed" variant: the list has an empty
/// name, or names a header the request does not carry (the client cannot have signed it as sent).
fn canonical_request(
    req: &SignedRequest<'_>,
    uri: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> Result<String, &'static str> {
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(uri);
    out.push('\n');
    out.push_str(&canonical_query(form_decode(req.raw_query)));
    out.push('\n');
    for name in signed_headers.split(';') {
        if name.is_empty() {
            return Err("SignedHeaders contains an empty header name");
        }
        let value = req
            .header(name)
            .ok_or("SignedHeaders names a header the request does not carry")?;
        out.push_str(&name.to_ascii_lowercase());
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// The `key=value` fields of an `Authorization: <ALGORITHM> k1=v1,k2=v2,…` header.
struct AuthFields<'a> {
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> AuthFields<'a> {
    /// Parses `value` when it uses `algorithm`. Fields are separated by commas with optional spaces
    /// (Alibaba sends `,`, Huawei `, `); `None` when the algorithm differs or a field has no `=`.
    fn parse(value: &'a str, algorithm: &str) -> Option<Self> {
        let rest = value.trim().strip_prefix(algorithm)?;
        // The algorithm must be a whole token: `ACS3-HMAC-SHA256X …` is some other scheme.
        if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            return None;
        }
        let mut fields = Vec::new();
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, val) = part.split_once('=')?;
            fields.push((key.trim(), val.trim()));
        }
        Some(Self { fields })
    }

    /// The first non-empty value of field `key` (field names compared case-insensitively).
    fn get(&self, key: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! The SDK vectors (`fixtures/sdk-vectors.json`, a copy of the shared file) as requests, and
    //! the tamperings every scheme must detect.

    use super::SignedRequest;
    use base64::Engine as _;

    #[derive(Clone)]
    pub(crate) struct Vector {
        pub name: String,
        pub scheme: String,
        pub access_key_id: String,
        pub secret: String,
        pub method: String,
        pub path: String,
        pub raw_query: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
        pub canonical_request: Option<String>,
        pub string_to_sign: String,
    }

    impl Vector {
        pub fn request(&self) -> SignedRequest<'_> {
            SignedRequest {
                method: &self.method,
                path: &self.path,
                raw_query: &self.raw_query,
                headers: &self.headers,
                body: &self.body,
                content_type: None,
            }
        }

        pub fn set_header(&mut self, name: &str, value: &str) {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            self.headers.push((name.to_owned(), value.to_owned()));
        }

        pub fn remove_header(&mut self, name: &str) {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }

        /// The names listed in `SignedHeaders` of the vector's Authorization header.
        pub fn signed_header_names(&self) -> Vec<String> {
            let auth = self.request().header("authorization").unwrap_or_default();
            let start = auth
                .find("SignedHeaders=")
                .expect("vector has SignedHeaders")
                + 14;
            auth[start..]
                .split(',')
                .next()
                .unwrap_or_default()
                .split(';')
                .map(str::to_owned)
                .collect()
        }
    }

    const VECTORS_JSON: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sdk-vectors.json"
    ));

    pub(crate) fn vectors(scheme_prefix: &str) -> Vec<Vector> {
        let all: serde_json::Value = serde_json::from_str(VECTORS_JSON).expect("vectors parse");
        let list = all.as_array().expect("vectors are an array");
        let s = |v: &serde_json::Value, k: &str| v[k].as_str().expect(k).to_owned();
        let picked: Vec<Vector> = list
            .iter()
            .filter(|v| s(v, "scheme").starts_with(scheme_prefix))
            .map(|v| {
                let r = &v["request"];
                let target = s(r, "target");
                let (path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
                assert_eq!(path, s(r, "path"), "target and path disagree");
                let headers = r["headers"]
                    .as_array()
                    .expect("headers")
                    .iter()
                    .map(|h| {
                        (
                            h[0].as_str().expect("name").to_owned(),
                            h[1].as_str().expect("value").to_owned(),
                        )
                    })
                    .collect();
                let body = base64::engine::general_purpose::STANDARD
                    .decode(s(r, "body_b64"))
                    .expect("body_b64");
                assert_eq!(body, s(r, "body").as_bytes(), "body and body_b64 disagree");
                Vector {
                    name: s(v, "name"),
                    scheme: s(v, "scheme"),
                    access_key_id: s(v, "access_key_id"),
                    secret: s(v, "secret"),
                    method: s(r, "method"),
                    path: path.to_owned(),
                    raw_query: raw_query.to_owned(),
                    headers,
                    body,
                    canonical_request: v["canonical_request"].as_str().map(str::to_owned),
                    string_to_sign: s(v, "string_to_sign"),
                }
            })
            .collect();
        assert!(!picked.is_empty(), "no vector for {scheme_prefix}");
        picked
    }

    /// Appends `x` to the value of the first query parameter other than `Signature`.
    pub(crate) fn tamper_query(raw: &str) -> String {
        let mut done = false;
        let parts: Vec<String> = raw
            .split('&')
            .map(|p| {
                if !done && !p.starts_with("Signature=") {
                    done = true;
                    format!("{p}x")
                } else {
                    p.to_owned()
                }
            })
            .collect();
        assert!(done, "no query parameter to tamper with");
        parts.join("&")
    }

    pub(crate) fn other_method(method: &str) -> String {
        if method == "GET" { "POST" } else { "GET" }.to_owned()
    }

    /// Strings meant to trip slicing, decoding and parsing code.
    pub(crate) fn nasty_strings() -> Vec<String> {
        let mut out: Vec<String> = [
            "",
            " ",
            "%",
            "%%",
            "%4",
            "%zz",
            "%E9",
            "%C3%A9",
            "%FF%FE",
            "+",
            "=",
            "&",
            "&&=&",
            "==",
            "a=b=c",
            "é",
            "€€€",
            "\u{0}",
            "\t\n",
            ";",
            ";;",
            ",",
            ",,=,",
            "Z",
            "T",
            "2025-01-02T03:04:05Z",
            "2025-01-02T03:04:05.Z",
            "2025-01-02T03:04:05.1234567890Z",
            "2025-01-02T03:04:0é",
            "20250102T030405Z",
            "2025010éT030405Z",
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 ",
            "ACS3-HMAC-SHA256 Credential",
            "ACS3-HMAC-SHA256 ===,,,",
            "ACS3-HMAC-SHA256 Credential=é,SignedHeaders=é;;,Signature=zz",
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=€",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=;, Signature=00",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // A deterministic pseudo-random mix of the characters that matter to these parsers.
        let alphabet: Vec<char> = "aZ09-_.~%+=&;,:/ TéZ€\u{0}2F".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..300 {
            let mut s = String::new();
            for _ in 0..(len % 40) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            out.push(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_keeps_only_unreserved() {
        assert_eq!(pct("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(pct("a b*c/d"), "a%20b%2Ac%2Fd");
        assert_eq!(pct("+=&%"), "%2B%3D%26%25");
        assert_eq!(pct("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(pct(""), "");
    }

    #[test]
    fn form_decode_uses_form_semantics() {
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(form_decode("a=1+2&b=%2A"), vec![p("a", "1 2"), p("b", "*")]);
        assert_eq!(form_decode("a=%2B"), vec![p("a", "+")]);
        assert_eq!(
            form_decode("k=%zz&l=100%"),
            vec![p("k", "%zz"), p("l", "100%")]
        );
        assert_eq!(
            form_decode("lone=%&x=%4"),
            vec![p("lone", "%"), p("x", "%4")]
        );
        assert_eq!(form_decode("flag&e="), vec![p("flag", ""), p("e", "")]);
        assert_eq!(form_decode("a=b=c"), vec![p("a", "b=c")]);
        assert_eq!(form_decode("&&a=1&&"), vec![p("a", "1")]);
        assert_eq!(form_decode(""), vec![]);
        assert_eq!(form_decode("%41%62=%C3%A9"), vec![p("Ab", "é")]);
        assert_eq!(form_decode("bad=%FF"), vec![p("bad", "\u{FFFD}")]);
    }

    #[test]
    fn canonical_query_sorts_by_key_then_value() {
        let q = canonical_query(form_decode("b=2&a=z&a=y&A=1&c"));
        assert_eq!(q, "A=1&a=y&a=z&b=2&c=");
        assert_eq!(canonical_query(Vec::new()), "");
    }

    #[test]
    fn canonical_uri_normalises_each_segment() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a%7eb/c+d/%zz/é"), "/a~b/c%2Bd/%25zz/%C3%A9");
        assert_eq!(canonical_uri("/a%2Fb"), "/a%2Fb");
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_first_wins() {
        let headers = vec![
            ("X-Sdk-Date".to_owned(), "1".to_owned()),
            ("x-sdk-date".to_owned(), "2".to_owned()),
        ];
        let req = SignedRequest {
            method: "GET",
            path: "/",
            raw_query: "",
            headers: &headers,
            body: b"",
            content_type: None,
        };
        assert_eq!(req.header("X-SDK-DATE"), Some("1"));
        assert_eq!(req.header("host"), None);
    }

    #[test]
    fn form_body_detection_ignores_parameters_and_case() {
        let headers = vec![(
            "Content-Type".to_owned(),
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8".to_owned(),
        )];
        let mut req = SignedRequest {
            method: "POST",
            path: "/",
            raw_query: "",
            headers: &headers,
            body: b"",
            content_type: None,
        };
        assert!(req.form_body().is_some());
        req.content_type = Some("application/json");
        assert!(req.form_body().is_none());
    }

    #[test]
    fn only_the_exact_form_media_type_is_a_form() {
        for form in [
            "application/x-www-form-urlencoded",
            " APPLICATION/x-www-FORM-urlencoded ",
            "application/x-www-form-urlencoded;charset=UTF-8",
            "application/x-www-form-urlencoded ; charset=utf-8; x=y",
        ] {
            assert_eq!(form_body(Some(form), b"a=1"), Some(&b"a=1"[..]), "{form:?}");
        }
        for other in [
            "application/x-www-form-urlencoded-x",
            "application/x-www-form-urlencodedx;charset=utf-8",
            "application/x-www-form",
            "xapplication/x-www-form-urlencoded",
            "application/x-www-form-urlencoded,text/plain",
            "multipart/form-data",
            "",
            ";application/x-www-form-urlencoded",
        ] {
            assert_eq!(form_body(Some(other), b"a=1"), None, "{other:?}");
        }
        assert_eq!(form_body(None, b"a=1"), None);
    }

    #[test]
    fn auth_fields_tolerate_spaces_and_reject_other_algorithms() {
        let f = AuthFields::parse("ALG a=1 ,  b = 2,c=", "ALG").expect("parses");
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.get("B"), Some("2"));
        assert_eq!(f.get("c"), None);
        assert!(AuthFields::parse("ALGX a=1", "ALG").is_none());
        assert!(AuthFields::parse("ALG", "ALG").is_none());
        assert!(AuthFields::parse("ALG a", "ALG").is_none());
    }

    #[test]
    fn helpers_never_panic_on_nasty_input() {
        for s in testutil::nasty_strings() {
            let _ = pct(&s);
            let _ = form_decode(&s);
            let _ = canonical_uri(&s);
            let _ = canonical_query(form_decode(&s));
            let _ = AuthFields::parse(&s, "ACS3-HMAC-SHA256");
            let _ = hmac_sha256_hex_matches(b"k", s.as_bytes(), &s);
        }
    }
}
