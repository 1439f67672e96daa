use super::*;

fn args(extra: &[&str]) -> ServeArgs {
    let mut argv = vec!["loginprofiled", "serve"];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Serve(args) => *args,
        Command::Token(_) | Command::Check(_) => unreachable!(),
    }
}

#[test]
fn defaults_are_valid_and_local() {
    let config = args(&[]).validate().unwrap();
    assert_eq!(
        config.listen,
        ListenAddr::Tcp("127.0.0.1:50051".parse().unwrap())
    );
    assert_eq!(config.hash_cost, HashCost::default());
    assert_eq!(config.grace_period, Duration::from_secs(10));
    assert!(config.tokens.is_none());
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.http_listen, Some("127.0.0.1:8080".parse().unwrap()));
}

#[test]
fn limits_are_configurable_and_must_be_positive() {
    let config = args(&["--store-cache-mib", "8", "--max-connections", "3"])
        .validate()
        .unwrap();
    assert_eq!(config.limits.store_cache_bytes, 8 * 1024 * 1024);
    assert_eq!(config.limits.max_connections, 3);
    assert!(args(&["--max-concurrent-streams", "0"]).validate().is_err());
}

#[test]
fn the_query_api_can_be_turned_off_and_is_held_to_the_same_rule() {
    let config = args(&["--http-listen", "off"]).validate().unwrap();
    assert_eq!(config.http_listen, None);
    assert!(args(&["--http-listen", "0.0.0.0:8080"]).validate().is_err());
    assert!(args(&["--http-listen", "localhost"]).validate().is_err());
    assert!(
        args(&["--http-listen", "0.0.0.0:8080", "--insecure-no-auth"])
            .validate()
            .is_ok()
    );
}

#[test]
fn every_problem_is_reported_together() {
    let errors = args(&[
        "--listen",
        "0.0.0.0:50051",
        "--account-id",
        "12",
        "--grace-period",
        "soon",
        "--argon2-memory-kib",
        "1",
    ])
    .validate()
    .unwrap_err();
    assert_eq!(errors.0.len(), 4, "{errors}");
}

#[test]
fn a_public_address_needs_tokens_or_an_explicit_opt_out() {
    assert!(args(&["--listen", "0.0.0.0:1"]).validate().is_err());
    assert!(
        args(&["--listen", "0.0.0.0:1", "--insecure-no-auth"])
            .validate()
            .is_ok()
    );
    assert!(args(&["--listen", "unix:/tmp/x.sock"]).validate().is_ok());
}
