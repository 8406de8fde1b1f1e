//! HSS ListTasks: `POST /v5/{project_id}/common/tasks/batch-query`. Paging in the query, filters
//! in a JSON body (empty means `{}`); a field of the wrong type is HSS.0001 naming it, a body that
//! is not a JSON object is HSS.0002. Unknown fields are ignored, as the cloud does. The body is
//! read straight into the fields ListTasks knows (strings borrowed from it unless escaped), with
//! no `serde_json::Value` tree: unknown fields are skipped unread.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Call, HuaweiError};
use crate::render::{List, Word};
use crate::world::hss_task::{self, HssTaskStatus, HssTaskView, TaskKind, TaskQuery};
use crate::world::lifecycle::Status;

/// The fields ListTasks reads, at the top level or in `cluster_scan_info` / `iac_scan_info`
/// (one set for both levels: a name out of place is read and never looked at).
const FIELDS: [&str; 13] = [
    "start_create_time",
    "end_create_time",
    "sort_key",
    "sort_dir",
    "cluster_scan_info",
    "iac_scan_info",
    "task_type",
    "task_id",
    "task_name",
    "trigger_type",
    "task_status",
    "scan_type_list",
    "file_type",
];

/// A field's value as far as ListTasks cares, read straight from the body (no `serde_json::Value`
/// tree): strings borrowed unless they had escapes, anything unexpected kept only as `Other` so
/// that the type check names the field (HSS.0001) instead of failing the parse (HSS.0002).
#[derive(Debug, Default)]
enum Loose<'a> {
    /// Absent or `null`.
    #[default]
    Null,
    Str(Cow<'a, str>),
    /// An integer that fits an i64 (a float, or an integer past i64, is `Other`, as `as_i64` saw it).
    Int(i64),
    /// An array: its strings, or None when an element is not one.
    Strings(Option<Vec<Cow<'a, str>>>),
    Object(Box<Fields<'a>>),
    Other,
}

/// An object's known fields (the last of a repeated name wins, as a JSON map keeps it).
#[derive(Debug, Default)]
struct Fields<'a>([Loose<'a>; FIELDS.len()]);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> &Loose<'a> {
        match FIELDS.iter().position(|f| *f == name) {
            Some(i) => &self.0[i],
            None => &Loose::Null,
        }
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Loose<'de>, E> {
        Ok(Loose::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }
    fn visit_i64<E>(self, n: i64) -> Result<Loose<'de>, E> {
        Ok(Loose::Int(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Loose<'de>, E> {
        Ok(i64::try_from(n).map_or(Loose::Other, Loose::Int))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'de>, A::Error> {
        let mut strings = Some(Vec::new());
        while let Some(item) = seq.next_element::<Element<'de>>()? {
            match (&mut strings, item.0) {
                (Some(list), Some(s)) => list.push(s),
                _ => strings = None,
            }
        }
        Ok(Loose::Strings(strings))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<'de>, A::Error> {
        FieldsVisitor.visit_map(map).map(|fields| Loose::Object(Box::new(fields)))
    }
}

impl<'de> de::Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

/// An array element: a string, or None for anything else (skipped whole).
struct Element<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Element<'de>, E> {
                Ok(Element(Some(Cow::Borrowed(s))))
            }
            fn visit_str<E>(self, s: &str) -> Result<Element<'de>, E> {
                Ok(Element(Some(Cow::Owned(s.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Element<'de>, E> {
                Ok(Element(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Element<'de>, E> {
                Ok(Element(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Element<'de>, E> {
                Ok(Element(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Element<'de>, E> {
                Ok(Element(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Element<'de>, E> {
                Ok(Element(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Element(None))
            }
        }
        d.deserialize_any(ElementVisitor)
    }
}

/// A JSON object's known fields; unknown ones are skipped unread. Anything but an object fails.
struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields::default();
        // Keys are borrowed from the body unless escaped: no allocation for a plain one.
        while let Some(Element(key)) = map.next_key::<Element<'de>>()? {
            match key.and_then(|key| FIELDS.iter().position(|f| *f == key)) {
                Some(i) => fields.0[i] = map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

/// Typed reads of the body's fields, each error naming the field.
struct Body<'b, 'a>(&'b Fields<'a>);

impl<'b, 'a> Body<'b, 'a> {
    fn text(&self, name: &str) -> Result<Option<&'b str>, HuaweiError> {
        match self.0.get(name) {
            Loose::Null => Ok(None),
            Loose::Str(s) if (1..=256).contains(&s.chars().count()) => Ok(Some(s.as_ref())),
            _ => Err(HuaweiError::invalid(name)),
        }
    }

    fn word(&self, name: &str, words: &[&str]) -> Result<Option<&'b str>, HuaweiError> {
        match self.text(name)? {
            Some(w) if !words.contains(&w) => Err(HuaweiError::invalid(name)),
            other => Ok(other),
        }
    }

    fn millis(&self, name: &str) -> Result<Option<i64>, HuaweiError> {
        match self.0.get(name) {
            Loose::Null => Ok(None),
            Loose::Int(n) if *n >= 0 => Ok(Some(*n)),
            _ => Err(HuaweiError::invalid(name)),
        }
    }

    fn object(&self, name: &str) -> Result<Option<Body<'b, 'a>>, HuaweiError> {
        match self.0.get(name) {
            Loose::Null => Ok(None),
            Loose::Object(fields) => Ok(Some(Body(fields))),
            _ => Err(HuaweiError::invalid(name)),
        }
    }
}

/// The body's fields (empty means `{}`).
fn body(bytes: &[u8]) -> Result<Fields<'_>, HuaweiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::default());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = de.deserialize_map(FieldsVisitor).map_err(|_| HuaweiError::unparsable())?;
    // Only whitespace may follow, as `serde_json::from_slice` had it.
    de.end().map_err(|_| HuaweiError::unparsable())?;
    Ok(fields)
}

fn query<'a>(call: &Call<'a>, fields: &'a Fields<'a>) -> Result<TaskQuery<'a>, HuaweiError> {
    let (offset, limit) = call.paging()?;
    let body = Body(fields);
    let (created_from, created_to) = (body.millis("start_create_time")?, body.millis("end_create_time")?);
    if let (Some(from), Some(to)) = (created_from, created_to) {
        if from > to {
            return Err(HuaweiError::invalid("end_create_time"));
        }
    }
    body.word("sort_key", hss_task::SORT_KEYS)?;
    let scan_types = match body.object("cluster_scan_info")? {
        None => Vec::new(),
        Some(info) => match info.0.get("scan_type_list") {
            Loose::Null => Vec::new(),
            Loose::Strings(Some(items)) => items.iter().map(|s| &**s).collect(),
            _ => return Err(HuaweiError::invalid("cluster_scan_info.scan_type_list")),
        },
    };
    let file_type = match body.object("iac_scan_info")? {
        None => None,
        Some(info) => info.word("file_type", hss_task::FILE_TYPES).map_err(|_| HuaweiError::invalid("iac_scan_info.file_type"))?,
    };
    Ok(TaskQuery {
        project_id: call.project_id,
        enterprise_project_id: call.query.text("enterprise_project_id")?,
        task_type: body.word("task_type", hss_task::TASK_TYPES)?,
        task_id: body.text("task_id")?,
        task_name: body.text("task_name")?,
        created_from,
        created_to,
        trigger_type: body.word("trigger_type", hss_task::TRIGGER_TYPES)?,
        status: body.word("task_status", &["ready", "running", "finished"])?.and_then(HssTaskStatus::from_name),
        ascending: body.word("sort_dir", hss_task::SORT_DIRS)? == Some("asc"),
        scan_types,
        file_type,
        offset,
        limit,
    })
}

fn task(list: &mut List, v: &HssTaskView) {
    let t = v.task;
    let c = v.counts;
    list.object(&t.pins, |o| {
        o.field("task_id", &t.task_id)
            .field("task_type", Word(t.kind.name()))
            .field("task_name", &t.task_name)
            .field("trigger_type", Word(t.trigger_type.name()))
            .field("task_status", Word(v.stage.status.name()))
            .field("start_time", t.created)
            .field_some("end_time", v.stage.ended_at)
            .field("estimated_time", v.estimated_minutes);
        match &t.kind {
            TaskKind::ClusterScan { scan_types, .. } => o.object("cluster_scan_info", |o| {
                o.values("scan_type_list", scan_types.iter())
                    .field("scanning_cluster_num", c.in_progress)
                    .field("success_cluster_num", c.succeeded)
                    .field("failed_cluster_num", c.failed);
            }),
            TaskKind::IacScan { file_type, .. } => o.object("iac_scan_info", |o| {
                o.field("file_type", Word(file_type.name())).field("scan_file_num", c.total).field("success_file_num", c.succeeded).field("failed_file_num", c.failed);
            }),
        };
    });
}

pub fn call(call: &Call) -> Result<Vec<u8>, HuaweiError> {
    let body = body(call.body)?;
    let q = query(call, &body)?;
    let page = hss_task::list(&call.snapshot.world.hss_task, &q, call.now);
    Ok(call.document(|o| {
        o.field("total_num", page.total).list("data_list", |list| page.items.iter().for_each(|v| task(list, v)));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};

    fn outcome<T: fmt::Debug>(r: Result<T, HuaweiError>) -> String {
        match r {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("{} {}", e.code, e.message),
        }
    }

    /// What every reader makes of every field, nested ones included, through the new reader.
    fn view(bytes: &[u8]) -> Result<Vec<String>, String> {
        let fields = body(bytes).map_err(|e| e.code.to_string())?;
        let body = Body(&fields);
        let mut seen = Vec::new();
        for name in FIELDS {
            seen.push(outcome(body.text(name)));
            seen.push(outcome(body.millis(name)));
            seen.push(match body.object(name) {
                Err(e) => outcome::<()>(Err(e)),
                Ok(None) => "none".into(),
                Ok(Some(inner)) => {
                    let list = match inner.0.get("scan_type_list") {
                        Loose::Null => Ok(Vec::new()),
                        Loose::Strings(Some(items)) => Ok(items.iter().map(|s| s.to_string()).collect()),
                        _ => Err("invalid list".to_string()),
                    };
                    format!("{list:?} {}", outcome(inner.text("file_type")))
                }
            });
        }
        Ok(seen)
    }

    /// The same through a `serde_json::Value`, as ListTasks read its body before.
    fn reference(bytes: &[u8]) -> Result<Vec<String>, String> {
        let map: Map<String, Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice(bytes) {
                Ok(Value::Object(map)) => map,
                _ => return Err("HSS.0002".into()),
            }
        };
        fn text<'m>(m: &'m Map<String, Value>, name: &str) -> Result<Option<&'m str>, HuaweiError> {
            match m.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if (1..=256).contains(&s.chars().count()) => Ok(Some(s.as_str())),
                Some(_) => Err(HuaweiError::invalid(name)),
            }
        }
        let mut seen = Vec::new();
        for name in FIELDS {
            seen.push(outcome(text(&map, name)));
            seen.push(outcome(match map.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| HuaweiError::invalid(name)),
            }));
            seen.push(match map.get(name) {
                None | Some(Value::Null) => "none".into(),
                Some(Value::Object(inner)) => {
                    let list = match inner.get("scan_type_list") {
                        None | Some(Value::Null) => Ok(Vec::new()),
                        Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| "invalid list".to_string())).collect(),
                        Some(_) => Err("invalid list".to_string()),
                    };
                    format!("{list:?} {}", outcome(text(inner, "file_type")))
                }
                Some(_) => outcome::<()>(Err(HuaweiError::invalid(name))),
            });
        }
        Ok(seen)
    }

    #[test]
    fn the_body_reads_as_the_value_tree_did() {
        let bodies = [
            "",
            " \n",
            "{}",
            "{ }",
            "null",
            "[]",
            "42",
            "\"task_id\"",
            "{",
            "{} x",
            "{} ",
            r#"{"task_id": "k\u0031", "task_name": "caf\u00e9 \"scan\"", "colour": {"task_id": 1}}"#,
            r#"{"task_id": "a", "task_id": "b"}"#,
            r#"{"task_id": "", "task_name": 1, "task_type": ["cluster_scan"], "sort_dir": null}"#,
            r#"{"start_create_time": 9223372036854775807, "end_create_time": 9223372036854775808}"#,
            r#"{"start_create_time": -1, "end_create_time": 1.0}"#,
            r#"{"start_create_time": 1e3, "end_create_time": true}"#,
            r#"{"cluster_scan_info": {"scan_type_list": ["a", "b\n"], "file_type": "x"}, "iac_scan_info": {"file_type": 3}}"#,
            r#"{"cluster_scan_info": {"scan_type_list": ["a", 1, {"b": []}]}, "iac_scan_info": []}"#,
            r#"{"cluster_scan_info": {"scan_type_list": "a"}, "iac_scan_info": "dockerfile"}"#,
            r#"{"cluster_scan_info": {"cluster_scan_info": {"cluster_scan_info": {}}}}"#,
            r#"{"t\u0061sk_id": "escaped key"}"#,
            r#"{"task_id": "x", }"#,
            r#"{"task_id": 1e400}"#,
        ];
        for b in bodies {
            assert_eq!(view(b.as_bytes()), reference(b.as_bytes()), "body {b:?}");
        }
        let long = format!(r#"{{"task_name": "{}", "task_id": "{}"}}"#, "n".repeat(256), "é".repeat(257));
        assert_eq!(view(long.as_bytes()), reference(long.as_bytes()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// Bodies strung together from JSON pieces (mostly malformed, some not) read the same.
        #[test]
        fn strung_bodies_read_as_the_value_tree_did(pieces in proptest::collection::vec(0usize..PIECES.len(), 0..24)) {
            let b: String = pieces.iter().map(|&i| PIECES[i]).collect();
            proptest::prop_assert_eq!(view(b.as_bytes()), reference(b.as_bytes()), "body {:?}", b);
        }
    }

    const PIECES: &[&str] = &["{", "}", "[", "]", ",", ":", " ", "null", "true", "0", "-1", "2.5", "18446744073709551615", r#""task_id""#, r#""k\u00e9""#, r#""""#, r#""cluster_scan_info""#, r#""scan_type_list""#, r#""file_type""#, r#""start_create_time""#, r#"{"task_id": "k1"}"#, r#""task_name":"#];
}
