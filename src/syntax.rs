//! Parsing Rust text that the tool did not write (the crate's files, spec contracts, test
//! files, model answers) with syn, safely: an iterative pre-scan of how deeply the text nests
//! refuses what a recursive parser, visitor or destructor would overflow the stack on.
//!
//! A stack overflow aborts the process and no `catch_unwind` stops it, so the only dependable
//! guard is to look before parsing. The scan lexes just enough (comments, strings, raw strings,
//! char literals against lifetimes) to see delimiters and operators, and charges each open
//! delimiter and each operator of an unbroken expression chain (`1 + 1 + ...`, `!!!x`,
//! `x.f().g()`, `a[0][0]`) against one budget: both become levels of syn's tree.

use std::fmt;

/// What one open delimiter costs: a brace level takes about eight times the stack of one
/// operator in a chain, measured in a debug build on an 8 MiB main thread (nested braces
/// overflowed from 400 levels, `!` prefixes from 2,500).
const DELIMITER_COST: usize = 8;

/// The most nesting the scan lets through: 128 nested delimiters, or a chain of about 1,000
/// operators; a third or less of what overflowed. Real code stays far below (rustfmt's own
/// output rarely nests 30 deep).
pub const MAX_NESTING: usize = 1024;

/// Why a text was not parsed, with a 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// Refused by the pre-scan (too deep), not by syn.
    pub too_deep: bool,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

impl SyntaxError {
    /// The error as a clause after a file's name: "does not parse: …", or why it was skipped.
    pub fn describe(&self) -> String {
        if self.too_deep {
            self.message.clone()
        } else {
            format!("does not parse: {}", self.message)
        }
    }

    fn from_syn(err: &syn::Error) -> SyntaxError {
        let start = err.span().start();
        SyntaxError {
            line: start.line.max(1) as u32,
            column: start.column as u32 + 1,
            message: err.to_string(),
            too_deep: false,
        }
    }
}

/// `syn::parse_file`, after the depth pre-scan. Brackets that do not balance are reported
/// where rustc reports them (the unclosed one's opening, a closing one that matches nothing),
/// not where the lexer gave up.
pub fn parse_file(text: &str) -> Result<syn::File, SyntaxError> {
    check_nesting(text)?;
    parse_scanned(text)
}

/// syn's parse of a text the depth pre-scan passed, its error placed where rustc places it.
fn parse_scanned(text: &str) -> Result<syn::File, SyntaxError> {
    syn::parse_file(text)
        .map_err(|err| unbalanced_delimiter(text).unwrap_or_else(|| SyntaxError::from_syn(&err)))
}

/// [`parse_file`] with doc comments read as plain comments, for a reader that never looks at
/// docs: the lexer turns each `///` line into a `#[doc = "…"]` attribute, escaped, then parsed,
/// which is a third of the work on a well-documented crate. Each doc comment's third byte
/// becomes a space (`// `, `/* `), so every offset, line and column stays as it was.
pub fn parse_file_without_docs(text: &str) -> Result<syn::File, SyntaxError> {
    let mut docs = Vec::new();
    check_nesting_within(text, MAX_NESTING, Some(&mut docs))?;
    let blanked;
    let text = if docs.is_empty() {
        text
    } else {
        let mut bytes = text.as_bytes().to_vec();
        for at in docs {
            bytes[at] = b' ';
        }
        // An ASCII byte replaced an ASCII byte.
        blanked = String::from_utf8(bytes).expect("still UTF-8");
        &blanked
    };
    parse_scanned(text)
}

/// Where the comment at `i` (`//` or `/*`) says it is a doc comment, the offset of that third
/// byte: `///` (not `////`), `//!`, `/**` (not `/***` or `/**/`), `/*!`.
fn doc_marker(bytes: &[u8], i: usize) -> Option<usize> {
    let (second, third, fourth) = (bytes.get(i + 1)?, bytes.get(i + 2)?, bytes.get(i + 3));
    let doc = match (second, third) {
        // `///`, not `////`.
        (b'/', b'/') => fourth != Some(&b'/'),
        // `/**`, not `/***` or the empty `/**/`.
        (b'*', b'*') => !matches!(fourth, Some(b'*' | b'/')),
        (b'/' | b'*', b'!') => true,
        _ => false,
    };
    doc.then_some(i + 2)
}

/// Where `text`'s brackets do not balance: a closing one that matches nothing or closes
/// another kind, else the innermost one left open. `None` when they balance.
pub fn unbalanced_delimiter(text: &str) -> Option<SyntaxError> {
    let bytes = text.as_bytes();
    let column = |at: usize, line_start: usize| (text[line_start..at].chars().count() + 1) as u32;
    let error = |line: u32, column: u32, message: String| SyntaxError {
        line,
        column,
        message,
        too_deep: false,
    };
    // Each open bracket: the byte, its line, and its column.
    let mut open: Vec<(u8, u32, u32)> = Vec::new();
    let (mut line, mut line_start, mut i) = (1u32, 0usize, 0usize);
    while i < bytes.len() {
        if let Some(next) = skip_comment_or_literal(bytes, i, &mut line, &mut line_start) {
            i = next;
            continue;
        }
        let byte = bytes[i];
        match byte {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                open.push((byte, line, column(i, line_start)));
                i += 1;
            }
            b')' | b']' | b'}' => {
                let opening = match byte {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                let here = column(i, line_start);
                match open.pop() {
                    Some((o, ..)) if o == opening => {}
                    Some((o, o_line, o_column)) => {
                        return Some(error(
                            line,
                            here,
                            format!(
                                "mismatched closing delimiter `{}`: the `{}` at {o_line}:{o_column} \
                                 is not closed",
                                byte as char, o as char
                            ),
                        ));
                    }
                    None => {
                        return Some(error(
                            line,
                            here,
                            format!("unexpected closing delimiter `{}`", byte as char),
                        ));
                    }
                }
                i += 1;
            }
            _ if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 => {
                match raw_or_prefixed_string(bytes, i, &mut line, &mut line_start) {
                    Some(end) => i = end,
                    None => i = skip_word(bytes, i),
                }
            }
            _ => i += 1,
        }
    }
    let &(o, o_line, o_column) = open.last()?;
    Some(error(
        o_line,
        o_column,
        format!("unclosed delimiter `{}`", o as char),
    ))
}

/// `syn::parse_str::<T>`, after the depth pre-scan.
pub fn parse_str<T: syn::parse::Parse>(text: &str) -> Result<T, SyntaxError> {
    check_nesting(text)?;
    syn::parse_str::<T>(text).map_err(|err| SyntaxError::from_syn(&err))
}

/// `parser` run on `text` (`syn::Pat::parse_single`, say), after the depth pre-scan.
pub fn parse_with<P: syn::parse::Parser>(parser: P, text: &str) -> Result<P::Output, SyntaxError> {
    check_nesting(text)?;
    parser
        .parse_str(text)
        .map_err(|err| SyntaxError::from_syn(&err))
}

/// A token stream of `text`, after the depth pre-scan (proc-macro2's lexer recurses on groups).
pub fn token_stream(text: &str) -> Result<proc_macro2::TokenStream, SyntaxError> {
    check_nesting(text)?;
    text.parse::<proc_macro2::TokenStream>()
        .map_err(|err| SyntaxError {
            line: err.span().start().line.max(1) as u32,
            column: err.span().start().column as u32 + 1,
            message: err.to_string(),
            too_deep: false,
        })
}

/// `Ok` when `text` nests within [`MAX_NESTING`]; else where it went too deep.
pub fn check_nesting(text: &str) -> Result<(), SyntaxError> {
    check_nesting_within(text, MAX_NESTING, None)
}

/// The nesting the scan has seen so far: per open delimiter, the operators of the current
/// segment (statement, argument, arm) at that level, and their sum with the delimiters.
struct Nesting {
    /// One chain count per open level; the outer level is never closed.
    chains: Vec<usize>,
    /// DELIMITER_COST per open delimiter, plus every level's chain.
    cost: usize,
    limit: usize,
}

impl Nesting {
    /// One more operator (or group) in the current segment; `false` past the limit.
    fn chain_one(&mut self) -> bool {
        *self.chains.last_mut().expect("the outer level stays") += 1;
        self.cost += 1;
        self.cost <= self.limit
    }

    /// A separator: the current segment's chain ends.
    fn end_segment(&mut self) {
        let chain = self.chains.last_mut().expect("the outer level stays");
        self.cost -= *chain;
        *chain = 0;
    }

    /// An opening delimiter: an element of the enclosing chain, and a new level.
    fn open(&mut self) -> bool {
        let within = self.chain_one();
        self.chains.push(0);
        self.cost += DELIMITER_COST;
        within && self.cost <= self.limit
    }

    /// A closing delimiter (an unbalanced one at the outer level is ignored).
    fn close(&mut self) {
        if self.chains.len() > 1 {
            let inner = self.chains.pop().expect("checked above");
            self.cost -= inner + DELIMITER_COST;
        }
    }
}

/// `docs`, when given, gets the offset of each doc comment's marker byte ([`doc_marker`]).
fn check_nesting_within(
    text: &str,
    limit: usize,
    mut docs: Option<&mut Vec<usize>>,
) -> Result<(), SyntaxError> {
    let bytes = text.as_bytes();
    let mut nesting = Nesting {
        chains: vec![0],
        cost: 0,
        limit,
    };
    let mut line = 1u32;
    let mut line_start = 0usize;
    let mut i = 0usize;
    // The last significant byte, to tell a `}` that ends a statement from one inside an
    // expression (`{1} + {1}`).
    let mut after_close_brace = false;
    let too_deep = |line: u32, at: usize, line_start: usize| SyntaxError {
        line,
        column: (text[line_start..at].chars().count() + 1) as u32,
        message: format!(
            "nests too deeply to read safely (more than {} levels of brackets or a chain of about \
             {} operators)",
            limit / DELIMITER_COST,
            limit
        ),
        too_deep: true,
    };
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let comment = byte == b'/' && matches!(bytes.get(i + 1), Some(b'/' | b'*'));
        if after_close_brace && !comment {
            after_close_brace = false;
            // A block followed by anything but an operator ended a statement or an item.
            if !is_operator(byte) && !starts_word(bytes, i, "else") && !starts_word(bytes, i, "as")
            {
                nesting.end_segment();
            }
        }
        if comment
            && let Some(docs) = docs.as_deref_mut()
            && let Some(marker) = doc_marker(bytes, i)
        {
            docs.push(marker);
        }
        if let Some(next) = skip_comment_or_literal(bytes, i, &mut line, &mut line_start) {
            i = next;
            continue;
        }
        match byte {
            b'(' | b'[' | b'{' => {
                // The group is one more element of the enclosing chain (`f(x)(y)`, `a[0][0]`).
                if !nesting.open() {
                    return Err(too_deep(line, i, line_start));
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                nesting.close();
                after_close_brace = byte == b'}';
                i += 1;
            }
            b',' | b';' => {
                nesting.end_segment();
                i += 1;
            }
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                nesting.end_segment();
                i += 2;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => i += 2,
            _ if is_operator(byte) => {
                if !nesting.chain_one() {
                    return Err(too_deep(line, i, line_start));
                }
                i += 1;
            }
            _ if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 => {
                let start = i;
                // Raw strings and byte/C strings: r"..", r#".."#, b"..", br#".."#, c"..".
                if let Some(end) = raw_or_prefixed_string(bytes, i, &mut line, &mut line_start) {
                    i = end;
                    continue;
                }
                i = skip_word(bytes, i);
                // Keywords that chain like operators: casts, else-if ladders, prefix exits.
                if matches!(
                    &text[start..i],
                    "as" | "else" | "return" | "break" | "yield" | "box"
                ) && !nesting.chain_one()
                {
                    return Err(too_deep(line, start, line_start));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Past a comment, a string or a char literal (or a lifetime) starting at `i`, newlines
/// counted; `None` when none starts there. Brackets and operators inside them are no code.
fn skip_comment_or_literal(
    bytes: &[u8],
    mut i: usize,
    line: &mut u32,
    line_start: &mut usize,
) -> Option<usize> {
    match bytes[i] {
        b'/' if bytes.get(i + 1) == Some(&b'/') => {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            Some(i)
        }
        b'/' if bytes.get(i + 1) == Some(&b'*') => {
            Some(skip_block_comment(bytes, i, line, line_start))
        }
        b'"' => Some(skip_string(bytes, i + 1, line, line_start)),
        b'\'' => Some(skip_char_or_lifetime(bytes, i)),
        _ => None,
    }
}

/// Past a word or a number at `i` (a number's fraction, `1.5`, is not a field access).
fn skip_word(bytes: &[u8], start: usize) -> usize {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut i = start;
    while i < bytes.len() && word(bytes[i]) {
        i += 1;
    }
    if bytes[start].is_ascii_digit()
        && bytes.get(i) == Some(&b'.')
        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
    }
    i
}

/// Past a block comment starting at `i` (`/*`), nested ones included; newlines counted.
fn skip_block_comment(bytes: &[u8], mut i: usize, line: &mut u32, line_start: &mut usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            if bytes[i] == b'\n' {
                *line += 1;
                *line_start = i + 1;
            }
            i += 1;
        }
    }
    i
}

fn is_operator(byte: u8) -> bool {
    matches!(
        byte,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'^'
            | b'!'
            | b'&'
            | b'|'
            | b'<'
            | b'>'
            | b'='
            | b'.'
            | b'?'
    )
}

fn starts_word(bytes: &[u8], at: usize, word: &str) -> bool {
    bytes[at..].starts_with(word.as_bytes())
        && !bytes
            .get(at + word.len())
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Past a string whose opening quote is before `i`; escapes honoured, newlines counted.
fn skip_string(bytes: &[u8], mut i: usize, line: &mut u32, line_start: &mut usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => {
                *line += 1;
                *line_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Past a char literal (`'a'`, `'\n'`, `'é'`) or a lifetime/label (`'a`) starting at `i`.
fn skip_char_or_lifetime(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1) {
        Some(b'\\') => {
            let mut j = i + 2;
            // The escaped character, then up to the closing quote (`'\u{1F600}'`).
            j += 1;
            while j < bytes.len() && bytes[j] != b'\'' && bytes[j] != b'\n' {
                j += 1;
            }
            j + 1
        }
        Some(_) => {
            // One character (maybe multi-byte), then a quote: a char literal.
            let width = utf8_width(bytes[i + 1]);
            if bytes.get(i + 1 + width) == Some(&b'\'') {
                i + 2 + width
            } else {
                i + 1
            }
        }
        None => i + 1,
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The end of a raw or prefixed string literal starting at `i` (`r#"…"#`, `b"…"`, `br"…"`,
/// `c"…"`, `cr#"…"#`), if one starts there.
fn raw_or_prefixed_string(
    bytes: &[u8],
    i: usize,
    line: &mut u32,
    line_start: &mut usize,
) -> Option<usize> {
    // A prefix must start a word.
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if matches!(bytes[j], b'b' | b'c') {
        j += 1;
    }
    let raw = bytes.get(j) == Some(&b'r');
    if raw {
        j += 1;
    }
    if j == i {
        return None;
    }
    if !raw {
        return (bytes.get(j) == Some(&b'"')).then(|| skip_string(bytes, j + 1, line, line_start));
    }
    let hashes = bytes[j..].iter().take_while(|b| **b == b'#').count();
    if bytes.get(j + hashes) != Some(&b'"') {
        return None;
    }
    let mut k = j + hashes + 1;
    while k < bytes.len() {
        if bytes[k] == b'\n' {
            *line += 1;
            *line_start = k + 1;
        }
        if bytes[k] == b'"' && bytes[k + 1..].iter().take_while(|b| **b == b'#').count() >= hashes {
            return Some(k + 1 + hashes);
        }
        k += 1;
    }
    Some(k)
}

#[cfg(test)]
mod test {
    use super::*;

    fn deep(text: &str) -> Option<(u32, u32)> {
        check_nesting(text).err().map(|e| (e.line, e.column))
    }

    #[test]
    fn brackets_that_do_not_balance_are_placed_where_rustc_places_them() {
        let unclosed = "fn a() {}\nfn b(x: u8) {\n    if x > 1 {\n        x;\n    \n}\nfn c() {}\n";
        let err = parse_file(unclosed).err().unwrap();
        assert_eq!((err.line, err.column), (2, 13), "{err:?}");
        assert_eq!(err.message, "unclosed delimiter `{`");
        let mismatched = "fn a() {\n    let v = [1, 2);\n}\n";
        let err = parse_file(mismatched).err().unwrap();
        assert_eq!((err.line, err.column), (2, 18), "{err:?}");
        assert!(
            err.message.starts_with("mismatched closing delimiter `)`"),
            "{err:?}"
        );
        let stray = "fn a() {}\n}\n";
        let err = parse_file(stray).err().unwrap();
        assert_eq!((err.line, err.column), (2, 1));
        // Brackets in strings, chars, comments and raw strings do not count.
        assert!(
            unbalanced_delimiter("fn a() { let s = \"{\"; let c = '('; /* [ */ r#\"}\"#; }")
                .is_none()
        );
        // Other errors keep syn's place.
        let err = parse_file("fn a() { let = ; }").err().unwrap();
        assert!(!err.message.contains("delimiter"), "{err:?}");
    }

    #[test]
    fn ordinary_code_passes() {
        let code = r##"
            fn f<'a>(x: &'a str) -> Option<Vec<Vec<u8>>> {
                let c = '('; let d = '\''; let s = "((((("; let r = r#"[[[["#;
                // ((((((((
                /* {{{{ /* nested */ }}}} */
                if x.len() > 1 && x.starts_with('[') { return None; }
                Some(vec![b"((".to_vec(), x.bytes().map(|b| b + 1.5 as u8).collect()])
            }
        "##;
        assert_eq!(deep(code), None);
        // Ten thousand flat items, statements and elements never add up.
        let flat = "fn f() {}\n".repeat(10_000);
        assert_eq!(deep(&flat), None);
        let elements = format!(
            "const X: [u8; 5000] = [{}];",
            vec!["1 + 1"; 5000].join(", ")
        );
        assert_eq!(deep(&elements), None);
        let statements = format!("fn f() {{ {} }}", "let x = a.b().c()?;\n".repeat(5000));
        assert_eq!(deep(&statements), None);
        let arms = format!(
            "fn f() {{ match x {{ {} }} }}",
            "1 => a + b,\n".repeat(5000)
        );
        assert_eq!(deep(&arms), None);
        let impls =
            "impl A { fn f(&self) -> u8 { if x { 1 } else { 2 } } }\n/// Docs.\n".repeat(3000);
        assert_eq!(deep(&impls), None);
    }

    #[test]
    fn deep_delimiters_and_long_chains_are_refused_with_their_place() {
        let parens = format!(
            "fn f() {{\n let _ = {}1{}; }}",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        let (line, column) = deep(&parens).unwrap();
        assert_eq!(line, 2);
        assert!(column > 100, "{column}");
        let sum = format!("fn f() {{ let _ = {}; }}", vec!["1"; 20_000].join(" + "));
        assert!(deep(&sum).is_some());
        let nots = format!("fn f() {{ let _ = {}true; }}", "!".repeat(3000));
        assert!(deep(&nots).is_some());
        let methods = format!("fn f() {{ x{}; }}", ".f()".repeat(3000));
        assert!(deep(&methods).is_some());
        let braces = format!("fn f() {}{}", "{".repeat(400), "}".repeat(400));
        assert!(deep(&braces).is_some());
        // A chain of blocks stays a chain.
        let blocks = format!("fn f() {{ let _ = {}; }}", vec!["{1}"; 3000].join(" + "));
        assert!(deep(&blocks).is_some());
        let elses = format!("fn f() {{ if a {{}} {} }}", "else if a {} ".repeat(3000));
        assert!(deep(&elses).is_some());
    }

    #[test]
    fn delimiters_in_strings_comments_and_chars_do_not_count() {
        let opens = "(".repeat(5000);
        for text in [
            format!("const S: &str = \"{opens}\";"),
            format!("const S: &str = r#\"{opens}\"#;"),
            format!("const S: &[u8] = br##\"{opens}\"##;"),
            format!("// {opens}\nfn f() {{}}"),
            format!("/* {opens} */ fn f() {{}}"),
            format!("const C: [char; 5000] = [{}];", vec!["'('"; 5000].join(",")),
        ] {
            assert_eq!(deep(&text), None, "{}", &text[..40]);
        }
    }

    #[test]
    fn what_passes_the_scan_parses_without_overflow() {
        // Just under the limit, every shape parses, is visited and dropped on this thread.
        // The tool parses on its main thread (8 MiB); test threads get 2 MiB unless asked.
        let parsed = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(|| {
                let depth = MAX_NESTING / (DELIMITER_COST + 1) - 2;
                let parens = "(".repeat(depth) + "1" + &")".repeat(depth);
                let nots = "!".repeat(MAX_NESTING - 20) + "true";
                [parens, nots]
                    .iter()
                    .map(|body| parse_file(&format!("fn f() {{ let _ = {body}; }}")).is_ok())
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(parsed, [true, true]);
        let Err(err) = parse_file("fn f( {") else {
            panic!("an unclosed delimiter parsed")
        };
        assert!(!err.too_deep);
        assert_eq!(err.line, 1);
    }
}

#[cfg(test)]
mod doc_test {
    use super::*;

    #[test]
    fn docs_are_read_as_comments_and_every_offset_stays() {
        let text = "//! crate doc\n/*! inner */\n/// outer\n//// plain\n/** block */\n/**/\n/*** plain */\npub fn f() -> &'static str { \"/// not a comment\" }\n";
        let mut docs = Vec::new();
        check_nesting_within(text, MAX_NESTING, Some(&mut docs)).unwrap();
        let marked: Vec<&str> = docs.iter().map(|&at| &text[at - 2..at + 1]).collect();
        assert_eq!(marked, ["//!", "/*!", "///", "/**"]);
        let parsed = parse_file_without_docs(text).unwrap();
        assert!(parsed.attrs.is_empty());
        let syn::Item::Fn(function) = &parsed.items[0] else {
            panic!("the function is the first item")
        };
        // No doc attribute, and the function sits where it did.
        assert!(function.attrs.is_empty());
        assert_eq!(function.sig.ident.span().start().line, 8);
        // With the docs, the same function carries them.
        let with_docs = parse_file(text).unwrap();
        let syn::Item::Fn(function) = &with_docs.items[0] else {
            panic!()
        };
        assert_eq!(function.attrs.len(), 2);
        // A doc comment that ends a block no longer fails the parse; a real error still does,
        // at its place.
        assert!(parse_file_without_docs("fn g() { let x = 1; /// dangling\n }").is_ok());
        let Err(err) = parse_file_without_docs("/// doc\nfn h( {}\n") else {
            panic!("an unclosed parenthesis parsed");
        };
        assert_eq!(err.line, 2);
    }
}
