//! Checks of the documentation (README.md and docs/): the generated flag reference is current
//! and matches the binary's `--help`, every `--flag` a chapter mentions exists, every relative
//! link and `#anchor` resolves, and the README stays a short front page.
//!
//! A test binary of its own rather than part of `tests/api`: it needs no server, builds in
//! seconds, and `cargo test --test docs` is the one command to run after editing the docs. The
//! examples in the docs are run by the client suites (`tests/clients`, `tests/compat`).

// Items are shared between the modules of this one test crate, never exported.
#![allow(unreachable_pub)]

mod flags;
mod formats;
mod links;
mod markdown;
mod readme;
mod reference;
