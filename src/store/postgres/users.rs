//! The users table: inserting, deleting and listing users, each one statement.

use sqlx::Row as _;

use super::{Failure, PgStore, USER_COLUMNS, is_foreign_key_violation, rows, violates_device_key};
use crate::store::{DeleteUser, InsertUser, UserPage, UserRecord};

impl PgStore {
    pub(super) async fn insert_user_once(
        &self,
        key: &str,
        user: &UserRecord,
    ) -> Result<InsertUser, Failure> {
        let mut conn = self.conn().await?;
        // The primary key decides between racing inserts of one name, in any process.
        let inserted = sqlx::query(
            "INSERT INTO users (user_key, user_name, user_id, path, create_date_ms, \
             password_last_used_ms, tags) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (user_key) DO NOTHING",
        )
        .bind(key)
        .bind(&user.user_name)
        .bind(&user.user_id)
        .bind(&user.path)
        .bind(user.create_date_ms)
        .bind(user.password_last_used_ms)
        .bind(rows::tags(user))
        .execute(&mut *conn)
        .await?;
        Ok(if inserted.rows_affected() == 1 {
            InsertUser::Inserted
        } else {
            InsertUser::AlreadyExists
        })
    }

    pub(super) async fn delete_user_once(&self, key: &str) -> Result<DeleteUser, Failure> {
        let mut conn = self.conn().await?;
        // One statement: the user goes (with its lockout state) only while it has no
        // profile and no device. A profile inserted or a device enabled concurrently fails
        // the foreign key instead.
        let row = sqlx::query(
            "WITH deleted AS ( \
               DELETE FROM users WHERE user_key = $1 \
               AND NOT EXISTS (SELECT 1 FROM login_profiles WHERE user_key = $1) \
               AND NOT EXISTS (SELECT 1 FROM mfa_devices WHERE user_key = $1) \
               RETURNING user_key), \
             forgotten AS ( \
               DELETE FROM lockouts WHERE user_key IN (SELECT user_key FROM deleted)) \
             SELECT EXISTS (SELECT 1 FROM deleted) AS deleted, \
               EXISTS (SELECT 1 FROM users WHERE user_key = $1) AS has_user, \
               EXISTS (SELECT 1 FROM login_profiles WHERE user_key = $1) AS has_profile",
        )
        .bind(key)
        .fetch_one(&mut *conn)
        .await;
        let row = match row {
            Err(e) if is_foreign_key_violation(&e) => {
                return Ok(if violates_device_key(&e) {
                    DeleteUser::HasDevice
                } else {
                    DeleteUser::HasProfile
                });
            }
            other => other?,
        };
        Ok(
            match (
                row.try_get::<bool, _>("deleted")?,
                row.try_get::<bool, _>("has_user")?,
                row.try_get::<bool, _>("has_profile")?,
            ) {
                (true, ..) => DeleteUser::Deleted,
                (false, true, true) => DeleteUser::HasProfile,
                (false, true, false) => DeleteUser::HasDevice,
                (false, false, _) => DeleteUser::NoUser,
            },
        )
    }

    pub(super) async fn list_users_once(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<UserPage, Failure> {
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let mut conn = self.conn().await?;
        let found = sqlx::query(&format!(
            "SELECT u.user_key, {USER_COLUMNS} FROM users u \
             WHERE starts_with(u.path, $1) AND ($2::text IS NULL OR u.user_key > $2) \
             ORDER BY u.user_key LIMIT $3"
        ))
        .bind(path_prefix)
        .bind(after)
        .bind(fetch)
        .fetch_all(&mut *conn)
        .await?;
        let more = found.len() > limit;
        let mut users = Vec::with_capacity(found.len().min(limit));
        let mut last_key = None;
        for row in found.iter().take(limit) {
            users.push(rows::user(row)?);
            last_key = Some(row.try_get::<String, _>("user_key")?);
        }
        Ok(UserPage {
            users,
            next_after: if more { last_key } else { None },
        })
    }
}
