//! The store contract: every rule written on `docket_app::Store`, as tests written once and run
//! against both backends (`sqlite::NAME` and `postgres::NAME`). PostgreSQL tests fail, not skip,
//! when the server is unreachable.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod admin;
mod audit;
mod batch;
mod busy;
mod fixtures;
mod harness;
mod logs;
mod open;
mod outbox;
mod pg_batch;
mod processes;
mod queue;
mod results;
mod state;
mod tickets;
mod wakeups;

/// Makes `sqlite::NAME` and `postgres::NAME` for each `module::NAME` case.
macro_rules! contract {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::Harness::sqlite().await;
                    crate::$module::$name(&h).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::Harness::postgres().await;
                    crate::$module::$name(&h).await;
                }
            )*
        }
    };
}

contract! {
    tickets::commit_creates_a_ticket_with_its_events_and_audit,
    tickets::commit_appends_events_and_bumps_the_version,
    tickets::a_conflict_writes_nothing,
    tickets::concurrent_commits_on_one_version_let_one_win,
    tickets::tickets_filter_and_page_newest_first,
    tickets::a_zero_limit_means_the_default_page,
    tickets::due_for_expiry_finds_lapsed_deadlines_only,
    tickets::tickets_in_state_lists_oldest_first,
    tickets::projections_follow_the_events,
    tickets::ticket_numbers_are_never_reused,
    tickets::numbers_given_back_at_a_stop_are_dense_and_never_reused,
    tickets::missing_tickets_read_as_nothing,
    busy::concurrent_writers_keep_every_row_and_one_chain,
    busy::a_stale_commit_among_many_fails_alone,
    audit::the_chain_spans_commits_and_loose_appends,
    audit::audit_records_round_trip_exactly,
    audit::tampering_is_detected_at_the_changed_record,
    audit::concurrent_appends_keep_one_chain,
    audit::checkpoints_are_kept_once_and_name_the_head,
    queue::claims_take_the_oldest_and_keys_run_in_order,
    queue::a_lapsed_lease_is_recovered_by_another_worker,
    queue::ending_all_leases_makes_claims_recoverable_now,
    queue::enqueueing_again_moves_to_the_back,
    queue::concurrent_claimers_never_share_a_run,
    queue::one_leader_at_a_time,
    outbox::each_thread_gets_its_messages_in_order,
    outbox::failures_retry_later_or_give_up,
    outbox::a_ticket_is_claimed_by_one_holder_until_released_or_lapsed,
    outbox::concurrent_claimers_never_share_a_ticket,
    logs::logs_page_and_ignore_repeated_lines,
    logs::a_commit_stores_the_lines_it_carries,
    admin::tokens_round_trip,
    admin::stats_count_states_queue_and_undelivered,
    admin::reopening_keeps_everything_and_migrates_once,
    state::surface_state_puts_lists_and_prunes,
    state::concurrent_first_writers_have_one_winner,
    state::a_change_made_once_per_delivery_records_it_with_itself,
    state::concurrent_changes_for_one_delivery_have_one_winner,
    state::a_change_made_once_that_is_not_written_leaves_its_delivery_unspent,
    processes::step_processes_are_recorded_per_host_and_forgotten,
    processes::a_step_end_commit_drops_its_process_record,
    results::step_results_are_kept_per_run_and_step,
}

/// PostgreSQL's group commit: cases that only PostgreSQL has (SQLite's are in `batch`).
mod postgres_batch {
    macro_rules! postgres_only {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::Harness::postgres().await;
                    crate::pg_batch::$name(&h).await;
                }
            )*
        };
    }

    postgres_only! {
        a_conflict_inside_a_batch_fails_alone,
        a_failing_statement_inside_a_batch_fails_alone,
        a_failed_commit_reaches_every_caller_in_the_batch,
        two_replicas_writing_at_once_keep_one_chain,
        two_replicas_racing_for_the_same_deliveries_write_each_once,
        writes_after_close_are_refused,
    }
}
