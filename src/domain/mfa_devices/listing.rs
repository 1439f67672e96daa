//! ListMFADevices and ListVirtualMFADevices.

use super::{DeviceList, MfaDevice, VirtualMfaDevice, requests};
use crate::domain::{
    IamError, ListMfaDevices, ListVirtualMfaDevices, Service, clock::from_ms, tags,
};

impl Service {
    pub async fn list_mfa_devices(
        &self,
        request: ListMfaDevices,
    ) -> Result<DeviceList<MfaDevice>, IamError> {
        self.existing_user(&request.user).await?;
        let devices = self.store.user_devices(&request.user.key()).await?;
        let mut listed: Vec<(String, MfaDevice)> = devices
            .into_iter()
            .map(|device| {
                let key = device.name.to_ascii_lowercase();
                let view = MfaDevice {
                    user_name: request.user.as_str().to_owned(),
                    serial_number: device.serial_number,
                    enable_date: from_ms(device.enable_date_ms.unwrap_or(device.create_date_ms)),
                };
                (key, view)
            })
            .filter(|(key, _)| request.after.as_ref().is_none_or(|after| key > after))
            .collect();
        let marker = (listed.len() > request.max_items).then(|| {
            listed.truncate(request.max_items);
            requests::USER_DEVICES.issue_marker(&listed[request.max_items - 1].0)
        });
        Ok(DeviceList {
            devices: listed.into_iter().map(|(_, view)| view).collect(),
            marker,
        })
    }

    pub async fn list_virtual_mfa_devices(
        &self,
        request: ListVirtualMfaDevices,
    ) -> Result<DeviceList<VirtualMfaDevice>, IamError> {
        let page = self
            .store
            .list_devices(
                request.assignment,
                request.after.as_deref(),
                request.max_items,
            )
            .await?;
        let mut devices = Vec::with_capacity(page.devices.len());
        for device in page.devices {
            let user = match &device.user_key {
                Some(user_key) => self.store.user(user_key).await?.map(|u| self.user_view(u)),
                None => None,
            };
            devices.push(VirtualMfaDevice {
                serial_number: device.serial_number,
                enrolment: None,
                user,
                enable_date: device.enable_date_ms.map(from_ms),
                tags: tags::listed(device.tags),
            });
        }
        Ok(DeviceList {
            devices,
            marker: page
                .next_after
                .map(|after| requests::VIRTUAL_DEVICES.issue_marker(&after)),
        })
    }
}
