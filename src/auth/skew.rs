//! The signed clock claims (`Timestamp` / `x-acs-date` on Alibaba, `X-Sdk-Date` on Huawei) as unix
//! milliseconds, so the caller can compare them with the emulator's virtual clock. Hand-written
//! civil-date arithmetic: both formats are fixed-width UTC, and a date library would add nothing but
//! a dependency and leniency (time zones, missing fields) that the SDKs never need.

/// Parses Alibaba's `YYYY-MM-DDThh:mm:ssZ`, also with a fraction of 1 to 9 digits before the `Z`
/// (`…:05.123Z`; digits beyond milliseconds are dropped). `None` for anything else, including
/// impossible dates such as `2023-02-29`.
pub fn parse_aliyun_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (date, rest) = (b.get(..19)?, b.get(19..)?);
    if [date[4], date[7], date[10], date[13], date[16]] != *b"--T::" {
        return None;
    }
    let millis = match rest {
        b"Z" => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            if !fraction.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // Scale the first three digits to milliseconds: ".5" is 500 ms, ".05" is 50 ms.
            let mut ms = 0;
            for i in 0..3 {
                ms = ms * 10 + fraction.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            ms
        }
        _ => return None,
    };
    let seconds = unix_seconds(
        number(&date[0..4])?,
        number(&date[5..7])?,
        number(&date[8..10])?,
        number(&date[11..13])?,
        number(&date[14..16])?,
        number(&date[17..19])?,
    )?;
    Some(seconds * 1000 + millis)
}

/// Parses Huawei's `YYYYMMDDThhmmssZ` (UTC) into unix milliseconds; `None` for anything else.
pub fn parse_huawei_sdk_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let seconds = unix_seconds(
        number(&b[0..4])?,
        number(&b[4..6])?,
        number(&b[6..8])?,
        number(&b[9..11])?,
        number(&b[11..13])?,
        number(&b[13..15])?,
    )?;
    Some(seconds * 1000)
}

/// A fixed-width run of ASCII digits (no sign, no spaces, unlike `str::parse`).
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

/// Seconds since the unix epoch for a validated UTC civil time. Leap seconds (`:60`) are refused:
/// no SDK emits them.
fn unix_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's `days_from_civil`):
/// counting from March makes the leap day the last of the year, so whole 400-year eras and a
/// closed-form day-of-year suffice.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // [0, 399]
    let month_from_march = (month + 9) % 12; // March = 0 … February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_timestamps() {
        assert_eq!(parse_aliyun_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_aliyun_timestamp("2025-01-02T03:04:05Z"),
            Some(1_735_787_045_000)
        );
        assert_eq!(
            parse_aliyun_timestamp("2025-01-02T03:04:05.123Z"),
            Some(1_735_787_045_123)
        );
        assert_eq!(
            parse_aliyun_timestamp("2025-01-02T03:04:05.5Z"),
            Some(1_735_787_045_500)
        );
        assert_eq!(
            parse_aliyun_timestamp("2025-01-02T03:04:05.987654321Z"),
            Some(1_735_787_045_987)
        );
        assert_eq!(
            parse_aliyun_timestamp("2024-02-29T23:59:59Z"),
            Some(1_709_251_199_000)
        );
        assert_eq!(parse_aliyun_timestamp("1969-12-31T23:59:59Z"), Some(-1_000));
        assert_eq!(
            parse_aliyun_timestamp("2000-03-01T00:00:00Z"),
            Some(951_868_800_000)
        );
    }

    #[test]
    fn aliyun_timestamps_rejected() {
        for bad in [
            "2025-13-02T03:04:05Z", // month 13
            "2025-00-02T03:04:05Z",
            "2023-02-29T00:00:00Z", // not a leap year
            "1900-02-29T00:00:00Z", // century, not a leap year
            "2025-04-31T00:00:00Z",
            "2025-01-02T24:00:00Z",
            "2025-01-02T03:60:00Z",
            "2025-01-02T03:04:60Z",
            "2025-01-02 03:04:05Z",
            "2025-01-02T03:04:05",
            "2025-01-02T03:04:05+08:00",
            "2025-01-02T03:04:05.Z",
            "2025-01-02T03:04:05.1234567890Z",
            "2025-01-02T03:04:05.12aZ",
            "2025-01-02T03:04:05ZZ",
            "+025-01-02T03:04:05Z",
            "2025-1-02T03:04:05Z",
            "20250102T030405Z",
            "garbage",
            "",
            "2025-01-02T03:04:0éZ",
            "ééééééééééééééééééééé",
        ] {
            assert_eq!(parse_aliyun_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn huawei_sdk_dates() {
        assert_eq!(
            parse_huawei_sdk_date("20250102T030405Z"),
            Some(1_735_787_045_000)
        );
        assert_eq!(parse_huawei_sdk_date("19700101T000000Z"), Some(0));
        for bad in [
            "20251302T030405Z",
            "20250230T030405Z",
            "20250102T030405",
            "20250102 030405Z",
            "2025-01-02T03:04:05Z",
            "2025010éT03040Z",
            "garbage",
            "",
        ] {
            assert_eq!(parse_huawei_sdk_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_from_civil_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(0, 3, 1), -719_468);
    }

    #[test]
    fn never_panics() {
        for s in crate::auth::testutil::nasty_strings() {
            let _ = parse_aliyun_timestamp(&s);
            let _ = parse_huawei_sdk_date(&s);
        }
    }
}
