//! Text styles for human output; anstream strips them when colors are off.

use anstyle::{AnsiColor, Style};

pub const HEADING: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const GUARD: Style = AnsiColor::Yellow.on_default();
pub const PANIC: Style = AnsiColor::Red.on_default();
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub const ID: Style = AnsiColor::Cyan.on_default();

/// `text` wrapped in `style`'s escape codes.
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}
