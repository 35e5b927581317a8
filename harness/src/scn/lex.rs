//! A cursor over one scenario line, with the column of everything it reads.

use super::{Diagnostic, Word, WordPart};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Reads tokens off one line.
pub struct Cursor<'a> {
    s: &'a [u8],
    /// Byte offset of the next unread character.
    pub pos: usize,
    line: usize,
}

/// Result of a parse step.
pub type PResult<T> = Result<T, Diagnostic>;

impl<'a> Cursor<'a> {
    /// A cursor over `text`, which is line `line` of the file.
    pub fn new(text: &'a str, line: usize) -> Cursor<'a> {
        Cursor { s: text.as_bytes(), pos: 0, line }
    }

    /// An error at the current position.
    pub fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        self.err_at(self.pos, msg)
    }

    /// An error at byte offset `pos`.
    pub fn err_at<T>(&self, pos: usize, msg: impl Into<String>) -> PResult<T> {
        let col = String::from_utf8_lossy(&self.s[..pos.min(self.s.len())]).chars().count() + 1;
        Err(Diagnostic { line: self.line, col, msg: msg.into() })
    }

    /// Skips spaces and tabs.
    pub fn ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] == b' ' || self.s[self.pos] == b'\t') {
            self.pos += 1;
        }
    }

    /// The next character after whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    /// Whether the rest starts with `t` (after whitespace).
    pub fn looking_at(&mut self, t: &str) -> bool {
        self.ws();
        self.s[self.pos..].starts_with(t.as_bytes())
    }

    /// Consumes `t` if it comes next.
    pub fn eat(&mut self, t: &str) -> bool {
        if self.looking_at(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    /// Consumes `t` or fails.
    pub fn expect(&mut self, t: &str) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            let got = self.rest().chars().next().map(|c| format!("'{c}'")).unwrap_or_else(|| String::from("end of line"));
            self.err(format!("expected '{t}', found {got}"))
        }
    }

    /// Whether only whitespace (or a comment) is left.
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.pos >= self.s.len() || self.s[self.pos] == b'#'
    }

    /// Fails unless at the end.
    pub fn end(&mut self) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.err(format!("unexpected '{}'", self.rest()))
        }
    }

    /// The unread rest of the line.
    pub fn rest(&self) -> &'a str {
        core::str::from_utf8(&self.s[self.pos.min(self.s.len())..]).unwrap_or("")
    }

    /// An identifier (`[A-Za-z_][A-Za-z0-9_]*`), or `None` without consuming.
    pub fn ident(&mut self) -> Option<&'a str> {
        self.ws();
        let start = self.pos;
        let mut end = start;
        while end < self.s.len() && (self.s[end].is_ascii_alphanumeric() || self.s[end] == b'_') {
            if end == start && self.s[end].is_ascii_digit() {
                return None;
            }
            end += 1;
        }
        if end == start {
            return None;
        }
        self.pos = end;
        core::str::from_utf8(&self.s[start..end]).ok()
    }

    /// An integer literal: decimal, `0x` hex, or `0`-prefixed octal, optionally negative.
    pub fn number(&mut self) -> Option<i64> {
        self.ws();
        let start = self.pos;
        let neg = self.s.get(self.pos) == Some(&b'-');
        let mut p = self.pos + neg as usize;
        if !self.s.get(p).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        let (radix, digits_start) = if self.s[p..].starts_with(b"0x") || self.s[p..].starts_with(b"0X") {
            (16, p + 2)
        } else if self.s[p] == b'0' && self.s.get(p + 1).is_some_and(|c| c.is_ascii_digit()) {
            (8, p + 1)
        } else {
            (10, p)
        };
        p = digits_start;
        while p < self.s.len() && (self.s[p] as char).is_digit(radix) {
            p += 1;
        }
        let text = core::str::from_utf8(&self.s[digits_start..p]).ok()?;
        let v = u64::from_str_radix(if text.is_empty() { "0" } else { text }, radix).ok()? as i64;
        self.pos = p;
        let _ = start;
        Some(if neg { v.wrapping_neg() } else { v })
    }

    /// `$name`.
    pub fn var(&mut self) -> Option<String> {
        self.ws();
        if self.s.get(self.pos) != Some(&b'$') {
            return None;
        }
        self.pos += 1;
        let save = self.pos;
        match self.ident() {
            Some(n) => Some(n.into()),
            None => {
                self.pos = save - 1;
                None
            }
        }
    }

    /// A C-style quoted string; `${name}` inside interpolates a variable.
    pub fn string(&mut self) -> PResult<Option<Word>> {
        self.ws();
        if self.s.get(self.pos) != Some(&b'"') {
            return Ok(None);
        }
        let open = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else { return self.err_at(open, "unterminated string") };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else { return self.err_at(open, "unterminated string") };
                    self.pos += 1;
                    match e {
                        b'n' => lit.push(b'\n'),
                        b't' => lit.push(b'\t'),
                        b'r' => lit.push(b'\r'),
                        b'v' => lit.push(0x0b),
                        b'f' => lit.push(0x0c),
                        b'\\' => lit.push(b'\\'),
                        b'"' => lit.push(b'"'),
                        b'$' => lit.push(b'$'),
                        b'x' => {
                            let h: Vec<u8> = self.s[self.pos..].iter().take(2).take_while(|c| c.is_ascii_hexdigit()).copied().collect();
                            if h.is_empty() {
                                return self.err("\\x needs hex digits");
                            }
                            self.pos += h.len();
                            lit.push(u8::from_str_radix(core::str::from_utf8(&h).unwrap_or("0"), 16).unwrap_or(0));
                        }
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            let mut n = 1;
                            while n < 3 && self.s.get(self.pos).is_some_and(|c| (b'0'..=b'7').contains(c)) {
                                v = v * 8 + (self.s[self.pos] - b'0') as u32;
                                self.pos += 1;
                                n += 1;
                            }
                            lit.push(v as u8);
                        }
                        _ => return self.err_at(self.pos - 2, format!("unknown escape '\\{}'", e as char)),
                    }
                }
                b'$' if self.s.get(self.pos) == Some(&b'{') => {
                    let end = self.s[self.pos..].iter().position(|&c| c == b'}');
                    let Some(end) = end else { return self.err("unterminated ${") };
                    let name = core::str::from_utf8(&self.s[self.pos + 1..self.pos + end]).unwrap_or("").into();
                    if !lit.is_empty() {
                        parts.push(WordPart::Lit(core::mem::take(&mut lit)));
                    }
                    parts.push(WordPart::Var(name));
                    self.pos += end + 1;
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(WordPart::Lit(lit));
        }
        Ok(Some(Word(parts)))
    }

    /// A bare word up to whitespace (paths in admin commands), `$name` interpolated.
    pub fn bare_word(&mut self) -> PResult<Word> {
        if let Some(w) = self.string()? {
            return Ok(w);
        }
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len() && !matches!(self.s[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
        if start == self.pos {
            return self.err("expected a word");
        }
        let text = &self.s[start..self.pos];
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if text[i] == b'$' {
                let n = text[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                if n > 0 {
                    if !lit.is_empty() {
                        parts.push(WordPart::Lit(core::mem::take(&mut lit)));
                    }
                    parts.push(WordPart::Var(String::from_utf8_lossy(&text[i + 1..i + 1 + n]).into_owned()));
                    i += 1 + n;
                    continue;
                }
            }
            lit.push(text[i]);
            i += 1;
        }
        if !lit.is_empty() {
            parts.push(WordPart::Lit(lit));
        }
        Ok(Word(parts))
    }
}
