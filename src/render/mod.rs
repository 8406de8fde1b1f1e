//! Response documents, written straight to bytes while an operation walks its answer: no tree in
//! between (issue 6: building one and walking it again was a fifth of a request's cost). An
//! operation writes fields into an [`Object`], in the cloud's key order; the [`Format`] decides
//! the bytes. JSON is compact, keys in the order written. XML is the clouds' RPC style: an object
//! is a run of child elements, a list under key `K` is `K` repeated
//! (`<TaskSet><Task>…</Task><Task>…</Task></TaskSet>`), a null (a pinned one) is left out.
//!
//! Scenario pins ride along. An object written with pins swaps a pinned field's value for the
//! pinned one (in place), leaves out an unset one, and adds the set fields it never wrote at its
//! end, in pin order; a dotted pin (`data.TotalCount`) reaches into the object written under its
//! first part (not into lists). Objects without pins pay one emptiness check per field.

use serde_json::Value;

use crate::world::Pins;

pub mod buffers;
pub mod json;
pub mod xml;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// For documents and objects that have no pins.
pub const NO_PINS: &Pins = &None;

/// Writes a whole document: its root object (the `root` element in XML), with `pins` applied in
/// turn (a later set's pin wins over an earlier one's).
pub fn document(format: Format, root: &str, pins: &[&Pins], fill: impl FnOnce(&mut Object)) -> Vec<u8> {
    let mut out = buffers::take();
    if format == Format::Xml {
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }
    let mut list = List { format, out: &mut out, key: root, first: true };
    list.item(Scope::of(pins), fill);
    out
}

/// A JSON array as text, for a field whose value is a string holding JSON (SAS `TargetInfo`).
pub fn json_text(fill: impl FnOnce(&mut List)) -> String {
    let mut out = Vec::with_capacity(256);
    out.push(b'[');
    fill(&mut List { format: Format::Json, out: &mut out, key: "", first: true });
    out.push(b']');
    // Only whole UTF-8 strings and ASCII punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// A value written as one field or list item: text, a number or a boolean.
pub trait Scalar {
    fn json(&self, out: &mut Vec<u8>);
    /// XML text: numbers and booleans read as in JSON.
    fn xml(&self, out: &mut Vec<u8>) {
        self.json(out);
    }
}

impl Scalar for str {
    fn json(&self, out: &mut Vec<u8>) {
        json::write_str(self, out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        xml::write_text(self, out);
    }
}

impl Scalar for String {
    fn json(&self, out: &mut Vec<u8>) {
        self.as_str().json(out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        self.as_str().xml(out);
    }
}

impl Scalar for crate::world::Text {
    fn json(&self, out: &mut Vec<u8>) {
        if self.json_plain() {
            json::write_plain(self, out);
        } else {
            json::write_str(self, out);
        }
    }
    fn xml(&self, out: &mut Vec<u8>) {
        xml::write_text(self, out);
    }
}

/// Written from its pieces, without the `String` [`fill`](crate::world::avds::ReportUrl::fill)
/// makes, where the template and the scan id have nothing to escape (escaping goes byte by byte,
/// and the TaskId's digits and a brace need none); filled and written as text otherwise.
impl Scalar for crate::world::avds::ReportUrl<'_> {
    fn json(&self, out: &mut Vec<u8>) {
        if self.json_plain() {
            let start = out.len();
            out.push(b'"');
            if self.pieces(|piece| write_url_piece(piece, out)) {
                out.push(b'"');
                return;
            }
            out.truncate(start);
        }
        json::write_str(&self.fill(), out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        if !(self.has_none_of(xml::escaped) && self.pieces(|piece| write_url_piece(piece, out))) {
            xml::write_text(&self.fill(), out);
        }
    }
}

/// A piece of a report URL that needs no escaping.
#[inline(always)]
fn write_url_piece(piece: crate::world::avds::UrlPiece, out: &mut Vec<u8>) {
    match piece {
        crate::world::avds::UrlPiece::Text(text) => out.extend_from_slice(text.as_bytes()),
        crate::world::avds::UrlPiece::TaskId(id) => json::write_int(id, out),
    }
}

impl Scalar for crate::instant::EcsMinute {
    fn json(&self, out: &mut Vec<u8>) {
        self.quoted(out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        self.unquoted(out);
    }
}

impl Scalar for i64 {
    fn json(&self, out: &mut Vec<u8>) {
        json::write_int(*self, out);
    }
}

impl Scalar for u32 {
    fn json(&self, out: &mut Vec<u8>) {
        i64::from(*self).json(out);
    }
}

impl Scalar for usize {
    fn json(&self, out: &mut Vec<u8>) {
        i64::try_from(*self).unwrap_or(i64::MAX).json(out);
    }
}

impl Scalar for f64 {
    fn json(&self, out: &mut Vec<u8>) {
        json::write_float(*self, out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        xml::write_float(*self, out);
    }
}

/// A number of at most two decimals (a percentage such as `10.21`), held as its count of
/// hundredths (a whole `f64`): written as the `f64` `hundredths / 100` writes (JSON `100.0`,
/// XML `100`), but from its digits, not by the shortest-float search (issue 16: that search was
/// a twentieth of an AVDS page). Outside 0..=10,000 hundredths it is written as that `f64`.
/// A test holds the two ways equal for every count in range.
#[derive(Debug, Clone, Copy)]
pub struct Hundredths(pub f64);

impl Hundredths {
    /// The largest count written from its digits (100.00, a whole percentage).
    const MOST: u32 = 10_000;

    /// The count as whole and hundredths, when it is a whole count in range (not -0.0, not NaN).
    #[inline(always)]
    fn parts(self) -> Option<(u32, u32)> {
        let count = self.0 as u32;
        (f64::from(count) == self.0 && self.0.is_sign_positive() && count <= Self::MOST).then_some((count / 100, count % 100))
    }

    fn as_f64(self) -> f64 {
        self.0 / 100.0
    }
}

/// `.5`, `.05`, `.25`: the decimals of `cents` (1..=99) as the shortest float writes them.
#[inline(always)]
fn write_cents(cents: u32, out: &mut Vec<u8>) {
    if cents.is_multiple_of(10) {
        out.extend_from_slice(&[b'.', b'0' + (cents / 10) as u8]);
    } else {
        let [a, b] = json::PAIRS[cents as usize];
        out.extend_from_slice(&[b'.', a, b]);
    }
}

impl Scalar for Hundredths {
    fn json(&self, out: &mut Vec<u8>) {
        match self.parts() {
            Some((whole, 0)) => {
                json::write_int(i64::from(whole), out);
                out.extend_from_slice(b".0");
            }
            Some((whole, cents)) => {
                json::write_int(i64::from(whole), out);
                write_cents(cents, out);
            }
            None => json::write_float(self.as_f64(), out),
        }
    }
    fn xml(&self, out: &mut Vec<u8>) {
        match self.parts() {
            Some((whole, cents)) => {
                json::write_int(i64::from(whole), out);
                if cents != 0 {
                    write_cents(cents, out);
                }
            }
            None => xml::write_float(self.as_f64(), out),
        }
    }
}

impl Scalar for bool {
    fn json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl<T: Scalar + ?Sized> Scalar for &T {
    fn json(&self, out: &mut Vec<u8>) {
        (**self).json(out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        (**self).xml(out);
    }
}

/// A word of the code's own (a status, an action, `"true"`): written without looking for bytes
/// to escape, which it never has.
#[derive(Debug, Clone, Copy)]
pub struct Word(pub &'static str);

impl Scalar for Word {
    fn json(&self, out: &mut Vec<u8>) {
        json::write_plain(self.0, out);
    }
    fn xml(&self, out: &mut Vec<u8>) {
        xml::write_text(self.0, out);
    }
}

/// An object being written: its fields go straight to the output. In JSON every field writes a
/// comma before its key, and the first one's becomes the object's `{` when it closes: no "first
/// field?" test per field, and the comma, key and colon are one copy.
pub struct Object<'o, 'p> {
    format: Format,
    out: &'o mut Vec<u8>,
    /// JSON: where the object's `{` goes (its first field's comma, once there is one).
    start: usize,
    pins: Scope<'p>,
}

/// A list being written, under its key (which XML repeats for every item).
pub struct List<'o, 'k> {
    format: Format,
    out: &'o mut Vec<u8>,
    key: &'k str,
    first: bool,
}

/// What becomes of a field an operation writes.
enum Slot<'p> {
    Derived,
    /// Pinned to this value, or unset (`None`).
    Pinned(Option<&'p Value>),
}

impl<'o, 'p> Object<'o, 'p> {
    #[inline(always)]
    pub fn field(&mut self, key: &str, value: impl Scalar) -> &mut Self {
        match self.pins.slot(key) {
            Slot::Derived => self.scalar(key, &value),
            Slot::Pinned(pinned) => self.pinned(key, pinned),
        }
        self
    }

    /// A field that only some answers have: left out when `None`.
    #[inline(always)]
    pub fn field_some(&mut self, key: &str, value: Option<impl Scalar>) -> &mut Self {
        match value {
            Some(value) => self.field(key, value),
            None => self,
        }
    }

    pub fn object(&mut self, key: &str, fill: impl FnOnce(&mut Object)) -> &mut Self {
        match self.pins.slot(key) {
            Slot::Derived => {
                let pins = self.pins.under(key);
                match self.format {
                    Format::Json => {
                        self.key(key);
                        Object::write(Format::Json, self.out, pins, fill);
                    }
                    Format::Xml => {
                        xml::open(key, self.out);
                        Object::write(Format::Xml, self.out, pins, fill);
                        xml::close(key, self.out);
                    }
                }
            }
            Slot::Pinned(pinned) => self.pinned(key, pinned),
        }
        self
    }

    pub fn list(&mut self, key: &str, fill: impl FnOnce(&mut List)) -> &mut Self {
        match self.pins.slot(key) {
            Slot::Derived => match self.format {
                Format::Json => {
                    self.key(key);
                    self.out.push(b'[');
                    fill(&mut List { format: Format::Json, out: &mut *self.out, key, first: true });
                    self.out.push(b']');
                }
                Format::Xml => fill(&mut List { format: Format::Xml, out: &mut *self.out, key, first: true }),
            },
            Slot::Pinned(pinned) => self.pinned(key, pinned),
        }
        self
    }

    /// A list of scalars.
    pub fn values<T: Scalar>(&mut self, key: &str, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.list(key, |list| {
            for item in items {
                list.value(item);
            }
        })
    }

    #[inline(always)]
    fn scalar<S: Scalar + ?Sized>(&mut self, key: &str, value: &S) {
        match self.format {
            Format::Json => {
                self.key(key);
                value.json(self.out);
            }
            Format::Xml => {
                xml::open(key, self.out);
                value.xml(self.out);
                xml::close(key, self.out);
            }
        }
    }

    /// A field whose value a pin gives (or takes away), with any deeper pins applied to it.
    fn pinned(&mut self, key: &str, pinned: Option<&Value>) {
        let Some(value) = pinned else { return };
        let deeper = self.pins.under(key);
        let owned;
        let value = if deeper.pins.is_empty() {
            value
        } else {
            let mut copy = value.clone();
            for (path, pin) in &deeper.pins {
                pin_value(&mut copy, path, *pin);
            }
            owned = copy;
            &owned
        };
        match self.format {
            Format::Json => {
                self.escaped_key(key);
                json::write_value(value, self.out);
            }
            Format::Xml => xml::write_value(key, value, self.out),
        }
    }

    /// An object's fields, its pins applied; in JSON between braces (an XML object's element is
    /// its writer's).
    #[inline(always)]
    fn write(format: Format, out: &mut Vec<u8>, pins: Scope, fill: impl FnOnce(&mut Object)) {
        let mut object = Object { format, start: out.len(), out, pins };
        fill(&mut object);
        object.finish();
        if format == Format::Json {
            // The first field's comma is where the brace goes; an empty object writes its own.
            match object.out.get_mut(object.start) {
                Some(first) => *first = b'{',
                None => object.out.push(b'{'),
            }
            object.out.push(b'}');
        }
    }

    /// JSON: `,"key":` (the comma becomes the `{` for the first field). An operation's keys are
    /// its own literals, never in need of escaping, so they are copied as they are: laid out in a
    /// buffer of a constant size, which the compiler folds into a few stores for a literal key,
    /// copied whole and cut to length (issue 16: pushing the pieces one by one, each with its own
    /// capacity check, was a fifth of an HSS page).
    #[inline(always)]
    fn key(&mut self, key: &str) {
        const ROOM: usize = 32;
        let len = key.len() + 4;
        if len <= ROOM {
            let mut piece = [0u8; ROOM];
            piece[..2].copy_from_slice(b",\"");
            piece[2..len - 2].copy_from_slice(key.as_bytes());
            piece[len - 2..len].copy_from_slice(b"\":");
            let start = self.out.len();
            self.out.extend_from_slice(&piece);
            self.out.truncate(start + len);
        } else {
            self.out.extend_from_slice(b",\"");
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"\":");
        }
    }

    /// A scenario's key (a pin's), escaped.
    fn escaped_key(&mut self, key: &str) {
        self.out.push(b',');
        json::write_str(key, self.out);
        self.out.push(b':');
    }

    /// Adds the set pins no written field took, in pin order.
    #[inline(always)]
    fn finish(&mut self) {
        if !self.pins.pins.is_empty() {
            self.add_unused_pins();
        }
    }

    #[cold]
    fn add_unused_pins(&mut self) {
        let pins = &self.pins.pins;
        let added: Vec<&'p str> = pins
            .iter()
            .enumerate()
            .filter(|&(i, (key, value))| !self.pins.used[i] && !key.contains('.') && value.is_some() && !pins[..i].iter().any(|(k, _)| k == key))
            .map(|(_, (key, _))| *key)
            .collect();
        for key in added {
            let value = self.pins.last(key);
            self.pinned(key, value);
        }
    }
}

impl<'o, 'k> List<'o, 'k> {
    /// An item that is an object, with its own pins (a task's).
    pub fn object(&mut self, pins: &Pins, fill: impl FnOnce(&mut Object)) -> &mut Self {
        self.item(Scope::of(&[pins]), fill)
    }

    fn item(&mut self, pins: Scope, fill: impl FnOnce(&mut Object)) -> &mut Self {
        self.item_start();
        Object::write(self.format, self.out, pins, fill);
        self.item_end();
        self
    }

    pub fn value(&mut self, value: impl Scalar) -> &mut Self {
        self.item_start();
        match self.format {
            Format::Json => value.json(self.out),
            Format::Xml => value.xml(self.out),
        }
        self.item_end();
        self
    }

    #[inline(always)]
    fn item_start(&mut self) {
        match self.format {
            Format::Json => {
                if !std::mem::replace(&mut self.first, false) {
                    self.out.push(b',');
                }
            }
            Format::Xml => xml::open(self.key, self.out),
        }
    }

    #[inline(always)]
    fn item_end(&mut self) {
        if self.format == Format::Xml {
            xml::close(self.key, self.out);
        }
    }
}

/// The pins that apply to one object, by their path from it; empty (no allocation) for almost
/// every object.
#[derive(Default)]
struct Scope<'p> {
    pins: Vec<(&'p str, Option<&'p Value>)>,
    /// Which pins a written field took (the rest of the set ones are added at the end).
    used: Vec<bool>,
}

impl<'p> Scope<'p> {
    /// Inline, so that an object without pins (nearly every one) pays one check, not a call.
    #[inline(always)]
    fn of(sets: &[&'p Pins]) -> Scope<'p> {
        if sets.iter().all(|pins| pins.is_none()) {
            return Scope::default();
        }
        Scope::gather(sets)
    }

    #[cold]
    fn gather(sets: &[&'p Pins]) -> Scope<'p> {
        Scope::new(sets.iter().filter_map(|pins| pins.as_deref()).flatten().map(|(k, v)| (k.as_str(), v.as_ref())).collect())
    }

    fn new(pins: Vec<(&'p str, Option<&'p Value>)>) -> Scope<'p> {
        let used = vec![false; pins.len()];
        Scope { pins, used }
    }

    /// The field's fate: derived unless a pin names it (checked apart: almost no object has pins).
    #[inline(always)]
    fn slot(&mut self, key: &str) -> Slot<'p> {
        if self.pins.is_empty() {
            Slot::Derived
        } else {
            self.pinned_slot(key)
        }
    }

    /// The last pin naming the field wins (an unset after a set removes it).
    #[cold]
    fn pinned_slot(&mut self, key: &str) -> Slot<'p> {
        let mut slot = Slot::Derived;
        for (i, (k, v)) in self.pins.iter().enumerate() {
            if *k == key {
                self.used[i] = true;
                slot = Slot::Pinned(*v);
            }
        }
        slot
    }

    fn last(&self, key: &str) -> Option<&'p Value> {
        self.pins.iter().rev().find(|(k, _)| *k == key).and_then(|(_, v)| *v)
    }

    /// The pins under `key.`, for the object written there.
    fn under(&self, key: &str) -> Scope<'p> {
        if self.pins.is_empty() {
            return Scope::default();
        }
        Scope::new(self.pins.iter().filter_map(|(path, v)| Some((path.strip_prefix(key)?.strip_prefix('.')?, *v))).collect())
    }
}

/// Applies one pin to a pinned value itself (a field pinned whole, and deeper pins under it).
fn pin_value(value: &mut Value, path: &str, pin: Option<&Value>) {
    let Value::Object(fields) = value else { return };
    match path.split_once('.') {
        Some((head, rest)) => {
            if let Some(child) = fields.get_mut(head) {
                pin_value(child, rest, pin);
            }
        }
        None => match pin {
            Some(pin) => {
                fields.insert(path.to_string(), pin.clone());
            }
            None => {
                fields.remove(path);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn pins(list: &[(&str, Option<Value>)]) -> Pins {
        Some(Arc::from(list.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Vec<_>>()))
    }

    fn task_page(format: Format, root_pins: &Pins, task_pins: &Pins) -> String {
        let bytes = document(format, "R", &[root_pins], |o| {
            o.field("Total", 2i64).field("Id", "a<b").object("Set", |o| {
                o.list("Task", |l| {
                    l.object(task_pins, |o| {
                        o.field("TaskId", "t-1").field("Progress", 10.5f64).field_some("End", None::<i64>).values("Tags", ["x", "y"]);
                    });
                    l.object(&None, |o| {
                        o.field("TaskId", "t-2").field("Done", true);
                    });
                });
            });
        });
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn json_is_compact_in_written_order_with_lists() {
        assert_eq!(
            task_page(Format::Json, &None, &None),
            r#"{"Total":2,"Id":"a<b","Set":{"Task":[{"TaskId":"t-1","Progress":10.5,"Tags":["x","y"]},{"TaskId":"t-2","Done":true}]}}"#
        );
    }

    #[test]
    fn xml_repeats_list_elements_and_escapes_text() {
        assert_eq!(
            task_page(Format::Xml, &None, &None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><R><Total>2</Total><Id>a&lt;b</Id><Set><Task><TaskId>t-1</TaskId><Progress>10.5</Progress><Tags>x</Tags><Tags>y</Tags></Task><Task><TaskId>t-2</TaskId><Done>true</Done></Task></Set></R>"
        );
    }

    #[test]
    fn pins_replace_in_place_remove_add_at_the_end_and_reach_into_objects() {
        let task = pins(&[("End", Some(serde_json::json!(99))), ("Progress", Some(serde_json::json!("half"))), ("Tags", None)]);
        let root = pins(&[("Set.Extra", Some(serde_json::json!({"a": [1, null]}))), ("Total", Some(serde_json::json!(7))), ("Id", None)]);
        assert_eq!(
            task_page(Format::Json, &root, &task),
            r#"{"Total":7,"Set":{"Task":[{"TaskId":"t-1","Progress":"half","End":99},{"TaskId":"t-2","Done":true}],"Extra":{"a":[1,null]}}}"#
        );
        assert_eq!(
            task_page(Format::Xml, &root, &task),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><R><Total>7</Total><Set><Task><TaskId>t-1</TaskId><Progress>half</Progress><End>99</End></Task><Task><TaskId>t-2</TaskId><Done>true</Done></Task><Extra><a>1</a></Extra></Set></R>"
        );
    }

    #[test]
    fn a_field_pinned_whole_takes_deeper_pins_and_the_last_pin_wins() {
        let root = pins(&[("Set", Some(serde_json::json!({"Keep": 1, "Drop": 2}))), ("Set.Drop", None), ("Set.New", Some(serde_json::json!("n"))), ("Id", Some(serde_json::json!("x"))), ("Id", None)]);
        assert_eq!(task_page(Format::Json, &root, &None), r#"{"Total":2,"Set":{"Keep":1,"New":"n"}}"#);
    }

    #[test]
    fn a_pinned_key_is_escaped() {
        let added = pins(&[("say \"hi\"", Some(serde_json::json!(1)))]);
        let bytes = document(Format::Json, "R", &[&added], |o| {
            o.field("A", 0i64);
        });
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"A":0,"say \"hi\"":1}"#);
    }

    #[test]
    fn a_later_set_of_pins_wins() {
        let item = pins(&[("A", Some(serde_json::json!(1))), ("B", Some(serde_json::json!(2)))]);
        let answer = pins(&[("A", Some(serde_json::json!(3))), ("B", None)]);
        let bytes = document(Format::Json, "R", &[&item, &answer], |o| {
            o.field("A", 0i64).field("C", 0i64);
        });
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"A":3,"C":0}"#);
    }

    /// Every count of hundredths the fast way writes, and a few it leaves to the float writers,
    /// as the float `count / 100` is written in JSON (serde_json) and in XML (`Display`).
    #[test]
    fn hundredths_are_written_as_their_float() {
        let counts = (0..=Hundredths::MOST).map(f64::from).chain([-0.0, -1.0, 10_001.0, 12_345_678.0, 0.5, f64::NAN, f64::INFINITY]);
        for count in counts {
            let value = count / 100.0;
            let mut json = Vec::new();
            Hundredths(count).json(&mut json);
            assert_eq!(String::from_utf8(json).unwrap(), if value.is_finite() { serde_json::to_string(&value).unwrap() } else { "null".into() }, "{count}");
            let mut xml = Vec::new();
            Hundredths(count).xml(&mut xml);
            assert_eq!(String::from_utf8(xml).unwrap(), value.to_string(), "{count}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// A report URL written from its pieces is what the filled URL written as text is, in
        /// JSON and XML, for templates and scan ids with braces, placeholders, escapes and
        /// non-ASCII in them.
        #[test]
        fn report_urls_write_as_their_filled_text(
            template in proptest::collection::vec(proptest::sample::select(vec!["{ScanId}", "{TaskId}", "{", "}", "Id}", "{Task", "https://r/", ".pdf", "\"", "<&>", "é", "\u{1}", "\r"]), 0..6),
            scan_id in proptest::collection::vec(proptest::sample::select(vec!["s-1", "{", "}", "TaskId", "Id", "\"", "<", "é", "0123456789abcdef-0123"]), 0..4),
            task_id in proptest::prelude::any::<i64>(),
        ) {
            let (template, scan_id) = (crate::world::Shared::from(template.concat().as_str()), crate::world::Text::new(&scan_id.concat()));
            let url = crate::world::avds::ReportUrl::new(&template, &scan_id, task_id);
            let filled = template.replace("{ScanId}", &scan_id).replace("{TaskId}", &task_id.to_string());
            proptest::prop_assert_eq!(url.fill(), filled.clone());
            let (mut json, mut want_json, mut xml, mut want_xml) = (b"x".to_vec(), b"x".to_vec(), b"x".to_vec(), b"x".to_vec());
            url.json(&mut json);
            filled.as_str().json(&mut want_json);
            url.xml(&mut xml);
            filled.as_str().xml(&mut want_xml);
            proptest::prop_assert_eq!(json, want_json);
            proptest::prop_assert_eq!(xml, want_xml);
        }
    }

    #[test]
    fn json_text_is_an_array_in_a_string() {
        let text = json_text(|l| {
            l.object(&None, |o| {
                o.field("type", "ecs").field("name", "web \"1\"");
            });
        });
        assert_eq!(text, r#"[{"type":"ecs","name":"web \"1\""}]"#);
    }
}
