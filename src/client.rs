//! A small blocking client for the control API, behind the CLI's client verbs (`taskemu clock`,
//! `reset`, `load`, `tasks`, `requests`, `fault`). Plain HTTP/1.1 over a TCP stream: the control
//! API is local, and a shell script should not need anything else. It sends the control token
//! (`--token`, `TASKEMU_CONTROL_TOKEN`) when given one, and declares every body's type.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::Value;

#[derive(Debug)]
pub enum ClientError {
    /// Nothing answered at the URL.
    Unreachable { url: String, reason: String },
    /// The server answered with an error.
    Refused { status: u16, message: String },
    BadUrl(String),
    /// The control token cannot be sent (empty, too long, or not visible ASCII).
    BadToken(String),
    BadAnswer(String),
    /// A local file the verb needs cannot be read: nothing was sent.
    LocalFile { path: String, reason: String },
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unreachable { url, reason } => write!(f, "no taskemu answering at {url} ({reason}); start one with `taskemu serve` or pass --url"),
            ClientError::Refused { status, message } => write!(f, "taskemu refused ({status}): {message}"),
            ClientError::BadUrl(url) => write!(f, "bad --url {url:?}: expected http://HOST:PORT"),
            ClientError::BadToken(why) => write!(f, "bad --token: {why}"),
            ClientError::BadAnswer(why) => write!(f, "unexpected answer from taskemu: {why}"),
            ClientError::LocalFile { path, reason } => write!(f, "cannot read {path}: {reason}"),
        }
    }
}

impl std::error::Error for ClientError {}

pub struct Client {
    url: String,
    host_port: String,
    /// Sent as `Authorization: Bearer` on every call when the server requires a control token.
    token: Option<String>,
}

impl Client {
    pub fn new(url: &str) -> Result<Client, ClientError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| ClientError::BadUrl(url.to_string()))?;
        let host_port = rest.trim_end_matches('/').to_string();
        if host_port.is_empty() || host_port.contains('/') {
            return Err(ClientError::BadUrl(url.to_string()));
        }
        Ok(Client { url: url.trim_end_matches('/').to_string(), host_port, token: None })
    }

    /// The same client, sending `token` (if any) with every call.
    pub fn with_token(mut self, token: Option<&str>) -> Result<Client, ClientError> {
        if let Some(problem) = token.and_then(crate::control::access::token_problem) {
            return Err(ClientError::BadToken(problem));
        }
        self.token = token.map(str::to_string);
        Ok(self)
    }

    /// Sends a request and returns the JSON answer; a 4xx/5xx becomes `Refused` with its message.
    pub fn call(&self, method: &str, path_and_query: &str, body: Option<(&str, &[u8])>) -> Result<Value, ClientError> {
        let (status, body) = self.exchange(method, path_and_query, body)?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| ClientError::BadAnswer(format!("not JSON: {e}")))?;
        if status >= 400 {
            let message = value.get("error").and_then(Value::as_str).unwrap_or("unknown error").to_string();
            return Err(ClientError::Refused { status, message });
        }
        Ok(value)
    }

    /// Sends a bodiless request whose answer is text (a snapshot's TOML); a 4xx/5xx is `Refused`.
    pub fn text(&self, method: &str, path_and_query: &str) -> Result<String, ClientError> {
        let (status, body) = self.exchange(method, path_and_query, None)?;
        if status >= 400 {
            let message = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
            return Err(ClientError::Refused { status, message: message.unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned()) });
        }
        String::from_utf8(body).map_err(|_| ClientError::BadAnswer("not UTF-8 text".into()))
    }

    /// One request: the answer's status and body.
    fn exchange(&self, method: &str, path_and_query: &str, body: Option<(&str, &[u8])>) -> Result<(u16, Vec<u8>), ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable { url: self.url.clone(), reason };
        let addr = self.host_port.to_socket_addrs().map_err(|e| unreachable(e.to_string()))?.next().ok_or_else(|| unreachable("no address".into()))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| unreachable(e.to_string()))?;
        stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| unreachable(e.to_string()))?;
        let (content_type, bytes) = body.unwrap_or(("application/json", b""));
        let authorization = self.token.as_ref().map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{authorization}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host_port,
            bytes.len()
        );
        stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(bytes)).map_err(|e| unreachable(e.to_string()))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| unreachable(e.to_string()))?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| ClientError::BadAnswer("no header end".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]);
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| ClientError::BadAnswer("no status".into()))?;
        let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
        let body = &raw[split + 4..];
        let body = if chunked { dechunk(body) } else { body.to_vec() };
        Ok((status, body))
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(body.len());
        out.extend_from_slice(&body[start..end]);
        body = &body[(end + 2).min(body.len())..];
    }
    out
}

/// A local file a verb sends (`taskemu load FILE`), read before anything is sent: a missing or
/// unreadable one is the caller's problem, said as such, never a server's answer.
pub fn read_local(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::LocalFile { path: path.display().to_string(), reason: e.to_string() })
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    crate::cloud::pairs::pct(value)
}

/// Renders rows as an aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells.iter().enumerate().map(|(i, c)| format!("{c:<width$}", width = widths[i])).collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let t = table(&["ID", "STATUS"], &[vec!["t-1".into(), "Finished".into()], vec!["t-22".into(), "Waiting".into()]]);
        assert_eq!(t, "ID    STATUS\nt-1   Finished\nt-22  Waiting\n");
    }

    #[test]
    fn urls_must_be_plain_http() {
        assert!(Client::new("http://127.0.0.1:8080").is_ok());
        assert!(matches!(Client::new("https://x"), Err(ClientError::BadUrl(_))));
        assert!(matches!(Client::new("http://x/y"), Err(ClientError::BadUrl(_))));
    }

    #[test]
    fn an_absent_server_is_unreachable_not_a_panic() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = Client::new(&format!("http://127.0.0.1:{port}")).unwrap().call("GET", "/_emu/health", None).unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
