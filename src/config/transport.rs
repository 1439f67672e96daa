//! The transport flags: TLS files (loaded and checked here, so their problems are listed with
//! every other) and the plaintext health port.

use std::net::SocketAddr;

use super::{Problems, ServeArgs, listen::socket_addr};
use crate::tls::{Tls, TlsFiles};

impl ServeArgs {
    /// The TLS settings, loaded and checked (None inside: plaintext); None when there are problems.
    pub(super) fn tls(&self, problems: &mut Problems) -> Option<Option<Tls>> {
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            (None, None) => {
                if self.tls_client_ca.is_some() {
                    problems.0.push(
                        "--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)"
                            .to_owned(),
                    );
                    return None;
                }
                return Some(None);
            }
            (Some(_), None) => {
                problems.0.push("--tls-cert needs --tls-key".to_owned());
                return None;
            }
            (None, Some(_)) => {
                problems.0.push("--tls-key needs --tls-cert".to_owned());
                return None;
            }
        };
        let files = TlsFiles {
            cert,
            key,
            client_ca: self.tls_client_ca.clone(),
        };
        Tls::load(&files)
            .map(Some)
            .map_err(|found| problems.0.extend(found))
            .ok()
    }

    pub(super) fn health_listen_addr(&self) -> Result<Option<SocketAddr>, String> {
        self.health_listen
            .as_deref()
            .map(|raw| socket_addr("--health-listen", raw, ""))
            .transpose()
    }

    pub(super) fn metrics_listen_addr(&self) -> Result<Option<SocketAddr>, String> {
        self.metrics_listen
            .as_deref()
            .map(|raw| socket_addr("--metrics-listen", raw, ""))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Cli, Command, ConfigErrors};

    fn validate(extra: &[&str]) -> Result<crate::config::ServeConfig, ConfigErrors> {
        let mut argv = vec!["loginprofiled", "serve"];
        argv.extend_from_slice(extra);
        use clap::Parser as _;
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => args.validate(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn half_a_tls_configuration_is_refused_with_every_other_problem() {
        let errors = validate(&["--tls-cert", "/nonexistent/cert.pem", "--account-id", "1"])
            .unwrap_err()
            .to_string();
        assert!(errors.contains("--tls-cert needs --tls-key"), "{errors}");
        assert!(errors.contains("--account-id"), "{errors}");

        let errors = validate(&["--tls-key", "/k.pem"]).unwrap_err().to_string();
        assert!(errors.contains("--tls-key needs --tls-cert"), "{errors}");

        let errors = validate(&["--tls-client-ca", "/ca.pem"])
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("--tls-client-ca needs --tls-cert and --tls-key"),
            "{errors}"
        );
    }

    #[test]
    fn unreadable_tls_files_are_each_reported() {
        let errors = validate(&[
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
            "--tls-client-ca",
            "/nonexistent/ca.pem",
            "--health-listen",
            "localhost:1",
        ])
        .unwrap_err();
        assert_eq!(errors.0.len(), 4, "{errors}");
        let text = errors.to_string();
        for expected in [
            "--tls-cert /nonexistent/cert.pem: cannot read it",
            "--tls-key /nonexistent/key.pem: cannot read it",
            "--tls-client-ca /nonexistent/ca.pem: cannot read it",
            "--health-listen \"localhost:1\"",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
    }

    #[test]
    fn the_health_port_is_off_unless_given() {
        assert_eq!(validate(&[]).unwrap().health_listen, None);
        let config = validate(&["--health-listen", "0.0.0.0:8086"]).unwrap();
        assert_eq!(config.health_listen, Some("0.0.0.0:8086".parse().unwrap()));
        assert!(config.tls.is_none());
    }
}
