//! A capture as one tree (`serde_json::Value`), whatever it was written in, and typed reads of it
//! that name the JSON path of whatever they refuse. XML becomes the same tree: an element with
//! children an object, repeated names an array, text a string; the readers accept a string where
//! a number or a boolean is expected, and one object where a list is, since XML cannot tell.

use serde_json::{Map, Value};

use super::{PathError, Read};

/// The deepest capture read: answers nest four levels; this refuses a pathological file without
/// exhausting the stack.
const MAX_DEPTH: usize = 64;

/// A value in a capture and its JSON path (`$.TaskSet.Task[3]`).
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub value: &'a Value,
    pub path: String,
    /// Read from XML: every value is text, and an empty list is no element at all.
    pub xml: bool,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value, xml: bool) -> Node<'a> {
        Node { value, path: "$".into(), xml }
    }

    pub fn error(&self, message: impl Into<String>) -> PathError {
        PathError { path: self.path.clone(), message: message.into() }
    }

    fn child_path(&self, key: &str) -> String {
        if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            format!("{}.{key}", self.path)
        } else {
            format!("{}[{key:?}]", self.path)
        }
    }

    /// The member `key`, when present and not null.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Node { value, path: self.child_path(key), xml: self.xml }),
        }
    }

    /// The member `key`, or an error naming it.
    pub fn need(&self, key: &str) -> Read<Node<'a>> {
        self.get(key).ok_or_else(|| PathError { path: self.child_path(key), message: "missing".into() })
    }

    /// The items of a list: an array, one object (XML's single child), nothing for an absent
    /// member or XML's empty element.
    pub fn items(&self) -> Vec<Node<'a>> {
        match self.value {
            Value::Array(items) => items.iter().enumerate().map(|(i, value)| Node { value, path: format!("{}[{i}]", self.path), xml: self.xml }).collect(),
            Value::String(s) if s.trim().is_empty() => Vec::new(),
            _ => vec![self.clone()],
        }
    }

    pub fn list(&self, key: &str) -> Vec<Node<'a>> {
        self.get(key).map(|n| n.items()).unwrap_or_default()
    }

    pub fn text(&self) -> Read<String> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.error("expected a string")),
        }
    }

    pub fn int(&self) -> Read<i64> {
        match self.value {
            Value::Number(n) => n.as_i64().ok_or_else(|| self.error(format!("expected a whole number, found {n}"))),
            Value::String(s) => s.trim().parse().map_err(|_| self.error(format!("expected a whole number, found {s:?}"))),
            other => Err(self.error(format!("expected a whole number, found {other}"))),
        }
    }

    pub fn float(&self) -> Read<f64> {
        match self.value {
            Value::Number(n) => n.as_f64().ok_or_else(|| self.error(format!("expected a number, found {n}"))),
            Value::String(s) => s.trim().parse().map_err(|_| self.error(format!("expected a number, found {s:?}"))),
            other => Err(self.error(format!("expected a number, found {other}"))),
        }
    }

    pub fn boolean(&self) -> Read<bool> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            other => Err(self.error(format!("expected true or false, found {other}"))),
        }
    }

    /// Unix milliseconds within the emulator's calendar (1970–9999).
    pub fn instant(&self) -> Read<i64> {
        let at = self.int()?;
        if crate::instant::in_range(at) {
            Ok(at)
        } else {
            Err(self.error(format!("{at} is outside {}", crate::instant::range_message())))
        }
    }

    /// A non-negative count that fits a `u32`.
    pub fn count(&self) -> Read<u32> {
        let n = self.int()?;
        u32::try_from(n).map_err(|_| self.error(format!("expected a count (0 or more), found {n}")))
    }

    pub fn opt_text(&self, key: &str) -> Read<Option<String>> {
        self.get(key).map(|n| n.text()).transpose()
    }

    pub fn opt_int(&self, key: &str) -> Read<Option<i64>> {
        self.get(key).map(|n| n.int()).transpose()
    }

    /// A word from a closed list (a task type, a file type...), refused with the nearest known one.
    pub fn word(&self, words: &'static [&'static str]) -> Read<&'static str> {
        let text = self.text()?;
        words.iter().copied().find(|w| *w == text).ok_or_else(|| {
            let hint = crate::scenario::suggest::did_you_mean(&text, words.iter().copied());
            self.error(format!("unknown value {text:?}{hint}: expected one of {}", words.join(", ")))
        })
    }

    /// A status word from a product's vocabulary, refused with the nearest known one.
    pub fn status<S: crate::world::lifecycle::Status>(&self) -> Read<S> {
        let word = self.text()?;
        S::from_name(word.trim_matches('"')).ok_or_else(|| {
            let names = S::all().iter().map(|s| s.name());
            let hint = crate::scenario::suggest::did_you_mean(&word, names.clone());
            let known: Vec<&str> = names.collect();
            self.error(format!("unknown status {word:?}{hint}: expected one of {}", known.join(", ")))
        })
    }
}

type Open = (String, Vec<(String, Value)>, String);

/// An XML document as (root name, tree). Attributes are ignored (the answers have none).
pub(crate) fn from_xml(text: &str) -> Result<(String, Value), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("not well-formed XML at byte {position}: {e}"))?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push((AsRef::<str>::as_ref(&e.name()).to_string(), Vec::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = AsRef::<str>::as_ref(&e.name()).to_string();
                match stack.last_mut() {
                    Some(parent) => parent.1.push((name, Value::String(String::new()))),
                    None => return Ok((name, Value::String(String::new()))),
                }
            }
            Event::Text(t) => {
                let raw = (*t).to_string();
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(&raw);
                }
            }
            Event::CData(t) => {
                if let Some(open) = stack.last_mut() {
                    open.2.push_str(AsRef::<str>::as_ref(&t));
                }
            }
            Event::GeneralRef(r) => {
                let name = (*r).to_string();
                let ch = match name.as_str() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    other => other
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| other.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("unknown XML entity &{other};"))?,
                };
                if let Some(open) = stack.last_mut() {
                    open.2.push(ch);
                }
            }
            Event::End(_) => {
                let Some((name, children, text)) = stack.pop() else { return Err("an end tag without its start".into()) };
                let value = if children.is_empty() { Value::String(text.trim().to_string()) } else { object_of(children) };
                match stack.last_mut() {
                    Some(parent) => parent.1.push((name, value)),
                    None => return Ok((name, value)),
                }
            }
            Event::Eof => return Err("the XML ends before its root element closes".into()),
            _ => {}
        }
    }
}

/// Children in document order; a name seen more than once becomes an array.
fn object_of(children: Vec<(String, Value)>) -> Value {
    let mut map = Map::new();
    for (name, value) in children {
        match map.get_mut(&name) {
            Some(Value::Array(items)) => items.push(value),
            Some(first) => {
                let first = std::mem::take(first);
                map.insert(name, Value::Array(vec![first, value]));
            }
            None => {
                map.insert(name, value);
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_lists_and_paths() {
        let (root, tree) = from_xml("<?xml version=\"1.0\"?><R><L><T>a</T></L><L><T>b&amp;c</T></L><E/></R>").unwrap();
        assert_eq!(root, "R");
        let node = Node::root(&tree, true);
        let items = node.list("L");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].need("T").unwrap().text().unwrap(), "b&c");
        assert_eq!(items[1].need("X").unwrap_err().path, "$.L[1].X");
        assert!(node.list("E").is_empty());
        assert!(from_xml("<R><A></R>").is_err());
    }
}
