//! Tax identification numbers: whether a customer's tax id is well formed for its country, with
//! its check digits, following the rules python-stdnum documents for each format
//! (`stdnum.be.vat`, `stdnum.nl.btw`, `stdnum.de.vat`, `stdnum.fr.tva`, `stdnum.gb.vat`,
//! `stdnum.us.ein`).
//!
//! [`validate`] cleans the number as stdnum's `compact` does (spaces, dashes, dots and the
//! country prefix removed, letters upper-cased) and checks it:
//!
//! | country | format | check |
//! |---|---|---|
//! | BE | 10 digits (a 9-digit old number gets a leading `0`), first `0` or `1` | the first 8 digits plus the last 2 divisible by 97 |
//! | NL | 9 digits, `B`, 2 digits (not `00`) | the 9 digits pass the BSN/RSIN eleven test, or `NL` + the number passes ISO 7064 mod 97-10 (sole traders' numbers since 2020) |
//! | DE | 9 digits, not starting with `0` | ISO 7064 mod 11,10 |
//! | FR | 2 check characters + a 9-digit SIREN | SIREN Luhn (not for Monaco's `000`); numeric key: `(SIREN·100 + 12) mod 97`; alphabetic key: stdnum's new-style formula |
//! | GB | 9 or 12 digits, or `GD`/`HA` + 3 digits | weights 8..2,10,1 mod 97 in {0, 42, 55} (0 only below 100) |
//! | US | EIN: 9 digits, `NN-NNNNNNN` | the two-digit prefix is one the IRS assigns to a campus |
//!
//! ```
//! use odoo_connect_canonical::rules::tax_id::{TaxIdError, validate};
//! assert_eq!(validate("BE", "BE403019261"), Ok("0403019261".to_owned()));
//! assert_eq!(validate("DE", "DE136695978"), Err(TaxIdError::Checksum));
//! assert_eq!(validate("US", "91-1144442"), Ok("911144442".to_owned()));
//! ```

/// Why a tax id is refused (stdnum's `InvalidFormat`, `InvalidLength`, `InvalidComponent`,
/// `InvalidChecksum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaxIdError {
    /// Characters that do not belong (letters where digits are expected, a missing `B`).
    #[error("the tax id has characters that do not belong in it")]
    Format,
    /// Too short or too long.
    #[error("the tax id has the wrong length")]
    Length,
    /// A part that cannot be (a Belgian number not starting with 0 or 1, an EIN prefix the IRS
    /// does not assign).
    #[error("a part of the tax id is not one that is issued")]
    Component,
    /// The check digits do not match.
    #[error("the tax id's check digits do not match")]
    Checksum,
}

impl TaxIdError {
    /// A stable name (`format`, `length`, `component`, `checksum`).
    pub fn name(self) -> &'static str {
        match self {
            TaxIdError::Format => "format",
            TaxIdError::Length => "length",
            TaxIdError::Component => "component",
            TaxIdError::Checksum => "checksum",
        }
    }
}

/// The countries whose tax ids [`validate`] checks (ISO 3166 alpha-2).
pub const CHECKED_COUNTRIES: [&str; 6] = ["BE", "DE", "FR", "GB", "NL", "US"];

/// Whether [`validate`] knows the rules of `country`'s tax ids.
pub fn is_checked(country: &str) -> bool {
    CHECKED_COUNTRIES
        .iter()
        .any(|c| c.eq_ignore_ascii_case(country))
}

/// Checks `number` as a tax id of `country` and returns it compact (no separators, no country
/// prefix). A country not in [`CHECKED_COUNTRIES`] gets the compact number back unchecked.
pub fn validate(country: &str, number: &str) -> Result<String, TaxIdError> {
    let country = country.trim().to_ascii_uppercase();
    match country.as_str() {
        "BE" => be(number),
        "NL" => nl(number),
        "DE" => de(number),
        "FR" => fr(number),
        "GB" => gb(number),
        "US" => us_ein(number),
        _ => Ok(clean(number, " -./,")),
    }
}

/// The number upper-cased, without `strip` characters and surrounding spaces.
fn clean(number: &str, strip: &str) -> String {
    number
        .chars()
        .filter(|c| !strip.contains(*c) && !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

fn without_prefix(number: String, prefixes: &[&str]) -> String {
    for p in prefixes {
        if let Some(rest) = number.strip_prefix(p) {
            return rest.to_owned();
        }
    }
    number
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn digits(s: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b - b'0'))
}

/// `s` (digits only) modulo `m`, digit by digit (no overflow whatever the length).
fn mod_of(s: &str, m: u32) -> u32 {
    digits(s).fold(0, |acc, d| (acc * 10 + d) % m)
}

/// `stdnum.be.vat`.
fn be(number: &str) -> Result<String, TaxIdError> {
    let mut n = without_prefix(clean(number, " -./"), &["BE"]);
    if let Some(rest) = n.strip_prefix("(0)") {
        n = format!("0{rest}");
    }
    if n.len() == 9 {
        n = format!("0{n}");
    }
    if !all_digits(&n) || n.bytes().all(|b| b == b'0') {
        return Err(TaxIdError::Format);
    }
    if n.len() != 10 {
        return Err(TaxIdError::Length);
    }
    if !n.starts_with(['0', '1']) {
        return Err(TaxIdError::Component);
    }
    let (body, check) = n.split_at(8);
    if !(mod_of(body, 97) + mod_of(check, 97)).is_multiple_of(97) {
        return Err(TaxIdError::Checksum);
    }
    Ok(n)
}

/// `stdnum.nl.btw`: the 9 digits (zero-padded) pass the eleven test of `stdnum.nl.bsn`, or the
/// whole number with `NL` passes ISO 7064 mod 97-10.
fn nl(number: &str) -> Result<String, TaxIdError> {
    let n = without_prefix(clean(number, " -."), &["NL"]);
    if !n.is_ascii() {
        return Err(TaxIdError::Format);
    }
    if n.len() < 3 {
        return Err(TaxIdError::Length);
    }
    let (body, tail) = n.split_at(n.len() - 3);
    let n = format!("{body:0>9}{tail}");
    let suffix = &n[n.len().saturating_sub(2)..];
    if !all_digits(suffix) || suffix == "00" {
        return Err(TaxIdError::Format);
    }
    if n.len() != 12 {
        return Err(TaxIdError::Length);
    }
    if n.as_bytes()[9] != b'B' {
        return Err(TaxIdError::Format);
    }
    let bsn = &n[..9];
    if !all_digits(bsn) {
        return Err(TaxIdError::Format);
    }
    let eleven = digits(&bsn[..8])
        .enumerate()
        .map(|(i, d)| (9 - i as i64) * i64::from(d))
        .sum::<i64>()
        - i64::from(digits(&bsn[8..]).next().unwrap_or(0));
    if eleven.rem_euclid(11) == 0 || mod_97_10(&format!("NL{n}")) {
        return Ok(n);
    }
    Err(TaxIdError::Checksum)
}

/// ISO 7064 mod 97-10 over digits and letters (`A` = 10 .. `Z` = 35): valid when 1.
fn mod_97_10(s: &str) -> bool {
    let mut acc: u32 = 0;
    for c in s.chars() {
        let Some(v) = c.to_digit(36) else {
            return false;
        };
        for d in v.to_string().bytes() {
            acc = (acc * 10 + u32::from(d - b'0')) % 97;
        }
    }
    acc == 1
}

/// `stdnum.de.vat`: ISO 7064 mod 11,10.
fn de(number: &str) -> Result<String, TaxIdError> {
    let n = without_prefix(clean(number, " -./,"), &["DE"]);
    if !all_digits(&n) || n.starts_with('0') {
        return Err(TaxIdError::Format);
    }
    if n.len() != 9 {
        return Err(TaxIdError::Length);
    }
    let check = digits(&n).fold(5u32, |check, d| {
        let c = if check == 0 { 10 } else { check };
        ((c * 2) % 11 + d) % 10
    });
    if check != 1 {
        return Err(TaxIdError::Checksum);
    }
    Ok(n)
}

/// Luhn over digits (`stdnum.luhn`).
fn luhn(s: &str) -> bool {
    let sum: u32 = digits(s)
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `stdnum.fr.tva`.
fn fr(number: &str) -> Result<String, TaxIdError> {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let n = without_prefix(clean(number, " -."), &["FR"]);
    let mut chars = n.chars();
    let (Some(a), Some(b)) = (chars.next(), chars.next()) else {
        return Err(TaxIdError::Length);
    };
    let (Some(ia), Some(ib)) = (ALPHABET.find(a), ALPHABET.find(b)) else {
        return Err(TaxIdError::Format);
    };
    let siren = &n[2..];
    if !all_digits(siren) {
        return Err(TaxIdError::Format);
    }
    if n.len() != 11 {
        return Err(TaxIdError::Length);
    }
    // Monaco's numbers are valid TVA but not SIREN.
    if !siren.starts_with("000") && !luhn(siren) {
        return Err(TaxIdError::Checksum);
    }
    let ok = if a.is_ascii_digit() && b.is_ascii_digit() {
        let key = u32::try_from(ia * 10 + ib).unwrap_or(u32::MAX);
        key == mod_of(&format!("{siren}12"), 97)
    } else {
        let check = if a.is_ascii_digit() {
            ia * 24 + ib
        } else {
            ia * 34 + ib
        }
        .checked_sub(if a.is_ascii_digit() { 10 } else { 100 });
        match check {
            Some(check) => {
                let check = u32::try_from(check).unwrap_or(0);
                (mod_of(siren, 11) + 1 + check / 11) % 11 == check % 11
            }
            None => false,
        }
    };
    if !ok {
        return Err(TaxIdError::Checksum);
    }
    Ok(n)
}

/// `stdnum.gb.vat`.
fn gb(number: &str) -> Result<String, TaxIdError> {
    let n = without_prefix(clean(number, " -."), &["GB", "XI"]);
    if !n.is_ascii() {
        return Err(TaxIdError::Format);
    }
    let authority = |kind: &str, num: u32| match kind {
        "GD" => num < 500,
        "HA" => num >= 500,
        _ => false,
    };
    match n.len() {
        5 => {
            if !all_digits(&n[2..]) {
                return Err(TaxIdError::Format);
            }
            if !authority(&n[..2], mod_of(&n[2..], 1000)) {
                return Err(TaxIdError::Component);
            }
        }
        11 if matches!(&n[..6], "GD8888" | "HA8888") => {
            if !all_digits(&n[6..]) {
                return Err(TaxIdError::Format);
            }
            let num = mod_of(&n[6..9], 1000);
            if !authority(&n[..2], num) {
                return Err(TaxIdError::Component);
            }
            if num % 97 != mod_of(&n[9..11], 100) {
                return Err(TaxIdError::Checksum);
            }
        }
        9 | 12 => {
            if !all_digits(&n) {
                return Err(TaxIdError::Format);
            }
            const WEIGHTS: [u32; 9] = [8, 7, 6, 5, 4, 3, 2, 10, 1];
            let sum = WEIGHTS
                .iter()
                .zip(digits(&n[..9]))
                .map(|(w, d)| w * d)
                .sum::<u32>()
                % 97;
            let ok = if mod_of(&n[..3], 1000) >= 100 {
                matches!(sum, 0 | 42 | 55)
            } else {
                sum == 0
            };
            if !ok {
                return Err(TaxIdError::Checksum);
            }
        }
        _ => return Err(TaxIdError::Length),
    }
    Ok(n)
}

/// The EIN prefixes the IRS assigns to its campuses (`stdnum/us/ein.dat`).
const EIN_PREFIXES: [u8; 83] = [
    1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58,
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 90, 91, 92, 93, 94, 95, 98, 99,
];

/// `stdnum.us.ein`: `NN-NNNNNNN` (the dash optional, nowhere else), a prefix of a campus.
fn us_ein(number: &str) -> Result<String, TaxIdError> {
    let n: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = match n.split_once('-') {
        Some((area, group)) if area.len() == 2 => format!("{area}{group}"),
        Some(_) => return Err(TaxIdError::Format),
        None => n,
    };
    if !all_digits(&compact) || compact.len() != 9 {
        return Err(TaxIdError::Format);
    }
    let prefix = u8::try_from(mod_of(&compact[..2], 100)).unwrap_or(0);
    if !EIN_PREFIXES.contains(&prefix) {
        return Err(TaxIdError::Component);
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of python-stdnum's module documentation, and its refusals.
    #[test]
    fn stdnum_documented_examples() {
        assert_eq!(validate("BE", "BE403019261"), Ok("0403019261".into()));
        assert_eq!(validate("BE", "BE 0403.019.261"), Ok("0403019261".into()));
        assert_eq!(validate("BE", "BE431150351"), Err(TaxIdError::Checksum));
        assert_eq!(validate("BE", "2403019261"), Err(TaxIdError::Component));

        assert_eq!(validate("NL", "004495445B01"), Ok("004495445B01".into()));
        assert_eq!(validate("NL", "NL4495445B01"), Ok("004495445B01".into()));
        assert_eq!(validate("NL", "123456789B90"), Err(TaxIdError::Checksum));
        assert_eq!(validate("NL", "NL002455799B11"), Ok("002455799B11".into()));
        assert_eq!(validate("NL", "NL004495445A01"), Err(TaxIdError::Format));

        assert_eq!(validate("DE", "DE 136,695 976"), Ok("136695976".into()));
        assert_eq!(validate("DE", "136695978"), Err(TaxIdError::Checksum));
        assert_eq!(validate("DE", "036695976"), Err(TaxIdError::Format));

        assert_eq!(
            validate("FR", "Fr 40 303 265 045"),
            Ok("40303265045".into())
        );
        assert_eq!(validate("FR", "23334175221"), Ok("23334175221".into()));
        assert_eq!(validate("FR", "84 323 140 391"), Err(TaxIdError::Checksum));
        assert_eq!(validate("FR", "K7399859412"), Ok("K7399859412".into()));
        assert_eq!(validate("FR", "4Z123456782"), Ok("4Z123456782".into()));
        assert_eq!(validate("FR", "IO334175221"), Err(TaxIdError::Format));

        assert_eq!(validate("GB", "GB 980 7806 84"), Ok("980780684".into()));
        assert_eq!(validate("GB", "802311781"), Err(TaxIdError::Checksum));
        assert_eq!(validate("GB", "GD100"), Ok("GD100".into()));
        assert_eq!(validate("GB", "GD600"), Err(TaxIdError::Component));
        assert_eq!(validate("GB", "12345"), Err(TaxIdError::Component));
        assert_eq!(validate("GB", "GDABC"), Err(TaxIdError::Format));

        assert_eq!(validate("US", "91-1144442"), Ok("911144442".into()));
        assert_eq!(validate("US", "042103594"), Ok("042103594".into()));
        assert_eq!(validate("US", "911-14-4442"), Err(TaxIdError::Format));
        assert_eq!(validate("US", "07-1144442"), Err(TaxIdError::Component));
    }

    #[test]
    fn other_countries_are_returned_compact_and_unchecked() {
        assert!(!is_checked("ES"));
        assert!(is_checked("be"));
        assert_eq!(validate("ES", "ES B-12.345.678"), Ok("ESB12345678".into()));
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for country in CHECKED_COUNTRIES {
            for n in [
                "",
                "-",
                "B",
                "NLB",
                "ÉÉÉÉÉÉÉÉÉÉÉ",
                "12",
                "GD8888ÉÉÉÉÉ",
                "FR",
                "00",
            ] {
                let _ = validate(country, n);
            }
        }
    }
}
