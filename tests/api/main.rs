//! Integration tests: one binary that drives the real server over gRPC.

#[allow(dead_code)]
mod helpers;
mod users;
