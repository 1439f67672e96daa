//! Pagination markers: opaque to callers, each naming the key a listing continues after.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use super::Violations;

/// What a marker continues: each listing has its own prefix, so a marker of one is refused
/// by another.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listing {
    /// The operation that issues the markers, for the error message.
    pub(super) operation: &'static str,
    pub(super) prefix: &'static str,
}

impl Listing {
    /// The key a marker continues after; an empty marker starts at the beginning.
    pub(super) fn parse_marker(self, marker: &str) -> Result<Option<String>, Violations> {
        if marker.is_empty() {
            return Ok(None);
        }
        URL_SAFE_NO_PAD
            .decode(marker)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|s| s.strip_prefix(self.prefix).map(str::to_owned))
            .map(Some)
            .ok_or_else(|| {
                let mut violations = Violations::default();
                violations.push(
                    "marker",
                    format!(
                        "Member must be a marker returned by a previous {} call",
                        self.operation
                    ),
                );
                violations
            })
    }

    /// The marker that continues after `after_key`.
    pub(super) fn issue_marker(self, after_key: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}{after_key}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: Listing = Listing {
        operation: "ListUsers",
        prefix: "u1:",
    };
    const TAGS: Listing = Listing {
        operation: "ListUserTags",
        prefix: "t1:",
    };

    #[test]
    fn markers_round_trip_and_foreign_ones_are_refused() {
        let marker = USERS.issue_marker("bob");
        assert_eq!(USERS.parse_marker(&marker).unwrap(), Some("bob".to_owned()));
        assert_eq!(USERS.parse_marker("").unwrap(), None);
        assert!(USERS.parse_marker("not-a-marker!").is_err());
        assert!(USERS.parse_marker(&URL_SAFE_NO_PAD.encode("bob")).is_err());
        let err = TAGS.parse_marker(&marker).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value at 'marker' failed to satisfy constraint: Member \
             must be a marker returned by a previous ListUserTags call"
        );
    }
}
