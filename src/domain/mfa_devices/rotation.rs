//! Key rotation: every stored seed sealed under the key file's first key, and a check at
//! start that every stored seed is sealed under a key the server holds.

use std::sync::Arc;

use super::{MAX_ATTEMPTS, binding, open_seed};
use crate::{
    domain::{IamError, Service},
    meter,
    mfa::Keyring,
    store::{Assignment, DeviceRecord, ReplaceDevice, Store},
};

/// Devices are read this many at a time.
const PAGE: usize = 500;

impl Service {
    /// [`devices_without_key`] with the server's keys.
    pub async fn devices_without_key(&self) -> Result<Vec<String>, IamError> {
        let keys = self.settings.mfa.keys.current();
        devices_without_key(&*self.store, keys.as_deref()).await
    }

    /// Puts `keys` (a changed key file) in force if they open every stored seed, and returns
    /// the serial numbers of the seeds they cannot open otherwise, keeping the keys in force:
    /// a key file caught half-written, or missing a key still in use, never strands a device.
    /// Seeds sealed under an older key are then sealed again with [`Service::reseal_mfa_seeds`].
    pub async fn replace_mfa_keys(&self, keys: Keyring) -> Result<Vec<String>, IamError> {
        let unopenable = devices_without_key(&*self.store, Some(&keys)).await?;
        if unopenable.is_empty() {
            self.settings.mfa.keys.replace(Arc::new(keys));
        }
        Ok(unopenable)
    }

    /// [`reseal_mfa_seeds`] with the server's keys.
    pub async fn reseal_mfa_seeds(&self) -> Result<u64, IamError> {
        reseal_mfa_seeds(&*self.store, &*self.mfa_keys()?).await
    }
}

/// The serial numbers of stored devices whose seed no key of `keys` can open (all of them
/// without keys): a server with any cannot serve them, and refuses to start.
pub async fn devices_without_key(
    store: &dyn Store,
    keys: Option<&Keyring>,
) -> Result<Vec<String>, IamError> {
    let mut unopenable = Vec::new();
    each_device(store, |device| {
        let known = match (keys, &device.seed) {
            (Some(keys), Some(sealed)) => keys.knows(&sealed.key_id),
            _ => false,
        };
        if !known {
            unopenable.push(device.serial_number.clone());
        }
    })
    .await?;
    Ok(unopenable)
}

/// Seals again, under the first key of `keys`, every seed sealed under another; returns how
/// many. Each is a compare-and-swap, so it runs beside sign-ins and changes on any replica: a
/// device changed meanwhile is read again.
pub async fn reseal_mfa_seeds(store: &dyn Store, keys: &Keyring) -> Result<u64, IamError> {
    let mut stale = Vec::new();
    each_device(store, |device| {
        if device
            .seed
            .as_ref()
            .is_some_and(|sealed| sealed.key_id != keys.primary_id())
        {
            stale.push(device.name.to_ascii_lowercase());
        }
    })
    .await?;
    let mut resealed = 0;
    for key in stale {
        for _ in 0..MAX_ATTEMPTS {
            let Some(device) = store.device(&key).await? else {
                break;
            };
            let Some(sealed) = &device.seed else { break };
            if sealed.key_id == keys.primary_id() {
                break;
            }
            let user = match &device.user_key {
                Some(user_key) => store.user(user_key).await?,
                None => None,
            };
            let seed = open_seed(keys, &key, &device, user.as_ref())?;
            let user_id = user.as_ref().map(|u| u.user_id.as_str());
            let new = DeviceRecord {
                seed: Some(keys.seal(&seed, &binding(&key, user_id))),
                version: device.version + 1,
                ..device.clone()
            };
            match store.replace_device(&key, device.version, new).await? {
                ReplaceDevice::Replaced => {
                    meter::mfa_seed_resealed();
                    resealed += 1;
                    break;
                }
                ReplaceDevice::Stale => continue,
                _ => break,
            }
        }
    }
    Ok(resealed)
}

async fn each_device(
    store: &dyn Store,
    mut each: impl FnMut(&DeviceRecord),
) -> Result<(), IamError> {
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_devices(Assignment::Any, after.as_deref(), PAGE)
            .await?;
        page.devices.iter().for_each(&mut each);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}
