//! Reading a Rust source file into text the parser takes, or a positioned error.

use std::path::Path;

/// Why a file could not be read as Rust source text, with a position when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Read `path` as UTF-8 and make it safe to hand to `syn` while keeping byte offsets:
/// a byte-order mark is dropped and a shebang line is blanked (syn would otherwise slice it off
/// and shift every offset).
pub fn load_source(path: &Path) -> Result<String, LoadError> {
    let bytes = crate::input::read(path).map_err(|err| LoadError {
        line: 1,
        column: 1,
        message: format!("cannot read file: {err}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        // `valid` is valid UTF-8 by construction.
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() as u32 + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        LoadError {
            line,
            column,
            message: format!(
                "file is not valid UTF-8 (invalid byte at offset {})",
                valid.len()
            ),
        }
    })?;
    Ok(prepare_for_parse(text))
}

/// Drop a BOM and blank a shebang line byte for byte.
pub fn prepare_for_parse(mut text: String) -> String {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    if let Some(rest) = text.strip_prefix("#!") {
        // `#![attr]` is an inner attribute, not a shebang.
        if !rest.trim_start().starts_with('[') {
            let end = text.find('\n').unwrap_or(text.len());
            text.replace_range(..end, &" ".repeat(end));
        }
    }
    text
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn shebang_is_blanked_keeping_offsets() {
        let text = prepare_for_parse("#!/usr/bin/env run-cargo-script\nfn f() {}\n".to_owned());
        assert!(text.starts_with("   "));
        assert_eq!(text.find("fn f"), Some(32));
    }

    #[test]
    fn inner_attribute_is_not_a_shebang() {
        let text = prepare_for_parse("#![allow(dead_code)]\nfn f() {}".to_owned());
        assert!(text.starts_with("#![allow"));
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(
            prepare_for_parse("\u{feff}fn f() {}".to_owned()),
            "fn f() {}"
        );
    }

    #[test]
    fn non_utf8_file_reports_line_and_column_of_the_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.rs");
        std::fs::write(&path, b"fn a() {}\nfn \xff() {}\n").unwrap();
        let err = load_source(&path).unwrap_err();
        assert_eq!((err.line, err.column), (2, 4));
        assert!(err.message.contains("not valid UTF-8"));
    }
}
