//! The `Store` contract, written once and run against every backend: each backend is a
//! [`Backend`] and one `contract_tests!` line.

// Items are shared between the modules of this one test crate, never exported.
#![allow(unreachable_pub)]

mod contract;
mod database;
mod devices;
mod embedded;
#[allow(dead_code)]
#[path = "../api/helpers/pg.rs"]
mod pg_db;
mod races;
mod read_all;
mod records;
mod sign_in;

use std::sync::Arc;

use async_trait::async_trait;
use loginprofiled::store::Store;

/// Makes stores of one backend for the contract tests.
#[async_trait]
pub trait Backend: Sized + Send + Sync + 'static {
    /// Whether the backend can be tested here; false only after saying loudly why not.
    async fn available() -> bool {
        true
    }
    /// A new, empty store of its own (a fresh directory, a fresh database schema), and what
    /// reopens it.
    async fn fresh() -> (Self, Arc<dyn Store>);

    /// Closes `store` (the test holds no other handle on it) and opens the same store again,
    /// as a new process would: it holds what the old one made durable.
    async fn reopen(&self, store: Arc<dyn Store>) -> Arc<dyn Store>;
}

/// Instantiates every contract test for a backend:
/// `contract_tests!(module_name, crate::path::to::BackendType);`.
macro_rules! contract_tests {
    ($name:ident, $backend:ty) => {
        contract_tests!(@each $name, $backend, [
            contract::insert_user_outcomes,
            contract::delete_user_outcomes,
            contract::list_users_pages_in_key_order_by_path_prefix,
            contract::replace_user_outcomes,
            contract::a_rename_moves_profile_and_lockout,
            contract::touch_user_records_last_use_and_creates_nothing,
            contract::profile_lookup_and_insert_profile_outcomes,
            contract::replace_profile_outcomes,
            contract::replace_profile_lazily_outcomes,
            contract::delete_profile_outcomes,
            contract::policy_outcomes,
            contract::lockout_updates_and_default_state,
            contract::prune_lockouts_keeps_what_still_counts,
            contract::acknowledged_writes_survive_a_reopen,
            contract::deferred_writes_survive_a_reopen_after_flush,
            contract::check_passes_on_a_healthy_store,
            contract::import_into_an_empty_store_and_reopen,
            contract::import_refuses_a_store_with_a_user_or_a_policy,
            devices::insert_device_and_read_it_back,
            devices::list_devices_pages_in_key_order_by_assignment,
            devices::user_devices_are_the_users_enabled_devices_in_key_order,
            devices::replace_device_outcomes,
            devices::a_ninth_device_for_one_user_exceeds_the_limit,
            devices::delete_device_outcomes,
            devices::delete_user_refuses_a_user_with_an_enabled_device,
            devices::a_rename_moves_the_users_devices,
            devices::import_writes_the_devices_and_a_device_makes_a_store_non_empty,
            devices::export_and_import_carry_the_devices_as_stored,
            races::one_of_racing_insert_user_in_different_case_wins,
            races::one_of_racing_insert_profile_wins,
            races::one_of_racing_replace_profile_with_one_version_wins,
            races::one_of_racing_renames_onto_one_key_wins,
            races::delete_user_and_insert_profile_never_both_win,
            races::concurrent_lockout_updates_lose_no_increment,
            races::one_of_racing_imports_wins,
            races::one_of_racing_replace_device_with_one_version_wins,
            races::racing_enables_for_one_user_never_exceed_the_limit,
            races::delete_user_and_enable_never_both_win,
            sign_in::settle_attempt_applies_to_the_stored_state_whatever_was_expected,
            sign_in::a_successful_settlement_records_the_last_use,
            sign_in::concurrent_settlements_from_one_expected_state_lose_no_increment,
            sign_in::profile_and_policy_outcomes,
            read_all::read_all_hands_over_every_user_then_every_device_in_key_order_and_the_policy,
        ]);
    };
    (@each $name:ident, $backend:ty, [$($module:ident :: $test:ident),* $(,)?]) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if !<$backend as crate::Backend>::available().await {
                        return;
                    }
                    crate::$module::$test::<$backend>().await;
                }
            )*
        }
    };
}

contract_tests!(sled, crate::embedded::SledBackend);
contract_tests!(postgres, crate::database::PgBackend);
