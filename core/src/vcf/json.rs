//! Typed INFO/FORMAT values written straight to JSON text (what `jsonb` input reads), without
//! building a tree per row: Flag → true, Integer/Float → numbers, lists → arrays, `.` → null.
//!
//! Every number is written from what was parsed, never from raw text that `jsonb` would
//! refuse (docs/loading.md, "INFO → jsonb"): an Integer as its i64 (`007` → 7, `+5` → 5,
//! `-0` → 0); a Float as its text when that already is a short JSON number, else from the
//! parsed value (`.5` → 0.5, `5.` → 5.0, `+5` → 5.0, `0x1F` → 31.0); NaN and infinities,
//! which JSON cannot hold, as the strings htslib prints them (`"nan"`, `"inf"`, `"-inf"`).
//! A value that is not of its declared type — or an Integer beyond i64, which htslib would
//! set missing — is kept as its text in a JSON string and reported as a type mismatch.

use super::header::ValueType;

pub struct JsonObject {
    buf: String,
    empty: bool,
    /// A NUL character was written since the last key (`jsonb` refuses `\u0000`).
    nul: bool,
    /// Why `jsonb` would refuse the object, naming the key, if it would.
    unstorable: Option<String>,
    /// Bytes of the longest string written (`jsonb` strings hold at most [`JSONB_MAX`]).
    longest: usize,
}

/// `jsonb`'s limit on one string and on an object's contents: 2^28 - 1 bytes
/// (PostgreSQL's `JENTRY_OFFLENMASK`; "string too long to represent as jsonb string").
pub const JSONB_MAX: usize = 0x0FFF_FFFF;

impl Default for JsonObject {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonObject {
    pub fn new() -> Self {
        JsonObject {
            buf: String::from("{"),
            empty: true,
            nul: false,
            unstorable: None,
            longest: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        self.string(key);
        self.buf.push(':');
    }

    /// A JSON string; a NUL (`\u0000`, which `jsonb` refuses) is noted for [`Self::done`].
    fn string(&mut self, s: &str) {
        self.nul |= push_string_seeing_nul(&mut self.buf, s);
        self.longest = self.longest.max(s.len());
    }

    /// After the value of `key`: remember the first key whose text `jsonb` would refuse.
    fn done(&mut self, key: &str) {
        if self.nul && self.unstorable.is_none() {
            self.unstorable = Some(format!(
                "{}: a NUL character, which jsonb cannot store",
                key.replace('\0', "\\0")
            ));
        }
        self.nul = false;
    }

    pub fn flag(&mut self, key: &str) {
        self.key(key);
        self.buf.push_str("true");
        self.done(key);
    }

    /// A scalar value. Returns false when it did not fit its declared type (stored as a
    /// string instead, so nothing is lost).
    pub fn scalar(&mut self, key: &str, ty: ValueType, raw: &str) -> bool {
        self.key(key);
        let ok = self.value(ty, raw);
        self.done(key);
        ok
    }

    /// An array of values. Returns false when any element did not fit its type.
    pub fn array<'a>(
        &mut self,
        key: &str,
        ty: ValueType,
        items: impl Iterator<Item = &'a str>,
    ) -> bool {
        self.key(key);
        self.buf.push('[');
        let mut ok = true;
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            ok &= self.value(ty, item);
        }
        self.buf.push(']');
        self.done(key);
        ok
    }

    /// The object's JSON text, or what `jsonb` would refuse in it (the caller names the
    /// line and field: a `22P04` error).
    pub fn finish(self) -> Result<String, String> {
        self.finish_within(JSONB_MAX)
    }

    fn finish_within(mut self, limit: usize) -> Result<String, String> {
        if let Some(what) = self.unstorable {
            return Err(what);
        }
        if self.longest > limit {
            return Err(format!(
                "a value of {} bytes, over jsonb's limit of {limit} bytes per string",
                self.longest
            ));
        }
        if self.buf.len() >= limit {
            return Err(format!(
                "{} bytes of JSON, over jsonb's limit of {limit} bytes per object",
                self.buf.len() + 1
            ));
        }
        self.buf.push('}');
        Ok(self.buf)
    }

    /// One typed value (see the module comment). False when it did not fit its type.
    fn value(&mut self, ty: ValueType, raw: &str) -> bool {
        if raw == "." || raw.is_empty() {
            self.buf.push_str("null");
            return true;
        }
        match ty {
            ValueType::Integer => match parse_integer(raw) {
                Some(v) => {
                    if is_canonical_integer(raw) {
                        self.buf.push_str(raw);
                    } else {
                        self.buf.push_str(itoa(v, &mut [0u8; 20]));
                    }
                    true
                }
                None => {
                    self.string(raw);
                    false
                }
            },
            ValueType::Float => match parse_float(raw) {
                Some(v) if v.is_finite() => {
                    if is_plain_json_number(raw) {
                        self.buf.push_str(raw);
                    } else {
                        use std::fmt::Write;
                        // Debug of a finite f64 is a JSON number: `0.5`, `5.0`, `1e-7`.
                        let _ = write!(self.buf, "{v:?}");
                    }
                    true
                }
                Some(v) => {
                    push_string(&mut self.buf, non_finite_text(v));
                    true
                }
                None => {
                    self.string(raw);
                    false
                }
            },
            ValueType::Flag | ValueType::Character | ValueType::String => {
                self.string(raw);
                true
            }
        }
    }
}

/// What htslib prints for a non-finite float (`kputd` → `%g`).
fn non_finite_text(v: f64) -> &'static str {
    if v.is_nan() {
        "nan"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// An Integer as VCF writes it: optional sign, decimal digits (leading zeros allowed, as
/// htslib's `strtol` reads them). None beyond i64 or for anything else.
pub fn parse_integer(raw: &str) -> Option<i64> {
    let b = raw.as_bytes();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Accumulated negatively, so that i64::MIN fits.
    let mut v: i64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_sub((d - b'0') as i64)?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// A Float as htslib reads it (`strtod`): decimal with optional sign and exponent (`1e5`,
/// `.5`, `5.`, `+5`, `-0`), `NaN`, `Inf`, `Infinity` in any case, and hexadecimal (`0x1F`,
/// `0x1.8p3`). None for anything else, trailing text included.
pub fn parse_float(raw: &str) -> Option<f64> {
    let (neg, rest) = match raw.as_bytes().first()? {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    let v = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(hex) => parse_hex_float(hex)?,
        // A second sign is not a number.
        None if rest.starts_with(['+', '-']) => return None,
        None => rest.parse::<f64>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// The part of a C99 hexadecimal float after `0x`: `h+[.h*][p[+-]d+]` or `.h+[p…]`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    if let Some(e) = exp {
        let e = parse_integer(e)?;
        v *= 2f64.powi(e.clamp(-2000, 2000) as i32);
    }
    Some(v)
}

/// Integer text that is already the decimal form of its value: no `+`, no leading zero,
/// not `-0` (the caller has checked it is an integer).
fn is_canonical_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw).as_bytes();
    !raw.starts_with('+') && (digits.len() == 1 || digits[0] != b'0') && raw != "-0"
}

/// i64 → decimal text, without allocating.
fn itoa(v: i64, buf: &mut [u8; 20]) -> &str {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        // 20 bytes hold i64::MIN's 19 digits and its sign.
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Float text that can be stored as written: JSON number grammar, at most 64 characters and
/// an exponent within ±308 — so `jsonb`'s numeric never overflows on a crafted `1e-99999`
/// or a 20,000-digit fraction (those are written from the parsed value instead).
fn is_plain_json_number(s: &str) -> bool {
    if s.len() > 64 || !is_json_number(s) {
        return false;
    }
    match s.bytes().position(|b| b | 0x20 == b'e') {
        Some(i) => parse_integer(&s[i + 1..]).is_some_and(|e| (-308..=308).contains(&e)),
        None => true,
    }
}

/// JSON number grammar: `-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && b[i] == b'-' {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

/// A JSON string literal. NUL cannot be stored in `jsonb`: [`JsonObject`] reports it.
pub fn push_string(buf: &mut String, s: &str) {
    push_string_seeing_nul(buf, s);
}

/// [`push_string`], returning whether `s` held a NUL (seen by the escaping loop itself).
fn push_string_seeing_nul(buf: &mut String, s: &str) -> bool {
    let mut nul = false;
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                nul |= c == '\0';
                buf.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
    nul
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn typed_values() {
        let mut o = JsonObject::new();
        o.flag("DB");
        assert!(o.scalar("DP", ValueType::Integer, "+14"));
        assert!(o.scalar("AF", ValueType::Float, "3.18593e-05"));
        assert!(o.scalar("X", ValueType::Float, ".5"));
        assert!(o.scalar("NAN", ValueType::Float, "NaN"));
        assert!(!o.scalar("BAD", ValueType::Integer, "1.5"));
        assert!(o.array("AC", ValueType::Integer, ["1", ".", "3"].into_iter()));
        assert!(o.scalar("S", ValueType::String, "a\"b\\c\u{1}"));
        let s = o.finish().unwrap();
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["DB"], true);
        assert_eq!(v["DP"], 14);
        assert_eq!(v["AF"], 3.18593e-05);
        assert_eq!(v["X"], 0.5);
        assert_eq!(v["NAN"], "nan");
        assert_eq!(v["BAD"], "1.5");
        assert_eq!(v["AC"], json!([1, null, 3]));
        assert_eq!(v["S"], "a\"b\\c\u{1}");
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-1", "1.5", "1e5", "1E-05", "-0.0"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "01", ".5", "1.", "+1", "1e", "inf", "0x10"] {
            assert!(!is_json_number(bad), "{bad}");
        }
        assert_eq!(JsonObject::new().finish().unwrap(), "{}");
    }

    /// Each awkward number as an Integer and as a Float: (text, Integer JSON, Integer fits,
    /// Float JSON). Every object must parse as JSON, numbers must be what was parsed.
    #[test]
    fn awkward_numbers_are_valid_json_from_what_was_parsed() {
        let huge = "123456789012345678901234567890";
        let cases: [(&str, Value, bool, Value); 16] = [
            ("007", json!(7), true, json!(7.0)),
            ("+5", json!(5), true, json!(5.0)),
            ("-0", json!(0), true, json!(-0.0)),
            ("1e5", json!("1e5"), false, json!(100000.0)),
            (".5", json!(".5"), false, json!(0.5)),
            ("5.", json!("5."), false, json!(5.0)),
            ("NaN", json!("NaN"), false, json!("nan")),
            ("Inf", json!("Inf"), false, json!("inf")),
            ("-Infinity", json!("-Infinity"), false, json!("-inf")),
            ("0x1F", json!("0x1F"), false, json!(31.0)),
            ("-0x1.8p1", json!("-0x1.8p1"), false, json!(-3.0)),
            (huge, json!(huge), false, json!(1.2345678901234568e29)),
            (
                "9223372036854775807",
                json!(i64::MAX),
                true,
                json!(9.223372036854776e18),
            ),
            (
                "-9223372036854775808",
                json!(i64::MIN),
                true,
                json!(-9.223372036854776e18),
            ),
            ("1e400", json!("1e400"), false, json!("inf")),
            ("1e-99999", json!("1e-99999"), false, json!(0.0)),
        ];
        for (raw, int, int_ok, float) in cases {
            let mut o = JsonObject::new();
            assert_eq!(o.scalar("I", ValueType::Integer, raw), int_ok, "{raw}");
            assert!(o.scalar("F", ValueType::Float, raw), "{raw}");
            let text = o.finish().unwrap();
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{raw}: {text}: {e}"));
            assert_eq!(v["I"], int, "{raw}: {text}");
            // Floats by value: `9223372036854775807` stays as written, an integer to serde.
            match float.as_f64() {
                Some(f) => assert_eq!(v["F"].as_f64(), Some(f), "{raw}: {text}"),
                None => assert_eq!(v["F"], float, "{raw}: {text}"),
            }
        }
        // Lists with missing items; text that is no number keeps its text.
        let mut o = JsonObject::new();
        assert!(o.array("A", ValueType::Integer, "1,2,.".split(',')));
        assert!(!o.array("B", ValueType::Float, "1,x".split(',')));
        let v: Value = serde_json::from_str(&o.finish().unwrap()).unwrap();
        assert_eq!(v, json!({"A": [1, 2, null], "B": [1, "x"]}));
        // A 20,000-digit fraction is written from its value, not as text numeric refuses.
        let long = format!("0.{}1", "0".repeat(20_000));
        let mut o = JsonObject::new();
        o.scalar("F", ValueType::Float, &long);
        assert_eq!(o.finish().unwrap(), "{\"F\":0.0}");
    }

    /// What `jsonb` refuses is an error naming the key (the decomposer adds line and
    /// field): a NUL, a string or object over jsonb's size limits.
    #[test]
    fn unstorable_values() {
        let mut o = JsonObject::new();
        o.scalar("OK", ValueType::String, "fine");
        o.scalar("S", ValueType::String, "a\0b");
        assert_eq!(
            o.finish().unwrap_err(),
            "S: a NUL character, which jsonb cannot store"
        );
        let mut o = JsonObject::new();
        o.scalar("S", ValueType::String, &"x".repeat(101));
        assert!(o.finish_within(100).unwrap_err().contains("per string"));
        let mut o = JsonObject::new();
        o.array("A", ValueType::Integer, ["1"; 60].into_iter());
        assert!(o.finish_within(100).unwrap_err().contains("per object"));
    }

    #[test]
    fn integer_parsing() {
        assert_eq!(parse_integer("-0012"), Some(-12));
        assert_eq!(parse_integer("9223372036854775808"), None);
        for bad in ["", "+", "-", "1.0", "1e3", " 1", "0x1F", "--1"] {
            assert_eq!(parse_integer(bad), None, "{bad}");
        }
        assert_eq!(itoa(0, &mut [0; 20]), "0");
        assert_eq!(itoa(-45, &mut [0; 20]), "-45");
        for (raw, canonical) in [
            ("0", true),
            ("-12", true),
            ("007", false),
            ("-0", false),
            ("+5", false),
            ("-05", false),
        ] {
            assert_eq!(is_canonical_integer(raw), canonical, "{raw}");
        }
    }
}
