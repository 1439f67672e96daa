//! Integration tests: one binary that drives the real server over gRPC and the Query API.

// Items are shared between the modules of this one test crate, never exported.
#![allow(unreachable_pub)]

mod auth;
mod binary;
mod check;
mod concurrency;
mod crash;
mod damage;
mod disk_full;
#[allow(dead_code)]
mod helpers;
mod imported;
mod lifecycle;
mod limits;
mod login_profiles;
mod logs;
mod malformed;
mod mfa;
mod operations;
mod overload;
mod policy;
mod postgres;
mod query_api;
mod raw_h2;
mod reflection;
mod screening;
mod sign_in;
mod socket_file;
mod startup;
mod tls;
mod transfer;
mod unix_socket;
mod users;
