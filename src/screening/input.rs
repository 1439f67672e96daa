//! The three list formats, recognised from a file's content, and the key each line gives.

use std::io::BufRead;

use super::{KeyKind, compiled::MAGIC};

/// What a list file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Made by `loginprofiled blocklist build`.
    Compiled,
    /// Have I Been Pwned's Pwned Passwords: `40 hex digits[:count]` per line.
    Pwned,
    /// One password per line, UTF-8.
    Plain,
}

impl Format {
    /// The format of a file that starts with `head` (its first few KiB).
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(MAGIC) {
            return Self::Compiled;
        }
        let first = head
            .split(|b| *b == b'\n')
            .map(trim_line_end)
            .find(|line| !line.is_empty());
        match first {
            Some(line) if pwned_line(line).is_some() => Self::Pwned,
            _ => Self::Plain,
        }
    }

    /// How this format's keys are made; None for a compiled list (its header says).
    pub fn key_kind(self) -> Option<KeyKind> {
        match self {
            Self::Compiled => None,
            Self::Pwned => Some(KeyKind::Exact),
            Self::Plain => Some(KeyKind::Folded),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Compiled => "a compiled list",
            Self::Pwned => "a Pwned Passwords SHA-1 list",
            Self::Plain => "a plain-text list",
        }
    }
}

/// One line of a text list, understood.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// An entry: its key, and its count (Pwned Passwords) when given.
    Entry {
        key: u64,
        count: Option<u64>,
    },
    Blank,
}

/// Reads the lines of a text list of `format`, calling `each` with every line (1-based number
/// and the line's bytes, with its LF or CRLF) until the end; an error names the line.
pub(super) fn for_each_line(
    mut reader: impl BufRead,
    format: Format,
    mut each: impl FnMut(Line, usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut buffer = Vec::with_capacity(256);
    let mut number = 0u64;
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let line = trim_line_end(&buffer);
        let parsed = if line.is_empty() {
            Line::Blank
        } else {
            match format {
                Format::Pwned => {
                    let (key, count) = pwned_line(line).ok_or_else(|| {
                        anyhow::anyhow!(
                            "line {number} is not a Pwned Passwords line (40 hex digits, then optionally `:count`)"
                        )
                    })?;
                    Line::Entry { key, count }
                }
                Format::Plain => {
                    let text = std::str::from_utf8(line).map_err(|_| {
                        anyhow::anyhow!("line {number} is not UTF-8 (plain lists are UTF-8)")
                    })?;
                    Line::Entry {
                        key: super::key(KeyKind::Folded, text),
                        count: None,
                    }
                }
                Format::Compiled => anyhow::bail!("a compiled list has no lines"),
            }
        };
        each(parsed, read)?;
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The key (the SHA-1's first 8 bytes) and count of a Pwned Passwords line, if it is one.
fn pwned_line(line: &[u8]) -> Option<(u64, Option<u64>)> {
    let (hash, count) = match line.iter().position(|b| *b == b':') {
        Some(colon) => (&line[..colon], Some(&line[colon + 1..])),
        None => (line, None),
    };
    if hash.len() != 40 || !hash.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let key = u64::from_str_radix(std::str::from_utf8(&hash[..16]).ok()?, 16).ok()?;
    let count = match count {
        Some(digits) => Some(std::str::from_utf8(digits).ok()?.trim().parse().ok()?),
        None => None,
    };
    Some((key, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_from_content() {
        assert_eq!(Format::sniff(MAGIC), Format::Compiled);
        assert_eq!(
            Format::sniff(b"\r\n7C4A8D09CA3762AF61E59520943DC26494F8941B:24230577\r\n"),
            Format::Pwned
        );
        assert_eq!(
            Format::sniff(b"7c4a8d09ca3762af61e59520943dc26494f8941b\n"),
            Format::Pwned
        );
        assert_eq!(Format::sniff(b"password1\n"), Format::Plain);
        assert_eq!(Format::sniff(b""), Format::Plain);
    }

    #[test]
    fn a_pwned_line_gives_the_sha1_prefix_as_key_in_any_case() {
        let sha1_of_123456 = 0x7c4a8d09ca3762af;
        assert_eq!(
            pwned_line(b"7C4A8D09CA3762AF61E59520943DC26494F8941B:42"),
            Some((sha1_of_123456, Some(42)))
        );
        assert_eq!(super::super::key(KeyKind::Exact, "123456"), sha1_of_123456);
        assert_eq!(pwned_line(b"7C4A8D09CA3762AF61E59520943DC26494F8941"), None);
        assert_eq!(
            pwned_line(b"7C4A8D09CA3762AF61E59520943DC26494F8941B:x"),
            None
        );
    }
}
