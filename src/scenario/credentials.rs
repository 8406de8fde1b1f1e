//! The credentials a scenario declares, as plain data: which secret, for which project, allowed
//! and denied which operations. The gate (`auth::gate`) decides what they permit; the scenario
//! only checks that they are well formed.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// An Alibaba AccessKeyId / AccessKeySecret pair.
    Alibaba { key_id: String, secret: String },
    /// A Huawei AK / SK pair.
    HuaweiAkSk { ak: String, sk: String },
    /// A Huawei static token, sent as `X-Auth-Token`.
    HuaweiToken { token: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret: Secret,
    pub project_id: Option<String>,
    /// `None` allows everything not denied.
    pub allow: Option<Vec<String>>,
    pub deny: Vec<String>,
}

/// A permission pattern is well formed: `*`, `product:*` or `product:Operation`.
pub fn valid_pattern(pattern: &str) -> bool {
    pattern == "*" || pattern.split_once(':').is_some_and(|(p, o)| !p.is_empty() && !o.is_empty() && !o.contains(':'))
}
