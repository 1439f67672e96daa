//! The MFA device actions of the Query API: IAM's parameters in, the children of `<OpResult>`
//! out (the seed and QR code base64-encoded, as blobs are).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use secrecy::ExposeSecret as _;

use super::{
    actions::{tags, user_name_or_callers},
    params::Params,
    render,
    xml::Node,
};
use crate::{
    access::Caller,
    domain::{
        CreateVirtualMfaDevice, DeactivateMfaDevice, DeviceCodes, DeviceList, IamError,
        ListMfaDevices, ListVirtualMfaDevices, MfaDevice, Service, Violations, VirtualMfaDevice,
        parse_serial_number,
    },
    store::Assignment,
};

pub(super) async fn create(params: &Params, service: &Service) -> Result<Vec<Node>, IamError> {
    let name = params.required("VirtualMFADeviceName", "virtualMFADeviceName")?;
    let path = params.get("Path").unwrap_or_default();
    let create = CreateVirtualMfaDevice::parse(&name, path, tags(params)?)?;
    let device = service.create_virtual_mfa_device(create).await?;
    Ok(vec![virtual_device("VirtualMFADevice", device)])
}

pub(super) async fn enable(params: &Params, service: &Service) -> Result<Vec<Node>, IamError> {
    service.enable_mfa_device(device_codes(params)?).await?;
    Ok(Vec::new())
}

pub(super) async fn resync(params: &Params, service: &Service) -> Result<Vec<Node>, IamError> {
    service.resync_mfa_device(device_codes(params)?).await?;
    Ok(Vec::new())
}

pub(super) async fn deactivate(params: &Params, service: &Service) -> Result<Vec<Node>, IamError> {
    let user = params.required("UserName", "userName")?;
    let serial = params.required("SerialNumber", "serialNumber")?;
    service
        .deactivate_mfa_device(DeactivateMfaDevice::parse(&user, &serial)?)
        .await?;
    Ok(Vec::new())
}

pub(super) async fn delete(params: &Params, service: &Service) -> Result<Vec<Node>, IamError> {
    let serial = parse_serial_number(&params.required("SerialNumber", "serialNumber")?)?;
    service.delete_virtual_mfa_device(serial).await?;
    Ok(Vec::new())
}

/// ListMFADevices: the UserName parameter, or the user of the caller's access key.
pub(super) async fn list(
    params: &Params,
    caller: Option<&Caller>,
    service: &Service,
) -> Result<Vec<Node>, IamError> {
    let user = user_name_or_callers(params, caller)?;
    let max_items = params.integer("MaxItems", "maxItems")?.unwrap_or(0);
    let list = ListMfaDevices::parse(&user, params.get("Marker").unwrap_or_default(), max_items)?;
    Ok(listing(
        "MFADevices",
        service.list_mfa_devices(list).await?,
        mfa_device,
    ))
}

pub(super) async fn list_virtual(
    params: &Params,
    service: &Service,
) -> Result<Vec<Node>, IamError> {
    let assignment = match params.get("AssignmentStatus").unwrap_or("Any") {
        "Assigned" => Assignment::Assigned,
        "Unassigned" => Assignment::Unassigned,
        "Any" => Assignment::Any,
        _ => {
            let mut violations = Violations::default();
            violations.push(
                "assignmentStatus",
                "Member must satisfy enum value set: [Assigned, Unassigned, Any]",
            );
            return Err(violations.into());
        }
    };
    let max_items = params.integer("MaxItems", "maxItems")?.unwrap_or(0);
    let list = ListVirtualMfaDevices::parse(
        assignment,
        params.get("Marker").unwrap_or_default(),
        max_items,
    )?;
    Ok(listing(
        "VirtualMFADevices",
        service.list_virtual_mfa_devices(list).await?,
        |device| virtual_device("member", device),
    ))
}

fn device_codes(params: &Params) -> Result<DeviceCodes, IamError> {
    let user = params.required("UserName", "userName")?;
    let serial = params.required("SerialNumber", "serialNumber")?;
    let first = params.required("AuthenticationCode1", "authenticationCode1")?;
    let second = params.required("AuthenticationCode2", "authenticationCode2")?;
    DeviceCodes::parse(&user, &serial, &first, &second)
}

/// A list under `element`, `IsTruncated`, and `Marker` when more follow.
fn listing<T>(element: &'static str, list: DeviceList<T>, each: impl Fn(T) -> Node) -> Vec<Node> {
    let mut nodes = vec![
        Node::Parent(element, list.devices.into_iter().map(each).collect()),
        Node::boolean("IsTruncated", list.marker.is_some()),
    ];
    if let Some(marker) = list.marker {
        nodes.push(Node::text("Marker", marker));
    }
    nodes
}

fn mfa_device(device: MfaDevice) -> Node {
    Node::Parent(
        "member",
        vec![
            Node::text("UserName", device.user_name),
            Node::text("SerialNumber", device.serial_number),
            Node::date("EnableDate", device.enable_date),
        ],
    )
}

/// The members of a `VirtualMFADevice` in the model's order: the seed and QR code only when
/// just created.
fn virtual_device(element: &'static str, device: VirtualMfaDevice) -> Node {
    let mut members = vec![Node::text("SerialNumber", device.serial_number)];
    if let Some(enrolment) = device.enrolment {
        members.push(Node::text(
            "Base32StringSeed",
            STANDARD.encode(enrolment.base32_seed.expose_secret()),
        ));
        members.push(Node::text(
            "QRCodePNG",
            STANDARD.encode(&enrolment.qr_code_png),
        ));
    }
    if let Some(user) = device.user {
        members.push(render::user("User", user));
    }
    if let Some(enabled) = device.enable_date {
        members.push(Node::date("EnableDate", enabled));
    }
    if !device.tags.is_empty() {
        members.push(render::tags(device.tags));
    }
    Node::Parent(element, members)
}
