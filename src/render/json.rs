//! JSON's pieces, written into a byte buffer: strings (escaped only when they must be), whole
//! numbers without `fmt`, floats and pinned values as serde_json writes them.

use crate::world::text::json_escaped;

#[inline]
pub(crate) fn write_str(text: &str, out: &mut Vec<u8>) {
    // Ids, names and instants seldom need escaping: copy those as they are.
    if !json_escaped(text.as_bytes()) {
        write_plain(text, out);
        return;
    }
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Text known to need no escaping, between quotes.
#[inline]
pub(crate) fn write_plain(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// A whole number in decimal, without going through `fmt`, two digits at a time (instants are
/// 13 digits, and HSS answers carry a few a task: issue 16 found the digit-by-digit loop a fifth
/// of an HSS page).
#[inline]
pub(crate) fn write_int(n: i64, out: &mut Vec<u8>) {
    const PAIRS: &[u8; 200] = b"\
        0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    // i64::MIN: 19 digits and its sign.
    let mut buffer = [0u8; 20];
    let mut at = buffer.len();
    let mut rest = n.unsigned_abs();
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        buffer[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        buffer[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buffer[at] = b'0' + rest as u8;
    }
    if n < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    out.extend_from_slice(&buffer[at..]);
}

pub(crate) fn write_float(f: f64, out: &mut Vec<u8>) {
    if f.is_finite() {
        // Writing a number into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &f);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A pinned value, as the scenario gave it.
pub(crate) fn write_value(value: &serde_json::Value, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out);
        out
    }

    #[test]
    fn strings_and_numbers_match_serde_json() {
        for text in ["", "plain", "0123456789abcdef\"", "0123456\u{7f}\u{80}é\u{1f}", "a long string of plain text, no escapes at all", "quo\"te", "back\\slash", "tab\there", "\u{1}\u{1f}", "ünïcode ✓", "</script>"] {
            assert_eq!(String::from_utf8(written(|out| write_str(text, out))).unwrap(), serde_json::to_string(text).unwrap());
            let as_text = crate::world::Text::new(text);
            assert_eq!(String::from_utf8(written(|out| crate::render::Scalar::json(&as_text, out))).unwrap(), serde_json::to_string(text).unwrap());
        }
        let mut numbers = vec![0, 7, -7, 9, 10, 99, 100, 101, 999, 1000, -10, -99, -100, 1_745_311_451_000, i64::MAX, i64::MIN, i64::MIN + 1];
        numbers.extend((0..19).flat_map(|p| [10i64.pow(p) - 1, 10i64.pow(p), 10i64.pow(p) + 1, -(10i64.pow(p))]));
        for n in numbers {
            assert_eq!(String::from_utf8(written(|out| write_int(n, out))).unwrap(), n.to_string());
        }
        for f in [10.21, 100.0, -0.5, 1e300] {
            assert_eq!(String::from_utf8(written(|out| write_float(f, out))).unwrap(), serde_json::to_string(&f).unwrap());
        }
        assert_eq!(written(|out| write_float(f64::NAN, out)), b"null");
    }
}
