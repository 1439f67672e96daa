//! The validated requests of the MFA device operations, with IAM's member names, constraints
//! and messages.

use super::super::{
    IamError, Tag, UserName, UserPath, Violations,
    input::{check_length, check_pattern, finish, is_user_name_char},
    marker::Listing,
    tags,
    users::parse_max_items,
};
use crate::{mfa::Code, store::Assignment};

const DEVICE_NAME_PATTERN: &str = r"[\w+=,.@-]+";
/// IAM's documented maximum (botocore sets none).
const DEVICE_NAME_MAX_LEN: usize = 226;
const SERIAL_NUMBER_PATTERN: &str = r"[\w+=/:,.@-]+";
const CODE_PATTERN: &str = r"[\d]+";

pub(super) const USER_DEVICES: Listing = Listing {
    operation: "ListMFADevices",
    prefix: "m1:",
};
pub(super) const VIRTUAL_DEVICES: Listing = Listing {
    operation: "ListVirtualMFADevices",
    prefix: "v1:",
};

/// A virtual MFA device's name: unique without regard to case or path, like user names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DeviceName(String);

impl DeviceName {
    fn parse(field: &'static str, raw: &str) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        check_length(
            &mut violations,
            field,
            raw.chars().count(),
            1,
            DEVICE_NAME_MAX_LEN,
        );
        check_pattern(
            &mut violations,
            field,
            raw,
            is_user_name_char,
            DEVICE_NAME_PATTERN,
        );
        finish(violations, || Self(raw.to_owned()))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive identity of the name, which the store keys devices by.
    pub(super) fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A device's serial number as a caller gives it: the device's ARN. Only its shape is checked
/// here; whether it names a device of this account is the lookup's answer (NoSuchEntity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialNumber(String);

impl SerialNumber {
    fn parse(field: &'static str, raw: &str) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        check_length(&mut violations, field, raw.chars().count(), 9, 256);
        check_pattern(
            &mut violations,
            field,
            raw,
            |c| is_user_name_char(c) || c == '/' || c == ':',
            SERIAL_NUMBER_PATTERN,
        );
        finish(violations, || Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store key of the device this serial number names in `account_id`, if it names one
    /// of this account's virtual devices (`arn:aws:iam::<account>:mfa<path><name>`).
    pub(super) fn device_key(&self, account_id: &str) -> Option<String> {
        let rest = self
            .0
            .strip_prefix("arn:aws:iam::")?
            .strip_prefix(account_id)?
            .strip_prefix(":mfa/")?;
        let name = rest.rsplit('/').next()?;
        (!name.is_empty()).then(|| name.to_ascii_lowercase())
    }
}

fn parse_code(field: &'static str, raw: &str) -> Result<Code, Violations> {
    let mut violations = Violations::default();
    check_length(&mut violations, field, raw.chars().count(), 6, 6);
    check_pattern(
        &mut violations,
        field,
        raw,
        |c| c.is_ascii_digit(),
        CODE_PATTERN,
    );
    if violations.is_empty()
        && let Some(code) = Code::parse(raw)
    {
        return Ok(code);
    }
    Err(violations)
}

/// A six-digit code as VerifyPassword takes it (member `mfaCode`): None when empty.
pub(in super::super) fn parse_mfa_code(raw: Option<&str>) -> Result<Option<Code>, Violations> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => parse_code("mfaCode", raw).map(Some),
    }
}

/// A validated CreateVirtualMFADevice request.
#[derive(Debug, Clone)]
pub struct CreateVirtualMfaDevice {
    pub(super) name: DeviceName,
    pub(super) path: UserPath,
    pub(super) tags: Vec<Tag>,
}

impl CreateVirtualMfaDevice {
    /// An empty path means `/`. Tag keys that repeat without regard to case are InvalidInput.
    pub fn parse(name: &str, path: &str, tags: Vec<Tag>) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let name = violations.check(DeviceName::parse("virtualMFADeviceName", name));
        let path = violations.check(UserPath::parse("path", path));
        let tags = violations.check(tags::parse_tags("tags", tags, false));
        match (name, path, tags) {
            (Some(name), Some(path), Some(tags)) => Ok(Self {
                name,
                path,
                tags: tags::unique(tags)?,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated EnableMFADevice or ResyncMFADevice request: a user, a device and two
/// consecutive codes of it.
#[derive(Debug)]
pub struct DeviceCodes {
    pub(super) user: UserName,
    pub(super) serial: SerialNumber,
    pub(super) first: Code,
    pub(super) second: Code,
}

impl DeviceCodes {
    pub fn parse(
        user_name: &str,
        serial_number: &str,
        authentication_code_1: &str,
        authentication_code_2: &str,
    ) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let serial = violations.check(SerialNumber::parse("serialNumber", serial_number));
        let first = violations.check(parse_code("authenticationCode1", authentication_code_1));
        let second = violations.check(parse_code("authenticationCode2", authentication_code_2));
        match (user, serial, first, second) {
            (Some(user), Some(serial), Some(first), Some(second)) => Ok(Self {
                user,
                serial,
                first,
                second,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated DeactivateMFADevice request.
#[derive(Debug, Clone)]
pub struct DeactivateMfaDevice {
    pub(super) user: UserName,
    pub(super) serial: SerialNumber,
}

impl DeactivateMfaDevice {
    pub fn parse(user_name: &str, serial_number: &str) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let serial = violations.check(SerialNumber::parse("serialNumber", serial_number));
        match (user, serial) {
            (Some(user), Some(serial)) => Ok(Self { user, serial }),
            _ => Err(violations.into()),
        }
    }
}

/// Parses the `serialNumber` of DeleteVirtualMFADevice.
pub fn parse_serial_number(raw: &str) -> Result<SerialNumber, IamError> {
    Ok(SerialNumber::parse("serialNumber", raw)?)
}

/// A validated ListMFADevices request.
#[derive(Debug, Clone)]
pub struct ListMfaDevices {
    pub(super) user: UserName,
    pub(super) after: Option<String>,
    pub(super) max_items: usize,
}

impl ListMfaDevices {
    pub fn parse(user_name: &str, marker: &str, max_items: i32) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let user = violations.check(UserName::parse("userName", user_name));
        let after = violations.check(USER_DEVICES.parse_marker(marker));
        let max_items = violations.check(parse_max_items(max_items));
        match (user, after, max_items) {
            (Some(user), Some(after), Some(max_items)) => Ok(Self {
                user,
                after,
                max_items,
            }),
            _ => Err(violations.into()),
        }
    }
}

/// A validated ListVirtualMFADevices request.
#[derive(Debug, Clone)]
pub struct ListVirtualMfaDevices {
    pub(super) assignment: Assignment,
    pub(super) after: Option<String>,
    pub(super) max_items: usize,
}

impl ListVirtualMfaDevices {
    pub fn parse(assignment: Assignment, marker: &str, max_items: i32) -> Result<Self, IamError> {
        let mut violations = Violations::default();
        let after = violations.check(VIRTUAL_DEVICES.parse_marker(marker));
        let max_items = violations.check(parse_max_items(max_items));
        match (after, max_items) {
            (Some(after), Some(max_items)) => Ok(Self {
                assignment,
                after,
                max_items,
            }),
            _ => Err(violations.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_name_devices_of_this_account_only() {
        let serial = |s: &str| SerialNumber::parse("serialNumber", s).unwrap();
        let account = "123456789012";
        assert_eq!(
            serial("arn:aws:iam::123456789012:mfa/Alice-Phone").device_key(account),
            Some("alice-phone".to_owned())
        );
        assert_eq!(
            serial("arn:aws:iam::123456789012:mfa/ops/team/bob").device_key(account),
            Some("bob".to_owned())
        );
        assert_eq!(
            serial("arn:aws:iam::999999999999:mfa/bob").device_key(account),
            None
        );
        assert_eq!(serial("GAHT12345678").device_key(account), None);
        assert_eq!(
            serial("arn:aws:iam::123456789012:mfa/ops/").device_key(account),
            None
        );
    }

    #[test]
    fn codes_are_six_ascii_digits() {
        assert!(parse_code("authenticationCode1", "012345").is_ok());
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
            assert!(parse_code("authenticationCode1", bad).is_err(), "{bad}");
        }
        let err = parse_code("authenticationCode1", "12a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 validation errors detected: Value at 'authenticationCode1' failed to satisfy \
             constraint: Member must have length greater than or equal to 6; Value at \
             'authenticationCode1' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: [\\d]+"
        );
        assert!(parse_mfa_code(Some("")).unwrap().is_none());
        assert!(parse_mfa_code(None).unwrap().is_none());
        assert!(parse_mfa_code(Some("12345")).is_err());
    }
}
