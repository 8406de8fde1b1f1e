//! The dashboard: one page and its assets, embedded in the binary (no CDN, works offline),
//! served under `/_emu/ui`. It reads the control API like any other client.

/// The asset at a `/_emu/ui...` path: its content type and bytes.
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    match path.trim_end_matches('/') {
        "/_emu/ui" | "/_emu/ui/index.html" => Some(("text/html; charset=utf-8", include_bytes!("ui/index.html"))),
        "/_emu/ui/app.js" => Some(("text/javascript; charset=utf-8", include_bytes!("ui/app.js"))),
        "/_emu/ui/style.css" => Some(("text/css; charset=utf-8", include_bytes!("ui/style.css"))),
        _ => None,
    }
}
