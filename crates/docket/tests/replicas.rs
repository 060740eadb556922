//! Three `docket serve` replicas on one PostgreSQL database with a fake Slack: requests and
//! approvals spread across them, one replica SIGKILLed mid-run and started again, then the
//! connections that listen for the other replicas cut mid-run. Every acknowledged ticket ends;
//! a step that is not `retry: safe` never ran twice and no two copies of a safe step ever ran at
//! once (counted from the steps' own side effects, with a lock each copy takes); every Slack
//! message exists once (edits allowed); a replica streams live the run another one executes;
//! the audit chain verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use docket_testkit::slack::{BOT_TOKEN, FakeSlack};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const REPLICAS: usize = 3;
/// How long the whole test may take before it gives up.
const BUDGET: Duration = Duration::from_secs(110);

/// A step that records each copy's start and end, and takes a lock for its ticket that a
/// second copy running at the same time could not get.
const STEP: &str = r#"#!/bin/sh
kind="$1"; pause="$2"
exec 9>"locks/$DOCKET_TICKET"
if ! flock -n 9; then echo "overlap $kind $DOCKET_TICKET" >> effects.log; fi
echo "start $kind $DOCKET_TICKET" >> effects.log
for i in 1 2 3; do echo "working on $DOCKET_TICKET ($i)"; sleep "$pause"; done
echo "end $kind $DOCKET_TICKET" >> effects.log
"#;

fn workflow(id: &str, pause: &str, safe: bool, dir: &Path) -> String {
    format!(
        "id: {id}\ntitle: {id}\nsteps:\n  - name: work\n    exec: {{ argv: [\"./step.sh\", \"{id}\", \"{pause}\"], cwd: \"{}\" }}\n{}",
        dir.display(),
        if safe { "    retry: safe\n" } else { "" }
    )
}

fn config(database: &str, slack: &str) -> String {
    format!(
        r#"server: {{ listen: 127.0.0.1:0 }}
storage: {{ url: "postgres://postgres@127.0.0.1:5432/{database}" }}
catalog: ./workflows
people:
  - {{ id: alice, name: Alice, slack: U0ALICE, groups: [dev] }}
  - {{ id: bob, name: Bob, slack: U0BOB, groups: [sre] }}
groups:
  - {{ id: dev }}
  - {{ id: sre }}
policies:
  - {{ name: gated, when: 'workflow.id == "gated"', stages: [{{ name: sre, from: [group:sre], count: 1 }}] }}
  - {{ name: rest, when: "true", auto_approve: true }}
slack:
  signing_secret: 8f742231b10e8888abcd99yyyzzz85a5
  bot_token: {BOT_TOKEN}
  api_url: {slack}
  approvals_channel: C0APPROVALS
"#
    )
}

/// A database made for this test and dropped after it.
struct Database {
    name: String,
}

impl Database {
    async fn create() -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("docket_replicas_{}_{nanos}", std::process::id());
        let admin = sqlx::PgPool::connect(ADMIN_URL).await.expect("PostgreSQL on 127.0.0.1:5432");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
        Self { name }
    }

    async fn pool(&self) -> sqlx::PgPool {
        let (server, _) = ADMIN_URL.rsplit_once('/').unwrap();
        sqlx::PgPool::connect(&format!("{server}/{}", self.name)).await.unwrap()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(ADMIN_URL).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// One replica: its process, port and base URL.
struct Replica {
    child: Child,
    port: u16,
    base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn docket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command.current_dir(dir).env("RUST_LOG", "warn").env_remove("DOCKET_CONFIG");
    command
}

fn spawn(dir: &Path, port: u16, n: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("replica-{n}.log"))).unwrap();
    docket(dir)
        .args(["serve", "--config", "docket.yaml", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{base} did not become ready");
}

fn token(dir: &Path, person: &str) -> String {
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", person]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Cluster {
    dir: PathBuf,
    replicas: Vec<Replica>,
    http: reqwest::Client,
    alice: String,
    bob: String,
    /// A replica killed and not started again yet.
    down: Option<usize>,
}

impl Cluster {
    /// The `n`th replica, round robin, passing over one that is down.
    fn base(&self, n: usize) -> &str {
        let mut at = n % REPLICAS;
        if Some(at) == self.down {
            at = (at + 1) % REPLICAS;
        }
        &self.replicas[at].base
    }

    async fn request(&self, n: usize, workflow: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/v1/tickets", self.base(n)))
            .bearer_auth(&self.alice)
            .json(&json!({ "workflow": workflow, "params": {} }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    async fn ticket(&self, n: usize, id: &str) -> Value {
        let url = format!("{}/api/v1/tickets/{id}", self.base(n));
        self.http.get(url).bearer_auth(&self.alice).send().await.unwrap().json().await.unwrap()
    }

    /// Waits until every ticket is in one of `states`; returns each one's state.
    async fn settle(&self, ids: &[String], states: &[&str], until: Instant) -> BTreeMap<String, String> {
        let mut settled = BTreeMap::new();
        let mut n = 0;
        while settled.len() < ids.len() {
            let open: Vec<&String> = ids.iter().filter(|id| !settled.contains_key(*id)).collect();
            for id in open {
                n += 1;
                let state = self.ticket(n, id).await["state"].as_str().unwrap_or_default().to_owned();
                if states.contains(&state.as_str()) {
                    settled.insert(id.clone(), state);
                }
            }
            if settled.len() < ids.len() {
                let waiting: Vec<_> = ids.iter().filter(|id| !settled.contains_key(*id)).take(5).collect();
                assert!(Instant::now() < until, "still waiting for {waiting:?} (of {})", ids.len() - settled.len());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        settled
    }

    /// Bob approves every gated ticket waiting for him, each on another replica.
    async fn approve_waiting(&self, ids: &[String], until: Instant) {
        let mut approved = BTreeSet::new();
        let mut n = 0;
        while approved.len() < ids.len() {
            let open: Vec<&String> = ids.iter().filter(|id| !approved.contains(*id)).collect();
            for id in open {
                n += 1;
                let ticket = self.ticket(n, id).await;
                if ticket["state"] != "awaiting_approval" {
                    continue;
                }
                let url = format!("{}/api/v1/tickets/{id}/approve", self.base(n));
                let body = json!({ "digest": ticket["digest"] });
                let response = self.http.post(url).bearer_auth(&self.bob).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
                approved.insert(id.clone());
            }
            assert!(Instant::now() < until, "gated tickets never waited for approval");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The replica whose worker holds `id`'s run, by the process id in its holder name.
    async fn runner_of(&self, pool: &sqlx::PgPool, id: &str, until: Instant) -> usize {
        loop {
            let holder: Option<Option<String>> = sqlx::query_scalar("SELECT holder FROM run_queue WHERE ticket = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .unwrap();
            if let Some(Some(holder)) = holder {
                let pid: u32 = holder.split('-').nth(1).unwrap().parse().unwrap();
                if let Some(n) = self.replicas.iter().position(|r| r.child.id() == pid) {
                    return n;
                }
            }
            assert!(Instant::now() < until, "{id} never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Follows `id`'s events on `base`: the log lines received and whether it ended.
async fn follow(http: reqwest::Client, base: String, token: String, id: String) -> (Vec<String>, bool) {
    let response = http.get(format!("{base}/api/v1/tickets/{id}/events")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let (mut text, mut lines, mut event) = (String::new(), Vec::new(), String::new());
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find('\n') {
                let line: String = text.drain(..=end).collect();
                let line = line.trim_end();
                if let Some(name) = line.strip_prefix("event: ") {
                    event = name.to_owned();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    if event == "log" {
                        let data: Value = serde_json::from_str(data).unwrap();
                        lines.push(data["text"].as_str().unwrap_or_default().to_owned());
                    }
                    if event == "end" {
                        return true;
                    }
                }
            }
        }
        false
    };
    let ended = tokio::time::timeout(Duration::from_secs(60), read).await.unwrap_or(false);
    (lines, ended)
}

/// The lines of the steps' side-effect log.
fn effects(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("effects.log")).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_a_kill_and_a_cut_listener_without_repeating_anything() {
    let until = Instant::now() + BUDGET;
    let slack = FakeSlack::start().await;
    let db = Database::create().await;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    std::fs::create_dir_all(dir.join("locks")).unwrap();
    for (id, pause, safe) in
        [("safe", "0.2", true), ("once", "0.2", false), ("gated", "0.05", true), ("live", "0.7", true)]
    {
        std::fs::write(dir.join(format!("workflows/{id}.yaml")), workflow(id, pause, safe, &dir)).unwrap();
    }
    std::fs::write(dir.join("docket.yaml"), config(&db.name, &slack.url())).unwrap();
    let script = dir.join("step.sh");
    std::fs::write(&script, STEP).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    // The first replica creates the schema; the others join it.
    let http = reqwest::Client::new();
    let mut replicas = Vec::new();
    for n in 0..REPLICAS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        replicas.push(Replica { child: spawn(&dir, port, n), port, base: base.clone() });
        wait_ready(&http, &base).await;
    }
    let (alice, bob) = (token(&dir, "alice"), token(&dir, "bob"));
    let mut cluster = Cluster { dir: dir.clone(), replicas, http, alice, bob, down: None };
    let pool = db.pool().await;

    // Live: a run on one replica is streamed by another.
    let live = cluster.request(0, "live").await;
    let runner = cluster.runner_of(&pool, &live, until).await;
    let watcher = (runner + 1) % REPLICAS;
    let watched = tokio::spawn(follow(
        cluster.http.clone(),
        cluster.base(watcher).to_owned(),
        cluster.alice.clone(),
        live.clone(),
    ));

    // Phase 1: a few hundred tickets spread across the replicas; one replica dies mid-run.
    let mut ids = Vec::new();
    let mut gated = Vec::new();
    let mut once = BTreeSet::new();
    for n in 0..240 {
        let workflow = match n % 6 {
            0 => "gated",
            1 => "once",
            _ => "safe",
        };
        let id = cluster.request(n, workflow).await;
        match workflow {
            "gated" => gated.push(id.clone()),
            "once" => {
                once.insert(id.clone());
            }
            _ => {}
        }
        ids.push(id);
    }
    let (lines, ended) = watched.await.unwrap();
    assert!(ended, "the stream on replica {watcher} never ended");
    assert_eq!(lines.iter().filter(|l| l.starts_with("working on")).count(), 3, "{lines:?}");

    let started = |dir: &Path| effects(dir).iter().filter(|l| l.starts_with("start")).count();
    while started(&cluster.dir) < 40 {
        assert!(Instant::now() < until, "steps never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let victim = 1;
    cluster.replicas[victim].child.kill().unwrap(); // SIGKILL, mid-run
    cluster.replicas[victim].child.wait().unwrap();
    cluster.down = Some(victim);
    let port = cluster.replicas[victim].port;
    cluster.approve_waiting(&gated[..gated.len() / 2], until).await;
    cluster.replicas[victim].child = spawn(&cluster.dir, port, victim + REPLICAS);
    cluster.down = None;
    wait_ready(&cluster.http, cluster.base(victim)).await;
    cluster.approve_waiting(&gated[gated.len() / 2..], until).await;

    // Phase 2: more work, and every replica's listening connection cut while it runs.
    let mut more = Vec::new();
    for n in 0..60 {
        more.push(cluster.request(n, "safe").await);
    }
    let second = cluster.request(2, "live").await;
    let runner = cluster.runner_of(&pool, &second, until).await;
    let watcher = (runner + 1) % REPLICAS;
    let watched = tokio::spawn(follow(
        cluster.http.clone(),
        cluster.base(watcher).to_owned(),
        cluster.alice.clone(),
        second.clone(),
    ));
    let cut: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = 'docket-listener' AND datname = current_database()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cut, REPLICAS as i64, "each replica listens on one connection");
    let (lines, ended) = watched.await.unwrap();
    assert!(ended, "the stream on replica {watcher} never ended after the cut");
    assert_eq!(lines.iter().filter(|l| l.starts_with("working on")).count(), 3, "{lines:?}");
    ids.extend(more);
    ids.push(live);
    ids.push(second);

    // Every acknowledged ticket ends; only a step that is not safe may end interrupted.
    let settled = cluster.settle(&ids, &["succeeded", "interrupted", "failed"], until).await;
    for (id, state) in &settled {
        match state.as_str() {
            "succeeded" => {}
            "interrupted" => assert!(once.contains(id), "{id} is safe to repeat yet ended interrupted"),
            other => panic!("{id} ended {other}"),
        }
    }
    let effects = effects(&cluster.dir);
    assert!(!effects.iter().any(|l| l.starts_with("overlap")), "two copies ran at once: {effects:#?}");
    let mut starts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in &effects {
        if let Some(rest) = line.strip_prefix("start once ") {
            *starts.entry(rest).or_default() += 1;
        }
    }
    assert!(starts.values().all(|n| *n == 1), "a step that is not safe ran twice: {starts:?}");
    let interrupted = settled.values().filter(|s| *s == "interrupted").count();

    // Each chat message exists once: messages are found by the key they are tagged with. (A
    // request approved before its notification went out is not posted at all: nobody needs to
    // be asked any more.)
    let quiet = Instant::now() + Duration::from_secs(3);
    while slack.messages().iter().any(|m| m.edits == 0) && Instant::now() < quiet {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    for message in slack.messages() {
        let key = message.metadata.as_ref().and_then(|m| m["event_payload"]["key"].as_str()).unwrap_or("untagged");
        *keys.entry(key.to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = keys.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "posted more than once: {twice:?}");
    let asked = gated.iter().filter(|id| keys.contains_key(&format!("copy:{id}:approvals:1:channel"))).count();
    assert!(asked >= gated.len() / 2, "only {asked} of {} approval requests reached Slack: {keys:?}", gated.len());
    assert!(!keys.contains_key("untagged"), "every message Docket posts is tagged: {keys:?}");

    let verified = docket(&cluster.dir).args(["audit", "verify", "--config", "docket.yaml"]).output().unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    eprintln!(
        "{} tickets across {REPLICAS} replicas: {interrupted} interrupted by the kill, {} chat messages, {} edits",
        settled.len(),
        slack.messages().len(),
        slack.messages().iter().map(|m| m.edits).sum::<usize>()
    );
}
