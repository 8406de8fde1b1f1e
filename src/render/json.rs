//! Compact JSON output of a [`Node`] tree (what the clouds send: no spaces, keys in order).

use super::Node;

pub fn write(node: &Node) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write_node(node, &mut out);
    out
}

fn write_str(text: &str, out: &mut Vec<u8>) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

fn write_node(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Node::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Node::Float(f) if f.is_finite() => {
            let _ = serde_json::to_writer(&mut *out, f);
        }
        Node::Float(_) => out.extend_from_slice(b"null"),
        Node::Str(s) => write_str(s, out),
        Node::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_node(item, out);
            }
            out.push(b']');
        }
        Node::Object(fields) => {
            out.push(b'{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                write_node(value, out);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_compact_ordered_json() {
        let doc = Node::object()
            .with("B", 1i64)
            .with("A", "x\"y")
            .with("L", vec![Node::Bool(true), Node::Float(10.21), Node::Null])
            .with("O", Node::object());
        assert_eq!(String::from_utf8(write(&doc)).unwrap(), r#"{"B":1,"A":"x\"y","L":[true,10.21,null],"O":{}}"#);
    }
}
