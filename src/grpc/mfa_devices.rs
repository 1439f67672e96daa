//! MFADeviceService: adapters over the domain's MFA device operations.

use secrecy::ExposeSecret as _;
use tonic::{Request, Response, Status};

use super::{
    convert::{tags, timestamp},
    proto::{self, mfa_device_service_server::MfaDeviceService},
};
use crate::{
    domain::{
        CreateVirtualMfaDevice, DeactivateMfaDevice, DeviceCodes, ListMfaDevices,
        ListVirtualMfaDevices, MfaDevice, Service, VirtualMfaDevice, parse_serial_number,
    },
    store::Assignment,
};

/// Serves MFADeviceService.
#[derive(Debug, Clone)]
pub struct MfaDeviceApi(pub Service);

#[tonic::async_trait]
impl MfaDeviceService for MfaDeviceApi {
    async fn create_virtual_mfa_device(
        &self,
        request: Request<proto::CreateVirtualMfaDeviceRequest>,
    ) -> Result<Response<proto::CreateVirtualMfaDeviceResponse>, Status> {
        let r = request.into_inner();
        let device = self
            .0
            .create_virtual_mfa_device(CreateVirtualMfaDevice::parse(
                &r.virtual_mfa_device_name,
                &r.path,
                tags(r.tags),
            )?)
            .await?;
        Ok(Response::new(proto::CreateVirtualMfaDeviceResponse {
            virtual_mfa_device: Some(device.into()),
        }))
    }

    async fn enable_mfa_device(
        &self,
        request: Request<proto::EnableMfaDeviceRequest>,
    ) -> Result<Response<proto::EnableMfaDeviceResponse>, Status> {
        let r = request.into_inner();
        self.0
            .enable_mfa_device(DeviceCodes::parse(
                &r.user_name,
                &r.serial_number,
                &r.authentication_code_1,
                &r.authentication_code_2,
            )?)
            .await?;
        Ok(Response::new(proto::EnableMfaDeviceResponse {}))
    }

    async fn resync_mfa_device(
        &self,
        request: Request<proto::ResyncMfaDeviceRequest>,
    ) -> Result<Response<proto::ResyncMfaDeviceResponse>, Status> {
        let r = request.into_inner();
        self.0
            .resync_mfa_device(DeviceCodes::parse(
                &r.user_name,
                &r.serial_number,
                &r.authentication_code_1,
                &r.authentication_code_2,
            )?)
            .await?;
        Ok(Response::new(proto::ResyncMfaDeviceResponse {}))
    }

    async fn deactivate_mfa_device(
        &self,
        request: Request<proto::DeactivateMfaDeviceRequest>,
    ) -> Result<Response<proto::DeactivateMfaDeviceResponse>, Status> {
        let r = request.into_inner();
        self.0
            .deactivate_mfa_device(DeactivateMfaDevice::parse(&r.user_name, &r.serial_number)?)
            .await?;
        Ok(Response::new(proto::DeactivateMfaDeviceResponse {}))
    }

    async fn delete_virtual_mfa_device(
        &self,
        request: Request<proto::DeleteVirtualMfaDeviceRequest>,
    ) -> Result<Response<proto::DeleteVirtualMfaDeviceResponse>, Status> {
        let serial = parse_serial_number(&request.into_inner().serial_number)?;
        self.0.delete_virtual_mfa_device(serial).await?;
        Ok(Response::new(proto::DeleteVirtualMfaDeviceResponse {}))
    }

    async fn list_mfa_devices(
        &self,
        request: Request<proto::ListMfaDevicesRequest>,
    ) -> Result<Response<proto::ListMfaDevicesResponse>, Status> {
        let r = request.into_inner();
        let page = self
            .0
            .list_mfa_devices(ListMfaDevices::parse(&r.user_name, &r.marker, r.max_items)?)
            .await?;
        Ok(Response::new(proto::ListMfaDevicesResponse {
            is_truncated: page.marker.is_some(),
            marker: page.marker.unwrap_or_default(),
            mfa_devices: page.devices.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_virtual_mfa_devices(
        &self,
        request: Request<proto::ListVirtualMfaDevicesRequest>,
    ) -> Result<Response<proto::ListVirtualMfaDevicesResponse>, Status> {
        let r = request.into_inner();
        let assignment = match r.assignment_status() {
            proto::AssignmentStatus::Assigned => Assignment::Assigned,
            proto::AssignmentStatus::Unassigned => Assignment::Unassigned,
            proto::AssignmentStatus::Any | proto::AssignmentStatus::Unspecified => Assignment::Any,
        };
        let page = self
            .0
            .list_virtual_mfa_devices(ListVirtualMfaDevices::parse(
                assignment,
                &r.marker,
                r.max_items,
            )?)
            .await?;
        Ok(Response::new(proto::ListVirtualMfaDevicesResponse {
            is_truncated: page.marker.is_some(),
            marker: page.marker.unwrap_or_default(),
            virtual_mfa_devices: page.devices.into_iter().map(Into::into).collect(),
        }))
    }
}

impl From<VirtualMfaDevice> for proto::VirtualMfaDevice {
    fn from(device: VirtualMfaDevice) -> Self {
        let (base32_string_seed, qr_code_png) = match device.enrolment {
            Some(enrolment) => (
                enrolment.base32_seed.expose_secret().as_bytes().to_vec(),
                enrolment.qr_code_png,
            ),
            None => (Vec::new(), Vec::new()),
        };
        Self {
            serial_number: device.serial_number,
            base32_string_seed,
            qr_code_png,
            user: device.user.map(Into::into),
            enable_date: device.enable_date.map(timestamp),
            tags: device.tags.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<MfaDevice> for proto::MfaDevice {
    fn from(device: MfaDevice) -> Self {
        Self {
            user_name: device.user_name,
            serial_number: device.serial_number,
            enable_date: Some(timestamp(device.enable_date)),
        }
    }
}
