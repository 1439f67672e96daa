//! Device lines: read into the snapshot with their sealed seeds as they were, and refused when
//! they name no earlier user, pass the per-user limit or repeat a name.

use super::*;

fn device(name: &str, user_key: Option<&str>) -> String {
    let user = user_key.map_or(String::new(), |k| {
        format!(r#","user_key":"{k}","enable_date_ms":9,"last_step":56666667"#)
    });
    format!(
        r#"{{"type":"device","name":"{name}","path":"/mfa/","serial_number":"arn:aws:iam::123456789012:mfa/mfa/{name}","create_date_ms":8,"seed":{{"key_id":"k1","nonce":"AAECAwQFBgcICQoL","ciphertext":"3q2+7w=="}},"tags":[{{"key":"k","value":"v"}}]{user},"drift_steps":-1,"version":4}}"#
    )
}

fn end_with_devices(users: u64, profiles: u64, devices: u64) -> String {
    format!(
        r#"{{"type":"end","users":{users},"profiles":{profiles},"devices":{devices},"policy":false}}"#
    )
}

/// Two users, Ann with one device, and a spare device.
fn with_devices() -> Vec<String> {
    vec![
        header(),
        user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
        user("bob", "AIDAAAAAAAAAAAAAAAAA2"),
        device("Ann-Token", Some("ann")),
        device("Spare", None),
        end_with_devices(2, 0, 2),
    ]
}

#[test]
fn device_lines_read_into_the_snapshot_with_their_sealed_seeds() {
    let snapshot = checked(&signed(&with_devices())).unwrap().snapshot;
    assert_eq!(snapshot.devices.len(), 2);
    let token = &snapshot.devices[0];
    assert_eq!(token.name, "Ann-Token");
    assert_eq!(token.user_key.as_deref(), Some("ann"));
    assert_eq!(
        (token.enable_date_ms, token.last_step, token.drift_steps),
        (Some(9), Some(56_666_667), -1)
    );
    let seed = token.seed.as_ref().unwrap();
    assert_eq!(seed.key_id, "k1");
    assert_eq!(seed.nonce, (0..12).collect::<Vec<u8>>());
    assert_eq!(seed.ciphertext, [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(snapshot.devices[1].user_key, None);
}

#[test]
fn an_end_line_without_devices_counts_none() {
    // An export from before devices: no "devices" on its end line.
    assert!(parse_lines(&valid()).unwrap().devices.is_empty());
    let mut lines = with_devices();
    *lines.last_mut().unwrap() = end(2, 0, false);
    let error = error(&lines);
    assert!(error.contains("0 MFA devices"), "{error}");
    assert!(
        error.contains("the file holds 2, 0, 2 and false"),
        "{error}"
    );
}

#[test]
fn a_device_line_that_breaks_a_rule_is_refused_with_its_number() {
    let nine: Vec<String> = (0..9)
        .map(|i| device(&format!("t{i}"), Some("ann")))
        .collect();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![header(), device("T", Some("ann"))],
            "line 2: MFA device \"T\": enabled for \"ann\", which names no user on an earlier line",
        ),
        (
            vec![
                header(),
                user("Ann", "AIDAAAAAAAAAAAAAAAAA1"),
                device("T", Some("Ann")),
            ],
            "line 3: MFA device \"T\": enabled for \"Ann\", which names no user",
        ),
        (
            vec![header(), device("T", None), device("t", None)],
            "line 3: MFA device \"t\": an earlier device has this name",
        ),
        (
            vec![header(), device("a/b", None)],
            "line 2: MFA device \"a/b\": the name is not 1 to 226",
        ),
        (
            [vec![header(), user("Ann", "AIDAAAAAAAAAAAAAAAAA1")], nine].concat(),
            "line 11: MFA device \"t8\": the user \"ann\" has 8 devices on earlier lines",
        ),
        (
            vec![
                header(),
                device("T", None).replace("3q2+7w==", "not base64!"),
            ],
            "line 2: MFA device \"T\": the seed's ciphertext is not standard base64",
        ),
    ];
    for (lines, expected) in cases {
        let error = error(&lines);
        assert!(error.starts_with(expected), "{expected:?}: {error}");
    }
}
