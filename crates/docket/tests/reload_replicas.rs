//! A reload reaches every replica: two `docket serve` replicas on one PostgreSQL database, each
//! reading its own copy of the configuration. `docket reload` against the first puts a new
//! workflow in force there; the second hears of it, reads its own files and takes them on,
//! recorded as Docket's own reload following the first. When the second's files say something
//! else, it keeps what it runs and records the refusal with both digests. A replica that was
//! not listening when the other reloaded catches up once it listens again, and so does one
//! that had not listened yet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::api::{Api, reload, token};
use support::postgres::TestDatabase;
use support::{Server, docket, free_port, text, wait_ready};

fn config(database: &str) -> String {
    format!(
        r#"server: {{ listen: 127.0.0.1:0 }}
storage: {{ url: "{database}" }}
catalog: ./workflows
people:
  - {{ id: alice, name: Alice Ng, admin: true }}
policies:
  - {{ name: rest, when: "true", auto_approve: true }}
"#
    )
}

fn workflow(id: &str) -> String {
    format!("id: {id}\ntitle: {id}\nsteps:\n  - {{ name: say, exec: [echo, {id}] }}\n")
}

/// A replica's folder: its configuration and catalog.
fn folder(root: &Path, name: &str, database: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    std::fs::write(dir.join("docket.yaml"), config(database)).unwrap();
    std::fs::write(dir.join("workflows/hello.yaml"), workflow("hello")).unwrap();
    dir
}

fn serve(dir: &Path) -> (Server, String) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = docket(dir)
        .args(["serve", "--config", "docket.yaml", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base);
    (Server(child), base)
}

/// The workflows the server at `base` offers, sorted.
fn workflows(base: &str, token: &str) -> Vec<String> {
    let mut ids = Api::new(base).workflows(token);
    ids.sort();
    ids
}

fn audit(base: &str, token: &str) -> Vec<Value> {
    Api::new(base).audit(token)
}

/// The audit's records of reloads, taken or refused.
fn reload_records(base: &str, token: &str) -> Vec<Value> {
    audit(base, token).into_iter().filter(|r| r["action"].as_str().unwrap().starts_with("config.")).collect()
}

/// Waits (at most 15 s) until the audit holds `count` records of `action`; answers them.
fn wait_for_records(base: &str, token: &str, action: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found: Vec<Value> = audit(base, token).into_iter().filter(|r| r["action"] == action).collect();
        if found.len() >= count {
            return found;
        }
        assert!(Instant::now() < deadline, "{count} × {action} never recorded: {found:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (at most 15 s) until `base` lists the workflows `wanted`; answers what it lists last. A
/// reload is recorded before it takes effect, so its audit record can be read a moment before.
fn wait_for_workflows(base: &str, token: &str, wanted: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = workflows(base, token);
        if listed == wanted || Instant::now() > deadline {
            return listed;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `work` against `url`'s database.
fn on_database<T>(url: &str, work: impl AsyncFnOnce(sqlx::PgPool, String) -> T) -> T {
    let database = url.rsplit_once('/').unwrap().1.to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        work(pool, database).await
    })
}

/// Waits (at most 15 s) until `replicas` connections listen for the others on `url`'s database.
fn listening(url: &str, replicas: i64) {
    on_database(url, async |pool, database| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE application_name = 'docket-listener' AND datname = $1 AND query ILIKE 'LISTEN%'",
            )
            .bind(&database)
            .fetch_one(&pool)
            .await
            .unwrap();
            if count >= replicas {
                break;
            }
            assert!(Instant::now() < deadline, "only {count} replicas listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pool.close().await;
    });
}

/// Cuts every replica's listening connection, waiting until each is gone.
fn cut_listeners(url: &str) -> i64 {
    on_database(url, async |pool, database| {
        let (cut,): (i64,) = sqlx::query_as(
            "SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity \
             WHERE application_name = 'docket-listener' AND datname = $1",
        )
        .bind(&database)
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        cut
    })
}

fn signal(server: &Server, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(i32::try_from(server.0.id()).unwrap()), signal).unwrap();
}

#[test]
fn a_replica_that_was_not_listening_catches_up_with_a_reload_once_it_listens_again() {
    use nix::sys::signal::Signal::{SIGCONT, SIGSTOP};
    let db = TestDatabase::create();
    let root = tempfile::tempdir().unwrap();
    let (one, two) = (folder(root.path(), "one", &db.url), folder(root.path(), "two", &db.url));
    let (_first, first) = serve(&one);
    let (second_server, second) = serve(&two);
    listening(&db.url, 2);
    let alice = token(&one, "alice");
    for dir in [&one, &two] {
        std::fs::write(dir.join("workflows/greet.yaml"), workflow("greet")).unwrap();
    }

    // The second replica is stopped while the listening connections are cut: the first listens
    // again at once, the second cannot, and the reload's announcement does not reach it.
    signal(&second_server, SIGSTOP);
    assert_eq!(cut_listeners(&db.url), 2, "each replica listens on one connection");
    listening(&db.url, 1);
    let out = reload(&one, &first, &alice);
    signal(&second_server, SIGCONT);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));

    // Listening again, it finds that another configuration is in force and follows it.
    let taken = wait_for_records(&second, &alice, "config.reloaded", 2);
    assert_eq!(
        wait_for_workflows(&second, &alice, &["greet", "hello"]),
        ["greet", "hello"],
        "the second replica caught up"
    );
    let by_alice = taken.iter().find(|r| r["actor"] == "alice").expect("alice's reload");
    let followed = taken.iter().find(|r| r["actor"] == "docket").expect("the catching-up reload");
    assert_eq!(followed["details"]["following"], by_alice["details"]["digest"], "{followed}");
    assert_eq!(followed["details"]["added"], serde_json::json!(["greet"]), "{followed}");
    // The first replica, which runs that configuration, recorded no reload when it listened again.
    listening(&db.url, 2);
    let reloads = reload_records(&first, &alice);
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    let said = std::fs::read_to_string(two.join("serve.log")).unwrap();
    assert!(said.contains("while this one was not listening"), "{said}");

    // A replica started after that reload, with files of its own (a rolling restart), is newer
    // than the reload: when the connections are cut again, nobody follows or refuses anything.
    let three = folder(root.path(), "three", &db.url);
    std::fs::write(three.join("workflows/later.yaml"), workflow("later")).unwrap();
    let (_third, _) = serve(&three);
    listening(&db.url, 3);
    assert_eq!(cut_listeners(&db.url), 3);
    listening(&db.url, 3);
    std::thread::sleep(Duration::from_millis(500));
    let reloads = reload_records(&first, &alice);
    assert_eq!(reloads.len(), 2, "{reloads:?}");
}

#[test]
fn a_replica_looks_for_a_reload_it_missed_before_it_first_listened() {
    let db = TestDatabase::create();
    let root = tempfile::tempdir().unwrap();
    let one = folder(root.path(), "one", &db.url);
    let (_first, first) = serve(&one);
    let alice = token(&one, "alice");
    std::fs::write(one.join("workflows/greet.yaml"), workflow("greet")).unwrap();
    let out = reload(&one, &first, &alice);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let digest = reload_records(&first, &alice)[0]["details"]["digest"].as_str().unwrap().to_owned();
    // The record of that reload is dated an hour ahead: as if it had been taken after the next
    // replica read its files and before it first listened (a moment no test can hit).
    on_database(&db.url, async |pool, _| {
        let moved = sqlx::query(
            "UPDATE surface_state SET value = $1 || '@' || \
             to_char(now() AT TIME ZONE 'UTC' + interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             WHERE scope = 'config' AND key = 'reloaded'",
        )
        .bind(&digest)
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(moved.rows_affected(), 1, "the reload is recorded");
        pool.close().await;
    });

    // The second replica's files lack that workflow: once it listens, it looks for the reload,
    // finds it newer than its own configuration, and refuses it, saying why.
    let two = folder(root.path(), "two", &db.url);
    let (_second, second) = serve(&two);
    let refused = wait_for_records(&second, &alice, "config.reload_refused", 1);
    assert_eq!(refused[0]["actor"], "docket", "{}", refused[0]);
    assert_eq!(refused[0]["details"]["code"], "differs", "{}", refused[0]);
    assert_eq!(refused[0]["details"]["following"], digest.as_str(), "{}", refused[0]);
    assert_eq!(workflows(&second, &alice), ["hello"], "the second replica's rules stay");
    let said = std::fs::read_to_string(two.join("serve.log")).unwrap();
    assert!(said.contains("while this one was not listening"), "{said}");
}

#[test]
fn a_reload_on_one_replica_reaches_the_other_unless_its_files_differ() {
    let db = TestDatabase::create();
    let root = tempfile::tempdir().unwrap();
    let (one, two) = (folder(root.path(), "one", &db.url), folder(root.path(), "two", &db.url));
    let (_first, first) = serve(&one);
    let (_second, second) = serve(&two);
    listening(&db.url, 2);
    let alice = token(&one, "alice");

    // Both copies gain a workflow; the first replica is told to reload.
    for dir in [&one, &two] {
        std::fs::write(dir.join("workflows/greet.yaml"), workflow("greet")).unwrap();
    }
    let out = reload(&one, &first, &alice);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(workflows(&first, &alice), ["greet", "hello"]);
    let taken = wait_for_records(&second, &alice, "config.reloaded", 2);
    assert_eq!(
        wait_for_workflows(&second, &alice, &["greet", "hello"]),
        ["greet", "hello"],
        "the second replica took it on"
    );
    let by_alice = taken.iter().find(|r| r["actor"] == "alice").expect("alice's reload");
    let followed = taken.iter().find(|r| r["actor"] == "docket").expect("the following reload");
    let digest = by_alice["details"]["digest"].clone();
    assert_eq!(followed["details"]["following"], digest, "{followed}");
    assert_eq!(followed["details"]["digest"], digest, "{followed}");
    assert_eq!(followed["details"]["added"], serde_json::json!(["greet"]), "{followed}");

    // Only the first copy gains another: the second keeps what it runs, and says why.
    std::fs::write(one.join("workflows/extra.yaml"), workflow("extra")).unwrap();
    let out = reload(&one, &first, &alice);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let refused = wait_for_records(&second, &alice, "config.reload_refused", 1);
    assert_eq!(refused[0]["actor"], "docket");
    assert_eq!(refused[0]["details"]["code"], "differs", "{}", refused[0]);
    let announced = audit(&first, &alice)
        .into_iter()
        .find(|r| r["action"] == "config.reloaded" && r["details"]["added"] == serde_json::json!(["extra"]))
        .expect("the second reload")["details"]["digest"]
        .clone();
    assert_eq!(refused[0]["details"]["following"], announced);
    assert_ne!(refused[0]["details"]["digest"], announced);
    assert_eq!(workflows(&first, &alice), ["extra", "greet", "hello"]);
    assert_eq!(workflows(&second, &alice), ["greet", "hello"], "the second replica's rules stay");
    let said = std::fs::read_to_string(two.join("serve.log")).unwrap();
    assert!(said.contains("files do not match") && said.contains("the running one stays"), "{said}");
}
