//! Sizes and the amounts a limit sets or a figure measures: the accepted units (`MB`
//! is 10^6 bytes, `MiB` 2^20), exact parsing of `200 MB` or `1.5GiB` into bytes, and
//! how a measured [`Amount`] compares with a limit. An unknown unit is an error that
//! lists the accepted forms, never a guess. Knows nothing of budget keys or reports.

/// The units a size may carry, with their factors.
const UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// The accepted size forms, for error messages.
pub const SIZE_FORMS: &str = "a number of bytes (`1500000`), or a number with a unit: \
    `B`, `kB`, `MB`, `GB`, `TB` (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024), \
    as in `200 MB`, `1.5GiB`";

/// A size in bytes from `1500000`, `200 MB`, `1.5GiB`, `512 KiB`. Exact: a fraction
/// must come out to whole bytes.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = (t[..split].replace('_', ""), t[split..].trim());
    let bad = |why: &str| format!("`{text}`: {why}; a size is {SIZE_FORMS}");
    if number.is_empty() {
        return Err(bad("no number"));
    }
    let factor = if unit.is_empty() {
        1
    } else {
        match UNITS.iter().find(|(u, _)| *u == unit) {
            Some(&(_, f)) => f,
            None => return Err(bad(&format!("unknown unit `{unit}`"))),
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(bad("malformed number"));
    }
    let overflow = || bad("too large");
    let whole: u64 = whole.parse().map_err(|_| overflow())?;
    let mut bytes = whole.checked_mul(factor).ok_or_else(overflow)?;
    if !fraction.is_empty() {
        let digits = u32::try_from(fraction.len()).map_err(|_| bad("malformed number"))?;
        let scale = 10u128
            .checked_pow(digits)
            .ok_or_else(|| bad("too many decimals"))?;
        let f: u128 = fraction.parse().map_err(|_| bad("malformed number"))?;
        let part = f * u128::from(factor);
        if !part.is_multiple_of(scale) {
            return Err(bad("not a whole number of bytes"));
        }
        let part = u64::try_from(part / scale).map_err(|_| overflow())?;
        bytes = bytes.checked_add(part).ok_or_else(overflow)?;
    }
    Ok(bytes)
}

/// The unit of a limit and a measured figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Count,
    Percent,
}

/// A limit or a measured figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    Bytes(u64),
    Count(u64),
    Percent(f64),
    /// Growth can be negative.
    SignedBytes(i64),
}

impl Amount {
    fn as_f64(self) -> f64 {
        match self {
            Amount::Bytes(b) | Amount::Count(b) => b as f64,
            Amount::Percent(p) => p,
            Amount::SignedBytes(b) => b as f64,
        }
    }

    /// `self` is at most `limit` (exact for integers).
    pub(super) fn within(self, limit: Amount) -> bool {
        match (self, limit) {
            (Amount::Bytes(a) | Amount::Count(a), Amount::Bytes(l) | Amount::Count(l)) => a <= l,
            (Amount::SignedBytes(a), Amount::Bytes(l)) => a <= i64::try_from(l).unwrap_or(i64::MAX),
            (a, l) => a.as_f64() <= l.as_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_exact() {
        let ok = [
            ("0", 0),
            ("1500000", 1_500_000),
            ("1_500_000", 1_500_000),
            ("20MB", 20_000_000),
            ("20 MB", 20_000_000),
            ("20 MiB", 20 << 20),
            ("1.5 kB", 1_500),
            ("1.5KiB", 1_536),
            ("2 GB", 2_000_000_000),
            ("2GiB", 2 << 30),
            ("1 TB", 1_000_000_000_000),
            ("1 TiB", 1 << 40),
            ("7 B", 7),
            ("0.5 MiB", 1 << 19),
        ];
        for (text, bytes) in ok {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in [
            "", "MB", "20 mb", "20 KB", "20 Mb", "1.5 B", "1..5 MB", "1. MB", "-3", "20 MBs",
        ] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.contains("MiB"), "{bad}: {e}");
        }
        assert!(parse_size("99999999999 TB").is_err());
    }
}
