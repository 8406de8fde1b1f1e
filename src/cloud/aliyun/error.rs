//! Alibaba Cloud RPC errors: the codes and exact messages the products document, and the envelope
//! (`RequestId`, `HostId`, `Code`, `Message`, `Recommend`) every SDK reads.

use std::borrow::Cow;

use crate::render::{self, Format};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliyunError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl std::fmt::Display for AliyunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for AliyunError {}

impl AliyunError {
    pub fn new(status: u16, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> AliyunError {
        AliyunError { status, code: code.into(), message: message.into() }
    }

    pub fn missing_parameter(name: &str) -> AliyunError {
        Self::new(400, "MissingParameter", format!("An input parameter \"{name}\" that is mandatory for processing the request is not supplied."))
    }

    pub fn invalid_parameter(name: &str) -> AliyunError {
        Self::new(400, "InvalidParameter", format!("The specified parameter \"{name}\" is not valid."))
    }

    /// An `x-taskemu-dialect` header naming no dialect, in InvalidParameter's words plus the
    /// values it takes.
    pub fn unknown_dialect(value: &str) -> AliyunError {
        Self::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{}\" is not valid: {value:?} is not a dialect; valid values: {}.", super::DIALECT_HEADER, super::Dialect::NAMES.join(", ")),
        )
    }

    pub fn region_not_found() -> AliyunError {
        Self::new(400, "InvalidRegionId.NotFound", "The specified RegionId does not exist.")
    }

    pub fn action_not_found() -> AliyunError {
        Self::new(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
    }

    pub fn invalid_version() -> AliyunError {
        Self::new(400, "InvalidVersion", "Specified parameter Version is not valid.")
    }

    pub fn server_error() -> AliyunError {
        Self::new(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure.")
    }

    pub fn body_too_large(limit: usize) -> AliyunError {
        Self::new(413, "RequestEntityTooLarge", format!("The request body exceeds the limit of {limit} bytes."))
    }

    /// The envelope, in JSON or XML.
    pub fn render(&self, format: Format, request_id: &str, host_id: &str, product: &str) -> Vec<u8> {
        render::document(format, "Error", &[], |o| {
            o.field("RequestId", request_id)
                .field("HostId", host_id)
                .field("Code", &*self.code)
                .field("Message", &self.message)
                .field("Recommend", format!("https://api.aliyun.com/troubleshoot?q={}&product={product}", self.code));
        })
    }
}

/// The status and message Alibaba Cloud documents for a code, when the emulator knows it.
pub fn documented(code: &str) -> Option<(u16, &'static str)> {
    Some(match code {
        "Throttling" => (400, "Request was denied due to request throttling."),
        "ServiceUnavailable" => (503, "The request has failed due to a temporary failure of the server."),
        "ServerError" => (500, "ServerError"),
        "InternalError" | "UnknownError" => (500, "The request processing has failed due to some unknown error, exception or failure."),
        "NoPermission" => (403, "caller has no permission"),
        "Forbidden.RAM" => (403, "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
        "InvalidParameter" => (400, "The specified parameter is not valid."),
        _ => return None,
    })
}

/// The status and message the clouds give a code, for fault rules that name only the code: the
/// documented ones, else a guess from the code's shape (a server error when it says so).
pub fn known(code: &str) -> (u16, String) {
    let (status, message) = documented(code).unwrap_or(if code.contains("Error") || code.contains("Unavailable") {
        (500, "The request processing has failed due to some unknown error, exception or failure.")
    } else {
        (400, "The request has failed.")
    });
    (status, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_every_field_the_sdks_read() {
        let body = AliyunError::missing_parameter("RegionId").render(Format::Json, "R-1", "ecs.aliyuncs.com", "Ecs");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"RequestId":"R-1","HostId":"ecs.aliyuncs.com","Code":"MissingParameter",
                "Message":"An input parameter \"RegionId\" that is mandatory for processing the request is not supplied.",
                "Recommend":"https://api.aliyun.com/troubleshoot?q=MissingParameter&product=Ecs"})
        );
        let body = AliyunError::region_not_found().render(Format::Xml, "R-2", "ecs.aliyuncs.com", "Ecs");
        assert!(String::from_utf8(body).unwrap().contains("<Error><RequestId>R-2</RequestId><HostId>ecs.aliyuncs.com</HostId><Code>InvalidRegionId.NotFound</Code>"));
    }
}
