//! Time as the model keeps it: UTC microseconds since the epoch, plus the zone a source was read in.

use serde::Serialize;

/// UTC microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Marker for a record that carries no time of its own.
pub const UNTIMED: Micros = i64::MIN;

pub const MICROS_PER_SEC: i64 = 1_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Microseconds of a wall-clock time read as if it were UTC (zone applied by the caller).
pub fn civil_micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Micros {
    let days = days_from_civil(y, mo, d);
    (days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * MICROS_PER_SEC
        + i64::from(us)
}

/// [`format_utc`] into a buffer, for output of many records: the text of the last second is
/// kept, so records in the same second cost only their microseconds.
#[derive(Default)]
pub struct UtcWriter {
    second: Option<(i64, [u8; 20])>,
}

impl UtcWriter {
    pub fn write(&mut self, out: &mut Vec<u8>, t: Micros) {
        if t == UNTIMED {
            out.push(b'-');
            return;
        }
        let secs = t.div_euclid(MICROS_PER_SEC);
        let head = match self.second {
            Some((s, head)) if s == secs => head,
            _ => {
                let full = format_utc(t);
                let mut head = [0u8; 20];
                match full.as_bytes().get(..20) {
                    Some(h) if full.len() == 27 => head.copy_from_slice(h),
                    // A year past 9999 or before 0: not the fixed width, written whole.
                    _ => {
                        self.second = None;
                        out.extend_from_slice(full.as_bytes());
                        return;
                    }
                }
                self.second = Some((secs, head));
                head
            }
        };
        out.extend_from_slice(&head);
        let mut us = t.rem_euclid(MICROS_PER_SEC);
        let mut digits = [b'0'; 6];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (us % 10) as u8;
            us /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

/// `2023-04-13T11:24:04.000000Z`, the one way sitrep prints an instant.
pub fn format_utc(t: Micros) -> String {
    if t == UNTIMED {
        return String::from("-");
    }
    let secs = t.div_euclid(MICROS_PER_SEC);
    let us = t.rem_euclid(MICROS_PER_SEC);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{us:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// A fixed UTC offset, printed `+00:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset(pub i32);

impl Offset {
    pub const UTC: Offset = Offset(0);

    pub fn seconds(self) -> i32 {
        self.0
    }

    /// `+02:00`, `-0400`, `+05`, `Z`, `UTC`.
    pub fn parse(s: &str) -> Option<Offset> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s == "GMT" {
            return Some(Offset::UTC);
        }
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m) = match digits.len() {
            2 => (digits.parse::<i32>().ok()?, 0),
            4 => (
                digits[..2].parse::<i32>().ok()?,
                digits[2..].parse::<i32>().ok()?,
            ),
            _ => return None,
        };
        if h > 18 || m > 59 {
            return None;
        }
        Some(Offset(sign * (h * 3600 + m * 60)))
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
    }
}

/// Why a source's zone is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TzReason {
    /// Every timestamp of the source carries its own offset.
    InLog,
    /// The journal and similar store UTC.
    Utc,
    /// `--tz` on the command line.
    Flag,
    /// The bundle manifest's `tz`.
    Manifest,
    /// The offset printed by another log of the same program (nginx's access log for its
    /// error log).
    SameProgram,
    /// The offset printed by another source of the same host.
    SameHost,
    /// The zone of the machine running sitrep.
    Local,
    /// The source has no timestamps.
    Untimed,
}

impl TzReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TzReason::InLog => "in-log",
            TzReason::Utc => "utc",
            TzReason::Flag => "flag",
            TzReason::Manifest => "manifest",
            TzReason::SameProgram => "same-program",
            TzReason::SameHost => "same-host",
            TzReason::Local => "local",
            TzReason::Untimed => "untimed",
        }
    }
}

/// Parse an instant given on the command line or in a manifest: RFC 3339, or a bare
/// `YYYY-MM-DD[ T]HH:MM[:SS]` read as UTC.
pub fn parse_instant(s: &str) -> Option<Micros> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.timestamp_micros());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s.trim(), f) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    None
}

/// A duration like `10m`, `90s`, `1h30m`, `2d`, `1.5s`.
pub fn parse_duration(s: &str) -> Option<Micros> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * unit;
        num.clear();
    }
    if !num.is_empty() {
        total += num.parse::<f64>().ok()?;
    }
    Some((total * 1e6) as Micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_utc_writer_writes_what_format_utc_says() {
        let mut w = UtcWriter::default();
        for t in [
            0,
            1_681_385_044_000_001,
            1_681_385_044_999_999,
            1_681_385_045_000_000,
            -1,
            UNTIMED,
            253_402_300_800_000_000, // year 10000
        ] {
            let mut out = Vec::new();
            w.write(&mut out, t);
            assert_eq!(String::from_utf8(out).unwrap(), format_utc(t), "{t}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_460, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2023, 4, 13), 19_460);
    }

    #[test]
    fn formats_and_parses_instants() {
        let t = civil_micros(2023, 4, 13, 11, 24, 4, 120);
        assert_eq!(format_utc(t), "2023-04-13T11:24:04.000120Z");
        assert_eq!(parse_instant("2023-04-13T13:24:04.000120+02:00"), Some(t));
        assert_eq!(parse_instant("2023-04-13 11:24:04"), Some(t - 120));
    }

    #[test]
    fn offsets_and_durations() {
        assert_eq!(Offset::parse("-0400"), Some(Offset(-4 * 3600)));
        assert_eq!(
            Offset::parse("+05:30").map(|o| o.to_string()),
            Some("+05:30".into())
        );
        assert_eq!(Offset::parse("Z"), Some(Offset::UTC));
        assert_eq!(Offset::parse("+9999"), None);
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000));
        assert_eq!(parse_duration("10x"), None);
    }
}
