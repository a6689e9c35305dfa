//! Reading a markdown spec with pulldown-cmark: sections by heading, items from list entries and
//! table rows, the `Target:` line, contract rows as Rust expressions, `<!-- covers: -->`.

use std::collections::HashMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};

use super::model::{Section, Spec, SpecItem, SpecWarning};

/// Parse the spec text of `file` (a path relative to the workspace root, for messages).
pub fn parse_spec(text: &str, file: &str) -> (Spec, Vec<SpecWarning>) {
    let mut reader = Reader {
        file,
        source: text,
        lines: LineIndex::new(text),
        section: None,
        section_line: 0,
        section_items: 0,
        saw_section: false,
        heading: None,
        list_depth: 0,
        item: None,
        paragraph: None,
        table: None,
        spec: Spec {
            file: file.to_owned(),
            targets: Vec::new(),
            items: Vec::new(),
        },
        warnings: Vec::new(),
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        reader.event(event, range);
    }
    reader.close_section();
    if !reader.saw_section {
        reader.warn(
            1,
            "no recognised section (Acceptance criteria, Contracts, Edge cases, Out of scope): nothing in this file is scored".to_owned(),
        );
    }
    dedupe_ids(&mut reader.spec.items, &mut reader.warnings);
    (reader.spec, reader.warnings)
}

/// Text gathered for one item, cell or paragraph.
#[derive(Debug, Default)]
struct Gathered {
    start: usize,
    text: String,
    /// The same text as written in the markdown, escapes kept (`"\"foo"`): literals are read
    /// from it, since markdown turns `\"` into a bare quote.
    raw: String,
    names: Vec<String>,
    covers: Vec<String>,
}

impl Gathered {
    fn at(start: usize) -> Gathered {
        Gathered {
            start,
            ..Gathered::default()
        }
    }

    fn push_text(&mut self, text: &str) {
        self.text.push_str(text);
        self.raw.push_str(text);
    }

    /// Text with its markdown source (escapes kept).
    fn push_source_text(&mut self, text: &str, source: &str) {
        self.text.push_str(text);
        self.raw.push_str(source);
    }

    fn push_code(&mut self, code: &str) {
        self.text.push('`');
        self.text.push_str(code);
        self.text.push('`');
        self.raw.push('`');
        self.raw.push_str(code);
        self.raw.push('`');
        self.names.push(code.to_owned());
    }
}

#[derive(Debug, Default)]
struct Table {
    in_head: bool,
    header: Vec<String>,
    row: Vec<Gathered>,
    row_start: usize,
    cell: Option<Gathered>,
}

struct Reader<'a> {
    file: &'a str,
    /// The markdown itself, for the source of text events.
    source: &'a str,
    lines: LineIndex,
    section: Option<Section>,
    section_line: u32,
    section_items: usize,
    saw_section: bool,
    heading: Option<Gathered>,
    list_depth: usize,
    item: Option<Gathered>,
    paragraph: Option<Gathered>,
    table: Option<Table>,
    spec: Spec,
    warnings: Vec<SpecWarning>,
}

impl Reader<'_> {
    fn warn(&mut self, line: u32, message: String) {
        self.warnings.push(SpecWarning {
            file: self.file.to_owned(),
            line,
            message,
        });
    }

    /// Where text goes now: the heading, a table cell, the current item, or a paragraph.
    fn sink(&mut self) -> Option<&mut Gathered> {
        if let Some(heading) = &mut self.heading {
            return Some(heading);
        }
        if let Some(table) = &mut self.table {
            return table.cell.as_mut();
        }
        if let Some(item) = &mut self.item {
            return Some(item);
        }
        self.paragraph.as_mut()
    }

    fn event(&mut self, event: Event<'_>, range: std::ops::Range<usize>) {
        let offset = range.start;
        let source = self.source.get(range.clone()).unwrap_or_default();
        match event {
            Event::Start(Tag::Heading { .. }) => self.heading = Some(Gathered::at(offset)),
            Event::End(TagEnd::Heading(_)) => {
                if let Some(heading) = self.heading.take() {
                    self.close_section();
                    self.section = Section::from_heading(heading.text.trim());
                    self.section_line = self.lines.line(heading.start);
                    self.section_items = 0;
                    self.saw_section |= self.section.is_some();
                }
            }
            Event::Start(Tag::List(_)) => self.list_depth += 1,
            Event::End(TagEnd::List(_)) => self.list_depth = self.list_depth.saturating_sub(1),
            Event::Start(Tag::Item) if self.list_depth == 1 => {
                self.item = Some(Gathered::at(offset))
            }
            Event::Start(Tag::Item) => {
                // A nested entry belongs to its parent item.
                if let Some(item) = &mut self.item {
                    item.push_text("; ");
                }
            }
            Event::End(TagEnd::Item) if self.list_depth == 1 => {
                if let Some(mut item) = self.item.take() {
                    // The whole entry as written, escapes kept, without its bullet and box.
                    if let Some(written) = self.source.get(item.start..range.end) {
                        item.raw = strip_list_marker(written).to_owned();
                    }
                    self.finish_list_item(item);
                }
            }
            Event::Start(Tag::Paragraph) if self.item.is_none() && self.table.is_none() => {
                self.paragraph = Some(Gathered::at(offset));
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some(paragraph) = self.paragraph.take() {
                    self.finish_paragraph(paragraph);
                }
            }
            Event::Start(Tag::Table(_)) => self.table = Some(Table::default()),
            Event::End(TagEnd::Table) => self.table = None,
            Event::Start(Tag::TableHead) => {
                if let Some(table) = &mut self.table {
                    table.in_head = true;
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(table) = &mut self.table {
                    table.in_head = false;
                    table.header = table
                        .row
                        .drain(..)
                        .map(|c| c.text.trim().to_lowercase())
                        .collect();
                }
            }
            Event::Start(Tag::TableRow) => {
                if let Some(table) = &mut self.table {
                    table.row.clear();
                    table.row_start = offset;
                }
            }
            Event::End(TagEnd::TableRow) => self.finish_table_row(),
            Event::Start(Tag::TableCell) => {
                if let Some(table) = &mut self.table {
                    table.cell = Some(Gathered::at(offset));
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(table) = &mut self.table
                    && let Some(cell) = table.cell.take()
                {
                    table.row.push(cell);
                }
            }
            Event::Text(text) => {
                if let Some(sink) = self.sink() {
                    // A text event's source is its own words unless markdown unescaped them.
                    let raw = if source.contains('\\') { source } else { &text };
                    sink.push_source_text(&text, raw);
                }
            }
            Event::Code(code) => {
                if let Some(sink) = self.sink() {
                    sink.push_code(&code);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(sink) = self.sink() {
                    sink.push_text(" ");
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let covers = covers_in(&html);
                if !covers.is_empty() {
                    match self.sink() {
                        Some(sink) => sink.covers.extend(covers),
                        // A comment on its own line after an item belongs to that item.
                        None => {
                            if let Some(last) = self.spec.items.last_mut() {
                                last.covers.extend(covers);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn close_section(&mut self) {
        if let Some(section) = self.section
            && self.section_items == 0
        {
            let line = self.section_line;
            self.warn(
                line,
                format!("the {} section has no items", section.title()),
            );
        }
    }

    fn finish_paragraph(&mut self, paragraph: Gathered) {
        let text = paragraph.text.trim();
        let lower = text.to_lowercase();
        if lower.starts_with("target:") || lower.starts_with("targets:") {
            self.spec.targets.extend(paragraph.names);
        }
    }

    fn finish_list_item(&mut self, item: Gathered) {
        let Some(section) = self.section else { return };
        let line = self.lines.line(item.start);
        let contract = if section == Section::Contracts {
            arrow_contract(&item.text, &item.names)
        } else {
            None
        };
        self.push_item(section, line, item, contract);
    }

    fn finish_table_row(&mut self) {
        let Some(table) = &mut self.table else { return };
        if table.in_head {
            return;
        }
        let Some(section) = self.section else { return };
        let cells: Vec<Gathered> = table.row.drain(..).collect();
        let header = table.header.clone();
        let line = self.lines.line(table.row_start);
        let column = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h == n));
        let id_column = column(&["id"]);
        let call_column = column(&["call", "input", "expression"]);
        let result_column = column(&["result", "expected", "output", "returns"]);
        let mut gathered = Gathered::at(table.row_start);
        let mut explicit_id = None;
        for (index, cell) in cells.iter().enumerate() {
            if Some(index) == id_column {
                explicit_id = Some(cell.text.trim().to_owned());
                continue;
            }
            if !gathered.text.is_empty() {
                gathered.push_text(" | ");
            }
            gathered.push_source_text(cell.text.trim(), cell.raw.trim());
            gathered.names.extend(cell.names.iter().cloned());
            gathered.covers.extend(cell.covers.iter().cloned());
        }
        if let Some(id) = explicit_id.filter(|id| !id.is_empty()) {
            gathered.text = format!("{id}: {}", gathered.text);
        }
        let contract = if section == Section::Contracts {
            let data: Vec<&Gathered> = cells
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != id_column)
                .map(|(_, c)| c)
                .collect();
            let call = call_column
                .and_then(|i| cells.get(i))
                .or(data.first().copied());
            let result = result_column
                .and_then(|i| cells.get(i))
                .or(data.get(1).copied());
            match (call, result) {
                (Some(call), Some(result)) => {
                    Some((cell_expression(call), cell_expression(result)))
                }
                _ => None,
            }
        } else {
            None
        };
        self.push_item(section, line, gathered, contract);
    }

    fn push_item(
        &mut self,
        section: Section,
        line: u32,
        gathered: Gathered,
        contract: Option<(String, String)>,
    ) {
        let text = gathered
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() {
            return;
        }
        self.section_items += 1;
        let raw = gathered
            .raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let raw_body = split_explicit_id(&raw).1.to_owned();
        let (explicit, body) = split_explicit_id(&text);
        let id = explicit.unwrap_or_else(|| format!("{}-{}", section.slug(), hash8(body)));
        let (call, expected) = match contract {
            Some((call, expected)) => match (parse_expr(&call), parse_expr(&expected)) {
                (Ok(()), Ok(())) => (Some(call), Some(expected)),
                (Err(err), _) | (_, Err(err)) => {
                    self.warn(
                        line,
                        format!(
                            "contract row does not parse as Rust (`{}` | `{}`): {err}; it is scored as prose",
                            crate::output::shorten(&call, 60),
                            crate::output::shorten(&expected, 60)
                        ),
                    );
                    (None, None)
                }
            },
            None => (None, None),
        };
        self.spec.items.push(SpecItem {
            id,
            file: self.file.to_owned(),
            line,
            section,
            literals: literals_in_markdown(&raw_body),
            text: body.to_owned(),
            names: gathered.names,
            call,
            expected,
            covers: gathered.covers,
        });
    }
}

/// A contract written as a list entry: `` `call` → `result` `` (also `->`, `=>`, `==`,
/// "returns").
fn arrow_contract(text: &str, names: &[String]) -> Option<(String, String)> {
    if names.len() != 2 {
        return None;
    }
    let between = text.split('`').nth(2)?.trim().to_lowercase();
    matches!(
        between.as_str(),
        "→" | "->" | "=>" | "==" | "returns" | "gives" | "is" | "="
    )
    .then(|| (names[0].clone(), names[1].clone()))
}

/// The Rust expression of a table cell: its one code span, or its text.
fn cell_expression(cell: &Gathered) -> String {
    match cell.names.as_slice() {
        [only] => only.clone(),
        _ => cell.text.trim().trim_matches('`').to_owned(),
    }
}

fn parse_expr(text: &str) -> Result<(), String> {
    crate::syntax::parse_str::<syn::Expr>(text)
        .map(|_| ())
        .map_err(|err| {
            let message = err.to_string();
            if message.contains("cannot parse string into token stream") {
                "unbalanced brackets or quotes".to_owned()
            } else {
                message
            }
        })
}

/// `<!-- covers: a::f#if1, a::f#panic2 -->` → the site ids.
fn covers_in(html: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        let after = &rest[start + 4..];
        let end = after.find("-->").unwrap_or(after.len());
        let comment = after[..end].trim();
        if let Some(list) = comment.strip_prefix("covers:") {
            ids.extend(
                list.split([',', ' ', '\n', '\t'])
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned),
            );
        }
        rest = &after[end.min(after.len())..];
    }
    ids
}

/// `AC3: text` → (`AC3`, `text`): an id is a letter, then letters, digits, `_` or `-`, ending
/// in a digit, then a colon.
pub fn split_explicit_id(text: &str) -> (Option<String>, &str) {
    let Some((candidate, rest)) = text.split_once(':') else {
        return (None, text);
    };
    let valid = candidate
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && candidate.chars().last().is_some_and(|c| c.is_ascii_digit())
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        (Some(candidate.to_owned()), rest.trim())
    } else {
        (None, text)
    }
}

/// The first 8 hex digits of the SHA-256 of the whitespace-normalised text.
pub fn hash8(text: &str) -> String {
    let normalized = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let digest = Sha256::digest(normalized.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// A list entry's source without its bullet (`-`, `*`, `+`, `1.`) and task box (`[ ]`).
fn strip_list_marker(entry: &str) -> &str {
    let rest = entry.trim_start();
    let rest = rest
        .strip_prefix(['-', '*', '+'])
        .unwrap_or_else(|| {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                rest[digits..].strip_prefix(['.', ')']).unwrap_or(rest)
            } else {
                rest
            }
        })
        .trim_start();
    let rest = ["[ ]", "[x]", "[X]"]
        .iter()
        .find_map(|b| rest.strip_prefix(b))
        .unwrap_or(rest);
    rest.trim_start()
}

/// Numbers, strings and chars in an item's text, written as Rust literals.
pub fn literals_in(text: &str) -> Vec<String> {
    scan_literals(text, false)
}

/// The same from an item's markdown source, where a string's backslash escapes are Rust's
/// (`"\"foo"` is `"foo`, `"foo\\"` ends in one backslash).
pub fn literals_in_markdown(source: &str) -> Vec<String> {
    scan_literals(source, true)
}

fn scan_literals(text: &str, escapes: bool) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        if c == '"' || c == '“' {
            let close = if c == '"' { '"' } else { '”' };
            let mut content = String::new();
            let mut j = i + 1;
            let mut closed = false;
            while j < chars.len() {
                match chars[j] {
                    '\\' if escapes && close == '"' && j + 1 < chars.len() => {
                        content.push(match chars[j + 1] {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            other => other,
                        });
                        j += 2;
                    }
                    d if d == close => {
                        closed = true;
                        break;
                    }
                    d => {
                        content.push(d);
                        j += 1;
                    }
                }
            }
            if closed {
                push_unique(&mut out, format!("{content:?}"));
                i = j + 1;
                continue;
            }
        } else if c == '\''
            && !prev.is_some_and(is_word)
            && chars.get(i + 2) == Some(&'\'')
            && !chars.get(i + 3).is_some_and(|&d| is_word(d))
        {
            push_unique(&mut out, format!("{:?}", chars[i + 1]));
            i += 3;
            continue;
        } else if (c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            && !prev.is_some_and(|p| is_word(p) || p == '.')
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
                i += 1;
            }
            if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let number: String = chars[start..i].iter().filter(|&&d| d != '_').collect();
            // A type suffix (`100u8`) is not part of the value.
            while i < chars.len() && is_word(chars[i]) {
                i += 1;
            }
            push_unique(&mut out, number);
            continue;
        }
        i += 1;
    }
    out
}

fn push_unique(out: &mut Vec<String>, value: String) {
    if !out.contains(&value) {
        out.push(value);
    }
}

/// Two items with one explicit id: warn, and keep the later one apart as `ID~2`.
fn dedupe_ids(items: &mut [SpecItem], warnings: &mut Vec<SpecWarning>) {
    let mut seen: HashMap<String, (u32, u32)> = HashMap::new();
    for item in items.iter_mut() {
        let entry = seen.entry(item.id.clone()).or_insert((item.line, 0));
        entry.1 += 1;
        if entry.1 > 1 {
            warnings.push(SpecWarning {
                file: item.file.clone(),
                line: item.line,
                message: format!(
                    "duplicate item id `{}` (first at line {}); this one is `{}~{}`",
                    item.id, entry.0, item.id, entry.1
                ),
            });
            item.id = format!("{}~{}", item.id, entry.1);
        }
    }
}

/// Byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> u32 {
        self.starts.partition_point(|&start| start <= offset) as u32
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const SPEC: &str = "# Feature: money

Target: `parse_cents`, `Ledger`

## Acceptance criteria
- [ ] AC4: `parse_cents` rejects empty or blank input with `ParseError::Empty`.
- [x] Amounts over 100 are fine.
  - a nested note
- AC5: covered by hand <!-- covers: ledger::parse_cents#if1 -->

## Contracts
| call | result |
|---|---|
| `parse_cents(\"12\")` | `Ok(1200)` |
| `parse_cents(\"1\" +)` | `Ok(1)` |

- `format_cents(5)` → `\"0.05\"`

## Known edge cases
- \"99999999999999999999\" overflows.

## Out of scope
";

    fn parsed() -> (Spec, Vec<SpecWarning>) {
        parse_spec(SPEC, "SPEC.md")
    }

    #[test]
    fn target_line_names_the_spec_targets() {
        assert_eq!(parsed().0.targets, ["parse_cents", "Ledger"]);
    }

    #[test]
    fn list_items_keep_explicit_ids_lines_names_and_literals() {
        let (spec, _) = parsed();
        let ac4 = &spec.items[0];
        assert_eq!(ac4.id, "AC4");
        assert_eq!(ac4.line, 6);
        assert_eq!(ac4.section, Section::AcceptanceCriteria);
        assert_eq!(
            ac4.text,
            "`parse_cents` rejects empty or blank input with `ParseError::Empty`."
        );
        assert_eq!(ac4.names, ["parse_cents", "ParseError::Empty"]);
        let second = &spec.items[1];
        assert_eq!(
            second.id,
            format!(
                "acceptance-criteria-{}",
                hash8("Amounts over 100 are fine.; a nested note")
            )
        );
        assert_eq!(second.literals, ["100"]);
        assert_eq!(spec.items[2].covers, ["ledger::parse_cents#if1"]);
    }

    #[test]
    fn contract_rows_parse_as_rust_and_bad_rows_warn_with_their_line() {
        let (spec, warnings) = parsed();
        let row = spec
            .items
            .iter()
            .find(|i| i.call.as_deref() == Some("parse_cents(\"12\")"))
            .unwrap();
        assert_eq!(row.expected.as_deref(), Some("Ok(1200)"));
        assert_eq!(row.line, 14);
        assert!(
            row.literals.contains(&"\"12\"".to_owned())
                && row.literals.contains(&"1200".to_owned())
        );
        let bad = warnings
            .iter()
            .find(|w| w.message.contains("does not parse"))
            .unwrap();
        assert_eq!(bad.line, 15);
        let arrow = spec
            .items
            .iter()
            .find(|i| i.call.as_deref() == Some("format_cents(5)"))
            .unwrap();
        assert_eq!(arrow.expected.as_deref(), Some("\"0.05\""));
    }

    #[test]
    fn empty_section_and_missing_sections_warn() {
        let (_, warnings) = parsed();
        assert!(
            warnings
                .iter()
                .any(|w| w.line == 22 && w.message.contains("Out of scope section has no items"))
        );
        let (_, warnings) = parse_spec("# Notes\n\n- something\n", "notes.md");
        assert!(warnings[0].message.contains("no recognised section"));
    }

    #[test]
    fn duplicate_ids_warn_and_stay_apart() {
        let (spec, warnings) = parse_spec("## Acceptance criteria\n- AC1: a\n- AC1: b\n", "s.md");
        assert_eq!(spec.items[1].id, "AC1~2");
        assert!(warnings[0].message.contains("duplicate item id `AC1`"));
    }

    #[test]
    fn split_explicit_id_needs_letter_first_and_digit_last() {
        assert_eq!(split_explicit_id("REQ-12: x"), (Some("REQ-12".into()), "x"));
        assert_eq!(split_explicit_id("Note: x"), (None, "Note: x"));
        assert_eq!(split_explicit_id("12: x"), (None, "12: x"));
    }

    #[test]
    fn literals_in_finds_numbers_strings_and_chars_but_not_ids_or_words() {
        assert_eq!(
            literals_in(
                "len > 60 or \"0x\" prefix, split at '.', -5 and 1_000u32; i64 in AC4 don't"
            ),
            ["60", "\"0x\"", "'.'", "-5", "1000"]
        );
        assert_eq!(strip_list_marker("- [ ] AC1: x"), "AC1: x");
        assert_eq!(strip_list_marker("12. y"), "y");
        assert_eq!(
            literals_in_markdown(r#"never closed, such as "\"foo", or "foo\\" and "a\r\nb""#),
            [r#""\"foo""#, r#""foo\\""#, r#""a\r\nb""#]
        );
    }

    #[test]
    fn hash8_ignores_whitespace_differences() {
        assert_eq!(hash8("a  b\nc"), hash8("a b c"));
        assert_eq!(hash8("x").len(), 8);
    }
}
