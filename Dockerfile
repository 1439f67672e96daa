# syntax=docker/dockerfile:1
# Build: docker build -t loginprofiled .
# Run:   docker run -p 50051:50051 -p 8080:8080 -v lpd-data:/data \
#          -v "$PWD/tokens.toml:/etc/loginprofiled/tokens.toml:ro" loginprofiled
# protoc is vendored by the build (protoc-bin-vendored), so the builder needs no system protoc.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# Crates carried with a fix through [patch.crates-io] (patches/PATCH.md).
COPY patches patches
COPY proto proto
COPY src src
# The PostgreSQL migrations, embedded in the binary by sqlx::migrate! at build time.
COPY migrations migrations
# Only the workspace's manifest of the benchmark: cargo reads every member's Cargo.toml to load
# the workspace, but `-p loginprofiled` compiles the service alone, so the bench's sources stay
# out of the image's build. An empty main.rs lets cargo parse the member.
COPY bench/Cargo.toml bench/Cargo.toml
RUN mkdir -p bench/src && touch bench/src/main.rs
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p loginprofiled \
    && cp target/release/loginprofiled /usr/local/bin/loginprofiled

FROM debian:bookworm-slim
# A numeric user and group (10001:10001) that deploy/ names in runAsUser, runAsGroup and fsGroup.
# The only directory it may write is /data, the store's volume; the image itself is read-only to
# it (deploy/ runs it with readOnlyRootFilesystem).
RUN groupadd --system --gid 10001 loginprofiled \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin loginprofiled \
    && mkdir -p /data /etc/loginprofiled \
    && chown 10001:10001 /data
COPY --from=builder /usr/local/bin/loginprofiled /usr/local/bin/loginprofiled
USER 10001:10001
VOLUME /data
ENV LOGINPROFILED_LISTEN=0.0.0.0:50051 \
    LOGINPROFILED_HTTP_LISTEN=0.0.0.0:8080 \
    LOGINPROFILED_LOG_FORMAT=json
# gRPC, and the IAM Query API over HTTP (SigV4 with the tokens file's access keys).
EXPOSE 50051 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loginprofiled"]
# The store and the tokens file are arguments, not ENV: a variable set in the image cannot be
# unset by a Pod, and a PostgreSQL deployment must not name a data directory (--database-url with
# --data-dir is a configuration error) nor a sidecar on a Unix socket a tokens file. Listening
# beyond loopback needs caller tokens: mount a tokens file at this path, or the server refuses to
# start. Any arguments given to `docker run` or in a Pod's `args` replace these.
CMD ["serve", "--data-dir", "/data", "--tokens-file", "/etc/loginprofiled/tokens.toml"]
