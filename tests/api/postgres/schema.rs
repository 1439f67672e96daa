//! The tables in a PostgreSQL schema of their own (`--database-schema`, default
//! `loginprofiled`): beside another application's tables of the same names, adopted from
//! `public` where an earlier loginprofiled made them, and refused when they disagree with the
//! migration record.

use loginprofiled::{
    grpc::proto::{CreateUserRequest, GetUserRequest},
    store::PgConfig,
};

use super::{not_on_postgres, on_database, run, serve_args, stderr};
use crate::helpers::{TestDb, start, test_config};

async fn serve_on(config: PgConfig) -> crate::helpers::TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = test_config(dir.path().to_path_buf());
    serve.database = Some(config);
    start(serve, dir).await
}

fn create(name: &str) -> CreateUserRequest {
    CreateUserRequest {
        user_name: name.to_owned(),
        ..Default::default()
    }
}

/// A value read back from the test's database.
async fn scalar(db: &TestDb, sql: &str) -> i64 {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_applications_users_table_is_left_alone_and_served_beside() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    // Another application, itself migrated by sqlx, with a table named as ours.
    on_database(&db, "CREATE TABLE users (id int PRIMARY KEY, email text)");
    on_database(&db, "INSERT INTO users VALUES (1, 'someone@example.com')");
    on_database(
        &db,
        "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL, \
         installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, \
         checksum bytea NOT NULL, execution_time bigint NOT NULL)",
    );
    on_database(
        &db,
        "INSERT INTO _sqlx_migrations VALUES (1, 'theirs', now(), true, '\\x01', 0)",
    );
    let (output, _) = run(&["migrate", "--database-url", &db.url]);
    assert!(output.status.success(), "{}", stderr(&output));

    let app = serve_on(db.config()).await;
    app.users().create_user(create("alice")).await.unwrap();
    app.users()
        .get_user(GetUserRequest {
            user_name: "alice".into(),
        })
        .await
        .unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM public.users").await, 1);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM loginprofiled.users").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tables_an_earlier_version_made_in_public_are_adopted_with_their_users() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    // What an earlier loginprofiled, with no schema of its own, made: everything in public.
    let mut earlier = serve_on(PgConfig {
        schema: "public".into(),
        ..db.config()
    })
    .await;
    earlier.users().create_user(create("old")).await.unwrap();
    earlier.stop().await.unwrap();

    let app = serve_on(db.config()).await;
    let user = app
        .users()
        .get_user(GetUserRequest {
            user_name: "old".into(),
        })
        .await
        .unwrap();
    assert_eq!(user.into_inner().user.unwrap().user_name, "old");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        .await,
        0
    );
}

#[test]
fn serve_refuses_a_schema_whose_tables_disagree_with_its_migration_record() {
    if not_on_postgres() {
        return;
    }
    let db = TestDb::create();
    let (output, _) = run(&["migrate", "--database-url", &db.url]);
    assert!(output.status.success(), "{}", stderr(&output));
    on_database(&db, "DROP TABLE loginprofiled.lockouts");

    let args = serve_args(&db.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (output, _) = run(&args);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the schema loginprofiled disagrees with its migration record"),
        "{text}"
    );
    assert!(text.contains("lockouts are missing"), "{text}");
}
