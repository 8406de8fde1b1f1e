//! JSON's pieces, written into a byte buffer: strings (escaped only when they must be), whole
//! numbers without `fmt`, floats and pinned values as serde_json writes them.

pub(crate) use crate::instant::TWO_DIGITS as PAIRS;
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

/// Text known to need no escaping, between quotes. Ids, names and words are short: one of up to
/// [`SHORT`] bytes is laid out in a fixed buffer by copies of fixed sizes (two that overlap cover
/// any length between one size and twice it), which is copied whole and cut to length: no call to
/// `memcpy` for a copy of a dozen bytes (issue 16).
#[inline]
pub(crate) fn write_plain(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let len = bytes.len();
    if len > SHORT {
        out.reserve(len + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut piece = [0u8; SHORT + 2];
    piece[0] = b'"';
    if len >= 16 {
        piece[1..17].copy_from_slice(&bytes[..16]);
        piece[len - 15..len + 1].copy_from_slice(&bytes[len - 16..]);
    } else if len >= 8 {
        piece[1..9].copy_from_slice(&bytes[..8]);
        piece[len - 7..len + 1].copy_from_slice(&bytes[len - 8..]);
    } else if len >= 4 {
        piece[1..5].copy_from_slice(&bytes[..4]);
        piece[len - 3..len + 1].copy_from_slice(&bytes[len - 4..]);
    } else {
        for (i, &b) in bytes.iter().enumerate() {
            piece[1 + i] = b;
        }
    }
    piece[len + 1] = b'"';
    let start = out.len();
    out.extend_from_slice(&piece);
    out.truncate(start + len + 2);
}

/// The longest text [`write_plain`] copies by fixed sizes.
const SHORT: usize = 32;

/// 10^i, for counting a number's digits.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// A whole number in decimal, without going through `fmt` (instants are 13 digits, and HSS
/// answers carry a few a task: issue 16 found integers a fifth of an HSS page). The digits are
/// laid out in a fixed buffer copied whole and then cut to length: a copy of a constant size is
/// a few stores, where one of the number's own length was a call to `memcpy`. Counters of one or
/// two digits, instants (13 digits: 2001 to 2286) and small numbers (statuses such as `-3` and
/// `100`) each take a way of their own, none with the general way's stack frame.
#[inline]
pub(crate) fn write_int(n: i64, out: &mut Vec<u8>) {
    if (0..100).contains(&n) {
        if n < 10 {
            out.push(b'0' + n as u8);
        } else {
            out.extend_from_slice(&PAIRS[n as usize]);
        }
        return;
    }
    write_other_int(n, out);
}

/// Four digits of `n` (below 10,000), zeros in front.
#[inline(always)]
fn four_digits(n: u32) -> [u8; 4] {
    let [a, b] = PAIRS[(n / 100 % 100) as usize];
    let [c, d] = PAIRS[(n % 100) as usize];
    [a, b, c, d]
}

/// [`write_int`] for the rest: picks the way.
#[inline(never)]
fn write_other_int(n: i64, out: &mut Vec<u8>) {
    const INSTANTS: std::ops::Range<i64> = 1_000_000_000_000..10_000_000_000_000;
    const IDS: std::ops::Range<i64> = 100_000_000..1_000_000_000_000;
    if INSTANTS.contains(&n) {
        write_instant(n as u64, out);
    } else if IDS.contains(&n) {
        write_id(n as u64, out);
    } else if (-99..1000).contains(&n) {
        write_small_int(n, out);
    } else {
        write_long_int(n, out);
    }
}

/// 13 digits, as 5 + 8 at fixed places, in 32-bit arithmetic.
#[inline(never)]
fn write_instant(n: u64, out: &mut Vec<u8>) {
    let high = (n / 100_000_000) as u32;
    let low = (n % 100_000_000) as u32;
    let [a, b, c, d] = four_digits(high % 10_000);
    let [e, f, g, h] = four_digits(low / 10_000);
    let [i, j, k, l] = four_digits(low % 10_000);
    out.extend_from_slice(&[b'0' + (high / 10_000 % 10) as u8, a, b, c, d, e, f, g, h, i, j, k, l]);
}

/// 9 to 12 digits (ids such as AVDS TaskIds, two or three a session: issue 16), as up to four
/// and eight at fixed places, in 32-bit arithmetic.
#[inline(never)]
fn write_id(n: u64, out: &mut Vec<u8>) {
    let high = (n / 100_000_000) as u32;
    let low = (n % 100_000_000) as u32;
    // The high part's own digits (1 to 4: it is 1..=9999), moved to the front, the low eight
    // after them; the whole buffer copied (a constant size: a few stores) and cut to length.
    let skip = u32::from(high < 1000) + u32::from(high < 100) + u32::from(high < 10);
    let lead = (u32::from_be_bytes(four_digits(high)) << (8 * skip)).to_be_bytes();
    let len = (4 - skip) as usize;
    let mut piece = [0u8; 12];
    piece[..4].copy_from_slice(&lead);
    piece[len..len + 4].copy_from_slice(&four_digits(low / 10_000));
    piece[len + 4..len + 8].copy_from_slice(&four_digits(low % 10_000));
    let start = out.len();
    out.extend_from_slice(&piece);
    out.truncate(start + len + 8);
}

/// -99 to -1 and 100 to 999.
#[inline(never)]
fn write_small_int(n: i64, out: &mut Vec<u8>) {
    let magnitude = n.unsigned_abs() as usize;
    if n >= 100 {
        let [b, c] = PAIRS[magnitude % 100];
        out.extend_from_slice(&[b'0' + (magnitude / 100 % 10) as u8, b, c]);
    } else if magnitude >= 10 {
        let [b, c] = PAIRS[magnitude % 100];
        out.extend_from_slice(&[b'-', b, c]);
    } else {
        out.extend_from_slice(&[b'-', b'0' + (magnitude % 10) as u8]);
    }
}

/// [`write_int`] the general way: any other number.
fn write_long_int(n: i64, out: &mut Vec<u8>) {
    let magnitude = n.unsigned_abs();
    // i64::MIN: 19 digits and its sign.
    let mut buffer = [0u8; 20];
    let sign = usize::from(n < 0);
    buffer[0] = b'-';
    // The number of digits from the number of bits (log10(2) ~ 1233 / 4096), corrected by one
    // comparison (Bit Twiddling Hacks, "integer log base 10").
    let bits = 64 - (magnitude | 1).leading_zeros();
    let guess = ((bits * 1233) >> 12) as usize;
    let digits = guess + usize::from(magnitude >= POWERS_OF_TEN[guess.min(19)]);
    let len = sign + digits.max(1);
    let mut at = len;
    let mut rest = magnitude;
    // Eight digits at a time in 32-bit arithmetic while the rest does not fit 32 bits.
    while rest >= 100_000_000 {
        let low = (rest % 100_000_000) as u32;
        rest /= 100_000_000;
        at -= 8;
        if let Some(place) = buffer.get_mut(at..at + 8) {
            place[..4].copy_from_slice(&four_digits(low / 10_000));
            place[4..].copy_from_slice(&four_digits(low % 10_000));
        }
    }
    let mut rest = rest as u32;
    while rest >= 100 {
        at -= 2;
        if let Some(place) = buffer.get_mut(at..at + 2) {
            place.copy_from_slice(&PAIRS[(rest % 100) as usize]);
        }
        rest /= 100;
    }
    if rest >= 10 {
        buffer[sign..sign + 2].copy_from_slice(&PAIRS[rest as usize]);
    } else {
        buffer[sign] = b'0' + rest as u8;
    }
    let start = out.len();
    out.extend_from_slice(&buffer);
    out.truncate(start + len);
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
        for text in ["", "a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "0123456789abcde", "0123456789abcdef", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef0", "plain", "0123456789abcdef\"", "0123456\u{7f}\u{80}é\u{1f}", "a long string of plain text, no escapes at all", "quo\"te", "back\\slash", "tab\there", "\u{1}\u{1f}", "ünïcode ✓", "</script>"] {
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]
        /// Plain text of every length, after whatever the buffer held, as serde_json writes it.
        #[test]
        fn plain_text_matches_serde_json(text in "[a-zA-Z0-9_.:/ -]{0,40}", before in "[a-z]{0,5}") {
            let mut out = before.as_bytes().to_vec();
            write_plain(&text, &mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{before}{}", serde_json::to_string(&text).unwrap()));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]
        /// The fast integer path writes what `fmt` writes, after whatever the buffer held: small
        /// numbers, instants, every length and sign.
        #[test]
        fn integers_match_fmt(n in proptest::prelude::any::<i64>(), digits in 0u32..19, small in -1200i64..1200, before in "[a-z]{0,5}") {
            for n in [n, n / 10i64.pow(digits), small, 1_700_000_000_000 + small * 7_919] {
                let mut out = before.as_bytes().to_vec();
                write_int(n, &mut out);
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{before}{n}"));
            }
        }
    }
}
