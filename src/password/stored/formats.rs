//! The one table of the formats stored hashes may take: the docs' table is rendered from it
//! (and a test holds docs/importing-hashes.md to it), and a test verifies every example.

use super::Scheme;

/// The password every example in [`FORMATS`] is a hash of.
pub const EXAMPLE_PASSWORD: &str = "correct horse battery staple";

/// One spelling of one scheme.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub scheme: Scheme,
    /// How the hash is written, with placeholders.
    pub shape: &'static str,
    /// A real hash of [`EXAMPLE_PASSWORD`] in this spelling, made by the implementation named
    /// in `made_by` (PBKDF2 with 20,000 iterations, so that the test verifying every example
    /// stays quick; the origins' defaults are 600,000 to 1,300,000).
    pub example: &'static str,
    /// Where such hashes come from, and what made the example.
    pub made_by: &'static str,
}

/// Every supported spelling, argon2id (the service's own) first.
pub const FORMATS: &[Format] = &[
    Format {
        scheme: Scheme::Argon2id,
        shape: "$argon2id$v=19$m=M,t=T,p=P$salt$hash",
        example: "$argon2id$v=19$m=19456,t=2,p=1$2Y0IjCVVE3TDKmB2HKOEDg$Fmzd8bPTbDG7IOyCZbOQLdFJp33FEYxc50oghgRzRi4",
        made_by: "this service's export; argon2-cffi, Keycloak 24+, Ory Kratos (example: argon2-cffi)",
    },
    Format {
        scheme: Scheme::Argon2i,
        shape: "$argon2i$v=19$m=M,t=T,p=P$salt$hash",
        example: "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2GD4NRwQ0xNKr8dydaBZrX2kSAUyeP0HBN+v2a6toOs",
        made_by: "older libsodium and PHP `PASSWORD_ARGON2I` (example: argon2-cffi)",
    },
    Format {
        scheme: Scheme::Argon2d,
        shape: "$argon2d$v=19$m=M,t=T,p=P$salt$hash",
        example: "$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$iVxHg63ai+cg7nsw37E1tBGv+nCY98rrjSE7zFD2tgM",
        made_by: "rare; argon2 reference tools (example: argon2-cffi)",
    },
    Format {
        scheme: Scheme::Bcrypt,
        shape: "$2b$CC$salt(22)hash(31)",
        example: "$2b$10$9nj6uLlK/ZtrL1dkiDTpgehrki6FLPBXytmFLe2RuP2fWR3pA/uwK",
        made_by: "Python `bcrypt`, OpenBSD, Spring Security (example: Python bcrypt 5)",
    },
    Format {
        scheme: Scheme::Bcrypt,
        shape: "$2a$CC$salt(22)hash(31)",
        example: "$2a$10$mNAX/C74UOW3lYM2tYPhCespQi/mGi29UJcPzRgQr5bATING6VOP2",
        made_by: "Rails `has_secure_password` (bcrypt-ruby), Devise, Node `bcryptjs` (example: Python bcrypt 5)",
    },
    Format {
        scheme: Scheme::Bcrypt,
        shape: "$2y$CC$salt(22)hash(31)",
        example: "$2y$10$bU2joBh1Uw3aaq5tBn6yxexx66syqi6hemqbFtba52GJRb1/KW7qu",
        made_by: "PHP `password_hash`, Laravel (example: Python bcrypt 5, prefix as PHP writes it)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha256,
        shape: "pbkdf2_sha256$N$salt$hash",
        example: "pbkdf2_sha256$20000$E5pltSDEY7hHnrdlukYUKc$A7V6eog2+70y5bslUKpn3dH38NnvjzFvGzosydTltow=",
        made_by: "Django's default hasher (example: Django 5.2 `make_password`)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha1,
        shape: "pbkdf2_sha1$N$salt$hash",
        example: "pbkdf2_sha1$20000$22xmyVuLk4zaQ8ZREOfRuy$HCw6dCP85lLPfPR+h95sZmObEsY=",
        made_by: "Django's `PBKDF2SHA1PasswordHasher` (example: Django 5.2 `make_password`)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha256,
        shape: "$pbkdf2-sha256$N$salt$hash",
        example: "$pbkdf2-sha256$20000$PeccIwRAiDHmfM.5FyKkdA$Sbll4GIiTaPMyPB.YJJMIhrEvhfKwR2ahS3SYnIk8o8",
        made_by: "passlib (Flask, Ansible, many Python apps) (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha512,
        shape: "$pbkdf2-sha512$N$salt$hash",
        example: "$pbkdf2-sha512$20000$6d0bA0BoDUFozfm/13rP.Q$kLRzmNsT2kxAQjL/p8HtMflUA9NgNRKdwfzTNj6SSx4dA8BqFKwPlfpYr4emSNgbQTJj6uOngUZR9j2CNDWaEQ",
        made_by: "passlib (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha1,
        shape: "$pbkdf2$N$salt$hash",
        example: "$pbkdf2$20000$grBWCiGkFOIc41yL8f5/7w$yHOUokdEEi7j47jawNqsd6H6evY",
        made_by: "passlib (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha256,
        shape: "$pbkdf2-sha256$i=N,l=L$salt$hash",
        example: "$pbkdf2-sha256$i=20000,l=32$VBlcfqryNjzsUaVojqR4ZQ$v4sjjm7ubeJowjUcBL19LjOGUDsFmXE3H6gdH15cgPU",
        made_by: "RustCrypto `pbkdf2`; a Keycloak credential export converted (example: Python hashlib)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha512,
        shape: "$pbkdf2-sha512$i=N,l=L$salt$hash",
        example: "$pbkdf2-sha512$i=20000,l=64$s0/uQ05it4Q3SEGL6BMwzw$nDWztMFrVStq+BE/RVsIYPbbCRedBfm7xXRrCKexB8Sfe2y5Wlj+PCOqHCPUC1voIxOgv6bbWhQsSZtIfqos5g",
        made_by: "RustCrypto `pbkdf2`; a Keycloak credential export converted (example: Python hashlib)",
    },
    Format {
        scheme: Scheme::Pbkdf2Sha1,
        shape: "$pbkdf2-sha1$i=N,l=L$salt$hash",
        example: "$pbkdf2-sha1$i=20000,l=20$QgwLms/cFC5l2zF4FWQzvg$sPYZFfEMF3l/aAyHyXkbP6Tamqo",
        made_by: "a Keycloak `pbkdf2` credential export converted (example: Python hashlib)",
    },
    Format {
        scheme: Scheme::Scrypt,
        shape: "$scrypt$ln=L,r=R,p=P$salt$hash",
        example: "$scrypt$ln=15,r=8,p=1$BuB8jxHCOCckBKA0ZmxNyQ$AwD52NF36fMi59BunipJ8nfznCA+9JIsNpToIvSZr3o",
        made_by: "passlib, RustCrypto `scrypt` (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Sha512Crypt,
        shape: "$6$[rounds=N$]salt$hash",
        example: "$6$rounds=656000$BSI.MFiAuDUFAv9P$WPpYG7HGS6HSvYE1gsqLd8KqDlOhwkkwKn5cRoWX9fGB698.Xw3MEiBrp38FHvw1whcW./gcs/LzawTR9TX0s0",
        made_by: "Linux /etc/shadow, `openssl passwd -6`, `mkpasswd -m sha-512` (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Sha256Crypt,
        shape: "$5$[rounds=N$]salt$hash",
        example: "$5$rounds=535000$iha8O/ZL/s6tQ0Y.$OWuRwRzW6Yton0VHu.QWQofcjl9jonMmVRLFWtYMmv.",
        made_by: "`openssl passwd -5`, `mkpasswd -m sha-256` (example: passlib 1.7)",
    },
    Format {
        scheme: Scheme::Md5Crypt,
        shape: "$1$salt$hash",
        example: "$1$P0WSzoOb$GHuQvFtes0N59BuVUXEeC.",
        made_by: "old Linux and BSD stores, `openssl passwd -1` (example: passlib 1.7)",
    },
];

/// The docs' table of formats, rendered from [`FORMATS`].
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| scheme | shape | cost bound | where such hashes come from | example (of `correct horse battery staple`) |\n\
         |---|---|---|---|---|\n",
    );
    for format in FORMATS {
        table.push_str(&format!(
            "| {} | `{}` | {} | {} | `{}` |\n",
            format.scheme.name(),
            format.shape,
            format.scheme.bound(),
            format.made_by,
            format.example
        ));
    }
    table
}
