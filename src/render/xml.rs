//! XML's pieces, in the clouds' RPC style: elements without attributes, text escaped, a pinned
//! value laid out as the writer lays out derived ones (a list repeats its element, null is left
//! out).

use serde_json::Value;

pub(crate) fn open(name: &str, out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

pub(crate) fn close(name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// Text, escaped as `quick_xml::escape::escape` escapes it. Ids, names, instants and statuses
/// have nothing to escape: those are copied as they are, without the escaper's pass and copy
/// (issue 16: the escaper was a fifth of an XML page's cost).
#[inline]
pub(crate) fn write_text(text: &str, out: &mut Vec<u8>) {
    if escaped(text.as_bytes()) {
        out.extend_from_slice(quick_xml::escape::escape(text).as_bytes());
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Whether `quick_xml::escape::escape` changes these bytes (it goes byte by byte).
pub(crate) fn escaped(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| needs_escape(b))
}

/// The bytes `quick_xml::escape::escape` replaces.
fn needs_escape(byte: u8) -> bool {
    matches!(byte, b'<' | b'>' | b'&' | b'\'' | b'"' | b'\r')
}

/// `10.5`, and `100` for a whole one (what the XML answers have always shown).
pub(crate) fn write_float(f: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(f.to_string().as_bytes());
}

/// A pinned value under element `name`.
pub(crate) fn write_value(name: &str, value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                write_value(name, item, out);
            }
        }
        _ => {
            open(name, out);
            match value {
                Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => super::json::write_int(i, out),
                    None => write_float(n.as_f64().unwrap_or(0.0), out),
                },
                Value::String(s) => write_text(s, out),
                Value::Object(fields) => {
                    for (key, field) in fields {
                        write_value(key, field, out);
                    }
                }
                Value::Null | Value::Array(_) => {}
            }
            close(name, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_as_quick_xml_escapes_it() {
        for text in ["", "plain-id_1.2", "a<b", "x>y", "a&b", "it's", "say \"hi\"", "cr\rlf\n", "tab\t", "ünïcode ✓", "&amp;", "2026-01-02T03:04Z"] {
            let mut out = Vec::new();
            write_text(text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), quick_xml::escape::escape(text), "{text:?}");
        }
        for byte in 0..=127u8 {
            let text = format!("a{}b", byte as char);
            let mut out = Vec::new();
            write_text(&text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), quick_xml::escape::escape(text.as_str()), "byte {byte}");
        }
    }

    #[test]
    fn pinned_values_nest_repeat_and_escape() {
        let mut out = Vec::new();
        write_value("P", &serde_json::json!({"a": [1, 2.5, null], "b": {"c": "x&y", "d": null}, "e": true}), &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "<P><a>1</a><a>2.5</a><b><c>x&amp;y</c></b><e>true</e></P>");
    }
}
