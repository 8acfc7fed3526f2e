//! Sample names out of everything stored (CONTRACT §5: "the stored header has every sample
//! name replaced by its pseudonym"). Callers such as slivar also write sample names into INFO
//! (`denovo=HG002`), and GATK/Mutect2 into header lines (`##tumor_sample=…`). Every *token*
//! equal to a sample name is replaced; a token is a maximal run of `[A-Za-z0-9_.-]`, so a
//! name is not replaced inside a longer word. Names with other characters are replaced as
//! substrings.

use std::borrow::Cow;
use std::collections::HashMap;

pub struct Scrubber {
    tokens: HashMap<String, String>,
    /// (name, pseudonym) for names that are not a single token, longest first.
    substrings: Vec<(String, String)>,
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

impl Scrubber {
    pub fn new(names: &[String], pseudonyms: &[String]) -> Self {
        let mut tokens = HashMap::new();
        let mut substrings = Vec::new();
        for (n, p) in names.iter().zip(pseudonyms) {
            if !n.is_empty() && n.bytes().all(is_token_byte) {
                tokens.insert(n.clone(), p.clone());
            } else if !n.is_empty() {
                substrings.push((n.clone(), p.clone()));
            }
        }
        substrings.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        Scrubber { tokens, substrings }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.substrings.is_empty()
    }

    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out: Option<String> = None;
        let b = text.as_bytes();
        let mut i = 0;
        let mut copied = 0;
        while i < b.len() {
            if !is_token_byte(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && is_token_byte(b[i]) {
                i += 1;
            }
            if let Some(p) = self.tokens.get(&text[start..i]) {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 32));
                o.push_str(&text[copied..start]);
                o.push_str(p);
                copied = i;
            }
        }
        let mut result = match out {
            Some(mut o) => {
                o.push_str(&text[copied..]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(text),
        };
        for (n, p) in &self.substrings {
            if result.contains(n.as_str()) {
                result = Cow::Owned(result.replace(n.as_str(), p));
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn replaces_whole_tokens_only() {
        let sc = Scrubber::new(&s(&["HG002", "NA1", "two words"]), &s(&["P1", "P2", "P3"]));
        assert_eq!(sc.scrub("denovo=HG002"), "denovo=P1");
        assert_eq!(sc.scrub("HG002,HG0021,xHG002"), "P1,HG0021,xHG002");
        assert_eq!(sc.scrub("##tumor_sample=NA1>"), "##tumor_sample=P2>");
        assert_eq!(sc.scrub("a two words b"), "a P3 b");
        assert!(matches!(sc.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(sc.scrub(""), "");
    }
}
