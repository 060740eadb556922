//! PostgreSQL `numeric` values as their exact text, read from the binary form the server sends
//! (sqlx's decimal types drop the value's scale: `1234.50` would read `1234.5000`, and `NaN`
//! not at all). The text is the server's own: every digit of the scale, `NaN`, `Infinity`.

/// The text of a binary `numeric`: `ndigits`, `weight`, `sign`, `dscale` (16 bits each, big
/// endian), then `ndigits` base-10000 digits. `None` when the bytes are not one.
pub(crate) fn text(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*bytes.get(2 * i)?, *bytes.get(2 * i + 1)?])) };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
    if bytes.len() != 8 + 2 * ndigits || digits.iter().any(|d| *d > 9999) {
        return None;
    }
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Some("NaN".to_owned()),
        0xD000 => return Some("Infinity".to_owned()),
        0xF000 => return Some("-Infinity".to_owned()),
        _ => return None,
    };
    // The digit at base-10000 position `p` (0 is the one just before the point).
    let at = |p: i64| -> u16 {
        let index = weight - p;
        usize::try_from(index).ok().and_then(|i| digits.get(i)).copied().unwrap_or(0)
    };
    let mut out = String::new();
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&at(weight).to_string());
        for p in (0..weight).rev() {
            out.push_str(&format!("{:04}", at(p)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::with_capacity(dscale + 4);
        let mut p = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", at(p)));
            p -= 1;
        }
        fraction.truncate(dscale);
        out.push('.');
        out.push_str(&fraction);
    }
    let zero = out.bytes().all(|b| b == b'0' || b == b'.');
    if negative && !zero {
        out.insert(0, '-');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [digits.len() as u16, weight as u16, sign, dscale].into_iter().chain(digits.iter().copied()) {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out
    }

    #[test]
    fn reads_every_digit_of_the_scale() {
        assert_eq!(text(&numeric(0, 0, 2, &[1234, 5000])).as_deref(), Some("1234.50"));
        assert_eq!(text(&numeric(0, 0, 4, &[1234, 5000])).as_deref(), Some("1234.5000"));
        assert_eq!(text(&numeric(-5, 0x4000, 18, &[100])).as_deref(), Some("-0.000000000000000001"));
        assert_eq!(
            text(&numeric(4, 0, 2, &[9999, 9999, 9999, 9999, 9999, 9900])).as_deref(),
            Some("99999999999999999999.99")
        );
        assert_eq!(text(&numeric(1, 0, 0, &[12])).as_deref(), Some("120000"));
        assert_eq!(text(&numeric(0, 0, 0, &[])).as_deref(), Some("0"));
        assert_eq!(text(&numeric(0, 0, 3, &[])).as_deref(), Some("0.000"));
        assert_eq!(text(&numeric(0, 0xC000, 0, &[])).as_deref(), Some("NaN"));
        assert_eq!(text(&numeric(0, 0xF000, 0, &[])).as_deref(), Some("-Infinity"));
        assert_eq!(text(&[0, 1]), None);
    }
}
