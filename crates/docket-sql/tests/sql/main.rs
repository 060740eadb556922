//! The `sql` step kind end to end: a real app (SQLite store, engine running) with `sql` steps
//! against the real PostgreSQL on 127.0.0.1:5432, the real MariaDB on 127.0.0.1:3306 and a
//! SQLite file, each case in a scratch database of its own. The server-backed cases fail, not
//! skip, when their server is unreachable (`DOCKET_TEST_POSTGRES_URL`, `DOCKET_TEST_MYSQL_URL`
//! point elsewhere).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

mod cancel;
mod csv;
mod reports;
mod support;
mod writes;

/// Makes `postgres::NAME`, `mariadb::NAME` and `sqlite::NAME` for each `module::NAME` case.
macro_rules! engines {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::$module::$name(crate::support::Db::postgres().await).await;
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::$module::$name(crate::support::Db::mariadb().await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::$module::$name(crate::support::Db::sqlite().await).await;
                }
            )*
        }
    };
}

engines! {
    reports::a_report_keeps_its_table_with_nulls_and_types,
    reports::a_report_that_writes_is_refused_by_the_database,
    reports::a_report_past_its_time_limit_is_stopped_by_the_server,
    reports::a_million_rows_keep_max_rows_and_say_so,
    reports::hostile_parameters_are_one_bound_value,
    cancel::cancelling_a_report_stops_it_on_the_server,
    writes::a_write_commits_exactly_the_planned_rows,
    writes::data_changed_after_approval_commits_nothing,
    writes::a_write_within_max_rows_changed_commits,
    writes::a_delete_plan_shows_the_rows_it_deletes,
    writes::a_plan_samples_the_first_twenty_rows_and_never_changes_the_count,
    writes::a_plan_without_a_sample_says_why_and_still_binds_the_count,
    csv::csv_round_trips_every_value,
}

mod postgres_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_example_sales_report_runs() {
        crate::reports::the_example_sales_report_runs(crate::support::Db::postgres().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn csv_loads_back_into_postgresql_unchanged() {
        crate::csv::csv_loads_back_into_postgresql_unchanged(crate::support::Db::postgres().await).await;
    }
}
