//! Local time: the folder's (or the store's) IANA time zone, with its data
//! built into the binary, turning the UTC times the records keep into the
//! local dates that name business days and the local times a person reads.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::fiscal::error::FiscalError;
use crate::lang::Lang;

/// The time zone of a folder when its configuration names none.
pub const DEFAULT_TIMEZONE: &str = "Europe/Paris";

/// A time zone by its IANA name.
#[derive(Debug, Clone)]
pub struct LocalZone {
    name: String,
    tz: TimeZone,
}

impl PartialEq for LocalZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// Parse an RFC 3339 time (as records keep it, UTC).
pub fn parse_utc(time: &str) -> Result<Timestamp, FiscalError> {
    time.parse::<Timestamp>()
        .map_err(|_| FiscalError::Time(time.to_string()))
}

/// `t` as records keep it: RFC 3339, UTC, whole seconds (`2026-12-04T03:12:21Z`).
pub fn format_utc(t: Timestamp) -> String {
    t.round(jiff::Unit::Second)
        .unwrap_or(t)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Parse a local time of day `HH:MM` (`till.day_close_time`).
pub fn parse_time_of_day(s: &str) -> Result<Time, FiscalError> {
    let bad = || FiscalError::TimeOfDay(s.to_string());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl LocalZone {
    /// The zone named `name` (an IANA name such as `Europe/Paris`).
    pub fn new(name: &str) -> Result<Self, FiscalError> {
        let tz = jiff::tz::db()
            .get(name)
            .map_err(|_| FiscalError::TimeZone(name.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            tz,
        })
    }

    /// `Europe/Paris`.
    pub fn paris() -> Self {
        Self::new(DEFAULT_TIMEZONE).expect("the built-in time-zone data holds Europe/Paris")
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local date of the UTC time `t`.
    pub fn date_at(&self, t: Timestamp) -> Date {
        self.tz.to_datetime(t).date()
    }

    /// The local date of the RFC 3339 time `time`.
    pub fn date_of(&self, time: &str) -> Result<Date, FiscalError> {
        Ok(self.date_at(parse_utc(time)?))
    }

    /// The instant of local `time` on local `date` (the earlier one in the
    /// hour a clock goes back; the hour after a gap when it goes forward).
    pub fn instant(&self, date: Date, time: Time) -> Timestamp {
        let dt = date.to_datetime(time);
        self.tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .unwrap_or_else(|_| {
                TimeZone::UTC
                    .to_ambiguous_timestamp(dt)
                    .compatible()
                    .unwrap_or_default()
            })
    }

    /// How long the local day `date` lasts, in hours (23 or 25 on the days
    /// the clocks change).
    pub fn day_hours(&self, date: Date) -> i64 {
        let start = self.instant(date, Time::midnight());
        let next = date.tomorrow().map_or(date, |d| d);
        let end = self.instant(next, Time::midnight());
        (end.as_second() - start.as_second()) / 3600
    }

    /// The RFC 3339 UTC time `time` as a person reads it, in local time:
    /// `04/12/2026 04:12:21` in French, `2026-12-04 04:12:21` in English.
    /// A time that does not parse is shown as it is.
    pub fn show(&self, time: &str, lang: Lang) -> String {
        match parse_utc(time) {
            Ok(t) => self.show_at(t, lang),
            Err(_) => time.to_string(),
        }
    }

    /// [`LocalZone::show`] of an instant.
    pub fn show_at(&self, t: Timestamp, lang: Lang) -> String {
        let z = t.to_zoned_datetime(self.tz.clone());
        let fmt = lang.pick("%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S");
        z.strftime(fmt).to_string()
    }

    /// The instant `t` as local time with its offset, compact:
    /// `20261204T041221+0100` (what a receipt's QR code carries).
    pub fn stamp_at(&self, t: Timestamp) -> String {
        let z = t.to_zoned_datetime(self.tz.clone());
        z.strftime("%Y%m%dT%H%M%S%z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_zones_are_named() {
        let e = LocalZone::new("Europe/Pariss").unwrap_err();
        assert!(e.to_string().contains("Europe/Pariss"), "{e}");
        assert!(LocalZone::new("Indian/Reunion").is_ok());
        assert!(LocalZone::new("America/Martinique").is_ok());
    }

    #[test]
    fn local_dates_follow_the_zone() {
        let paris = LocalZone::paris();
        // 23:30 UTC on 3 December is 00:30 on the 4th in Paris (UTC+1).
        assert_eq!(
            paris.date_of("2026-12-03T23:30:00Z").unwrap().to_string(),
            "2026-12-04"
        );
        // 20:30 UTC is 00:30 the next day in La Réunion (UTC+4).
        let reunion = LocalZone::new("Indian/Reunion").unwrap();
        assert_eq!(
            reunion.date_of("2026-12-03T20:30:00Z").unwrap().to_string(),
            "2026-12-04"
        );
        // 03:30 UTC is still the 3rd in Martinique (UTC-4).
        let mq = LocalZone::new("America/Martinique").unwrap();
        assert_eq!(
            mq.date_of("2026-12-04T03:30:00Z").unwrap().to_string(),
            "2026-12-03"
        );
        assert_eq!(
            paris.show("2026-12-04T03:12:21Z", Lang::Fr),
            "04/12/2026 04:12:21"
        );
        assert_eq!(
            paris.show("2026-07-04T03:12:21Z", Lang::En),
            "2026-07-04 05:12:21"
        );
        let t = parse_utc("2026-07-04T03:12:21Z").unwrap();
        assert_eq!(paris.stamp_at(t), "20260704T051221+0200");
        assert_eq!(reunion.stamp_at(t), "20260704T071221+0400");
        assert_eq!(mq.stamp_at(t), "20260703T231221-0400");
    }

    #[test]
    fn daylight_saving_days_last_23_and_25_hours() {
        let paris = LocalZone::paris();
        assert_eq!(paris.day_hours(jiff::civil::date(2026, 3, 29)), 23);
        assert_eq!(paris.day_hours(jiff::civil::date(2026, 10, 25)), 25);
        assert_eq!(paris.day_hours(jiff::civil::date(2026, 12, 4)), 24);
        // La Réunion keeps no daylight saving time.
        let reunion = LocalZone::new("Indian/Reunion").unwrap();
        assert_eq!(reunion.day_hours(jiff::civil::date(2026, 3, 29)), 24);
        // 02:30 does not exist on 29 March in Paris: the hour after the gap.
        let t = paris.instant(
            jiff::civil::date(2026, 3, 29),
            jiff::civil::time(2, 30, 0, 0),
        );
        assert_eq!(format_utc(t), "2026-03-29T01:30:00Z");
        // 02:30 happens twice on 25 October: the earlier one.
        let t = paris.instant(
            jiff::civil::date(2026, 10, 25),
            jiff::civil::time(2, 30, 0, 0),
        );
        assert_eq!(format_utc(t), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(
            parse_time_of_day("23:30").unwrap(),
            jiff::civil::time(23, 30, 0, 0)
        );
        for bad in ["24:00", "7:00", "ab:cd", "", "12:60"] {
            assert!(parse_time_of_day(bad).is_err(), "{bad}");
        }
    }
}
