//! Huawei Cloud errors: HSS's own (`HSS.0001` …) and the API gateway's (`APIGW.0101` …), in the
//! `{"error_code","error_msg"}` envelope the SDK reads (both keys, or it falls back to the status).

use std::borrow::Cow;

use crate::render::{self, Format};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Gateway errors also carry the request id in the body.
    pub from_gateway: bool,
}

impl std::fmt::Display for HuaweiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for HuaweiError {}

impl HuaweiError {
    pub fn service(status: u16, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> HuaweiError {
        HuaweiError { status, code: code.into(), message: message.into(), from_gateway: false }
    }

    pub fn gateway(status: u16, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> HuaweiError {
        HuaweiError { status, code: code.into(), message: message.into(), from_gateway: true }
    }

    /// HSS.0001, naming the parameter.
    pub fn invalid(parameter: &str) -> HuaweiError {
        Self::service(400, "HSS.0001", format!("Invalid parameter: {parameter}"))
    }

    pub fn unparsable() -> HuaweiError {
        Self::service(400, "HSS.0002", "Failed to parse the request.")
    }

    pub fn no_api() -> HuaweiError {
        Self::gateway(404, "APIGW.0101", "The API does not exist or has not been published in the environment.")
    }

    pub fn method_not_allowed() -> HuaweiError {
        Self::gateway(405, "APIGW.0101", "The API does not exist or has not been published in the environment.")
    }

    pub fn internal() -> HuaweiError {
        Self::service(500, "HSS.0041", "Internal server error.")
    }

    pub fn body_too_large(limit: usize) -> HuaweiError {
        Self::gateway(413, "APIGW.0201", format!("Request entity too large: the body exceeds {limit} bytes."))
    }

    /// The body, in JSON or XML.
    pub fn render(&self, format: Format, request_id: &str) -> Vec<u8> {
        render::document(format, "error", &[], |o| {
            o.field("error_code", &*self.code).field("error_msg", &self.message).field_some("request_id", self.from_gateway.then_some(request_id));
        })
    }
}

/// The status and message HSS and its gateway document for a code, when the emulator knows it.
pub fn documented(code: &str) -> Option<(u16, &'static str)> {
    Some(match code {
        "APIGW.0308" => (429, "The throttling threshold has been reached."),
        "APIGW.0301" => (401, "Incorrect IAM authentication information: verify aksk signature fail"),
        "APIGW.0101" => (404, "The API does not exist or has not been published in the environment."),
        "HSS.0001" => (400, "Invalid parameter."),
        "HSS.0002" => (400, "Failed to parse the request."),
        "HSS.0010" => (400, "Access denied."),
        "HSS.0011" => (400, "Requested resource not found."),
        "HSS.0013" => (403, "Insufficient permissions."),
        "HSS.0041" => (500, "Internal server error."),
        _ => return None,
    })
}

/// The status and message HSS and its gateway give a code, for fault rules naming only the code:
/// the documented ones, else a guess from the code's family (HSS.1xxx and APIGW.05xx are the
/// server's own failures).
pub fn known(code: &str) -> (u16, String) {
    let (status, message) = documented(code).unwrap_or(if code.starts_with("HSS.1") || code.starts_with("APIGW.05") {
        (500, "Internal server error.")
    } else {
        (400, "The request has failed.")
    });
    (status, message.to_string())
}
