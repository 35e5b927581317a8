//! The scenario language: statements, the strace-syntax call lines, and their parser.
//! `scenarios/README.md` documents the language for users.

pub mod ast;
pub mod lex;
pub mod parse;
pub mod sockaddr;

pub use ast::*;
pub use parse::parse;

/// A parse error at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub msg: alloc::string::String,
}

impl Diagnostic {
    /// Renders as `path:line:col: error: msg`, the offending line, and a caret.
    pub fn render(&self, path: &str, source: &str) -> alloc::string::String {
        let text = source.lines().nth(self.line.saturating_sub(1)).unwrap_or("");
        let pad: alloc::string::String = text.chars().take(self.col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        alloc::format!("{path}:{}:{}: error: {}\n    {text}\n    {pad}^\n", self.line, self.col, self.msg)
    }
}
