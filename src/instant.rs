//! Instants on the virtual timeline: Unix milliseconds (UTC), and the text forms the clouds and
//! scenarios use for them. Everything in the core speaks `Millis`; only the edges format.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC. Plain integers keep task evaluation cheap and exact.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// The first instant the emulator accepts anywhere (scenarios, the clock, request parameters):
/// 1970-01-01T00:00:00Z. Before it, the clouds' formats have no form.
pub const EARLIEST: Millis = 0;
/// The last one: 9999-12-31T23:59:59.999Z, the last instant a four-digit year can write.
pub const LATEST: Millis = 253_402_300_799_999;

/// Whether `at` lies in the years 1970–9999, the range every format the clouds use can write.
pub fn in_range(at: Millis) -> bool {
    (EARLIEST..=LATEST).contains(&at)
}

/// Parses an RFC 3339 instant (`2026-11-22T08:00:00Z`, offsets and fractions allowed).
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.timestamp_millis())
}

/// Parses the ISO 8601 UTC forms Alibaba accepts in request parameters:
/// `yyyy-MM-ddTHH:mm:ssZ` (the documented one) and `yyyy-MM-ddTHH:mmZ` (the form ECS answers with).
/// An instant outside 1970–9999 (chrono reads signed and five-digit years) is no instant here.
pub fn parse_iso8601_utc(text: &str) -> Option<Millis> {
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|t| Utc.from_utc_datetime(&t).timestamp_millis())
        .filter(|at| in_range(*at))
}

/// What a refusal of an out-of-range instant says.
pub fn range_message() -> String {
    format!("instants must lie from {} to {} (years 1970 to 9999)", format_rfc3339(EARLIEST), format_rfc3339(LATEST))
}

fn utc(at: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(at).single().unwrap_or_default()
}

/// `00` to `99`, indexed by the number: two digits at a time for the fast formatters (here and
/// the JSON writer's integers).
pub(crate) const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// The calendar fields of an instant in years 0–9999 (what the fast formatters cover; chrono
/// formats the rest): year, month, day, hour, minute, second, millisecond.
fn civil(at: Millis) -> Option<[u32; 7]> {
    let days = at.div_euclid(DAY);
    let in_day = at.rem_euclid(DAY);
    let [year, month, day] = civil_day(days)?;
    let fields = [year, month, day, (in_day / HOUR) as u32, (in_day % HOUR / MINUTE) as u32, (in_day % MINUTE / SECOND) as u32, (in_day % SECOND) as u32];
    Some(fields)
}

thread_local! {
    /// The last day this thread converted: the tasks of a page mostly share their days, and the
    /// conversion was a tenth of writing an ECS page.
    static LAST_DAY: std::cell::Cell<(i64, Option<[u32; 3]>)> = const { std::cell::Cell::new((i64::MIN, None)) };
}

/// Year, month and day of a day number (days since 1970-01-01), in years 0–9999.
fn civil_day(days: i64) -> Option<[u32; 3]> {
    let (cached, fields) = LAST_DAY.get();
    if cached == days {
        return fields;
    }
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fields = (0..=9999).contains(&year).then_some([year as u32, month as u32, day as u32]);
    LAST_DAY.set((days, fields));
    fields
}

/// Appends `value` in `width` zero-padded digits.
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut buffer = [b'0'; 4];
    let mut rest = value;
    for i in (0..width).rev() {
        buffer[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.push_str(std::str::from_utf8(&buffer[..width]).unwrap_or_default());
}

/// `YYYY-MM-DDTHH:MM`.
fn push_minute(out: &mut String, f: &[u32; 7]) {
    push_digits(out, f[0], 4);
    out.push('-');
    push_digits(out, f[1], 2);
    out.push('-');
    push_digits(out, f[2], 2);
    out.push('T');
    push_digits(out, f[3], 2);
    out.push(':');
    push_digits(out, f[4], 2);
}

/// `2026-11-22T08:00:00Z`, or with milliseconds when the instant has them.
pub fn format_rfc3339(at: Millis) -> String {
    if let Some(f) = civil(at) {
        let mut out = String::with_capacity(24);
        push_minute(&mut out, &f);
        out.push(':');
        push_digits(&mut out, f[5], 2);
        if f[6] != 0 {
            out.push('.');
            push_digits(&mut out, f[6], 3);
        }
        out.push('Z');
        return out;
    }
    let format = if at % SECOND == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
    utc(at).to_rfc3339_opts(format, true)
}

/// `2026-11-22T08:00:00.000Z`: always with milliseconds (the journal's wall-clock times).
pub fn format_rfc3339_millis(at: Millis) -> String {
    if let Some(f) = civil(at) {
        let mut out = String::with_capacity(24);
        push_minute(&mut out, &f);
        out.push(':');
        push_digits(&mut out, f[5], 2);
        out.push('.');
        push_digits(&mut out, f[6], 3);
        out.push('Z');
        return out;
    }
    utc(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// ECS's minute-precision instant (`2015-11-24T12:50Z`) in JSON quotes, made on the stack: an ECS
/// page writes two per task.
pub struct EcsMinute(EcsMinuteRepr);

enum EcsMinuteRepr {
    /// `"YYYY-MM-DDTHH:MMZ"`, quotes included.
    Quoted([u8; 19]),
    /// Years outside 0–9999, formatted by chrono.
    Other(String),
}

impl EcsMinute {
    #[inline]
    pub fn new(at: Millis) -> EcsMinute {
        // Only the day and the minute of the day: the seconds and milliseconds `civil` also
        // works out were half of the cost (issue 16).
        let Some([year, month, day]) = civil_day(at.div_euclid(DAY)) else { return EcsMinute(EcsMinuteRepr::Other(format_ecs_minute(at))) };
        let minute = (at.rem_euclid(DAY) / MINUTE) as u32;
        let two = |v: u32| TWO_DIGITS[(v % 100) as usize];
        let mut text = *b"\"0000-00-00T00:00Z\"";
        text[1..3].copy_from_slice(&two(year / 100));
        text[3..5].copy_from_slice(&two(year));
        text[6..8].copy_from_slice(&two(month));
        text[9..11].copy_from_slice(&two(day));
        text[12..14].copy_from_slice(&two(minute / 60));
        text[15..17].copy_from_slice(&two(minute % 60));
        EcsMinute(EcsMinuteRepr::Quoted(text))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            EcsMinuteRepr::Quoted(text) => std::str::from_utf8(&text[1..18]).unwrap_or_default(),
            EcsMinuteRepr::Other(text) => text,
        }
    }

    /// The text without its quotes, as XML carries it (never in need of escaping either).
    #[inline]
    pub fn unquoted(&self, out: &mut Vec<u8>) {
        match &self.0 {
            EcsMinuteRepr::Quoted(text) => out.extend_from_slice(&text[1..18]),
            EcsMinuteRepr::Other(text) => out.extend_from_slice(text.as_bytes()),
        }
    }

    /// The text in JSON quotes (it never needs escaping).
    #[inline]
    pub fn quoted(&self, out: &mut Vec<u8>) {
        match &self.0 {
            EcsMinuteRepr::Quoted(text) => out.extend_from_slice(text),
            EcsMinuteRepr::Other(text) => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
        }
    }
}

/// ECS answers with minute precision: `2015-11-24T12:50Z`.
pub fn format_ecs_minute(at: Millis) -> String {
    if let Some(f) = civil(at) {
        let mut out = String::with_capacity(17);
        push_minute(&mut out, &f);
        out.push('Z');
        return out;
    }
    utc(at).format("%Y-%m-%dT%H:%MZ").to_string()
}

/// Whole minutes left until `until`, rounded up, never negative: what "remaining minutes" fields show.
pub fn minutes_left(now: Millis, until: Millis) -> i64 {
    if until <= now {
        0
    } else {
        (until - now + MINUTE - 1) / MINUTE
    }
}

/// Parses a duration: `90s`, `10m`, `2h`, `1d`, `500ms`, `1h30m`; a bare `0` is zero. No
/// duration is longer than the whole accepted range (1970–9999): anything beyond could only move
/// an instant out of it, and the bound keeps every sum and difference of instants and durations
/// far from overflow.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let bad = || format!("bad duration {text:?}: expected a number and a unit (ms, s, m, h, d), e.g. \"90s\" or \"1h30m\"");
    let too_long = || format!("duration {text:?} is too long: at most the span from 1970 to 9999 ({}d)", (LATEST - EARLIEST) / DAY);
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: Millis = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        // Only digits: a number that does not parse is one too large.
        let amount: Millis = rest[..digits].parse().map_err(|_| too_long())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => SECOND,
            "m" => MINUTE,
            "h" => HOUR,
            "d" => DAY,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = amount
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .filter(|sum| *sum <= LATEST - EARLIEST)
            .ok_or_else(too_long)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_ends_are_the_first_and_last_four_digit_instants() {
        assert_eq!(format_rfc3339(EARLIEST), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59.999Z"), Some(LATEST));
        assert!(in_range(EARLIEST) && in_range(LATEST));
        assert!(!in_range(EARLIEST - 1) && !in_range(LATEST + 1));
    }

    #[test]
    fn durations_accept_units_and_compounds() {
        assert_eq!(parse_duration("90s"), Ok(90 * SECOND));
        assert_eq!(parse_duration("1h30m"), Ok(HOUR + 30 * MINUTE));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("2d"), Ok(2 * DAY));
        assert_eq!(parse_duration("0"), Ok(0));
        for bad in ["", "10", "m", "10x", "1.5h", "-5m", "99999999999999999999d", "99999999999d", "2932897d1ms"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(parse_duration("2932896d"), Ok(2_932_896 * DAY), "the whole range is still a duration");
        assert!(parse_duration("99999999999d").unwrap_err().contains("too long"));
        assert!(parse_duration("99999999999999999999d").unwrap_err().contains("too long"));
    }

    #[test]
    fn iso8601_accepts_seconds_and_minutes_forms_only() {
        assert_eq!(parse_iso8601_utc("2015-11-23T15:10:00Z"), Some(1_448_291_400_000));
        assert_eq!(parse_iso8601_utc("2015-11-23T15:10Z"), Some(1_448_291_400_000));
        assert_eq!(parse_iso8601_utc("2015-11-23 15:10:00"), None);
        assert_eq!(parse_iso8601_utc("2015-13-23T15:10:00Z"), None);
        for outside in ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "-0001-01-01T00:00Z"] {
            assert_eq!(parse_iso8601_utc(outside), None, "{outside}");
        }
        assert_eq!(parse_iso8601_utc("9999-12-31T23:59:59Z"), Some(LATEST - 999));
    }

    #[test]
    fn formats_round_trip() {
        let at = parse_rfc3339("2026-11-22T08:00:00Z").unwrap();
        assert_eq!(format_rfc3339(at), "2026-11-22T08:00:00Z");
        assert_eq!(format_rfc3339(at + 5), "2026-11-22T08:00:00.005Z");
        assert_eq!(format_ecs_minute(at + 59 * SECOND), "2026-11-22T08:00Z");
        assert_eq!(minutes_left(0, 61 * SECOND), 2);
        // The fast formatters agree with chrono, leap days, negative instants and all.
        let mut at: Millis = -62_167_219_200_000 - 5 * DAY;
        while at < 253_402_300_800_000 + 5 * DAY {
            for offset in [0, 1, 999, 59_999, DAY - 1] {
                let t = at + offset;
                let format = if t % SECOND == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
                assert_eq!(format_rfc3339(t), utc(t).to_rfc3339_opts(format, true), "{t}");
                assert_eq!(format_ecs_minute(t), utc(t).format("%Y-%m-%dT%H:%MZ").to_string(), "{t}");
                assert_eq!(EcsMinute::new(t).as_str(), format_ecs_minute(t), "{t}");
                let mut quoted = Vec::new();
                EcsMinute::new(t).quoted(&mut quoted);
                assert_eq!(quoted, serde_json::to_vec(&format_ecs_minute(t)).unwrap(), "{t}");
                let mut unquoted = Vec::new();
                EcsMinute::new(t).unquoted(&mut unquoted);
                assert_eq!(unquoted, format_ecs_minute(t).as_bytes(), "{t}");
                assert_eq!(format_rfc3339_millis(t), utc(t).to_rfc3339_opts(SecondsFormat::Millis, true), "{t}");
            }
            at += 89 * DAY + 3 * HOUR + 17 * MINUTE + 13 * SECOND + 7;
        }
        assert_eq!(minutes_left(10, 5), 0);
    }
}
