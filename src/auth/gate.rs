//! Who may call what: the credentials a scenario declares, the checks a request passes before an
//! operation runs (signature, clock skew, nonce replay, permission), and the failures the edges
//! render in their cloud's own words.

use std::collections::HashMap;
use std::sync::Mutex;

use super::aliyun::{self, AliyunAuthError};
use super::huawei::{self, HuaweiAuthError};
use super::{parse_aliyun_timestamp, parse_huawei_sdk_date, SignedRequest};

// The credentials are the scenario's plain data; what they permit is the gate's to say.
pub use crate::scenario::credentials::{Credential, Secret};

/// How far a signed timestamp may stray from real time, and how long a nonce stays used.
pub const SKEW_MS: i64 = 15 * 60 * 1000;
/// Nonces remembered at most; the oldest are dropped first when a flood exceeds it.
const MAX_NONCES: usize = 1_000_000;

/// `*`, `product:*` or `product:Operation`, the product case-blind.
fn grants(pattern: &str, permission: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (Some((p_product, p_op)), Some((product, op))) = (pattern.split_once(':'), permission.split_once(':')) else {
        return false;
    };
    p_product.eq_ignore_ascii_case(product) && (p_op == "*" || p_op == op)
}

impl Credential {
    pub fn permits(&self, permission: &str) -> bool {
        !self.deny.iter().any(|d| grants(d, permission)) && self.allow.as_ref().is_none_or(|allow| allow.iter().any(|a| grants(a, permission)))
    }
}

/// Why a request was refused; each edge turns it into its cloud's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Signature parts missing or malformed (Alibaba IncompleteSignature; Huawei no credentials).
    Incomplete(String),
    UnknownKey(String),
    /// The server's string to sign, for Alibaba's message (Huawei shows none).
    BadSignature(Option<String>),
    Expired,
    NonceUsed,
    BadToken,
    /// Signed correctly, but the credential may not call this operation (or this project).
    /// `caller` is the tenant the credential proved, as the gate's `Ok` gives it.
    Denied { caller: String },
}

#[derive(Debug, Default)]
pub struct Gate {
    pub(super) credentials: Vec<Credential>,
    nonces: Mutex<HashMap<String, i64>>,
}

impl Gate {
    pub fn new(credentials: Vec<Credential>) -> Gate {
        Gate { credentials, nonces: Mutex::new(HashMap::new()) }
    }

    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    pub(super) fn alibaba_secret(&self, key_id: &str) -> Option<(&Credential, &str)> {
        self.credentials.iter().find_map(|c| match &c.secret {
            Secret::Alibaba { key_id: k, secret } if k == key_id => Some((c, secret.as_str())),
            _ => None,
        })
    }

    /// Checks an Alibaba RPC request; on success, the caller's AccessKeyId: the one whose secret
    /// the signature was checked with (the ACS3 `Credential`, or RPC v1's signed `AccessKeyId`),
    /// whatever other `AccessKeyId` the request carries.
    pub fn alibaba(&self, req: &SignedRequest, permission: &str, now_real: i64) -> Result<String, Refusal> {
        let claims = aliyun::parse_claims(req).map_err(|e| Refusal::Incomplete(e.to_string()))?;
        let (credential, secret) = self.alibaba_secret(&claims.access_key_id).ok_or_else(|| Refusal::UnknownKey(claims.access_key_id.clone()))?;
        aliyun::verify(req, &claims, secret).map_err(|e| match e {
            AliyunAuthError::SignatureMismatch { string_to_sign } => Refusal::BadSignature(Some(string_to_sign)),
            other => Refusal::Incomplete(other.to_string()),
        })?;
        let at = claims.timestamp.as_deref().and_then(parse_aliyun_timestamp).ok_or_else(|| Refusal::Incomplete("no valid Timestamp / x-acs-date".into()))?;
        if (at - now_real).abs() > SKEW_MS {
            return Err(Refusal::Expired);
        }
        if let Some(nonce) = &claims.nonce {
            self.use_nonce(&format!("{}/{nonce}", claims.access_key_id), now_real)?;
        }
        if !credential.permits(permission) {
            return Err(Refusal::Denied { caller: claims.access_key_id });
        }
        Ok(claims.access_key_id)
    }

    fn use_nonce(&self, nonce: &str, now_real: i64) -> Result<(), Refusal> {
        let mut seen = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        if seen.get(nonce).is_some_and(|&at| now_real - at <= SKEW_MS) {
            return Err(Refusal::NonceUsed);
        }
        if seen.len() >= MAX_NONCES {
            seen.retain(|_, at| now_real - *at <= SKEW_MS);
            if seen.len() >= MAX_NONCES {
                // Still full of fresh nonces: forget the oldest half rather than grow without bound.
                let mut ages: Vec<i64> = seen.values().copied().collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() / 2];
                seen.retain(|_, at| *at > cutoff);
            }
        }
        seen.insert(nonce.to_string(), now_real);
        Ok(())
    }

    /// Checks a Huawei request (token or AK/SK) for `project_id`, the project its path names; on
    /// success, the tenant the credential proved: its own project when it is bound to one (the
    /// path must then name it), else the path's, which an unbound credential may act for. Never
    /// the `X-Project-Id` header, which the credential does not vouch for.
    pub fn huawei(&self, req: &SignedRequest, permission: &str, project_id: &str, now_real: i64) -> Result<String, Refusal> {
        let credential = if let Some(token) = huawei::token(req) {
            self.credentials
                .iter()
                .find(|c| matches!(&c.secret, Secret::HuaweiToken { token: t } if t == token))
                .ok_or(Refusal::BadToken)?
        } else {
            let claims = huawei::parse_claims(req).map_err(|e| match e {
                HuaweiAuthError::Missing => Refusal::Incomplete("no Authorization or X-Auth-Token header".into()),
                other => Refusal::Incomplete(other.to_string()),
            })?;
            let (credential, sk) = self
                .credentials
                .iter()
                .find_map(|c| match &c.secret {
                    Secret::HuaweiAkSk { ak, sk } if *ak == claims.access_key => Some((c, sk.as_str())),
                    _ => None,
                })
                .ok_or_else(|| Refusal::UnknownKey(claims.access_key.clone()))?;
            huawei::verify(req, &claims, sk).map_err(|_| Refusal::BadSignature(None))?;
            let at = parse_huawei_sdk_date(&claims.sdk_date).ok_or(Refusal::BadSignature(None))?;
            if (at - now_real).abs() > SKEW_MS {
                return Err(Refusal::Expired);
            }
            credential
        };
        let tenant = credential.project_id.as_deref().unwrap_or(project_id);
        if tenant != project_id || !credential.permits(permission) {
            return Err(Refusal::Denied { caller: tenant.to_string() });
        }
        Ok(tenant.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::credentials::valid_pattern;

    fn credential(allow: Option<&[&str]>, deny: &[&str]) -> Credential {
        Credential {
            secret: Secret::Alibaba { key_id: "k".into(), secret: "s".into() },
            project_id: None,
            allow: allow.map(|a| a.iter().map(|s| s.to_string()).collect()),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn allow_and_deny_patterns() {
        let c = credential(None, &["sas:DescribeScanTaskProgress"]);
        assert!(c.permits("ecs:DescribeTasks"));
        assert!(!c.permits("sas:DescribeScanTaskProgress"));
        let c = credential(Some(&["ecs:*", "HSS:ListTasks"]), &[]);
        assert!(c.permits("ecs:DescribeTasks"));
        assert!(c.permits("hss:ListTasks"));
        assert!(!c.permits("hss:ListImageScanTask"));
        assert!(!credential(Some(&["*"]), &["*"]).permits("ecs:DescribeTasks"));
        assert!(valid_pattern("ecs:*") && valid_pattern("*") && !valid_pattern("ecs") && !valid_pattern(":x"));
    }

    #[test]
    fn a_nonce_is_used_once_within_the_window() {
        let gate = Gate::new(vec![]);
        assert_eq!(gate.use_nonce("k/n1", 0), Ok(()));
        assert_eq!(gate.use_nonce("k/n1", 1000), Err(Refusal::NonceUsed));
        assert_eq!(gate.use_nonce("k/n1", SKEW_MS + 1), Ok(()), "after the window the nonce may come again");
    }
}
