//! loginprofiled: a gRPC service that owns login profiles, the passwords IAM-style users sign
//! in with.
//!
//! # Layout
//! - [`config`]: flags and environment into a validated [`config::ServeConfig`].
//! - [`server`]: binds, builds the router (access log -> auth -> services), drains on shutdown.
//! - [`access_log`], [`auth`]: the tower layers; [`access`]: tokens, access keys and scopes.
//! - [`grpc`]: generated code and thin adapters; `grpc::status` maps errors to the wire.
//! - [`query_api`]: the IAM Query API over HTTP (SigV4, XML) on the same domain operations.
//! - [`domain`]: the operations, validated inputs and the one error type, free of protocols.
//! - [`password`]: argon2id on a bounded pool of dedicated threads.
//! - [`store`]: the narrow storage trait and its sled implementation.
//! - [`tls`]: TLS and mutual TLS for both listeners, with certificates reloaded in place.
//!
//! A call: HTTP/2 frame -> access log (request id, span) -> auth (token -> scopes) -> generated
//! tonic server -> adapter -> domain operation -> hashing pool / store -> result or `IamError`
//! -> `Status`.

pub mod access;
pub mod access_log;
pub mod auth;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod password;
pub mod query_api;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod tls;
