//! When to ask a model API again, and after how long: the official SDKs' rules. Retry
//! connection errors, time-outs, 408, 409, 429 and 5xx (Anthropic's 529 included), as
//! `x-should-retry` overrides; wait what `retry-after-ms` or `retry-after` says when that is
//! 0-60 s, else back off exponentially with jitter; never retry quota, billing or auth errors.

use std::time::{Duration, SystemTime};

/// The SDKs' first delay and its cap.
const INITIAL_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(8);
/// A server's own wait is honoured up to this long.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// Error codes and types that say "pay", not "try later", even under 429.
const OUT_OF_CREDIT: &[&str] = &[
    "insufficient_quota",
    "credit_balance_exhausted",
    "billing_error",
    "billing_hard_limit_reached",
    "organization_usage_limit_exceeded",
];

/// Error types that say "fix your key".
const KEY_REFUSED: &[&str] = &[
    "authentication_error",
    "permission_error",
    "invalid_api_key",
];

/// Whether an error body says the account is out of quota or credit.
pub fn out_of_credit(body: &str) -> bool {
    OUT_OF_CREDIT.iter().any(|code| body.contains(code))
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// No response: connection refused or reset, or the request timed out.
    NoResponse,
    /// A response with a non-success status.
    Status {
        status: u16,
        /// Header lookups, lower-case names.
        headers: &'a [(String, String)],
        body: &'a str,
    },
}

/// Whether to try again, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

/// The decision after attempt number `retries_done` (0 for the first failure) failed as
/// `attempt`, with `max_retries` allowed; `jitter` in 0..1 (random in use, fixed in tests).
pub fn decide(attempt: &Attempt, retries_done: u32, max_retries: u32, jitter: f64) -> Decision {
    if retries_done >= max_retries {
        return Decision::GiveUp;
    }
    let backoff = backoff(retries_done, jitter);
    match attempt {
        Attempt::NoResponse => Decision::RetryAfter(backoff),
        Attempt::Status {
            status,
            headers,
            body,
        } => {
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.trim())
            };
            if out_of_credit(body) || KEY_REFUSED.iter().any(|code| body.contains(code)) {
                return Decision::GiveUp;
            }
            let retry = match header("x-should-retry") {
                Some("true") => true,
                Some("false") => false,
                _ => matches!(status, 408 | 409 | 429) || *status >= 500,
            };
            if !retry {
                return Decision::GiveUp;
            }
            let asked = header("retry-after-ms")
                .and_then(|ms| ms.parse::<f64>().ok())
                .map(|ms| ms / 1000.0)
                .or_else(|| header("retry-after").and_then(retry_after_seconds));
            match asked {
                Some(seconds)
                    if seconds >= 0.0 && Duration::from_secs_f64(seconds) <= MAX_SERVER_DELAY =>
                {
                    Decision::RetryAfter(Duration::from_secs_f64(seconds))
                }
                _ => Decision::RetryAfter(backoff),
            }
        }
    }
}

/// `min(0.5 s · 2^n, 8 s) · (1 − 0.25 · jitter)`.
pub fn backoff(retries_done: u32, jitter: f64) -> Duration {
    let base = INITIAL_DELAY
        .saturating_mul(2u32.saturating_pow(retries_done.min(16)))
        .min(MAX_DELAY);
    base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
}

/// `retry-after`: seconds (perhaps fractional), or an HTTP date.
fn retry_after_seconds(value: &str) -> Option<f64> {
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(seconds);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or_default()
            .as_secs_f64(),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn status(code: u16, headers: &[(&str, &str)], body: &str) -> Decision {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        decide(
            &Attempt::Status {
                status: code,
                headers: &headers,
                body,
            },
            0,
            4,
            0.0,
        )
    }

    #[test]
    fn transient_statuses_are_retried_and_the_rest_are_not() {
        for code in [408, 409, 429, 500, 502, 503, 529] {
            assert_eq!(
                status(code, &[], ""),
                Decision::RetryAfter(INITIAL_DELAY),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 413, 422] {
            assert_eq!(status(code, &[], ""), Decision::GiveUp, "{code}");
        }
        assert_eq!(
            decide(&Attempt::NoResponse, 0, 4, 0.0),
            Decision::RetryAfter(INITIAL_DELAY)
        );
    }

    #[test]
    fn the_server_says_when_and_whether() {
        assert_eq!(
            status(429, &[("retry-after", "3")], ""),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            status(429, &[("Retry-After-Ms", "250")], ""),
            Decision::RetryAfter(Duration::from_millis(250))
        );
        // Too long a wait: the usual backoff instead.
        assert_eq!(
            status(429, &[("retry-after", "3600")], ""),
            Decision::RetryAfter(INITIAL_DELAY)
        );
        assert_eq!(
            status(400, &[("x-should-retry", "true")], ""),
            Decision::RetryAfter(INITIAL_DELAY)
        );
        assert_eq!(
            status(503, &[("x-should-retry", "false")], ""),
            Decision::GiveUp
        );
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
        match status(429, &[("retry-after", &date)], "") {
            Decision::RetryAfter(wait) => assert!(wait <= Duration::from_secs(5), "{wait:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quota_billing_and_auth_are_never_retried() {
        let quota = r#"{"error": {"type": "insufficient_quota", "message": "You exceeded your current quota"}}"#;
        assert_eq!(
            status(429, &[("retry-after", "1")], quota),
            Decision::GiveUp
        );
        let billing = r#"{"type":"error","error":{"type":"billing_error","message":"..."}}"#;
        assert_eq!(status(402, &[], billing), Decision::GiveUp);
        let rate = r#"{"error": {"type": "rate_limit_error"}}"#;
        assert!(matches!(status(429, &[], rate), Decision::RetryAfter(_)));
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter_taking_up_to_a_quarter() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(4, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(30, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(0, 1.0), Duration::from_millis(375));
        assert_eq!(
            decide(&Attempt::NoResponse, 4, 4, 0.0),
            Decision::GiveUp,
            "out of retries"
        );
    }
}
