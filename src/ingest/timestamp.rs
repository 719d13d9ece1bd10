//! Hand-written readers for the timestamp shapes the formats print. They run on every line,
//! so they avoid regex and chrono; each returns the time and how many bytes it consumed.

use crate::model::time::{Micros, civil_micros};

fn num(b: &[u8], n: usize) -> Option<u32> {
    let s = b.get(..n)?;
    let mut v = 0u32;
    for c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

pub fn month_abbr(b: &[u8]) -> Option<u32> {
    let m = b.get(..3)?;
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    Some(match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

fn valid(mo: u32, d: u32, h: u32, mi: u32, s: u32) -> bool {
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s <= 60
}

/// `HH:MM:SS` then an optional `.` or `,` fraction. Returns (h, m, s, micros, consumed).
fn hms(b: &[u8]) -> Option<(u32, u32, u32, u32, usize)> {
    let h = num(b, 2)?;
    let m = num(b.get(3..)?, 2)?;
    let s = num(b.get(6..)?, 2)?;
    if b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (us, frac_len) = fraction(&b[8..]);
    Some((h, m, s, us, 8 + frac_len))
}

/// `.123` / `,123456789`: micros and bytes consumed (0 when there is no fraction).
fn fraction(b: &[u8]) -> (u32, usize) {
    match b.first() {
        Some(b'.' | b',') => {}
        _ => return (0, 0),
    }
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return (0, 0);
    }
    let mut us = 0u32;
    for i in 0..6 {
        us = us * 10
            + if i < digits {
                u32::from(b[1 + i] - b'0')
            } else {
                0
            };
    }
    (us, 1 + digits)
}

/// A zone suffix: `Z`, `+hh:mm`, `+hhmm`, `+hh`. Returns (offset seconds, consumed).
pub fn zone(b: &[u8]) -> Option<(i32, usize)> {
    match b.first()? {
        b'Z' | b'z' => return Some((0, 1)),
        b'+' | b'-' => {}
        _ => return None,
    }
    let sign = if b[0] == b'-' { -1 } else { 1 };
    let h = num(&b[1..], 2)? as i32;
    let (m, used) = if b.get(3) == Some(&b':') {
        (num(&b[4..], 2)? as i32, 6)
    } else if let Some(m) = num(b.get(3..).unwrap_or(&[]), 2) {
        (m as i32, 5)
    } else {
        (0, 3)
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60), used))
}

/// `13/Apr/2023:11:24:04 +0000` (nginx `$time_local`): UTC micros and consumed bytes.
pub fn clf(b: &[u8]) -> Option<(Micros, usize)> {
    // nginx pads the day to two digits; other servers writing the same format may not.
    let pad = usize::from(b.get(1) == Some(&b'/'));
    if pad == 1 {
        let mut two = [b'0'; 32];
        let n = b.len().min(31);
        two[1..=n].copy_from_slice(&b[..n]);
        return clf(&two[..=n]).map(|(t, used)| (t, used - 1));
    }
    let d = num(b, 2)?;
    let mo = month_abbr(b.get(3..)?)?;
    let y = num(b.get(7..)?, 4)?;
    if b[2] != b'/' || b[6] != b'/' || b.get(11) != Some(&b':') {
        return None;
    }
    let (h, mi, s, us, used) = hms(&b[12..])?;
    let mut pos = 12 + used;
    if !valid(mo, d, h, mi, s) {
        return None;
    }
    let naive = civil_micros(y as i32, mo, d, h, mi, s, us);
    if b.get(pos) != Some(&b' ') {
        return None;
    }
    pos += 1;
    let (off, zl) = zone(&b[pos..])?;
    Some((naive - i64::from(off) * 1_000_000, pos + zl))
}

/// `YYYY<sep>MM<sep>DD[T ]HH:MM:SS[.frac]`: naive micros (no zone) and consumed bytes.
pub fn ymd_hms(b: &[u8], sep: u8) -> Option<(Micros, usize)> {
    let y = num(b, 4)?;
    let mo = num(b.get(5..)?, 2)?;
    let d = num(b.get(8..)?, 2)?;
    if b[4] != sep || b[7] != sep || !matches!(b.get(10), Some(b'T' | b' ')) {
        return None;
    }
    let (h, mi, s, us, used) = hms(b.get(11..)?)?;
    if !valid(mo, d, h, mi, s) {
        return None;
    }
    Some((civil_micros(y as i32, mo, d, h, mi, s, us), 11 + used))
}

/// ISO 8601 / RFC 3339 with an optional zone directly after the time or after one space:
/// (micros, offset if given, consumed). Without a zone the micros are naive.
pub fn iso(b: &[u8]) -> Option<(Micros, Option<i32>, usize)> {
    let (naive, used) = ymd_hms(b, b'-')?;
    if let Some((off, zl)) = zone(&b[used..]) {
        return Some((naive - i64::from(off) * 1_000_000, Some(off), used + zl));
    }
    if b.get(used) == Some(&b' ')
        && let Some((off, zl)) = zone(&b[used + 1..])
        && matches!(b.get(used + 1 + zl), None | Some(b' ' | b']' | b'\t'))
    {
        return Some((naive - i64::from(off) * 1_000_000, Some(off), used + 1 + zl));
    }
    Some((naive, None, used))
}

/// Syslog `Mon dd HH:MM:SS[.frac]` (day may be space-padded): naive micros in `year`.
pub fn syslog(b: &[u8], year: i32) -> Option<(Micros, usize)> {
    let mo = month_abbr(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let (d, dl) = match (b.get(4), b.get(5)) {
        (Some(b' '), Some(c)) if c.is_ascii_digit() => (u32::from(c - b'0'), 2),
        _ => {
            let d1 = num(b.get(4..)?, 1)?;
            match num(b.get(5..)?, 1) {
                Some(d2) => (d1 * 10 + d2, 2),
                None => (d1, 1),
            }
        }
    };
    let at = 4 + dl;
    if b.get(at) != Some(&b' ') {
        return None;
    }
    let (h, mi, s, us, used) = hms(b.get(at + 1..)?)?;
    if !valid(mo, d, h, mi, s) {
        return None;
    }
    Some((civil_micros(year, mo, d, h, mi, s, us), at + 1 + used))
}

/// Year for a year-less date in month `mo`, given the capture's year and month: a month after
/// the capture month belongs to the year before.
pub fn year_for(mo: u32, capture_year: i32, capture_month: u32) -> i32 {
    if mo > capture_month {
        capture_year - 1
    } else {
        capture_year
    }
}

/// Month of a syslog timestamp, for [`year_for`].
pub fn syslog_month(b: &[u8]) -> Option<u32> {
    month_abbr(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::format_utc;

    #[test]
    fn reads_each_shape() {
        let (t, n) = clf(b"13/Apr/2023:13:24:04 +0200] rest").unwrap();
        assert_eq!(format_utc(t), "2023-04-13T11:24:04.000000Z");
        assert_eq!(n, 26);
        let (t, _) = ymd_hms(b"2023/04/13 11:24:04 [error]", b'/').unwrap();
        assert_eq!(format_utc(t), "2023-04-13T11:24:04.000000Z");
        let (t, off, n) = iso(b"2022-07-18T09:38:02.63-0400 [APP").unwrap();
        assert_eq!(format_utc(t), "2022-07-18T13:38:02.630000Z");
        assert_eq!((off, n), (Some(-14_400), 27));
        let (t, off, n) = iso(b"2023-04-13 11:19:27 +0000] [1]").unwrap();
        assert_eq!(
            (format_utc(t).as_str(), off, n),
            ("2023-04-13T11:19:27.000000Z", Some(0), 25)
        );
        let (_, off, n) = iso(b"2023-04-13 11:19:27,123 ERROR x").unwrap();
        assert_eq!((off, n), (None, 23));
        let (t, n) = syslog(b"Apr  3 01:02:03.123456 host x", 2023).unwrap();
        assert_eq!(format_utc(t), "2023-04-03T01:02:03.123456Z");
        assert_eq!(n, 22);
        assert!(clf(b"99/Foo/2023:11:24:04 +0000").is_none());
        let (t, n) = clf(b"9/Feb/2017:10:34:12 -0700]").unwrap();
        assert_eq!(
            (format_utc(t).as_str(), n),
            ("2017-02-09T17:34:12.000000Z", 25)
        );
        assert!(ymd_hms(b"2023-13-40 11:24:04", b'-').is_none());
        assert_eq!(year_for(12, 2024, 1), 2023);
    }
}
