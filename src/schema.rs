//! JSON Schemas of the documents the tool writes (`dualtrack.analyze/v1`, `score/v1`,
//! `review/v1`, `matrix/v1`), generated from their types and published in `docs/schemas/`.
//!
//! They describe what is written, strictly: every field always written is required, and no
//! object allows a field it does not name, so that a schema too loose to fail anything is caught.

use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};

/// A document with a published schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Analyze,
    Score,
    Review,
    Matrix,
}

impl Document {
    pub const ALL: [Document; 4] = [
        Document::Analyze,
        Document::Score,
        Document::Review,
        Document::Matrix,
    ];

    /// The document's `schema` field.
    pub fn id(self) -> &'static str {
        match self {
            Document::Analyze => crate::analyze::ANALYZE_SCHEMA,
            Document::Score => crate::spec::score::SCORE_SCHEMA,
            Document::Review => crate::document::SCHEMA,
            Document::Matrix => crate::report::matrix::MATRIX_SCHEMA,
        }
    }

    /// The schema's file in `docs/schemas/`: `review.v1.schema.json`.
    pub fn file_name(self) -> String {
        let (name, version) = self
            .id()
            .trim_start_matches("dualtrack.")
            .split_once('/')
            .expect("document ids are NAME/VERSION");
        format!("{name}.{version}.schema.json")
    }

    /// The schema, as published.
    pub fn schema(self) -> serde_json::Value {
        let mut schema = match self {
            Document::Analyze => schema_for::<crate::analyze::Analysis>(),
            Document::Score => schema_for::<crate::spec::score::ScoreReport>(),
            Document::Review => schema_for::<crate::document::ReviewDocument>(),
            Document::Matrix => schema_for::<crate::report::matrix::Matrix>(),
        };
        schema.insert("title".into(), self.id().into());
        // The `schema` field names the document exactly.
        if let Some(field) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("schema"))
        {
            *field = serde_json::json!({"const": self.id()});
        }
        schema.to_value()
    }
}

/// What `T` serializes to, closed.
fn schema_for<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(Closed)
        .into_generator()
        .into_root_schema_for::<T>()
}

/// Every object schema that names its properties allows no others, and requires the
/// properties marked [`ALWAYS_WRITTEN`] (an `Option` written as `null` rather than left out,
/// which schemars alone would make optional).
#[derive(Debug, Clone)]
struct Closed;

/// The mark, on a field: `#[schemars(extend("x-always-written" = true))]`.
pub const ALWAYS_WRITTEN: &str = "x-always-written";

impl Transform for Closed {
    fn transform(&mut self, schema: &mut Schema) {
        transform_subschemas(self, schema);
        let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
            return;
        };
        let mut always = Vec::new();
        for (name, property) in properties.iter_mut() {
            if let Some(property) = property.as_object_mut()
                && property.remove(ALWAYS_WRITTEN).is_some()
            {
                always.push(serde_json::Value::from(name.as_str()));
            }
        }
        // A field left out when it has nothing to say is never `null` when it is there.
        let required: Vec<serde_json::Value> = schema
            .get("required")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
            for (name, property) in properties.iter_mut() {
                let name = serde_json::Value::from(name.as_str());
                if !required.contains(&name) && !always.contains(&name) {
                    not_null(property);
                }
            }
        }
        if schema.get("additionalProperties").is_none() {
            schema.insert("additionalProperties".into(), false.into());
        }
        if !always.is_empty() {
            let required = schema
                .ensure_object()
                .entry("required")
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let Some(required) = required.as_array_mut() {
                for name in always {
                    if !required.contains(&name) {
                        required.push(name);
                    }
                }
            }
        }
    }
}

/// `property` without `null` among what it may be: from a `type` list, or an `anyOf` branch.
fn not_null(property: &mut serde_json::Value) {
    let Some(object) = property.as_object_mut() else {
        return;
    };
    if object.get("default").is_some_and(|d| d.is_null()) {
        object.remove("default");
    }
    if let Some(types) = object.get_mut("type").and_then(|t| t.as_array_mut()) {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    let null = serde_json::json!({"type": "null"});
    if let Some(branches) = object.get_mut("anyOf").and_then(|a| a.as_array_mut()) {
        branches.retain(|b| *b != null);
        if let [only] = branches.as_slice()
            && let Some(only) = only.as_object().cloned()
        {
            object.remove("anyOf");
            object.extend(only);
        }
    }
}

/// The schema's text as committed: pretty, one trailing newline.
pub fn text(document: Document) -> String {
    let mut text =
        serde_json::to_string_pretty(&document.schema()).expect("a JSON value serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn file_names_follow_the_document_ids() {
        assert_eq!(Document::Review.file_name(), "review.v1.schema.json");
        assert_eq!(Document::Analyze.file_name(), "analyze.v1.schema.json");
    }

    #[test]
    fn every_object_is_closed_and_names_what_it_requires() {
        let schema = Document::Review.schema();
        assert_eq!(schema["additionalProperties"], false);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for field in [
            "schema",
            "run_id",
            "findings",
            "site_coverage",
            "per_function",
        ] {
            assert!(required.contains(&field), "{field} in {required:?}");
        }
        // Written only when there is something to say.
        for field in ["fixes", "baseline_failed", "description"] {
            assert!(!required.contains(&field), "{field} in {required:?}");
        }
        let finding = &schema["$defs"]["Finding"];
        assert_eq!(finding["additionalProperties"], false);
        // Left out when empty, so never null when present; written as null when unknown.
        assert_eq!(finding["properties"]["snippet"]["type"], "string");
        assert_eq!(
            finding["properties"]["location"]["type"],
            serde_json::json!(["string", "null"])
        );
        let row = &schema["$defs"]["FunctionRow"]["properties"]["usage"];
        assert!(
            row.get("anyOf").is_none() && row["$ref"].is_string(),
            "{row}"
        );
    }
}
