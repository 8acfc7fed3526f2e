//! Typed INFO/FORMAT values written straight to JSON text (what `jsonb` input reads), without
//! building a tree per row: Flag → true, Integer/Float → numbers, lists → arrays, `.` → null.

use super::header::ValueType;

pub struct JsonObject {
    buf: String,
    empty: bool,
}

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
        push_string(&mut self.buf, key);
        self.buf.push(':');
    }

    pub fn flag(&mut self, key: &str) {
        self.key(key);
        self.buf.push_str("true");
    }

    /// A scalar value. Returns false when it did not fit its declared type (stored as a
    /// string instead, so nothing is lost).
    pub fn scalar(&mut self, key: &str, ty: ValueType, raw: &str) -> bool {
        self.key(key);
        push_value(&mut self.buf, ty, raw)
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
            ok &= push_value(&mut self.buf, ty, item);
        }
        self.buf.push(']');
        ok
    }

    pub fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

fn push_value(buf: &mut String, ty: ValueType, raw: &str) -> bool {
    if raw == "." || raw.is_empty() {
        buf.push_str("null");
        return true;
    }
    match ty {
        ValueType::Integer => {
            if raw.parse::<i64>().is_ok() {
                buf.push_str(raw.strip_prefix('+').unwrap_or(raw));
                true
            } else {
                push_string(buf, raw);
                false
            }
        }
        ValueType::Float => match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                if is_json_number(raw) {
                    buf.push_str(raw);
                } else {
                    buf.push_str(&format!("{v:?}"));
                }
                true
            }
            // NaN/Inf are valid VCF floats but not JSON numbers: keep them as text.
            Ok(_) => {
                push_string(buf, raw);
                true
            }
            Err(_) => {
                push_string(buf, raw);
                false
            }
        },
        ValueType::Flag | ValueType::Character | ValueType::String => {
            push_string(buf, raw);
            true
        }
    }
}

/// JSON number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
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

/// A JSON string literal. NUL cannot be stored in `jsonb`; callers replace it beforehand.
pub fn push_string(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if (c as u32) < 0x20 => buf.push_str(&format!("\\u{:04x}", c as u32)),
            c => buf.push(c),
        }
    }
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let s = o.finish();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["DB"], true);
        assert_eq!(v["DP"], 14);
        assert_eq!(v["AF"], 3.18593e-05);
        assert_eq!(v["X"], 0.5);
        assert_eq!(v["NAN"], "NaN");
        assert_eq!(v["BAD"], "1.5");
        assert_eq!(v["AC"], serde_json::json!([1, null, 3]));
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
        assert_eq!(JsonObject::new().finish(), "{}");
    }
}
