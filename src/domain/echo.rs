//! Input values as error messages and log lines may show them: at most [`ECHO_LIMIT`]
//! characters, so that a 10 MB value in a file or a flag cannot become a 10 MB message.

use std::fmt;

/// The most characters of one input value a message repeats.
pub const ECHO_LIMIT: usize = 64;

/// A value quoted (as `{:?}` quotes it) and cut to [`ECHO_LIMIT`] characters, saying how long
/// it was when cut: `"aaaa…" (10485760 characters)`.
#[derive(Debug, Clone, Copy)]
pub struct Echo<'a>(pub &'a str);

impl<'a> Echo<'a> {
    /// The first [`ECHO_LIMIT`] characters of `value`, unquoted, for messages whose wording
    /// quotes a value its own way.
    pub fn cut(value: &'a str) -> &'a str {
        match value.char_indices().nth(ECHO_LIMIT) {
            None => value,
            Some((cut, _)) => &value[..cut],
        }
    }
}

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = Self::cut(self.0);
        if cut.len() == self.0.len() {
            write!(f, "{cut:?}")
        } else {
            write!(f, "{cut:?}… ({} characters)", self.0.chars().count())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_quoted_whole_and_a_long_one_is_cut_at_64_characters() {
        assert_eq!(Echo("bob").to_string(), "\"bob\"");
        let exactly = "é".repeat(ECHO_LIMIT);
        assert_eq!(Echo(&exactly).to_string(), format!("{exactly:?}"));
        let long = "é".repeat(10_000);
        let shown = Echo(&long).to_string();
        assert_eq!(
            shown,
            format!("{:?}… (10000 characters)", "é".repeat(ECHO_LIMIT))
        );
    }
}
