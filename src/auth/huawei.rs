//! Huawei Cloud request signatures: AK/SK `SDK-HMAC-SHA256`, as huaweicloudsdkcore's `Signer`
//! produces it (sdk-notes §4.3), plus the `X-Auth-Token` header of token mode, whose validation is the
//! caller's.
//!
//! The signature covers the method, the path (canonicalised with a trailing `/`), the query, the
//! headers listed in `SignedHeaders`, the body's SHA-256 (or the literal `X-Sdk-Content-Sha256`) and
//! the `X-Sdk-Date`. Flow for a caller: [`token`] for token mode, else [`parse_claims`], look the SK up
//! by [`HuaweiClaims::access_key`], optionally check `sdk_date` skew, then [`verify`].

use std::fmt;

use super::{
    canonical_request, canonical_uri, hmac_sha256_hex_matches, sha256_hex, AuthFields,
    SignedRequest,
};

pub(super) const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// What an AK/SK-signed request claims before its signature is checked. Build it with
/// [`parse_claims`] and verify it against the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiClaims {
    /// The `Access` field of the Authorization header; selects the SK.
    pub access_key: String,
    /// The `X-Sdk-Date` header as sent (`YYYYMMDDThhmmssZ`), part of the string to sign; parse it
    /// with [`parse_huawei_sdk_date`](super::parse_huawei_sdk_date) for a skew check.
    pub sdk_date: String,
    /// The `SignedHeaders` list exactly as sent.
    pub(super) signed_headers: String,
    /// The hex signature as sent.
    pub(super) signature: String,
}

/// Why a Huawei request failed authentication. All of them are 401 `APIGW.0301` on the real gateway;
/// they are told apart for the caller's message and journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HuaweiAuthError {
    /// No `Authorization` header. A token-mode request has none either: check [`token`] first.
    Missing,
    /// The Authorization header is not `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`,
    /// `X-Sdk-Date` is absent, or a signed header is empty or absent (the reason says which).
    Malformed { reason: &'static str },
    /// The signature is not the one computed here (wrong SK, or anything signed was altered).
    SignatureMismatch,
}

impl fmt::Display for HuaweiAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no Authorization header"),
            Self::Malformed { reason } => write!(f, "malformed Huawei AK/SK signature: {reason}"),
            Self::SignatureMismatch => f.write_str("verify aksk signature fail"),
        }
    }
}

impl std::error::Error for HuaweiAuthError {}

const fn malformed(reason: &'static str) -> HuaweiAuthError {
    HuaweiAuthError::Malformed { reason }
}

/// The `X-Auth-Token` of a token-mode request (trimmed), or `None` when absent or blank.
pub fn token<'a>(req: &SignedRequest<'a>) -> Option<&'a str> {
    req.header("x-auth-token")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Reads the AK/SK claims of a request and checks that every part of the signature is present.
///
/// # Errors
/// [`HuaweiAuthError::Missing`] without an Authorization header (token mode included);
/// [`HuaweiAuthError::Malformed`] for another algorithm, a missing `Access`, `SignedHeaders` or
/// `Signature`, no `X-Sdk-Date`, or a signed header that is empty or absent.
pub fn parse_claims(req: &SignedRequest<'_>) -> Result<HuaweiClaims, HuaweiAuthError> {
    let authorization = req
        .header("authorization")
        .ok_or(HuaweiAuthError::Missing)?;
    let fields = AuthFields::parse(authorization, ALGORITHM).ok_or(malformed(
        "Authorization is not SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…",
    ))?;
    let access_key = fields
        .get("Access")
        .ok_or(malformed("Authorization lacks Access"))?;
    let signed_headers = fields
        .get("SignedHeaders")
        .ok_or(malformed("Authorization lacks SignedHeaders"))?;
    let signature = fields
        .get("Signature")
        .ok_or(malformed("Authorization lacks Signature"))?;
    let sdk_date = req
        .header("x-sdk-date")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or(malformed("missing X-Sdk-Date header"))?;
    if signed_headers
        .split(';')
        .any(|n| n.is_empty() || req.header(n).is_none())
    {
        return Err(malformed("SignedHeaders names an empty or absent header"));
    }
    Ok(HuaweiClaims {
        access_key: access_key.to_owned(),
        sdk_date: sdk_date.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}

/// The string to sign that this server computes for `req`:
/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n` + hex SHA-256 of the canonical request.
///
/// # Errors
/// [`HuaweiAuthError::Malformed`] when a header that `claims` lists as signed is absent from `req`.
pub fn string_to_sign(
    req: &SignedRequest<'_>,
    claims: &HuaweiClaims,
) -> Result<String, HuaweiAuthError> {
    let canonical = canonical(req, claims)?;
    Ok(format!(
        "{ALGORITHM}\n{}\n{}",
        claims.sdk_date,
        sha256_hex(canonical.as_bytes())
    ))
}

pub(super) fn canonical(req: &SignedRequest<'_>, claims: &HuaweiClaims) -> Result<String, HuaweiAuthError> {
    // The SDK ends every canonical path with `/` (adding one only when missing), so `/v5/p/tasks`
    // signs as `/v5/p/tasks/`.
    let mut uri = canonical_uri(req.path);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    // The SDK signs `UNSIGNED-PAYLOAD` (via this header) for bodies it does not hash; whatever the
    // header says is what was signed.
    let payload_hash = match req.header("x-sdk-content-sha256") {
        Some(literal) => literal.to_owned(),
        None => sha256_hex(req.body),
    };
    canonical_request(req, &uri, &claims.signed_headers, &payload_hash).map_err(malformed)
}

/// Checks the signature of `req` against `secret`, the SK of `claims.access_key`. `claims` must come
/// from [`parse_claims`] on the same request.
///
/// # Errors
/// [`HuaweiAuthError::SignatureMismatch`] for a wrong signature or SK, or any change to what was
/// signed; [`HuaweiAuthError::Malformed`] when `claims` do not fit `req`.
pub fn verify(
    req: &SignedRequest<'_>,
    claims: &HuaweiClaims,
    secret: &str,
) -> Result<(), HuaweiAuthError> {
    let string_to_sign = string_to_sign(req, claims)?;
    if hmac_sha256_hex_matches(
        secret.as_bytes(),
        string_to_sign.as_bytes(),
        &claims.signature,
    ) {
        Ok(())
    } else {
        Err(HuaweiAuthError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testutil::{nasty_strings, other_method, tamper_query, vectors, Vector};
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn huawei_vectors() -> Vec<Vector> {
        vectors("SDK-HMAC-SHA256")
    }

    fn check(v: &Vector, secret: &str) -> Result<(), HuaweiAuthError> {
        let req = v.request();
        let claims = parse_claims(&req)?;
        verify(&req, &claims, secret)
    }

    fn assert_mismatch(v: &Vector, what: &str) {
        assert_eq!(
            check(v, &v.secret),
            Err(HuaweiAuthError::SignatureMismatch),
            "{}: {what}",
            v.name
        );
    }

    fn assert_malformed(v: &Vector, what: &str) {
        assert!(
            matches!(
                parse_claims(&v.request()),
                Err(HuaweiAuthError::Malformed { .. })
            ),
            "{}: {what}",
            v.name
        );
    }

    /// Signs `v` afresh with its secret, as the SDK would have for the request as it now stands.
    fn resign(v: &mut Vector) {
        let claims = parse_claims(&v.request()).expect("claims");
        let sts = string_to_sign(&v.request(), &claims).expect("sts");
        let mut mac = Hmac::<Sha256>::new_from_slice(v.secret.as_bytes()).expect("key");
        mac.update(sts.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        let auth = v
            .request()
            .header("authorization")
            .expect("auth")
            .to_owned();
        let (head, _) = auth.split_once("Signature=").expect("signature");
        v.set_header("Authorization", &format!("{head}Signature={signature}"));
    }

    #[test]
    fn every_vector_verifies_and_matches_the_sdk_string_to_sign() {
        for v in huawei_vectors() {
            let req = v.request();
            let claims = parse_claims(&req).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(claims.access_key, v.access_key_id, "{}", v.name);
            assert_eq!(claims.sdk_date, "20250102T030405Z");
            assert_eq!(
                canonical(&req, &claims).ok(),
                v.canonical_request,
                "{}",
                v.name
            );
            assert_eq!(
                string_to_sign(&req, &claims).as_deref(),
                Ok(v.string_to_sign.as_str())
            );
            assert_eq!(verify(&req, &claims, &v.secret), Ok(()), "{}", v.name);
            assert_eq!(token(&req), None);
        }
    }

    #[test]
    fn wrong_secret_fails() {
        for v in huawei_vectors() {
            assert_eq!(
                check(&v, "HwTestSecretKeyExample0123456789abcdefgi"),
                Err(HuaweiAuthError::SignatureMismatch),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn tampering_fails() {
        for v in huawei_vectors() {
            let mut t = v.clone();
            t.raw_query = tamper_query(&t.raw_query);
            assert_mismatch(&t, "query value");

            let mut t = v.clone();
            t.method = other_method(&t.method);
            assert_mismatch(&t, "method");

            let mut t = v.clone();
            match t.body.first_mut() {
                Some(byte) => *byte ^= 0x01,
                None => t.body.push(b'{'),
            }
            assert_mismatch(&t, "body byte");

            let mut t = v.clone();
            t.path.push('x');
            assert_mismatch(&t, "path");

            for name in v.signed_header_names() {
                let mut t = v.clone();
                let value = t.request().header(&name).expect("signed header").to_owned();
                t.set_header(&name, &format!("{value}x"));
                assert_mismatch(&t, &name);
            }
        }
    }

    #[test]
    fn unsigned_headers_and_path_spelling_do_not_matter() {
        for v in huawei_vectors() {
            let mut t = v.clone();
            t.set_header("Accept-Encoding", "br");
            assert_eq!(check(&t, &t.secret), Ok(()), "unsigned header");
            // The canonical path already ends with `/`: a request that has one signs the same.
            let mut t = v.clone();
            t.path.push('/');
            assert_eq!(check(&t, &t.secret), Ok(()), "trailing slash");
            // Each segment is unescaped before it is re-encoded.
            let mut t = v.clone();
            t.path = t.path.replace("v5", "%765");
            assert_eq!(check(&t, &t.secret), Ok(()), "escaped segment");
        }
    }

    #[test]
    fn content_sha256_header_replaces_the_body_hash() {
        for v in huawei_vectors() {
            let mut t = v.clone();
            t.set_header("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
            assert_mismatch(&t, "the SDK signed the body hash, not UNSIGNED-PAYLOAD");
            resign(&mut t);
            let claims = parse_claims(&t.request()).expect("claims");
            let canonical = canonical(&t.request(), &claims).expect("canonical");
            assert!(canonical.ends_with("\nUNSIGNED-PAYLOAD"), "{canonical}");
            assert_eq!(check(&t, &t.secret), Ok(()));
            t.body = b"anything at all".to_vec();
            assert_eq!(
                check(&t, &t.secret),
                Ok(()),
                "an unsigned payload is not covered"
            );
        }
    }

    #[test]
    fn missing_and_malformed_parts() {
        for v in huawei_vectors() {
            let mut t = v.clone();
            t.remove_header("Authorization");
            assert_eq!(parse_claims(&t.request()), Err(HuaweiAuthError::Missing));
            t.set_header("X-Auth-Token", "  MIIxyz  ");
            assert_eq!(token(&t.request()), Some("MIIxyz"));
            assert_eq!(parse_claims(&t.request()), Err(HuaweiAuthError::Missing));
            t.set_header("X-Auth-Token", " ");
            assert_eq!(token(&t.request()), None);

            let auth = v
                .request()
                .header("authorization")
                .expect("auth")
                .to_owned();
            let without = |field: &str| {
                auth.split(", ")
                    .filter(|p| !p.trim_start_matches(ALGORITHM).trim().starts_with(field))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let cases = [
                "Bearer abc".to_owned(),
                ALGORITHM.to_owned(),
                format!("{ALGORITHM} garbage"),
                auth.replace(ALGORITHM, "SDK-HMAC-SHA1"),
                auth.replace(&format!("Access={}", v.access_key_id), "Access="),
                format!("{ALGORITHM} {}", without("Access")),
                without("SignedHeaders"),
                without("Signature"),
                auth.replace("SignedHeaders=", "SignedHeaders=;"),
                auth.replace("SignedHeaders=", "SignedHeaders=x-absent;"),
            ];
            for case in cases {
                let mut t = v.clone();
                t.set_header("Authorization", &case);
                assert_malformed(&t, &case);
            }

            let mut t = v.clone();
            t.remove_header("X-Sdk-Date");
            assert_malformed(&t, "no X-Sdk-Date");

            let mut t = v.clone();
            t.remove_header("X-Project-Id");
            assert_malformed(&t, "a signed header is absent");
        }
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            HuaweiAuthError::SignatureMismatch.to_string(),
            "verify aksk signature fail"
        );
        assert!(malformed("missing X-Sdk-Date header")
            .to_string()
            .contains("X-Sdk-Date"));
        assert_eq!(
            HuaweiAuthError::Missing.to_string(),
            "no Authorization header"
        );
    }

    #[test]
    fn never_panics_on_nasty_input() {
        for s in nasty_strings() {
            let headers = vec![
                (
                    "Authorization".to_owned(),
                    "SDK-HMAC-SHA256 Access=a, SignedHeaders=host;x-sdk-date, Signature=00"
                        .to_owned(),
                ),
                ("Host".to_owned(), s.clone()),
                ("X-Sdk-Date".to_owned(), format!("{s}d")),
                ("X-Sdk-Content-Sha256".to_owned(), s.clone()),
                ("X-Auth-Token".to_owned(), s.clone()),
            ];
            let req = SignedRequest {
                method: &s,
                path: &s,
                raw_query: &s,
                headers: &headers,
                body: s.as_bytes(),
                content_type: None,
            };
            let _ = token(&req);
            let claims = parse_claims(&req).expect("claims");
            assert_eq!(
                verify(&req, &claims, &s),
                Err(HuaweiAuthError::SignatureMismatch)
            );

            let headers = vec![("Authorization".to_owned(), s.clone())];
            let req = SignedRequest {
                headers: &headers,
                ..req
            };
            if let Ok(claims) = parse_claims(&req) {
                let _ = verify(&req, &claims, &s);
            }
        }
    }
}
