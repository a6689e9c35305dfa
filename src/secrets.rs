//! The secrets of this machine that nothing the tool sends or stores may hold: the values of
//! environment variables whose names say they are secret (`*KEY*`, `*TOKEN*`, `*SECRET*`,
//! `*PASSWORD*`, `*CREDENTIAL*`, `*AUTH*`), the API keys among them. They are replaced in
//! everything that comes out of a sandboxed process (so in reports, `decisions.toml`, the
//! ledger and every request built from them) and in every request body.

use std::sync::OnceLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Parts of a variable's name that mark its value secret.
const SECRET_NAMES: &[&str] = &["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH"];

/// Shorter values are words a message may hold for other reasons.
const MIN_LENGTH: usize = 8;

/// The secret values of this process's environment, longest first (a value that contains
/// another is replaced whole), read once.
fn secret_values() -> &'static [String] {
    static VALUES: OnceLock<Vec<String>> = OnceLock::new();
    VALUES.get_or_init(|| secret_values_of(std::env::vars_os()))
}

fn secret_values_of(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<String> {
    let mut values: Vec<String> = vars
        .filter_map(|(name, value)| {
            let name = name.to_string_lossy().to_ascii_uppercase();
            let value = value.into_string().ok()?;
            (SECRET_NAMES.iter().any(|part| name.contains(part))
                && value.trim().len() >= MIN_LENGTH)
                .then(|| value.trim().to_owned())
        })
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

/// `text` with every secret value of the environment replaced, as written and as JSON
/// escapes it.
pub fn redact(text: &str) -> String {
    redact_values(text, secret_values())
}

fn redact_values(text: &str, values: &[String]) -> String {
    let mut out = std::borrow::Cow::Borrowed(text);
    for value in values {
        if out.contains(value.as_str()) {
            out = std::borrow::Cow::Owned(out.replace(value.as_str(), REDACTED));
        }
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != value && out.contains(escaped) {
            out = std::borrow::Cow::Owned(out.replace(escaped, REDACTED));
        }
    }
    out.into_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<String> {
        secret_values_of(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    #[test]
    fn values_of_secret_named_variables_are_found_longest_first() {
        let values = vars(&[
            ("OPENAI_API_KEY", "sk-live-abcdefgh"),
            ("GITHUB_TOKEN", "ghp_0123456789"),
            ("db_password", "hunter2hunter2"),
            ("MY_CREDENTIALS_FILE", "/run/creds.json"),
            ("Authorization", "Bearer abcdefghijkl"),
            ("SHORT_KEY", "abc"),
            ("PATH", "/usr/bin:/bin:/usr/local/bin"),
        ]);
        assert_eq!(
            values,
            [
                "Bearer abcdefghijkl",
                "sk-live-abcdefgh",
                "/run/creds.json",
                "ghp_0123456789",
                "hunter2hunter2",
            ]
        );
    }

    #[test]
    fn secrets_are_replaced_plain_and_json_escaped() {
        let values = vars(&[
            ("APP_SECRET", "p\"ss-w0rd-xyz"),
            ("API_KEY", "sk-123456789"),
        ]);
        let text = r#"panicked: key sk-123456789 and {"s": "p\"ss-w0rd-xyz"} and p"ss-w0rd-xyz"#;
        assert_eq!(
            redact_values(text, &values),
            r#"panicked: key [redacted] and {"s": "[redacted]"} and [redacted]"#
        );
        assert_eq!(redact_values("nothing here", &values), "nothing here");
    }
}
