//! Time-based one-time passwords (RFC 6238) as authenticator apps and IAM compute them:
//! HMAC-SHA-1, 6 digits, 30-second steps counted from the Unix epoch. totp-rs computes the
//! codes; this module says which steps a code is tried against and compares in constant time.
//! The window, the clock drift and replay (a step accepted once) are the caller's rules: every
//! function here takes the steps to try and answers with a step.

use std::{io::Write as _, ops::RangeInclusive};

use subtle::{Choice, ConditionallySelectable as _, ConstantTimeEq};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::Seed;

/// The length of a time step in seconds (RFC 6238's X, and IAM's).
pub const STEP_SECONDS: i64 = 30;

/// The number of digits of a code.
pub const CODE_DIGITS: usize = 6;

/// The time step that holds this instant: `floor(unix_ms / 30 000)`, counted from the epoch
/// (RFC 6238's T0 = 0). Instants before the epoch give negative steps, which no code matches.
pub fn step_at(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(STEP_SECONDS * 1000)
}

/// An authentication code: exactly six ASCII digits. `Debug` does not show them, as a code is
/// a credential for the rest of its step. Equality is constant-time.
pub struct Code([u8; CODE_DIGITS]);

impl Code {
    /// The code `text` spells, if it is exactly six ASCII digits (no sign, no spaces, no other
    /// script's digits).
    pub fn parse(text: &str) -> Option<Code> {
        let digits: [u8; CODE_DIGITS] = text.as_bytes().try_into().ok()?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(Code(digits))
    }

    /// The six digits, for a client to send (the benchmark, tests).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a code is ASCII digits")
    }
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Code {}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(..)")
    }
}

/// The earliest step in `steps` whose code is `code`, or `None`.
///
/// Every step's code is computed and compared in constant time, and the earliest match is
/// selected without branching, so the time taken depends on the number of steps only, not on
/// which step (if any) matched. The cost is one HMAC-SHA-1 a step: keep ranges small.
pub fn matching_step(seed: &Seed, code: &Code, steps: RangeInclusive<i64>) -> Option<i64> {
    let generator = generator(seed);
    let mut earliest = Earliest::new();
    for step in steps {
        earliest.offer(step, matches(candidate(&generator, step).as_ref(), code));
    }
    earliest.into_step()
}

/// The earliest step `s` in `steps` such that `first` is the code of `s` and `second` the code
/// of `s + 1`, or `None`; `s + 1` may lie one past the end of `steps`. In constant time, as
/// [`matching_step`].
pub fn consecutive_steps(
    seed: &Seed,
    first: &Code,
    second: &Code,
    steps: RangeInclusive<i64>,
) -> Option<i64> {
    if steps.is_empty() {
        return None;
    }
    let generator = generator(seed);
    let (start, end) = steps.into_inner();
    let mut earliest = Earliest::new();
    let mut this = candidate(&generator, start);
    for step in start..=end {
        let next = step.checked_add(1).and_then(|n| candidate(&generator, n));
        earliest.offer(
            step,
            matches(this.as_ref(), first) & matches(next.as_ref(), second),
        );
        this = next;
    }
    earliest.into_step()
}

/// The code of `step`, as an authenticator app shows it during that step.
///
/// # Panics
/// If `step` is negative (before the epoch): for tests and the benchmark, which choose steps.
pub fn code_at(seed: &Seed, step: i64) -> Code {
    candidate(&generator(seed), step).expect("code_at is given a step at or after the epoch")
}

/// The TOTP generator of `seed`, with the parameters spelled out rather than left to the
/// crate's defaults, since authenticator apps assume exactly these.
fn generator(seed: &Seed) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(CODE_DIGITS as u8)
        .with_step_duration(STEP_SECONDS as u64)
        .with_secret(Secret::new_stack(*seed.bytes()))
        .build()
        .expect("SHA-1, 6 digits, 30 s steps and a 160-bit secret are valid RFC 6238 parameters")
}

/// The code of `step`, or `None` for a step with no code (before the epoch, or so far ahead
/// that its time overflows).
fn candidate(generator: &Totp, step: i64) -> Option<Code> {
    let seconds = u64::try_from(step)
        .ok()?
        .checked_mul(STEP_SECONDS.unsigned_abs())?;
    let token = generator.generate(seconds);
    // Formatted into a fixed buffer, not a `String`: a code is a credential while its step lasts.
    let mut digits = [0u8; CODE_DIGITS];
    let mut unwritten = &mut digits[..];
    write!(unwritten, "{token}").ok()?;
    if !unwritten.is_empty() {
        return None;
    }
    Code::parse(std::str::from_utf8(&digits).ok()?)
}

fn matches(candidate: Option<&Code>, code: &Code) -> Choice {
    candidate.map_or(Choice::from(0), |candidate| candidate.ct_eq(code))
}

/// The earliest step offered with a match, chosen without branching on secret data.
struct Earliest {
    found: Choice,
    step: i64,
}

impl Earliest {
    fn new() -> Earliest {
        Earliest {
            found: Choice::from(0),
            step: 0,
        }
    }

    fn offer(&mut self, step: i64, hit: Choice) {
        self.step.conditional_assign(&step, hit & !self.found);
        self.found |= hit;
    }

    fn into_step(self) -> Option<i64> {
        bool::from(self.found).then_some(self.step)
    }
}

#[cfg(test)]
mod tests;
