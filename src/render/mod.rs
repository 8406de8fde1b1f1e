//! Response documents as a small ordered tree, written out as JSON or XML. Operations build a
//! [`Node`] once; the edge picks the format. Keys keep their insertion order, as the clouds' do.

use std::borrow::Cow;

use crate::world::Text;

pub mod json;
pub mod xml;

#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'static, str>),
    /// A task's text, copied without an allocation when short (see [`Text`]).
    Text(Text),
    List(Vec<Node>),
    Object(Vec<(Cow<'static, str>, Node)>),
}

/// Text is text, however it is held.
impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::Int(a), Node::Int(b)) => a == b,
            (Node::Float(a), Node::Float(b)) => a == b,
            (Node::Str(_) | Node::Text(_), Node::Str(_) | Node::Text(_)) => self.as_str() == other.as_str(),
            (Node::List(a), Node::List(b)) => a == b,
            (Node::Object(a), Node::Object(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Node {
    /// The text of a string node.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            Node::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn object() -> Node {
        // Room for a task's fields: no regrowth while they are added.
        Node::Object(Vec::with_capacity(8))
    }

    pub fn str(text: impl Into<Cow<'static, str>>) -> Node {
        Node::Str(text.into())
    }

    /// Adds a field (builder style).
    pub fn with(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Node>) -> Node {
        self.push(key, value);
        self
    }

    /// Adds a field when there is a value.
    pub fn with_some<V: Into<Node>>(self, key: impl Into<Cow<'static, str>>, value: Option<V>) -> Node {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    pub fn push(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Node>) {
        if let Node::Object(fields) = self {
            fields.push((key.into(), value.into()));
        }
    }

    /// Sets a field, replacing one of the same name: how scenario pins override derived values.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Node::Object(fields) = self {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some(field) => field.1 = value,
                None => fields.push((Cow::Owned(key.to_string()), value)),
            }
        }
    }

    /// Applies pinned fields: set ones replace or add, unset ones go. A dotted name
    /// (`data.TotalCount`) reaches into an object the answer has.
    pub fn pinned(mut self, pins: &crate::world::Pins) -> Node {
        for (key, value) in pins.iter().flat_map(|p| p.iter()) {
            self.pin(key, value.as_ref());
        }
        self
    }

    fn pin(&mut self, path: &str, value: Option<&serde_json::Value>) {
        let Node::Object(fields) = self else { return };
        match path.split_once('.') {
            Some((head, rest)) => {
                if let Some((_, child)) = fields.iter_mut().find(|(k, _)| k == head) {
                    child.pin(rest, value);
                }
            }
            None => match value {
                Some(value) => self.set(path, Node::from(value)),
                None => fields.retain(|(k, _)| k != path),
            },
        }
    }

    pub fn write(&self, format: Format, root: &str) -> Vec<u8> {
        match format {
            Format::Json => json::write(self),
            Format::Xml => xml::write(self, root),
        }
    }
}

impl From<&str> for Node {
    /// Kept inline, without an allocation, when short (a status, an action, a type ...).
    fn from(v: &str) -> Node {
        Node::Text(Text::new(v))
    }
}
impl From<String> for Node {
    fn from(v: String) -> Node {
        Node::Str(Cow::Owned(v))
    }
}
impl From<Text> for Node {
    fn from(v: Text) -> Node {
        Node::Text(v)
    }
}
impl From<&Text> for Node {
    fn from(v: &Text) -> Node {
        Node::Text(v.clone())
    }
}
impl From<i64> for Node {
    fn from(v: i64) -> Node {
        Node::Int(v)
    }
}
impl From<u32> for Node {
    fn from(v: u32) -> Node {
        Node::Int(i64::from(v))
    }
}
impl From<usize> for Node {
    fn from(v: usize) -> Node {
        Node::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Node {
    fn from(v: f64) -> Node {
        Node::Float(v)
    }
}
impl From<bool> for Node {
    fn from(v: bool) -> Node {
        Node::Bool(v)
    }
}
impl From<Vec<Node>> for Node {
    fn from(v: Vec<Node>) -> Node {
        Node::List(v)
    }
}

impl From<&serde_json::Value> for Node {
    fn from(v: &serde_json::Value) -> Node {
        match v {
            serde_json::Value::Null => Node::Null,
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => n.as_i64().map_or_else(|| Node::Float(n.as_f64().unwrap_or(0.0)), Node::Int),
            serde_json::Value::String(s) => Node::Str(Cow::Owned(s.clone())),
            serde_json::Value::Array(items) => Node::List(items.iter().map(Node::from).collect()),
            serde_json::Value::Object(map) => Node::Object(map.iter().map(|(k, v)| (Cow::Owned(k.clone()), Node::from(v))).collect()),
        }
    }
}
