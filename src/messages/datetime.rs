//! Dates and times in a reader's language and time zone. Fluent has no DATETIME function, so
//! the catalog's `datetime` message arranges the parts passed to it (`2026년 12월 8일 오후
//! 3시 5분 KST`, `December 8, 2026, 3:05 PM KST`); the zone is the one the client named,
//! else UTC, and its abbreviation is always shown.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Arg, Catalogs, Lang};

/// The longest time-zone name accepted (IANA names are at most about 30 characters).
const MAX_ZONE_CHARS: usize = 64;

/// The IANA time zone `name` names (`Asia/Seoul`, `UTC`), from the system's time-zone
/// database. The error says what is accepted, without quoting the input.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    let plausible = !name.is_empty()
        && name.len() <= MAX_ZONE_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    let refused = || "`time_zone` must be an IANA time zone name such as Asia/Seoul or UTC".into();
    if !plausible {
        return Err(refused());
    }
    TimeZone::get(name).map_err(|_| refused())
}

impl Catalogs {
    /// `at` in `zone`, as `lang`'s `datetime` message writes it (for mails: no isolation
    /// marks).
    pub fn datetime(&self, lang: Lang, at: Timestamp, zone: &TimeZone) -> String {
        let local = at.to_zoned(zone.clone());
        let hour = i64::from(local.hour());
        let hour12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        let minute = i64::from(local.minute());
        let args: [(&str, Arg); 9] = [
            ("year", i64::from(local.year()).into()),
            ("month", i64::from(local.month()).into()),
            ("day", i64::from(local.day()).into()),
            ("hour", hour.into()),
            ("hour12", hour12.into()),
            ("minute", minute.into()),
            ("minute2", format!("{minute:02}").into()),
            ("period", if hour < 12 { "am" } else { "pm" }.into()),
            ("zone", local.strftime("%Z").to_string().into()),
        ];
        self.mail(lang, "datetime", &args)
            .unwrap_or_else(|| local.strftime("%Y-%m-%d %H:%M %Z").to_string())
    }
}
