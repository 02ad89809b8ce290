//! Calendar dates (review and update dates are whole days) and the HTTP
//! date format, both from one civil-calendar conversion.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer};

/// A calendar date as written in front matter (`2026-01-15`). Review dates
/// need no time of day or time zone, so none is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        (1..=12).contains(&month).then_some(())?;
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// The same day `years` later; 29 February becomes 28 February.
    pub(crate) fn add_years(self, years: i32) -> Date {
        let year = self.year + years;
        Date { year, month: self.month, day: self.day.min(days_in_month(year, self.month)) }
    }

    /// Today in UTC: review dates are whole days, so the time zone only
    /// matters for a few hours around midnight.
    pub(crate) fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// The UTC date of a time in seconds since 1970.
    pub fn from_unix(secs: i64) -> Date {
        Date::from_days_since_epoch(secs.div_euclid(86_400))
    }

    /// Howard Hinnant's `civil_from_days`.
    pub(crate) fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Days since 1970 for a date (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> u64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468).max(0) as u64
    }

    /// "20 November 2026": unambiguous for readers on both sides of the Atlantic.
    pub fn long(&self) -> String {
        format!("{} {} {}", self.day, MONTHS[usize::from(self.month - 1)], self.year)
    }

    /// `2026-11-20`, for `<time datetime>` and machine-readable formats.
    pub fn iso(&self) -> String {
        self.to_string()
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;

    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("\"{s}\" is not a date: expected a date like 2026-01-15 (year-month-day)");
        let mut parts = s.trim().splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (Ok(year), Ok(month), Ok(day)) = (y.parse(), m.parse(), d.parse()) else { return Err(bad()) };
        Date::new(year, month, day).ok_or_else(|| {
            format!("\"{s}\" is not a real calendar date: expected a date like 2026-01-15 (year-month-day)")
        })
    }
}

impl<'de> Deserialize<'de> for Date {
    /// Accepts a bare TOML date (`2026-01-15`) or the same in quotes, since
    /// both look right to a person editing the file.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        use serde::de::Error;
        let text = match toml::Value::deserialize(deserializer)? {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
            toml::Value::Datetime(dt) => {
                return Err(D::Error::custom(format!(
                    "{dt} has a time of day: expected a date like 2026-01-15 (year-month-day)"
                )));
            }
            toml::Value::String(s) => s,
            other => {
                return Err(D::Error::custom(format!(
                    "{other} is not a date: expected a date like 2026-01-15 (year-month-day)"
                )));
            }
        };
        text.parse().map_err(D::Error::custom)
    }
}

/// A day kept as `2026-12-02` written for people: "2 December 2026"
/// (anything that is not a date is shown as it is).
pub fn long_day(iso: &str) -> String {
    iso.parse::<Date>().map_or_else(|_| iso.to_string(), |day| day.long())
}

/// A moment for staff pages and records: "2 December 2026, 14:05 UTC".
pub fn moment(secs: i64) -> String {
    let minutes = secs.rem_euclid(86_400) / 60;
    format!("{}, {:02}:{:02} UTC", Date::from_unix(secs).long(), minutes / 60, minutes % 60)
}

/// The same, machine-readable: "2026-12-02T14:05:09Z".
pub fn moment_iso(secs: i64) -> String {
    let seconds = secs.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", Date::from_unix(secs).iso(), seconds / 3600, seconds % 3600 / 60, seconds % 60)
}

pub(crate) fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Weekday names from 1 January 1970, a Thursday.
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const SHORT_MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn httpdate(time: SystemTime) -> String {
    let secs = whole_seconds(time);
    let days = secs / 86_400;
    let date = Date::from_unix(secs as i64);
    let rem = secs % 86_400;
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        date.day,
        SHORT_MONTHS[usize::from(date.month - 1)],
        date.year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since 1970 from an IMF-fixdate; other (obsolete) forms are
/// treated as absent, which only costs a full response.
pub(crate) fn parse_httpdate(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = SHORT_MONTHS.iter().position(|m| m == month)? as u8 + 1;
    let date = Date::new(year.parse().ok()?, month, day.parse().ok()?)?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let days = date.days_since_epoch();
    Some(days.checked_mul(86_400)? + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_calendar_days_agree() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(httpdate(time), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_httpdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_httpdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        let now = SystemTime::now();
        assert_eq!(parse_httpdate(&httpdate(now)), Some(whole_seconds(now)));
        assert_eq!(Date::new(2026, 11, 24).unwrap().days_since_epoch(), 20_781);
    }

    #[test]
    fn dates_round_trip_and_add_years() {
        assert_eq!("2024-02-29".parse::<Date>().unwrap().add_years(1), Date::new(2025, 2, 28).unwrap());
        assert_eq!(Date::new(2026, 11, 20).unwrap().long(), "20 November 2026");
        assert!("2026-1-5".parse::<Date>().is_err());
        assert_eq!(Date::from_days_since_epoch(0), Date::new(1970, 1, 1).unwrap());
        assert_eq!(Date::from_days_since_epoch(20_781), Date::new(2026, 11, 24).unwrap());
    }
}
