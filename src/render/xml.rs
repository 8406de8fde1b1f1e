//! XML output of a [`Node`] tree in the clouds' RPC style: an object is a run of child elements, a
//! list under key `K` is `K` repeated (`<TaskSet><Task>…</Task><Task>…</Task></TaskSet>`), null
//! fields are left out.

use quick_xml::escape::escape;

use super::Node;

pub fn write(node: &Node, root: &str) -> Vec<u8> {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    element(root, node, &mut out);
    out.into_bytes()
}

fn element(name: &str, node: &Node, out: &mut String) {
    match node {
        Node::Null => {}
        Node::List(items) => {
            for item in items {
                element(name, item, out);
            }
        }
        _ => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            content(node, out);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn content(node: &Node, out: &mut String) {
    match node {
        Node::Null | Node::List(_) => {}
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => {
            let mut digits = Vec::with_capacity(20);
            super::json::write_int(*i, &mut digits);
            out.push_str(std::str::from_utf8(&digits).unwrap_or_default());
        }
        Node::Float(f) => out.push_str(&f.to_string()),
        Node::Str(s) => out.push_str(&escape(s.as_ref())),
        Node::Text(s) => out.push_str(&escape(s.as_str())),
        Node::Object(fields) => {
            for (key, value) in fields {
                element(key, value, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_repeat_their_element_and_text_is_escaped() {
        let doc = Node::object()
            .with("TaskSet", Node::object().with("Task", vec![Node::object().with("TaskId", "a<b"), Node::object().with("TaskId", "c")]))
            .with("Gone", Node::Null);
        let xml = String::from_utf8(write(&doc, "R")).unwrap();
        assert_eq!(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><R><TaskSet><Task><TaskId>a&lt;b</TaskId></Task><Task><TaskId>c</TaskId></Task></TaskSet></R>");
    }
}
