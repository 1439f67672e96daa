//! loginprofiled: a gRPC service that owns login profiles, the passwords IAM-style users sign
//! in with.
//!
//! # Layout
//! - [`config`]: flags and environment into a validated [`config::ServeConfig`].
//! - [`server`]: binds, builds the router (access log -> auth -> services), drains on shutdown.
//! - [`access`]: tokens, access keys, certificate callers and scopes; the [`access::Caller`]
//!   both front doors produce, and [`access::AuthError`], why they refuse one.
//! - [`grpc`]: its front door ([`grpc::access_log`], [`grpc::auth`]: the tower layers),
//!   generated code and thin adapters; `grpc::status` maps errors to the wire.
//! - [`query_api`]: the IAM Query API over HTTP on the same domain operations; its own front
//!   door (SigV4 and scopes, access log) and `query_api::status` for the wire.
//! - [`operation`]: the one list of operations: gRPC methods, Query API actions, scopes,
//!   metric labels and audit events.
//! - [`call`]: the one record of a call both front doors make; the access log, [`meter`]
//!   (Prometheus metrics) and [`audit`] (the audit trail) read it.
//! - [`domain`]: the operations, validated inputs and their error type, free of protocols.
//! - [`password`]: argon2id on a bounded pool of dedicated threads.
//! - [`screening`]: the password blocklists (built-in and the operator's files, reloaded in
//!   place) and `blocklist build`, which compiles them into binary fuse filters.
//! - [`store`]: the narrow storage trait, its sled implementation and [`store::open`].
//! - [`tls`]: TLS and mutual TLS for both listeners, with certificates reloaded in place.
//! - [`transfer`]: `export` and `import`, a store's content as JSON lines.
//!
//! A call: HTTP/2 frame -> access log (request id, span) -> auth (certificate or token ->
//! caller -> scopes, else `AuthError`) -> generated tonic server -> adapter -> domain operation
//! -> hashing pool / store -> result or `IamError` -> `Status`.

pub mod access;
pub mod audit;
pub mod call;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod meter;
pub mod mfa;
pub mod operation;
pub mod password;
pub mod query_api;
pub mod screening;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod transfer;
