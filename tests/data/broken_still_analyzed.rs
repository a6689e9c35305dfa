//! dualtrack: {"engine": "offline"}

/// dualtrack: {"function": "broken::still_analyzed"}
#[test]
fn still_analyzed_zero() {
    assert_eq!(still_analyzed(0), 1);
}
