//! MFA keys at start: a store holding seeds that no given key opens is refused, and seeds
//! sealed under an older key are sealed again under the first one (rotation).

use std::{path::PathBuf, time::Duration};

use super::App;
use crate::{domain::Service, mfa::Keyring};

/// A reason `serve` refuses to start that the operator must fix (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

/// Refuses a store holding MFA seeds that no given key opens; then re-seals, in the
/// background, every seed not sealed under the key file's first key (rotation).
pub(super) async fn check_mfa_keys(app: &App) -> anyhow::Result<()> {
    let unopenable = app
        .service
        .devices_without_key()
        .await
        .map_err(|e| anyhow::anyhow!("reading the MFA devices: {e}"))?;
    if let Some(first) = unopenable.first() {
        let keys = match &app.config.mfa_key_file {
            Some(file) => format!("no key of --mfa-key-file {} opens them", file.display()),
            None => "no --mfa-key-file is given".to_owned(),
        };
        return Err(Refused(format!(
            "the store holds {} MFA device seed(s) (the first: {first}) and {keys}; start with \
             the key file they were sealed under",
            unopenable.len()
        ))
        .into());
    }
    if app.config.mfa_keys.is_some() {
        tokio::spawn(reseal(app.service.clone()));
    }
    Ok(())
}

/// How often the key file is looked at for a change.
const KEY_FILE_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// Looks at the key file every [`KEY_FILE_CHECK_INTERVAL`]; a changed file that opens every
/// stored seed is put in force and the seeds sealed under an older key are sealed again, so a
/// key is rotated without a restart, on either store. A file that cannot be read, is damaged or
/// lacks a key still in use is logged and the keys in force stay. Never returns.
pub(super) async fn watch_mfa_key_file(service: Service, path: Option<PathBuf>) {
    let Some(path) = path else {
        return std::future::pending().await;
    };
    let mut seen = digest(&path).await;
    let mut interval = tokio::time::interval(KEY_FILE_CHECK_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = digest(&path).await;
        if now == seen {
            continue;
        }
        seen = now;
        let keys = match tokio::task::spawn_blocking({
            let path = path.clone();
            move || Keyring::load(&path)
        })
        .await
        {
            Ok(Ok(keys)) => keys,
            Ok(Err(error)) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the changed MFA key file could not be read; the keys in force stay"
                );
                continue;
            }
            Err(error) => {
                tracing::warn!(error = %error, "reading the MFA key file failed");
                continue;
            }
        };
        keys.warn_if_exposed();
        let primary = keys.primary_id().to_owned();
        match service.replace_mfa_keys(keys).await {
            Ok(unopenable) if unopenable.is_empty() => {
                tracing::info!(
                    file = %path.display(),
                    sealing_key = primary,
                    "MFA key file reloaded"
                );
                reseal(service.clone()).await;
            }
            Ok(unopenable) => tracing::warn!(
                file = %path.display(),
                devices = unopenable.len(),
                first = unopenable[0],
                "the changed MFA key file cannot open every stored seed; the keys in force stay"
            ),
            Err(error) => tracing::warn!(
                error = %error,
                cause = error.fault().map(|c| format!("{c:#}")),
                "checking the changed MFA key file against the stored seeds failed; the keys in \
                 force stay"
            ),
        }
    }
}

/// A digest of the file's bytes (None when it cannot be read), to notice a change.
async fn digest(path: &std::path::Path) -> Option<[u8; 32]> {
    use sha2::Digest as _;
    let bytes = tokio::fs::read(path).await.ok()?;
    Some(sha2::Sha256::digest(secrecy::zeroize::Zeroizing::new(bytes).as_slice()).into())
}

/// Seals again every seed not sealed under the first key in force, and logs how many.
async fn reseal(service: Service) {
    match service.reseal_mfa_seeds().await {
        Ok(0) => {}
        Ok(count) => tracing::info!(
            count,
            "MFA seeds re-encrypted under the first key of the key file"
        ),
        Err(error) => tracing::warn!(
            error = %error,
            cause = error.fault().map(|c| format!("{c:#}")),
            "re-encrypting MFA seeds under the first key failed; it is tried again at the next \
             start or change of the key file"
        ),
    }
}
