use super::*;

fn args(extra: &[&str]) -> ServeArgs {
    let mut argv = vec!["loginprofiled", "serve"];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Serve(args) => *args,
        _ => unreachable!(),
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
        "--max-concurrent-streams",
        "0",
        "--max-message-bytes",
        "0",
        "--max-connections",
        "0",
        "--store-cache-mib",
        "0",
    ])
    .validate()
    .unwrap_err();
    assert_eq!(errors.0.len(), 8, "{errors}");
    for flag in [
        "--max-concurrent-streams",
        "--max-message-bytes",
        "--max-connections",
        "--store-cache-mib",
    ] {
        assert!(
            errors.0.contains(&format!("{flag} must be at least 1")),
            "{errors}"
        );
    }
}

#[test]
fn values_that_would_break_the_server_are_refused() {
    let refused = [
        (
            vec!["--hash-concurrency", "0"],
            "--hash-concurrency 0 must be between 1 and 1024",
        ),
        (
            vec!["--hash-concurrency", "100000"],
            "--hash-concurrency 100000 must be between 1 and 1024",
        ),
        (
            vec!["--hash-queue", "1000000000000"],
            "--hash-queue 1000000000000 must be at most 100000",
        ),
        (
            vec!["--argon2-memory-kib", "300000"],
            "argon2 parameters: m=300000, t=2, p=1 are outside the bounds: at most 262144 KiB, \
             16 passes and 16 lanes, and at least 8 KiB a lane",
        ),
        (
            vec!["--lockout-base", "0s"],
            "--lockout-base must be longer than 0s; --lockout-threshold 0 turns lockout off",
        ),
    ];
    for (flags, problem) in refused {
        let errors = args(&flags).validate().unwrap_err();
        assert_eq!(errors.0, vec![problem.to_owned()], "{flags:?}");
    }
    let no_waiting = args(&["--hash-queue", "0"]).validate().unwrap();
    assert_eq!(no_waiting.pool.queue, 0);
    let lockout_off = args(&["--lockout-threshold", "0", "--lockout-base", "0s"]).validate();
    assert!(
        lockout_off.is_ok(),
        "a zero lock is fine when lockout is off"
    );
}

#[test]
fn every_flag_and_subcommand_has_help() {
    fn undocumented(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} --{}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                missing.push(sub_path.clone());
            }
            undocumented(sub, &sub_path, missing);
        }
    }
    let mut command = <Cli as clap::CommandFactory>::command();
    command.build();
    let mut missing = Vec::new();
    undocumented(&command, "loginprofiled", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:?}");
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

#[test]
fn a_database_url_selects_postgres_and_its_password_never_shows() {
    let raw = "postgres://app:s3cret-pw@db.example:5432/iam?sslmode=require";
    let args = args(&["--database-url", raw, "--database-max-connections", "4"]);
    assert!(!format!("{args:?}").contains("s3cret-pw"));
    let config = args.validate().unwrap();
    let pg = config.database.as_ref().expect("PostgreSQL is selected");
    assert_eq!(pg.max_connections, 4);
    assert_eq!(pg.connect_timeout, Duration::from_secs(3));
    assert_eq!(pg.statement_timeout, Duration::from_secs(5));
    assert!(!format!("{config:?}").contains("s3cret-pw"));
    assert!(!pg.url.to_string().contains("s3cret-pw"));
}

#[test]
fn without_a_database_url_the_embedded_store_is_used() {
    let config = args(&[]).validate().unwrap();
    assert!(config.database.is_none());
    assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
}

#[test]
fn a_database_url_with_a_data_dir_is_a_problem_listed_with_the_others() {
    let errors = args(&[
        "--database-url",
        "postgres://app:s3cret-pw@db/iam",
        "--data-dir",
        "/tmp/x",
        "--account-id",
        "1",
        "--database-connect-timeout",
        "0s",
    ])
    .validate()
    .unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("--database-url and --data-dir are both given"),
        "{text}"
    );
    assert!(text.contains("--account-id"), "{text}");
    assert!(
        text.contains("--database-connect-timeout must be longer"),
        "{text}"
    );
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[test]
fn a_database_url_that_does_not_parse_is_a_problem_that_does_not_repeat_it() {
    let errors = args(&["--database-url", "postgres://app:s3cret-pw@db:port/iam"])
        .validate()
        .unwrap_err();
    let text = errors.to_string();
    assert!(text.contains("--database-url"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[test]
fn screening_is_on_by_default_and_off_takes_no_list() {
    assert!(args(&[]).validate().unwrap().screening.is_on());
    let off = args(&["--password-screening", "off"]).validate().unwrap();
    assert!(!off.screening.is_on());
    let list = tempfile::NamedTempFile::new().unwrap();
    let path = list.path().to_str().unwrap();
    let errors = args(&["--password-screening", "off", "--password-blocklist", path])
        .validate()
        .unwrap_err();
    assert!(errors.0[0].contains("--password-blocklist"), "{errors}");
    let errors = args(&["--password-blocklist", "/nonexistent/list.txt"])
        .validate()
        .unwrap_err();
    assert!(errors.0[0].contains("/nonexistent/list.txt"), "{errors}");
}
