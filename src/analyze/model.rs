//! The analyzer's data: functions, their sites, and the `dualtrack.analyze/v1` document.
//!
//! These are plain data types; later stages (score, generate, review) take them as they are.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

pub const ANALYZE_SCHEMA: &str = "dualtrack.analyze/v1";

/// What kind of decision point a site is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    If,
    MatchArm,
    LetElse,
    Loop,
    Try,
    Return,
    Tail,
    Panic,
}

impl SiteKind {
    pub const ALL: [SiteKind; 8] = [
        SiteKind::If,
        SiteKind::MatchArm,
        SiteKind::LetElse,
        SiteKind::Loop,
        SiteKind::Try,
        SiteKind::Return,
        SiteKind::Tail,
        SiteKind::Panic,
    ];

    /// The name used in site ids and JSON: `if`, `match_arm`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::If => "if",
            SiteKind::MatchArm => "match_arm",
            SiteKind::LetElse => "let_else",
            SiteKind::Loop => "loop",
            SiteKind::Try => "try",
            SiteKind::Return => "return",
            SiteKind::Tail => "tail",
            SiteKind::Panic => "panic",
        }
    }
}

/// How a panic site panics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PanicVia {
    Macro,
    Unwrap,
    Expect,
    Index,
    Division,
}

/// Where a site's probe goes in the analyzed text of its file, by byte offset: what the scratch
/// copy splices in to see the site reached. Never serialized: offsets hold only for the text
/// that was analyzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splice {
    /// A statement at this offset: just inside a block's `{` (the branch, arm or loop body
    /// taken), or before a function's tail.
    Statement(usize),
    /// `{ probe; EXPR }` around the expression at `start..end`: an arm's body, a `return`,
    /// a panicking macro, a divisor, an index.
    Wrap { start: usize, end: usize },
    /// `({ probe; EXPR })` around the expression at `start..end`, parenthesized as a value that
    /// may begin a statement: an `unwrap` or `expect` call, whole. With `breaks`,
    /// `tried(N, EXPR)` around the operand of a `?`, counted only when it is the value the `?`
    /// propagates.
    Pass {
        start: usize,
        end: usize,
        breaks: bool,
    },
}

/// One decision point inside a function body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Site {
    /// `FUNCTION_PATH#KINDN`, stable under edits outside the function.
    pub id: String,
    pub kind: SiteKind,
    pub function: String,
    /// Relative to the workspace root, forward slashes.
    pub file: String,
    /// 1-based line of the site's own token.
    pub line: u32,
    /// 1-based column, in characters, of the site's own token.
    pub column: u32,
    pub end_line: u32,
    /// The condition, pattern or expression, exactly as written.
    pub text: String,
    /// The function's parameters that `text` mentions (`self` for the receiver).
    pub params: Vec<String>,
    /// Tests a parameter and exits early (return, `?`, panic, error).
    pub guard: bool,
    /// `if`: whether an `else` exists.
    #[serde(default)]
    pub has_else: Option<bool>,
    /// `if` and `loop`: the operands of a top-level `&&`/`||` chain (empty when there is none).
    #[serde(default)]
    pub sub_conditions: Option<Vec<String>>,
    /// `match_arm`: the arm's `if` guard, if any.
    #[serde(default)]
    pub arm_guard: Option<String>,
    /// `if`, `match_arm`, `let_else` that exit early: the exit they lead to (the returned
    /// expression, the panic, the `Err(..)`).
    #[serde(default)]
    pub outcome: Option<String>,
    /// `panic`: how it panics.
    #[serde(default)]
    pub via: Option<PanicVia>,
    /// Where its probe goes; `None` where no probe may go (a `const fn`, a const context).
    #[serde(skip)]
    pub probe: Option<Splice>,
}

// Hand-written so that each kind carries exactly its own fields, and `arm_guard` is present
// (possibly null) on every match arm rather than missing.
impl Serialize for Site {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("function", &self.function)?;
        map.serialize_entry("file", &self.file)?;
        map.serialize_entry("line", &self.line)?;
        map.serialize_entry("column", &self.column)?;
        map.serialize_entry("end_line", &self.end_line)?;
        map.serialize_entry("text", &self.text)?;
        map.serialize_entry("params", &self.params)?;
        map.serialize_entry("guard", &self.guard)?;
        match self.kind {
            SiteKind::If => {
                map.serialize_entry("has_else", &self.has_else.unwrap_or(false))?;
                map.serialize_entry("sub_conditions", &self.sub_conditions_or_empty())?;
            }
            SiteKind::Loop => {
                map.serialize_entry("sub_conditions", &self.sub_conditions_or_empty())?;
            }
            SiteKind::MatchArm => map.serialize_entry("arm_guard", &self.arm_guard)?,
            SiteKind::Panic => map.serialize_entry("via", &self.via)?,
            _ => {}
        }
        if let Some(outcome) = &self.outcome {
            map.serialize_entry("outcome", outcome)?;
        }
        map.end()
    }
}

// Hand-written to match the hand-written `Serialize`: one shape per kind, each closed.
impl JsonSchema for Site {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Site".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let string = json_schema!({"type": "string"});
        let line = json_schema!({"type": "integer", "minimum": 0});
        let strings = json_schema!({"type": "array", "items": {"type": "string"}});
        let common = [
            ("id", string.clone()),
            ("function", string.clone()),
            ("file", string.clone()),
            ("line", line.clone()),
            ("column", line.clone()),
            ("end_line", line),
            ("text", string.clone()),
            ("params", strings.clone()),
            ("guard", json_schema!({"type": "boolean"})),
        ];
        let via = generator.subschema_for::<Option<PanicVia>>();
        let shapes: Vec<Schema> = SiteKind::ALL
            .iter()
            .map(|&kind| {
                let own: Vec<(&str, Schema)> = match kind {
                    SiteKind::If => vec![
                        ("has_else", json_schema!({"type": "boolean"})),
                        ("sub_conditions", strings.clone()),
                    ],
                    SiteKind::Loop => vec![("sub_conditions", strings.clone())],
                    SiteKind::MatchArm => {
                        vec![("arm_guard", json_schema!({"type": ["string", "null"]}))]
                    }
                    SiteKind::Panic => vec![("via", via.clone())],
                    _ => Vec::new(),
                };
                let mut properties = serde_json::Map::new();
                properties.insert("kind".into(), serde_json::json!({"const": kind.as_str()}));
                let mut required = vec!["kind".to_owned()];
                for (name, schema) in common.iter().cloned().chain(own) {
                    properties.insert(name.into(), schema.to_value());
                    required.push(name.to_owned());
                }
                // The exit an early-exiting site leads to, where there is one.
                properties.insert("outcome".into(), serde_json::json!({"type": "string"}));
                json_schema!({
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                })
            })
            .collect();
        json_schema!({
            "description": "One decision point inside a function body; its fields depend on its kind.",
            "oneOf": shapes,
        })
    }
}

impl Site {
    fn sub_conditions_or_empty(&self) -> &[String] {
        self.sub_conditions.as_deref().unwrap_or(&[])
    }
}

/// A function, method, trait default method or nested function with a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Function {
    /// `crate::module::function`, `crate::module::Type::method`,
    /// `crate::module::<Type as Trait>::method`, ...
    pub path: String,
    pub package: String,
    pub file: String,
    pub line: u32,
    pub end_line: u32,
    /// The module it is defined in (`ledger::money`); a generated test module goes there.
    #[serde(default)]
    pub module: String,
    /// As written: `pub`, `pub(crate)`, `pub(super)`, `pub(in path)`, `private`.
    pub visibility: String,
    /// Parameter names in order, `self` for a receiver (every name a pattern binds).
    #[serde(default)]
    pub params: Vec<String>,
    pub sites: Vec<Site>,
    /// What the function calls: by path (`helper`, `Type::new`; `Self` resolved to the type),
    /// methods on `self` (`Type::method`), and methods on other receivers by name only
    /// (`.decode`); sorted.
    #[serde(default)]
    pub calls: Vec<String>,
}

/// A file that could not be analyzed, or a module whose file is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnalysisError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// The `dualtrack.analyze/v1` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    pub schema: String,
    pub functions: Vec<Function>,
    /// Every file the module walk read, sorted.
    pub files: Vec<String>,
    /// `.rs` files under a target's source directory that no module declaration reaches.
    pub unreachable_files: Vec<String>,
    pub errors: Vec<AnalysisError>,
    /// The module each file in `files` is (`ledger::money`), for engines that name the
    /// file's items by path; files reached only through test modules are left out. Not part of
    /// the document.
    #[serde(skip)]
    pub file_modules: std::collections::BTreeMap<String, String>,
    /// The directory rustc reads the module files of each inline module from (`ledger::a::net`
    /// → `src/a/net`; a `#[path]` file's inline modules are beside it), relative to the
    /// workspace root. Not part of the document.
    #[serde(skip)]
    pub module_dirs: std::collections::BTreeMap<String, String>,
}

#[cfg(test)]
impl Function {
    /// A public function `path` of package `c` in `src/lib.rs` with no sites: what unit
    /// tests elsewhere start from.
    pub fn for_test(path: &str) -> Function {
        Function {
            path: path.into(),
            package: "c".into(),
            file: "src/lib.rs".into(),
            line: 1,
            end_line: 9,
            module: "c".into(),
            visibility: "pub".into(),
            params: Vec::new(),
            sites: Vec::new(),
            calls: Vec::new(),
        }
    }
}

#[cfg(test)]
impl Site {
    /// A site `id` of `kind` in `src/lib.rs` at line 1, with no text: for unit tests.
    pub fn for_test(id: &str, kind: SiteKind) -> Site {
        Site {
            id: id.into(),
            kind,
            function: id.split('#').next().unwrap_or(id).into(),
            file: "src/lib.rs".into(),
            line: 1,
            column: 1,
            end_line: 1,
            text: String::new(),
            params: Vec::new(),
            guard: false,
            has_else: None,
            sub_conditions: None,
            arm_guard: None,
            outcome: None,
            via: None,
            probe: None,
        }
    }
}

#[cfg(test)]
impl Analysis {
    /// An analysis of `functions` only.
    pub fn for_test(functions: Vec<Function>) -> Analysis {
        Analysis {
            schema: ANALYZE_SCHEMA.to_owned(),
            functions,
            files: vec!["src/lib.rs".to_owned()],
            unreachable_files: Vec::new(),
            errors: Vec::new(),
            file_modules: Default::default(),
            module_dirs: Default::default(),
        }
    }
}

impl Analysis {
    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.functions.iter().flat_map(|f| f.sites.iter())
    }

    /// Sites per kind, in [`SiteKind::ALL`] order.
    pub fn count_by_kind(&self) -> Vec<(SiteKind, usize)> {
        SiteKind::ALL
            .iter()
            .map(|&kind| (kind, self.sites().filter(|s| s.kind == kind).count()))
            .collect()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn site(kind: SiteKind) -> Site {
        Site {
            id: format!("c::f#{}1", kind.as_str()),
            kind,
            function: "c::f".into(),
            file: "src/lib.rs".into(),
            line: 2,
            column: 5,
            end_line: 2,
            text: "x".into(),
            params: vec!["x".into()],
            guard: false,
            has_else: None,
            sub_conditions: None,
            arm_guard: None,
            outcome: None,
            via: None,
            probe: None,
        }
    }

    #[test]
    fn match_arm_serializes_null_arm_guard_and_no_other_kind_fields() {
        let json = serde_json::to_value(site(SiteKind::MatchArm)).unwrap();
        assert_eq!(json["arm_guard"], serde_json::Value::Null);
        assert!(json.as_object().unwrap().contains_key("arm_guard"));
        assert!(!json.as_object().unwrap().contains_key("has_else"));
        assert!(!json.as_object().unwrap().contains_key("via"));
    }

    #[test]
    fn if_serializes_has_else_and_sub_conditions() {
        let json = serde_json::to_value(site(SiteKind::If)).unwrap();
        assert_eq!(json["has_else"], false);
        assert_eq!(json["sub_conditions"], serde_json::json!([]));
    }

    #[test]
    fn site_round_trips_through_json() {
        let mut original = site(SiteKind::Panic);
        original.via = Some(PanicVia::Index);
        let text = serde_json::to_string(&original).unwrap();
        let back: Site = serde_json::from_str(&text).unwrap();
        assert_eq!(back, original);
    }
}
