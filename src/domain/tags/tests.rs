use super::*;

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn record(key: &str, value: &str) -> TagRecord {
    tag(key, value).into()
}

#[test]
fn unicode_letters_numbers_spaces_and_the_listed_symbols_are_valid() {
    let tags = vec![
        tag("Kostenstelle Zürich", "Ünïcödé 42 _.:/=+-@"),
        tag("k", ""),
    ];
    assert_eq!(parse_tags("tags", tags.clone(), true).unwrap(), tags);
}

#[test]
fn bad_keys_and_values_are_named_by_position() {
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let err = parse_tags(
        "tags",
        vec![
            tag("ok", "fine"),
            tag(&long_key, "a*b"),
            tag("", &long_value),
        ],
        true,
    )
    .unwrap_err();
    let fields: Vec<String> = err.iter().map(|v| v.field.to_string()).collect();
    assert_eq!(
        fields,
        [
            "tags.2.member.key",
            "tags.2.member.value",
            "tags.3.member.key",
            "tags.3.member.value"
        ]
    );
    assert!(err.to_string().starts_with(
        "4 validation errors detected: Value at 'tags.2.member.key' failed to satisfy \
         constraint: Member must have length less than or equal to 128; Value at \
         'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular \
         expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
    ));
}

#[test]
fn more_than_fifty_tags_in_one_request_is_a_validation_error() {
    let tags: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = parse_tags("tags", tags, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must \
         have length less than or equal to 50"
    );
    assert!(parse_tags("tags", Vec::new(), false).is_ok());
    assert!(parse_tags("tags", Vec::new(), true).is_err());
    assert!(parse_keys("tagKeys", Vec::new()).is_err());
}

#[test]
fn keys_repeating_in_other_case_are_invalid_input() {
    let err = unique(vec![tag("Team", "a"), tag("team", "b")]).unwrap_err();
    assert_eq!(err.code(), "InvalidInput");
    assert!(unique(vec![tag("Team", "a"), tag("Teams", "b")]).is_ok());
}

#[test]
fn a_tag_replaces_the_one_with_its_key_in_any_case_and_order_ignores_case() {
    let current = vec![record("b", "1"), record("Team", "old")];
    let tags = merged(&current, &[tag("TEAM", "new"), tag("A", "2")]).unwrap();
    assert_eq!(
        tags,
        vec![record("A", "2"), record("b", "1"), record("TEAM", "new")]
    );
}

#[test]
fn existing_and_new_tags_together_may_not_pass_fifty() {
    let current: Vec<TagRecord> = (0..49).map(|i| record(&format!("k{i}"), "v")).collect();
    assert_eq!(
        merged(&current, &[tag("K0", "x"), tag("new", "v")])
            .unwrap()
            .len(),
        50
    );
    let err = merged(&current, &[tag("new", "v"), tag("newer", "v")]).unwrap_err();
    assert_eq!(err.code(), "LimitExceeded");
}

#[test]
fn untagging_matches_keys_without_regard_to_case_and_ignores_unknown_ones() {
    let current = vec![record("Team", "a"), record("env", "b")];
    assert_eq!(
        without(&current, &["TEAM".to_owned(), "nope".to_owned()]),
        vec![record("env", "b")]
    );
}

#[test]
fn tags_are_listed_by_key_as_written_capitals_first_whatever_order_they_are_kept_in() {
    let kept = sorted_records(vec![tag("Stan", "The Caddy"), tag("like-a", "glove")]);
    assert_eq!(
        kept,
        vec![record("like-a", "glove"), record("Stan", "The Caddy")]
    );
    assert_eq!(
        listed(kept),
        vec![tag("Stan", "The Caddy"), tag("like-a", "glove")]
    );
}
