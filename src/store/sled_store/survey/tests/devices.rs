use super::*;
use crate::store::{DeviceRecord, sled_store::devices::DeviceKeys};

fn device(name: &str, user_key: Option<&str>) -> Vec<u8> {
    DeviceRecord {
        name: name.to_owned(),
        user_key: user_key.map(str::to_owned),
        ..Default::default()
    }
    .encode_to_vec()
}

fn listed(keys: &[&str]) -> Vec<u8> {
    DeviceKeys {
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    }
    .encode_to_vec()
}

#[test]
fn devices_that_keep_every_invariant_have_no_problem_and_are_counted() {
    let db = db();
    db.open_tree("users")
        .unwrap()
        .insert("ann", user("Ann"))
        .unwrap();
    let devices = db.open_tree("devices").unwrap();
    devices.insert("tok", device("Tok", Some("ann"))).unwrap();
    devices.insert("spare", device("Spare", None)).unwrap();
    let index = db.open_tree("user_devices").unwrap();
    index.insert("ann", listed(&["tok"])).unwrap();

    let survey = Survey::of(&db);

    assert!(survey.problems.is_empty(), "{}", survey.problems);
    assert_eq!((survey.users, survey.devices), (1, 2));
    let mut problems = Problems::default();
    survey.compare_with(&LedgerRecord::new(1, 0, 3, false), &mut problems);
    assert!(
        problems
            .to_string()
            .contains("the store holds 2 MFA devices, but its ledger recorded 3"),
        "{problems}"
    );
}

#[test]
fn a_device_without_its_user_or_its_index_entry_and_an_index_without_devices_are_problems() {
    let db = db();
    let users = db.open_tree("users").unwrap();
    users.insert("ann", user("Ann")).unwrap();
    users.insert("bob", user("bob")).unwrap();
    let devices = db.open_tree("devices").unwrap();
    devices
        .insert("ghosts", device("Ghosts", Some("ghost")))
        .unwrap();
    devices
        .insert("unlisted", device("Unlisted", Some("ann")))
        .unwrap();
    devices.insert("spare", device("Spare", None)).unwrap();
    devices.insert("misnamed", device("Other", None)).unwrap();
    devices.insert("garbage", b"\xff\xff\xff".to_vec()).unwrap();
    let index = db.open_tree("user_devices").unwrap();
    index.insert("bob", listed(&["gone", "spare"])).unwrap();

    let survey = Survey::of(&db);

    let problems = survey.problems.to_string();
    for expected in [
        "the MFA device \"ghosts\" is enabled for \"ghost\", which is no user",
        "the MFA device \"unlisted\" is enabled for \"ann\", but not in the index",
        "the MFA device \"misnamed\" holds the name \"Other\"",
        "the MFA device \"garbage\" does not decode",
        "the index of the MFA devices of \"bob\" lists \"gone\", which is no readable device",
        "the index of the MFA devices of \"bob\" lists \"spare\", which is not enabled",
    ] {
        assert!(problems.contains(expected), "{expected:?} in {problems}");
    }
    assert_eq!(survey.devices, 5);
}
