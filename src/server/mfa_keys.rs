//! MFA keys at start: a store holding seeds that no given key opens is refused, and seeds
//! sealed under an older key are sealed again under the first one (rotation).

use super::App;

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
        let service = app.service.clone();
        tokio::spawn(async move {
            match service.reseal_mfa_seeds().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(
                    count,
                    "MFA seeds re-encrypted under the first key of the key file"
                ),
                Err(error) => tracing::warn!(
                    error = %error,
                    cause = error.fault().map(|c| format!("{c:#}")),
                    "re-encrypting MFA seeds under the first key failed; it is tried again at \
                     the next start"
                ),
            }
        });
    }
    Ok(())
}
