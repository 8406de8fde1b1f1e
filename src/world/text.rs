//! [`Text`]: the immutable string tasks keep their ids, names and values in. A million tasks
//! each holding a few `String`s spend more on the 24-byte headers and the allocator than on the
//! text; `Text` is 24 bytes too but keeps up to 22 bytes inline (an ECS task id, a resource id, a
//! SAS id, most names), and only longer text (a UUID) goes to the heap, without spare capacity.
//! Both know from their making whether JSON must escape them, so answers do not scan for it.
//! [`Shared`] is the text many tasks share (a region, a project, an owner's key, a report URL
//! template) behind a thin pointer, and [`Term`] a word of a closed vocabulary (an action, a type) kept as its place in it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

const INLINE: usize = 22;

#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `len`'s top bit says the text needs JSON escaping (see [`Text::json_plain`]).
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap { text: Box<str>, escaped: bool },
}

/// `Inline::len`'s flag bit.
const ESCAPED: u8 = 0x80;

impl Text {
    /// Text from `N` bytes a generator wrote (an id, a UUID): checked to be ASCII, and for JSON
    /// escaping, over a length known when compiled, so that neither is a loop (a generated
    /// load makes a million; `new`'s UTF-8 check and copies were a tenth of its time). Bytes
    /// that are not ASCII are taken as [`new`](Self::new) takes their lossy text.
    #[inline]
    pub fn ascii<const N: usize>(bytes: [u8; N]) -> Text {
        let (ascii, escaped) = ascii_and_escaped(&bytes);
        if !ascii {
            return Text::new(&String::from_utf8_lossy(&bytes));
        }
        if N <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..N].copy_from_slice(&bytes);
            Text(Repr::Inline { len: N as u8 | if escaped { ESCAPED } else { 0 }, bytes: inline })
        } else {
            // SAFETY: ASCII (checked above) is UTF-8.
            let text: Box<str> = unsafe { std::str::from_utf8_unchecked(&bytes) }.into();
            Text(Repr::Heap { text, escaped })
        }
    }

    pub fn new(text: &str) -> Text {
        if text.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            let flag = if json_escaped(text.as_bytes()) { ESCAPED } else { 0 };
            Text(Repr::Inline { len: text.len() as u8 | flag, bytes })
        } else {
            Text(Repr::Heap { text: text.into(), escaped: json_escaped(text.as_bytes()) })
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: the bytes were copied from a `&str` whole (`new`) or checked to be ASCII (`ascii`), so they are UTF-8.
            Repr::Inline { len, bytes } => unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len & !ESCAPED)]) },
            Repr::Heap { text, .. } => text,
        }
    }

    /// Whether the text goes into JSON as it is, between quotes: found once when it is made,
    /// so that answers do not look again (issue 6: the check was a tenth of writing a page).
    pub fn json_plain(&self) -> bool {
        match &self.0 {
            Repr::Inline { len, .. } => len & ESCAPED == 0,
            Repr::Heap { escaped, .. } => !escaped,
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::new("")
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::new(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        if text.len() <= INLINE {
            Text::new(&text)
        } else {
            let escaped = json_escaped(text.as_bytes());
            Text(Repr::Heap { text: text.into_boxed_str(), escaped })
        }
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Text {
        Text::new(text)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.as_str().to_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

/// Text shared by many tasks (one copy per region, project or owner key, see
/// [`Interner`](super::Interner)): 8 bytes a task where an `Arc<str>` is 16, for one more hop
/// when it is read (by the few queries that compare it; partitions are keyed at load). Like
/// [`Text`], it knows from its making whether JSON must escape it.
#[derive(Clone)]
pub struct Shared(Arc<SharedText>);

struct SharedText {
    text: Box<str>,
    json_escaped: bool,
}

impl Shared {
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// Whether both are the one copy (the interner's), not just equal text.
    pub fn ptr_eq(&self, other: &Shared) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether the text has nothing JSON must escape (known without a look at its bytes).
    pub fn json_plain(&self) -> bool {
        !self.0.json_escaped
    }
}

impl From<&str> for Shared {
    fn from(text: &str) -> Shared {
        Shared(Arc::new(SharedText { text: text.into(), json_escaped: json_escaped(text.as_bytes()) }))
    }
}

/// Text and Shared read, compare, order, hash, print, debug-print and serialize as the text they
/// hold (so that `Borrow<str>` keeps its promise: equal and hashed alike as the `str`).
macro_rules! as_text {
    ($($kind:ty),*) => {$(
        impl Deref for $kind {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $kind {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $kind {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq for $kind {
            fn eq(&self, other: &$kind) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $kind {}

        impl PartialOrd for $kind {
            fn partial_cmp(&self, other: &$kind) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $kind {
            fn cmp(&self, other: &$kind) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl Hash for $kind {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }

        impl fmt::Debug for $kind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $kind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $kind {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}

as_text!(Text, Shared);

/// A closed vocabulary a task field takes its word from.
pub trait Words: 'static {
    const WORDS: &'static [&'static str];
}

/// One word of a closed vocabulary ([`Words`]), kept as its place in it: 1 byte a task where the
/// `&'static str` it stands for is 16. [`name`](Term::name) gives the word back.
pub struct Term<W>(u8, PhantomData<fn() -> W>);

impl<W: Words> Term<W> {
    /// The word's term; None when it is not one of the vocabulary's.
    pub fn of(word: &str) -> Option<Term<W>> {
        let at = W::WORDS.iter().position(|w| *w == word)?;
        Some(Term(u8::try_from(at).ok()?, PhantomData))
    }

    /// The term of a word the parser already checked against the vocabulary (the first word
    /// for any other, which cannot reach here).
    pub fn known(word: &str) -> Term<W> {
        Term::of(word).unwrap_or(Term(0, PhantomData))
    }

    pub fn name(self) -> &'static str {
        W::WORDS.get(usize::from(self.0)).copied().unwrap_or_default()
    }
}

impl<W> Clone for Term<W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W> Copy for Term<W> {}

impl<W> PartialEq for Term<W> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<W> Eq for Term<W> {}

impl<W: Words> fmt::Debug for Term<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.name(), f)
    }
}

impl<W: Words> serde::Serialize for Term<W> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Whether a string has a byte JSON escapes (a control character, `"` or `\\`), eight bytes at
/// a time (the "has a byte less than n" word tricks).
/// Eight bytes at a time ("SWAR"), for the byte checks of short texts (ids, names, URLs), where
/// a library searcher costs more to set up than the search. A flag is a byte's high bit; the
/// lowest flagged byte is always a true one (a borrow only runs upwards), so "any" and "first"
/// are exact.
pub(crate) mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

    /// The bytes of `w` below `n` (at most 0x80).
    #[inline(always)]
    pub(crate) fn below(w: u64, n: u8) -> u64 {
        w.wrapping_sub(u64::from(n) * ONES) & !w & HIGH
    }

    /// The bytes of `w` equal to `byte`.
    #[inline(always)]
    pub(crate) fn equal(w: u64, byte: u8) -> u64 {
        below(w ^ (u64::from(byte) * ONES), 1)
    }

    /// The bytes JSON escapes: controls, `"` and `\`.
    #[inline(always)]
    pub(crate) fn json_escaped(w: u64) -> u64 {
        below(w, 0x20) | equal(w, b'"') | equal(w, b'\\')
    }

    /// `bytes` eight at a time (little-endian words), and the bytes left over.
    #[inline(always)]
    pub(crate) fn words(bytes: &[u8]) -> (impl Iterator<Item = u64> + '_, &[u8]) {
        let chunks = bytes.chunks_exact(8);
        let rest = chunks.remainder();
        let words = chunks.map(|chunk| {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        });
        (words, rest)
    }
}

/// Whether `bytes` are all ASCII, and whether any needs JSON escaping: eight bytes a step as
/// [`json_escaped`] looks, the last ones padded with a plain letter; for [`Text::ascii`], whose
/// length is known when compiled, a few steps without a loop.
#[inline]
fn ascii_and_escaped(bytes: &[u8]) -> (bool, bool) {
    let (mut high, mut escaped) = (0u64, 0u64);
    let (words, rest) = swar::words(bytes);
    for w in words {
        high |= w;
        escaped |= swar::json_escaped(w);
    }
    if !rest.is_empty() {
        let mut word = [b'a'; 8];
        word[..rest.len()].copy_from_slice(rest);
        let w = u64::from_le_bytes(word);
        high |= w;
        escaped |= swar::json_escaped(w);
    }
    (high & swar::HIGH == 0, escaped != 0)
}

pub fn json_escaped(bytes: &[u8]) -> bool {
    let (mut words, rest) = swar::words(bytes);
    words.any(|w| swar::json_escaped(w) != 0) || rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_check_finds_every_escaped_byte() {
        for len in 1..20 {
            for at in 0..len {
                for b in (0u8..=255).filter(|b| *b < 0x80) {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(json_escaped(&bytes), b < 0x20 || b == b'"' || b == b'\\', "{bytes:?}");
                }
                let mut bytes = "é".repeat(len).into_bytes();
                bytes[at] = b'"';
                assert!(json_escaped(&bytes));
            }
            assert!(!json_escaped("é".repeat(len).as_bytes()));
        }
    }

    #[test]
    fn text_knows_whether_json_must_escape_it_and_keeps_its_size() {
        for (text, plain) in [("t-1", true), ("quo\"te", false), ("8a1b2c3d-0000-4000-8000-000000000001", true), ("a long name with a \\ backslash", false), ("tab\there", false), ("", true)] {
            let made = Text::new(text);
            assert_eq!((made.json_plain(), made.as_str()), (plain, text), "{text:?}");
            assert_eq!(Text::from(text.to_string()).json_plain(), plain, "{text:?}");
        }
    }

    struct Colours;
    impl Words for Colours {
        const WORDS: &'static [&'static str] = &["red", "green"];
    }

    #[test]
    fn terms_and_shared_text_are_thin_and_read_back() {
        assert_eq!(std::mem::size_of::<Term<Colours>>(), 1);
        assert_eq!(std::mem::size_of::<Shared>(), 8);
        assert_eq!(std::mem::size_of::<Option<Shared>>(), 8);
        assert_eq!(Term::<Colours>::of("green").map(Term::name), Some("green"));
        assert_eq!(Term::<Colours>::of("blue"), None);
        assert_eq!(Term::<Colours>::known("red").name(), "red");
        let shared = Shared::from("cn-hangzhou");
        assert_eq!((&*shared, shared.clone().ptr_eq(&shared)), ("cn-hangzhou", true));
    }

    #[test]
    fn short_text_is_inline_and_long_text_is_whole() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
        assert_eq!(std::mem::size_of::<Option<Text>>(), 24);
        for s in ["", "t-bp1demo0000waiting01", "8a1b2c3d-0000-4000-8000-000000000001", "héllo wörld, ünïcode", "x".repeat(23).as_str()] {
            let t = Text::new(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(Text::from(s.to_string()), t);
            assert_eq!(t, s);
        }
        assert!(matches!(Text::new("t-bp1demo0000waiting01").0, Repr::Inline { .. }));
        assert!(matches!(Text::new("8a1b2c3d-0000-4000-8000-000000000001").0, Repr::Heap { .. }));
        assert_eq!(serde_json::to_string(&Text::new("a\"b")).unwrap(), r#""a\"b""#);
    }

    #[test]
    fn ascii_text_is_the_text_new_makes() {
        assert!(matches!(Text::ascii(*b"t-bp1demo0000waiting01").0, Repr::Inline { len: 22, .. }));
        assert!(matches!(Text::ascii(*b"8a1b2c3d-0000-4000-8000-000000000001").0, Repr::Heap { .. }));
        for bytes in [b"8a1b2c3d-0000-4000-8000-000000000001".to_vec(), b"quo\"te".to_vec(), b"plain".to_vec()] {
            let text = std::str::from_utf8(&bytes).unwrap();
            let made = match bytes.len() {
                36 => Text::ascii(<[u8; 36]>::try_from(bytes.as_slice()).unwrap()),
                6 => Text::ascii(<[u8; 6]>::try_from(bytes.as_slice()).unwrap()),
                _ => Text::ascii(<[u8; 5]>::try_from(bytes.as_slice()).unwrap()),
            };
            assert_eq!((made.as_str(), made.json_plain()), (text, Text::new(text).json_plain()));
        }
        assert_eq!(Text::ascii([b'a', 0xff]).as_str(), "a\u{fffd}");
        for text in ["", "a", "t-bp1", "1234567", "12345678", "123456789", "quo\"te", "back\\slash", "tab\there", "\u{7f}x", "x\u{1f}"] {
            assert_eq!(ascii_and_escaped(text.as_bytes()), (true, json_escaped(text.as_bytes())), "{text:?}");
        }
        assert!(!ascii_and_escaped("héllo".as_bytes()).0);
    }
}
