//! The database URL, kept whole for connecting and shown only with its password masked.

use std::{fmt, str::FromStr};

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::PgConnectOptions;

/// A `postgres://` URL. Its `Debug` and `Display` mask the password, so it can sit in a
/// configuration that is printed or logged.
#[derive(Clone)]
pub struct DatabaseUrl {
    secret: SecretString,
    shown: String,
}

impl DatabaseUrl {
    /// Checks that the URL is one PostgreSQL connections can be made from. The error never
    /// repeats the URL (it may hold a password).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(raw).map_err(|e| format!("it is not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err("its scheme must be postgres:// or postgresql://".to_owned());
        }
        PgConnectOptions::from_str(raw).map_err(|e| match e {
            sqlx::Error::Configuration(cause) => format!("it is not a PostgreSQL URL ({cause})"),
            _ => "it is not a PostgreSQL URL".to_owned(),
        })?;
        Ok(Self {
            secret: SecretString::from(raw.to_owned()),
            shown: mask(parsed),
        })
    }

    /// The options to connect with (they carry the password: never print them).
    pub(super) fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(self.secret.expose_secret())
            .expect("the URL was checked when it was parsed")
    }

    /// The secret itself, for handing to another process (tests).
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

fn mask(mut url: url::Url) -> String {
    if url.password().is_some() {
        let _ = url.set_password(Some("****"));
    }
    // Query parameters may carry a password too (`?password=`): show their names only.
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let value = if k.eq_ignore_ascii_case("password") {
                "****".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_masked_in_display_and_debug() {
        let url =
            DatabaseUrl::parse("postgres://app:s3cret-pw@db.example:5433/iam?sslmode=require")
                .unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cret-pw"), "{shown}");
            assert!(shown.contains("app:****@db.example:5433/iam"), "{shown}");
        }
        assert!(url.expose().contains("s3cret-pw"));
    }

    #[test]
    fn a_password_in_the_query_is_masked_too() {
        let url = DatabaseUrl::parse("postgres://app@db/iam?password=s3cret-pw").unwrap();
        assert!(!url.to_string().contains("s3cret-pw"), "{url}");
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        for raw in [
            "not a url s3cret-pw",
            "mysql://app:s3cret-pw@db/iam",
            "postgres://app:s3cret-pw@db:notaport/iam",
            "postgres://app:s3cret-pw@db/iam?sslmode=sometimes",
        ] {
            let error = DatabaseUrl::parse(raw).unwrap_err();
            assert!(!error.contains("s3cret-pw"), "{error}");
        }
    }
}
