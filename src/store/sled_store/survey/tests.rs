use super::*;

fn user(name: &str) -> Vec<u8> {
    UserRecord {
        user_name: name.to_owned(),
        user_id: "AIDATESTUSER00000001".to_owned(),
        path: "/".to_owned(),
        create_date_ms: 0,
        password_last_used_ms: None,
        tags: Vec::new(),
    }
    .encode_to_vec()
}

fn db() -> sled::Db {
    sled::Config::new().temporary(true).open().unwrap()
}

#[test]
fn a_store_that_keeps_every_invariant_has_no_problem_and_is_counted() {
    let db = db();
    let users = db.open_tree("users").unwrap();
    users.insert("alice", user("Alice")).unwrap();
    users.insert("bob", user("bob")).unwrap();
    let profile = ProfileRecord {
        password_hash: "$argon2id$v=19$m=256,t=1,p=1$c2FsdA$aGFzaA".to_owned(),
        ..Default::default()
    };
    let profiles = db.open_tree("profiles").unwrap();
    profiles.insert("alice", profile.encode_to_vec()).unwrap();
    let lockouts = db.open_tree("lockouts").unwrap();
    lockouts
        .insert("nobody", LockoutRecord::default().encode_to_vec())
        .unwrap();

    let survey = Survey::of(&db);

    assert!(survey.problems.is_empty(), "{}", survey.problems);
    assert_eq!(
        (
            survey.users,
            survey.profiles,
            survey.lockouts,
            survey.policy
        ),
        (2, 1, 1, false)
    );
}

#[test]
fn a_profile_without_its_user_a_misfiled_user_and_garbage_are_problems() {
    let db = db();
    let users = db.open_tree("users").unwrap();
    users.insert("carol", user("Someone-Else")).unwrap();
    users
        .insert("dave", b"\xff\xff\xff garbage".to_vec())
        .unwrap();
    let profiles = db.open_tree("profiles").unwrap();
    // Before, between and after the users, and one with its user.
    for key in ["aaron", "cz", "dave", "erin"] {
        profiles
            .insert(key, ProfileRecord::default().encode_to_vec())
            .unwrap();
    }

    let survey = Survey::of(&db);

    let problems = survey.problems.to_string();
    for expected in [
        "the user record of \"carol\" holds the name \"Someone-Else\"",
        "the user record of \"dave\" does not decode",
        "the login profile of \"aaron\" has no user",
        "the login profile of \"cz\" has no user",
        "the login profile of \"erin\" has no user",
    ] {
        assert!(problems.contains(expected), "{expected:?} in {problems}");
    }
    assert!(!problems.contains("\"dave\" has no user"), "{problems}");
    assert_eq!((survey.users, survey.profiles), (2, 4));
}

#[test]
fn counts_that_differ_from_the_ledger_are_problems() {
    let db = db();
    db.open_tree("users")
        .unwrap()
        .insert("frank", user("frank"))
        .unwrap();
    let survey = Survey::of(&db);
    let mut problems = Problems::default();

    survey.compare_with(&LedgerRecord::new(2, 0, 0, true), &mut problems);

    let problems = problems.to_string();
    assert!(
        problems.contains("the store holds 1 users, but its ledger recorded 2"),
        "{problems}"
    );
    assert!(problems.contains("policy is absent"), "{problems}");
}

#[test]
fn past_twenty_problems_only_their_number_is_given() {
    let mut problems = Problems::default();
    for i in 0..25 {
        problems.push(format!("problem {i}"));
    }
    assert_eq!(problems.listed.len(), 20);
    assert!(problems.to_string().contains("and 5 more"));
}

mod devices;
