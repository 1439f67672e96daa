"""The user directory (tags, UpdateUser) with boto3 and the aws CLI v1 and v2."""

import pytest

from helpers import PASSWORD


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_boto3_tags_untags_and_lists_tags(iam, name):
    created = iam.create_user(UserName=name, Tags=[
        {"Key": "team", "Value": "identity"}, {"Key": "Cost Center", "Value": "4200"},
    ])["User"]
    # Echoed in the order given; listed by key as written, capitals first, as IAM lists them.
    assert created["Tags"] == [{"Key": "team", "Value": "identity"}, {"Key": "Cost Center", "Value": "4200"}]
    by_key = [{"Key": "Cost Center", "Value": "4200"}, {"Key": "team", "Value": "identity"}]
    assert iam.get_user(UserName=name)["User"]["Tags"] == by_key

    iam.tag_user(UserName=name, Tags=[{"Key": "TEAM", "Value": "platform"}, {"Key": "env", "Value": ""}])
    pages = iam.get_paginator("list_user_tags").paginate(UserName=name, PaginationConfig={"PageSize": 2})
    listed = [t for page in pages for t in page["Tags"]]
    assert listed == [
        {"Key": "Cost Center", "Value": "4200"}, {"Key": "TEAM", "Value": "platform"},
        {"Key": "env", "Value": ""},
    ]
    first = iam.list_user_tags(UserName=name, MaxItems=1)
    assert first["IsTruncated"] is True and first["Marker"]

    iam.untag_user(UserName=name, TagKeys=["team", "COST CENTER", "absent"])
    left = iam.list_user_tags(UserName=name)
    assert left["Tags"] == [{"Key": "env", "Value": ""}]
    assert left["IsTruncated"] is False and "Marker" not in left
    assert "Tags" not in iam.list_users()["Users"][0]


def test_boto3_tag_failures_are_modelled_exceptions(iam, name):
    iam.create_user(UserName=name, Tags=[{"Key": f"k{i:02}", "Value": "v"} for i in range(50)])
    with pytest.raises(iam.exceptions.LimitExceededException) as e:
        iam.tag_user(UserName=name, Tags=[{"Key": "one-more", "Value": "v"}])
    assert error_of(e) == ("LimitExceeded", "Cannot exceed quota for TagsPerUser: 50.", 409)
    with pytest.raises(iam.exceptions.InvalidInputException) as e:
        iam.tag_user(UserName=name, Tags=[{"Key": "dup", "Value": "1"}, {"Key": "Dup", "Value": "2"}])
    assert error_of(e) == (
        "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400,
    )
    with pytest.raises(iam.exceptions.ClientError) as e:
        iam.tag_user(UserName=name, Tags=[{"Key": "k00", "Value": "semi;colon"}])
    assert error_of(e)[0::2] == ("ValidationError", 400)
    assert "'tags.1.member.value'" in error_of(e)[1]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.list_user_tags(UserName=name + "-nobody")
    assert error_of(e) == ("NoSuchEntity", f"The user with name {name}-nobody cannot be found.", 404)


def test_boto3_renames_and_moves_a_user_with_its_login_profile(iam, name):
    before = iam.create_user(UserName=name, Tags=[{"Key": "k", "Value": "v"}])["User"]
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    renamed = name + "-renamed"
    iam.update_user(UserName=name, NewUserName=renamed, NewPath="/moved/")
    after = iam.get_user(UserName=renamed)["User"]
    assert after["UserId"] == before["UserId"]
    assert after["CreateDate"] == before["CreateDate"]
    assert after["Arn"] == f"arn:aws:iam::123456789012:user/moved/{renamed}"
    assert after["Tags"] == [{"Key": "k", "Value": "v"}]
    assert iam.get_login_profile(UserName=renamed)["LoginProfile"]["UserName"] == renamed
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=name)

    iam.create_user(UserName=name)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.update_user(UserName=renamed, NewUserName=name.upper())
    assert error_of(e) == ("EntityAlreadyExists", f"User with name {name.upper()} already exists.", 409)
    iam.update_user(UserName=renamed, NewUserName=renamed.upper())
    assert iam.get_user(UserName=renamed)["User"]["UserName"] == renamed.upper()


def test_cli_tags_renames_and_reports_errors(cli, name):
    user = cli.ok("iam", "create-user", "--user-name", name, "--tags", "Key=team,Value=identity")["User"]
    assert user["Tags"] == [{"Key": "team", "Value": "identity"}]
    assert cli.ok("iam", "tag-user", "--user-name", name, "--tags", "Key=env,Value=prod", "Key=TEAM,Value=ops") == {}
    listed = cli.ok("iam", "list-user-tags", "--user-name", name)
    assert listed["Tags"] == [{"Key": "TEAM", "Value": "ops"}, {"Key": "env", "Value": "prod"}]
    assert cli.ok("iam", "untag-user", "--user-name", name, "--tag-keys", "team") == {}
    assert cli.ok("iam", "list-user-tags", "--user-name", name)["Tags"] == [{"Key": "env", "Value": "prod"}]
    cli.fails(
        "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        "iam", "tag-user", "--user-name", name, "--tags", "Key=a,Value=1", "Key=A,Value=2",
    )

    renamed = name + "-r"
    assert cli.ok("iam", "update-user", "--user-name", name, "--new-user-name", renamed, "--new-path", "/x/") == {}
    got = cli.ok("iam", "get-user", "--user-name", renamed)["User"]
    assert got["Arn"] == f"arn:aws:iam::123456789012:user/x/{renamed}"
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    cli.fails(
        "NoSuchEntity", f"The user with name {name} cannot be found.",
        "iam", "update-user", "--user-name", name, "--new-path", "/y/",
    )
