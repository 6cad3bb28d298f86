//! Reading the scalar values of a legacy row: booleans as databases print them and creation
//! times in the shapes PostgreSQL, MySQL, Django and Unix clocks write.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// `true`/`false`, `t`/`f` (PostgreSQL), `1`/`0` (MySQL), `yes`/`no`, `y`/`n`, any case.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A creation time: RFC 3339 or PostgreSQL's `YYYY-MM-DD HH:MM:SS[.ffffff]+TZ`; without an
/// offset (MySQL `DATETIME`, Django with `USE_TZ = False`) the time is taken as UTC; a bare
/// number is Unix seconds (fractions allowed).
pub(crate) fn parse_timestamp(value: &str) -> Option<Timestamp> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(civil) = value.parse::<DateTime>() {
        return civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    unix_seconds(value)
}

/// `1614834367` or `1614834367.25`, read exactly (no floating point).
fn unix_seconds(value: &str) -> Option<Timestamp> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = whole.strip_prefix('-').unwrap_or(whole);
    if !digits(unsigned) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > 9 {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let nanos: i32 = format!("{fraction:0<9}").parse().ok()?;
    let nanos = if whole.starts_with('-') {
        -nanos
    } else {
        nanos
    };
    Timestamp::new(seconds, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(value: &str) -> String {
        parse_timestamp(value).unwrap().to_string()
    }

    #[test]
    fn booleans_as_databases_print_them() {
        for yes in ["t", "TRUE", "1", "yes", "Y"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["f", "False", "0", "no", "N"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn timestamps_in_every_export_shape() {
        assert_eq!(ts("2021-03-04T05:06:07Z"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("2021-03-04T05:06:07+09:00"), "2021-03-03T20:06:07Z");
        // PostgreSQL timestamptz in CSV.
        assert_eq!(
            ts("2021-03-04 05:06:07.123456+00"),
            "2021-03-04T05:06:07.123456Z"
        );
        assert_eq!(ts("2021-03-04 05:06:07+09"), "2021-03-03T20:06:07Z");
        // MySQL DATETIME and naive Django times: UTC.
        assert_eq!(ts("2021-03-04 05:06:07"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("2021-03-04T05:06:07.5"), "2021-03-04T05:06:07.5Z");
        assert_eq!(ts("1614834367"), "2021-03-04T05:06:07Z");
        assert_eq!(ts("1614834367.25"), "2021-03-04T05:06:07.25Z");
        for bad in ["yesterday", "2021-13-01 00:00:00", "", "1e400"] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}
