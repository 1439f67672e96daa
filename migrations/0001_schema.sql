-- The PostgreSQL store's first schema. Keys are user-name keys: the user name in ASCII lower
-- case, compared byte by byte (COLLATE "C"), so that ListUsers pages in the same order as the
-- embedded store. Times are milliseconds since the Unix epoch, as in the records.

CREATE TABLE users (
    user_key              text COLLATE "C" PRIMARY KEY,
    user_name             text   NOT NULL,
    user_id               text   NOT NULL,
    path                  text   NOT NULL,
    create_date_ms        bigint NOT NULL,
    password_last_used_ms bigint,
    -- [{"key": ..., "value": ...}] in key order without regard to case.
    tags                  jsonb  NOT NULL DEFAULT '[]'
);

-- One profile per user (the primary key), never one without its user (the foreign key); a
-- rename moves the profile with the user (ON UPDATE CASCADE).
CREATE TABLE login_profiles (
    user_key                text COLLATE "C" PRIMARY KEY
                            REFERENCES users (user_key) ON UPDATE CASCADE,
    password_hash           text    NOT NULL,
    create_date_ms          bigint  NOT NULL,
    password_reset_required boolean NOT NULL,
    password_set_ms         bigint  NOT NULL,
    -- Earlier password hashes, newest first.
    previous_hashes         text[]  NOT NULL DEFAULT '{}',
    -- Bumped on every replacement, for compare-and-swap.
    version                 bigint  NOT NULL
);

-- The account password policy: at most one row.
CREATE TABLE account_password_policy (
    singleton                      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    minimum_password_length        bigint  NOT NULL,
    require_symbols                boolean NOT NULL,
    require_numbers                boolean NOT NULL,
    require_uppercase_characters   boolean NOT NULL,
    require_lowercase_characters   boolean NOT NULL,
    allow_users_to_change_password boolean NOT NULL,
    max_password_age               bigint,
    password_reuse_prevention      bigint,
    hard_expiry                    boolean
);

-- Failed verifications per user-name key (also of names that have no user). No foreign key:
-- unknown names are counted too.
CREATE TABLE lockouts (
    user_key             text COLLATE "C" PRIMARY KEY,
    consecutive_failures bigint NOT NULL DEFAULT 0,
    locked_until_ms      bigint NOT NULL DEFAULT 0,
    last_failure_ms      bigint NOT NULL DEFAULT 0,
    -- Attempts admitted and not settled: [{"id": ..., "lease_until_ms": ...}].
    in_flight            jsonb  NOT NULL DEFAULT '[]'
);
