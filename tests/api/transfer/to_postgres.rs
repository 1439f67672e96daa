//! Moving from sled to PostgreSQL and back with the real binary: stop, export, import with
//! `--database-url`, serve there. Runs whenever PostgreSQL answers (see `answers_or_required`).

use super::{USERS, assert_moved, export_to, fill, get_user, path_str, run};
use crate::{
    binary::Binary,
    helpers::{TestDb, answers_or_required},
};

#[tokio::test]
async fn a_sled_store_moves_to_postgresql_and_every_user_signs_in_there() {
    if !answers_or_required() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sled = dir.path().join("sled");
    let server = Binary::start(&sled, &[]).await;
    fill(&server).await;
    let mut before = Vec::new();
    for (name, ..) in USERS {
        before.push(get_user(server.channel(), name).await);
    }
    assert!(before.iter().all(|user| !user.arn.is_empty()));
    assert!(before[0].password_last_used.is_some());
    server.stop().await;

    let file = dir.path().join("from-sled.jsonl");
    let data = sled.join("data");
    let exported = export_to(&data, &file);
    assert!(exported.status.success(), "{exported:?}");

    let db = TestDb::create();
    let import = [
        "import",
        "--database-url",
        &db.url,
        "--input",
        path_str(&file),
    ];
    let imported = run(&import, None);
    assert!(imported.status.success(), "{imported:?}");
    assert_eq!(
        String::from_utf8_lossy(&imported.stderr).trim_end(),
        "loginprofiled import: imported 4 users, 3 login profiles and a password policy"
    );
    // Into an empty database only, as into an empty data directory.
    let again = run(&import, None);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("the target store is not empty"), "{stderr}");

    // The way back first (the sign-ins below change password_last_used): PostgreSQL's export
    // is line for line sled's, and sled takes it back unchanged.
    let from_pg = dir.path().join("from-postgres.jsonl");
    let exported = run(
        &[
            "export",
            "--database-url",
            &db.url,
            "--output",
            path_str(&from_pg),
        ],
        None,
    );
    assert!(exported.status.success(), "{exported:?}");
    let sled_text = std::fs::read_to_string(&file).unwrap();
    // Compared without printing: the lines hold password hashes.
    let pg_text = std::fs::read_to_string(&from_pg).unwrap();
    assert!(
        pg_text == sled_text,
        "PostgreSQL's export differs from sled's"
    );
    let back = dir.path().join("back").join("data");
    let imported = run(
        &[
            "import",
            "--data-dir",
            path_str(&back),
            "--input",
            path_str(&from_pg),
        ],
        None,
    );
    assert!(imported.status.success(), "{imported:?}");
    let again = run(&["export", "--data-dir", path_str(&back)], None);
    assert!(again.status.success(), "{again:?}");
    let back_text = String::from_utf8(again.stdout).unwrap();
    assert!(
        back_text == sled_text,
        "sled's export after the way back differs"
    );

    let server = Binary::start(dir.path(), &["--database-url", &db.url]).await;
    assert_moved(server.channel(), &before).await;
    server.stop().await;
}
