//! URL and form decoding, the edges' (and what the signature checks, the journal, the control
//! API and the client use): percent-encoding as both clouds' signers do, form-encoded pairs, and
//! which bodies are forms. [`Pairs`] decodes as [`form_decode`] does but into one buffer: an SDK
//! request carries a dozen or more, and a `String` for each name and value was a tenth of a
//! request's cost (issue 6). Both edges read their parameters through it.

use std::borrow::Cow;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters: the only bytes both clouds leave unencoded when signing.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` as both clouds' signers do (RFC 3986): `A-Z a-z 0-9 - _ . ~` stay, every other
/// UTF-8 byte becomes `%XX` in upper-case hex (space is `%20`, never `+`).
pub fn pct(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes an `application/x-www-form-urlencoded` string (a query string or a form body) into pairs,
/// in wire order.
///
/// Pairs are split on `&`, then on the first `=`; a pair without `=` has the value `""` and empty
/// segments are skipped. `+` means space, because the Tea SDKs encode spaces that way. A malformed
/// escape (`%zz`, a lone `%`) is kept literally, and bytes that are not UTF-8 after decoding become
/// U+FFFD, so a hostile query still yields something to sign (and fail) rather than an error.
pub fn form_decode(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (unescape(key, true), unescape(value, true))
        })
        .collect()
}

/// Percent-decodes one component; `plus_is_space` selects form semantics (paths keep `+`).
pub(crate) fn unescape(s: &str, plus_is_space: bool) -> String {
    let mut out = String::with_capacity(s.len());
    unescape_into(s, plus_is_space, &mut out);
    out
}

/// [`unescape`], appended to `out`: plain text (most names and values) is copied as it is.
pub(crate) fn unescape_into(s: &str, plus_is_space: bool, out: &mut String) {
    if !s.bytes().any(|b| b == b'%' || (plus_is_space && b == b'+')) {
        out.push_str(s);
        return;
    }
    let s: Cow<'_, str> = if plus_is_space && s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    out.push_str(&percent_decode_str(&s).decode_utf8_lossy());
}

/// The one rule for which bodies are forms, shared by the RPC v1 signature (which covers a form's
/// parameters) and the Alibaba edge (which reads them): two rules that disagree would let a caller
/// slip unsigned parameters into a signed request.
///
/// A body is a form exactly when the media type (the content type before any `;` parameters, such
/// as the `; charset=UTF-8` the Tea AVDS SDK sends), trimmed, is `application/x-www-form-urlencoded`
/// in any case: `application/x-www-form-urlencoded-x` is not one.
pub fn form_body<'b>(content_type: Option<&str>, body: &'b [u8]) -> Option<&'b [u8]> {
    const FORM: &str = "application/x-www-form-urlencoded";
    let media = content_type?.split(';').next()?.trim();
    media.eq_ignore_ascii_case(FORM).then_some(body)
}


/// Pairs in wire order; a repeated name keeps every value (lookups take the first).
#[derive(Debug, Default, Clone)]
pub struct Pairs {
    text: String,
    /// Name and value, as byte ranges of `text`.
    spans: Vec<(Span, Span)>,
    /// A bit per name given ([`name_bit`]): an operation asks for a dozen names a request mostly
    /// does not have, and those are answered without a look at the pairs.
    names: u64,
    /// Whether a name may have a `.` in it (one did, or had escapes): repeated lists
    /// (`StatusList.1`) are looked for only then.
    dotted: bool,
}

/// A name's bit in [`Pairs::names`], from its length and first byte (names that share one are
/// told apart by comparing them).
#[inline]
fn name_bit(name: &str) -> u64 {
    let first = name.as_bytes().first().copied().unwrap_or(0);
    1 << ((name.len() + usize::from(first)) & 63)
}

type Span = (u32, u32);

/// A [`Pairs`]' two buffers, as a spare list keeps them.
type Buffers = (String, Vec<(Span, Span)>);

/// The largest buffers a dropped [`Pairs`] gives back: a huge form does not stay held.
const LARGEST_SPARE_TEXT: usize = 16 * 1024;
const LARGEST_SPARE_SPANS: usize = 256;

thread_local! {
    /// What dropped pairs gave back ([`super::spare`]): two allocations a request fewer.
    static SPARE: std::cell::RefCell<Vec<Buffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Pairs {
    fn drop(&mut self) {
        super::spare::give_text(&SPARE, std::mem::take(&mut self.text), std::mem::take(&mut self.spans), LARGEST_SPARE_TEXT, LARGEST_SPARE_SPANS);
    }
}

impl Pairs {
    /// The pairs of each `a=1&b=2` string in turn.
    pub fn decode(sources: &[&str]) -> Pairs {
        let size = sources.iter().map(|s| s.len()).sum();
        let (mut text, mut spans) = super::spare::take(&SPARE);
        text.reserve(size);
        spans.reserve(16);
        let mut pairs = Pairs { text, spans, names: 0, dotted: false };
        for raw in sources {
            pairs.add(raw);
        }
        pairs
    }

    /// Empty segments are skipped; a name alone has an empty value. One pass over the bytes
    /// finds the separators and whether each part has anything to decode: a plain part (most
    /// names and values) is copied as it is (issue 16: splitting, then scanning each part again,
    /// was most of reading a request's parameters).
    fn add(&mut self, raw: &str) {
        let bytes = raw.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            let mut end = start;
            let mut equals = None;
            // Whether the name, the value, has a `%` or a `+` to decode.
            let mut encoded = [false, false];
            while let Some(&byte) = bytes.get(end) {
                match byte {
                    b'&' => break,
                    b'=' if equals.is_none() => equals = Some(end),
                    b'%' | b'+' => encoded[usize::from(equals.is_some())] = true,
                    b'.' if equals.is_none() => self.dotted = true,
                    _ => {}
                }
                end += 1;
            }
            if end > start {
                // `&` and `=` are ASCII: every cut is on a character boundary.
                let (name_end, value_start) = equals.map_or((end, end), |at| (at, at + 1));
                let name = self.push(&raw[start..name_end], encoded[0]);
                let value = self.push(&raw[value_start..end], encoded[1]);
                self.names |= name_bit(self.text(name));
                self.dotted |= encoded[0];
                self.spans.push((name, value));
            }
            start = end + 1;
        }
    }

    fn push(&mut self, component: &str, encoded: bool) -> Span {
        let start = self.text.len();
        if encoded {
            unescape_into(component, true, &mut self.text);
        } else {
            self.text.push_str(component);
        }
        // Requests are capped far below 4 GiB.
        (start as u32, self.text.len() as u32)
    }

    fn text(&self, (start, end): Span) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Every name and value, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|(name, value)| (self.text(*name), self.text(*value)))
    }

    /// Whether any name may have a `.` in it: when not, no `Name.N` list was given.
    pub fn may_have_dotted_names(&self) -> bool {
        self.dotted
    }

    /// The first value given for `name`, empty or not.
    pub fn first(&self, name: &str) -> Option<&str> {
        if self.names & name_bit(name) == 0 {
            return None;
        }
        // Lengths first: most names differ in length, and those need no slicing or comparing.
        self.spans.iter().find(|(k, _)| (k.1 - k.0) as usize == name.len() && self.text(*k) == name).map(|(_, v)| self.text(*v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_as_form_decode_does() {
        let raw = "a=1&&b&c=x+y%2B%zz%E4%B8%AD&%41=&=v&d=%FF&e=%&a=2";
        let pairs = Pairs::decode(&[raw, "f=last"]);
        let decoded: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut expected = form_decode(raw);
        expected.push(("f".into(), "last".into()));
        assert_eq!(decoded, expected);
        assert_eq!(pairs.first("c"), Some("x y+%zz中"));
        assert_eq!((pairs.first("a"), pairs.first("b"), pairs.first("zz")), (Some("1"), Some(""), None));
    }

    #[test]
    fn dropped_pairs_lend_their_buffers_to_the_next_empty() {
        let first = Pairs::decode(&["a=1&b=2"]);
        let address = first.text.as_ptr();
        drop(first);
        let second = Pairs::decode(&["c=3"]);
        assert_eq!(second.text.as_ptr(), address, "the same buffer, reused");
        assert_eq!(second.iter().collect::<Vec<_>>(), [("c", "3")], "and emptied first");
        drop(second);
        let huge = Pairs::decode(&[&"x".repeat(LARGEST_SPARE_TEXT + 1)]);
        let address = huge.text.as_ptr();
        drop(huge);
        let (kept, _) = super::super::spare::take(&SPARE);
        assert_ne!(kept.as_ptr(), address, "too big to keep");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// The one-pass reader splits and decodes exactly as `form_decode` does, whatever the
        /// separators, escapes and non-ASCII text.
        #[test]
        fn pairs_match_form_decode_on_any_input(raw in "([a-c=&%+.2BE4é中]|%[0-9A-Fa-f]{2}|%2[eE]|%zz){0,24}", second in "[a=&+%]{0,6}") {
            let pairs = Pairs::decode(&[&raw, &second]);
            let decoded: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let mut expected = form_decode(&raw);
            expected.extend(form_decode(&second));
            for (name, value) in &expected {
                let first = expected.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
                proptest::prop_assert_eq!(pairs.first(name), first, "{} in {:?}", name, value);
            }
            proptest::prop_assert_eq!(pairs.first("absent name"), None);
            if expected.iter().any(|(k, _)| k.contains('.')) {
                proptest::prop_assert!(pairs.may_have_dotted_names());
            }
            proptest::prop_assert_eq!(decoded, expected);
        }
    }
}
