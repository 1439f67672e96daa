-- Virtual MFA devices. Keys are device-name keys (the name in ASCII lower case), compared byte by
-- byte like user keys. A device is assigned while user_key is set: the foreign key keeps it
-- with an existing user, and a rename moves it with the user (ON UPDATE CASCADE). Deleting a
-- user that still has a device fails the foreign key (the store answers HasDevice).

CREATE TABLE mfa_devices (
    device_key      text COLLATE "C" PRIMARY KEY,
    user_key        text COLLATE "C"
                    CONSTRAINT mfa_devices_user_key_fkey
                    REFERENCES users (user_key) ON UPDATE CASCADE,
    name            text   NOT NULL,
    path            text   NOT NULL,
    serial_number   text   NOT NULL,
    create_date_ms  bigint NOT NULL,
    -- The sealed TOTP seed (AES-256-GCM), as the record holds it; never the seed in clear.
    seed_key_id     text,
    seed_nonce      bytea,
    seed_ciphertext bytea,
    -- [{"key": ..., "value": ...}] in key order without regard to case.
    tags            jsonb  NOT NULL DEFAULT '[]',
    enable_date_ms  bigint,
    -- The last TOTP time step a code was accepted for (replay protection).
    last_step       bigint,
    drift_steps     bigint NOT NULL DEFAULT 0,
    -- Bumped on every replacement, for compare-and-swap.
    version         bigint NOT NULL,
    CHECK ((seed_key_id IS NULL) = (seed_nonce IS NULL)
           AND (seed_nonce IS NULL) = (seed_ciphertext IS NULL))
);

-- A user's devices in key order (ListMFADevices, sign-in, the per-user limit).
CREATE INDEX mfa_devices_by_user ON mfa_devices (user_key, device_key) WHERE user_key IS NOT NULL;
