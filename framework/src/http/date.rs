//! The `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), cached per
//! worker thread and reformatted at most once per second.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Sun, 06 Nov 1994 08:49:37 GMT`
pub(crate) const DATE_LEN: usize = 29;

/// `Date: ` + the date + CRLF: the whole header field line.
pub(crate) const FIELD_LEN: usize = 6 + DATE_LEN + 2;

thread_local! {
    /// (worker turn tick it was read at, seconds) of `FIELD`.
    static STAMP: Cell<(u64, u64)> = const { Cell::new((u64::MAX, u64::MAX)) };
    /// The `Date` field line as of `STAMP`.
    static FIELD: Cell<[u8; FIELD_LEN]> = const { Cell::new([0; FIELD_LEN]) };
}

/// The current date as an IMF-fixdate, from this thread's cache.
#[cfg(test)]
pub(crate) fn now() -> [u8; DATE_LEN] {
    let mut d = [0; DATE_LEN];
    d.copy_from_slice(&field().1[6..6 + DATE_LEN]);
    d
}

/// The `Date` header field line (`Date: ...\r\n`), from this thread's
/// cache.
///
/// On a worker the real-time clock is read at most once per loop turn
/// (the turn's tick is free to read): a pipelined batch of requests shares
/// one clock read instead of paying one each, and within a turn the field
/// is one copy of the cached line. Also returns the second the line is
/// for: one second, one line.
pub(crate) fn field() -> (u64, [u8; FIELD_LEN]) {
    let tick = crate::runtime::turn_tick();
    let (at_tick, at_secs) = STAMP.get();
    if tick.is_some_and(|t| t == at_tick) {
        return (at_secs, FIELD.get());
    }
    refresh(tick, at_secs)
}

/// The second [`field`] would give a line for now (without the copy).
pub(crate) fn secs() -> u64 {
    let tick = crate::runtime::turn_tick();
    let (at_tick, at_secs) = STAMP.get();
    if tick.is_some_and(|t| t == at_tick) {
        return at_secs;
    }
    refresh(tick, at_secs).0
}

/// Reads the clock, reformats the line if the second changed, and stores
/// the new stamp.
#[cold]
#[inline(never)]
fn refresh(tick: Option<u64>, at_secs: u64) -> (u64, [u8; FIELD_LEN]) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let line = if secs == at_secs {
        FIELD.get()
    } else {
        let mut line = *b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
        line[6..6 + DATE_LEN].copy_from_slice(&format_imf(secs));
        FIELD.set(line);
        line
    };
    STAMP.set((tick.unwrap_or(u64::MAX), secs));
    (secs, line)
}

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub(crate) fn format_imf(secs: u64) -> [u8; DATE_LEN] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(DAYS[(days % 7) as usize]);
    two(&mut out[5..7], day as u64);
    out[8..11].copy_from_slice(MONTHS[month as usize - 1]);
    let y = year.clamp(0, 9999) as u64;
    two(&mut out[12..14], y / 100);
    two(&mut out[14..16], y % 100);
    two(&mut out[17..19], rem / 3600);
    two(&mut out[20..22], rem / 60 % 60);
    two(&mut out[23..25], rem % 60);
    out
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into seconds
/// since the Unix epoch; `None` for anything else (the obsolete RFC 850
/// and asctime forms included: a conditional field that does not parse
/// is ignored, RFC 9110 §13.1.3).
pub(crate) fn parse_imf(v: &[u8]) -> Option<u64> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let v: &[u8; DATE_LEN] = v.trim_ascii().try_into().ok()?;
    if &v[3..5] != b", " || v[7] != b' ' || v[11] != b' ' || v[16] != b' ' || &v[25..] != b" GMT" {
        return None;
    }
    if v[19] != b':' || v[22] != b':' {
        return None;
    }
    let num = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
        })
    };
    let day = num(&v[5..7])?;
    let month = MONTHS.iter().position(|m| &v[8..11] == *m)? as u32 + 1;
    let year = num(&v[12..16])?;
    let (h, m, s) = (num(&v[17..19])?, num(&v[20..22])?, num(&v[23..25])?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year as i64, month, day as u32);
    Some(days as u64 * 86_400 + h * 3600 + m * 60 + s)
}

/// (year, month 1..=12, day 1..=31) to days since 1970-01-01, the inverse
/// of [`civil_from_days`] (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn two(dst: &mut [u8], v: u64) {
    dst[0] = b'0' + (v / 10 % 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_formats() {
        for secs in [0u64, 784_111_777, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(parse_imf(&format_imf(secs)), Some(secs));
        }
        assert_eq!(
            parse_imf(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        for bad in [
            &b"Sunday, 06-Nov-94 08:49:37 GMT"[..],
            b"Sun Nov  6 08:49:37 1994",
            b"Sun, 06 Foo 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 25:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"",
        ] {
            assert_eq!(parse_imf(bad), None);
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(&format_imf(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format_imf(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format_imf(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&format_imf(1_700_000_000), b"Tue, 14 Nov 2023 22:13:20 GMT");
    }

    #[test]
    fn cached_value_is_current() {
        let a = now();
        assert_eq!(a.len(), DATE_LEN);
        assert!(a.ends_with(b" GMT"));
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!([format_imf(secs - 1), format_imf(secs)].contains(&a));
        let (at, f) = field();
        assert!(f.starts_with(b"Date: ") && f.ends_with(b" GMT\r\n"));
        assert_eq!(f[6..6 + DATE_LEN], format_imf(at));
        assert!(super::secs() >= at);
    }
}
