//! Listen addresses: `HOST:PORT` with an IP address, a `unix:` socket path, or `off` for the
//! Query API; a bad one is explained (port out of range, a host name, IPv6 without brackets).

use crate::domain::Echo;
use std::{fmt, net::SocketAddr, path::PathBuf};

/// Where the gRPC server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl ListenAddr {
    /// Parses `--listen`: `HOST:PORT` or `unix:/path/to.sock`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("--listen unix: needs a socket path".to_owned());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        socket_addr("--listen", raw, " or unix:/path/to.sock").map(Self::Tcp)
    }

    /// Loopback addresses and Unix sockets count as local: only this machine can call them.
    pub fn is_local(&self) -> bool {
        match self {
            Self::Tcp(addr) => addr.ip().is_loopback(),
            Self::Unix(_) => true,
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Parses `--http-listen`: `off`, or the TCP address of the Query API.
pub(super) fn parse_http_listen(raw: &str) -> Result<Option<SocketAddr>, String> {
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    socket_addr("--http-listen", raw, " or off").map(Some)
}

/// `HOST:PORT` with an IP address as HOST, or a problem that says what is wrong with `raw`
/// (`alternatives` names the other accepted forms).
pub(super) fn socket_addr(flag: &str, raw: &str, alternatives: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = raw.parse() {
        return Ok(addr);
    }
    let problem = match raw.rsplit_once(':') {
        None => "there is no :PORT".to_owned(),
        Some((_, port)) if port.parse::<u16>().is_err() => match port.parse::<u64>() {
            Ok(_) => format!("port {port} is out of range (0-65535)"),
            Err(_) => format!("port {} is not a number", Echo(port)),
        },
        Some((host, _)) if host.contains(':') && !host.starts_with('[') => {
            "an IPv6 address needs brackets, as in [::1]:PORT".to_owned()
        }
        Some((host, _)) => format!(
            "{} is not an IP address (names are not resolved; use e.g. 127.0.0.1, \
             0.0.0.0 or [::1])",
            Echo(host)
        ),
    };
    Err(format!(
        "{flag} {}: {problem}; expected HOST:PORT{alternatives}",
        Echo(raw)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_tcp_unix_or_off() {
        assert_eq!(
            ListenAddr::parse("[::1]:50051"),
            Ok(ListenAddr::Tcp("[::1]:50051".parse().unwrap()))
        );
        assert_eq!(
            ListenAddr::parse("unix:/run/x.sock"),
            Ok(ListenAddr::Unix("/run/x.sock".into()))
        );
        assert_eq!(parse_http_listen("OFF"), Ok(None));
    }

    #[test]
    fn a_bad_address_is_explained() {
        let cases = [
            ("127.0.0.1:99999", "port 99999 is out of range (0-65535)"),
            ("127.0.0.1:http", "port \"http\" is not a number"),
            ("127.0.0.1", "there is no :PORT"),
            ("localhost:50051", "\"localhost\" is not an IP address"),
            (
                "::1:50051",
                "an IPv6 address needs brackets, as in [::1]:PORT",
            ),
        ];
        for (raw, problem) in cases {
            let listen = ListenAddr::parse(raw).unwrap_err();
            assert!(
                listen.starts_with(&format!("--listen {raw:?}: {problem}")),
                "{listen}"
            );
            assert!(listen.ends_with("or unix:/path/to.sock"), "{listen}");
            let http = parse_http_listen(raw).unwrap_err();
            assert!(
                http.starts_with(&format!("--http-listen {raw:?}: {problem}")),
                "{http}"
            );
        }
    }
}
