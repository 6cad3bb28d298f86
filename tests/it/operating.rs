//! The log-based metrics of the book's "Operating" page (`deploy/metrics/*.yaml`) read fields of
//! firegate's JSON log lines; `deploy/log-fields.txt` lists them. A real `firegate serve` with
//! Cloud Logging JSON logs signs a legacy account in (its hash is upgraded), then fails until
//! the login locks, and every listed message and field must appear in what it wrote. The two
//! graduation lines need the Firebase Auth bridge's emulator and are checked in its source.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{ServerProcess, firegate_command};
use crate::import::{HASH, PASSWORD};

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `(message, field)` pairs of `deploy/log-fields.txt`: the field is the last word.
fn listed_fields() -> Vec<(String, String)> {
    repo("deploy/log-fields.txt")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (message, field) = line.trim().rsplit_once(' ').unwrap();
            (message.to_string(), field.to_string())
        })
        .collect()
}

/// The field as a log line holds it: `http_request.x` is Cloud Logging's `httpRequest.x`.
fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    match name.strip_prefix("http_request.") {
        Some(key) => line.get("httpRequest")?.get(key),
        None => line.get(name),
    }
}

#[test]
fn every_field_a_metric_reads_is_listed() {
    let listed: BTreeSet<String> = listed_fields()
        .into_iter()
        .map(|(_, field)| field.replace("http_request.", "httpRequest."))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/metrics");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in text.split(['(', ')', ' ', '\n', '=', '"', ',']) {
            let name = match part.split_once("jsonPayload.") {
                Some((_, name)) => name.to_string(),
                None if part.starts_with("httpRequest.") => part.to_string(),
                None => continue,
            };
            read += 1;
            assert!(
                listed.contains(&name),
                "{name} is read by a metric but not in deploy/log-fields.txt"
            );
        }
    }
    assert!(read >= 7, "{read}");
}

#[tokio::test]
async fn the_metrics_fields_are_in_the_json_logs() {
    let server = ServerProcess::start(&["--lockout-threshold", "2"], &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, format!("id,username,password\n7,kim,{HASH}\n")).unwrap();
    let imported = firegate_command(server.keys.path(), &server.project)
        .args(["import", csv.to_str().unwrap(), "--dialect", "werkzeug"])
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");

    let client = reqwest::Client::new();
    let sign_in = |password: &str| {
        client
            .post(format!("http://{}/login/", server.addr))
            .json(&serde_json::json!({"username": "kim", "password": password}))
            .send()
    };
    assert_eq!(sign_in(PASSWORD).await.unwrap().status(), 200);
    for _ in 0..3 {
        sign_in("wrong").await.unwrap();
    }
    server
        .wait_for_log("login locked after repeated failures")
        .await;

    let logs = server.logs.lock().unwrap().clone();
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let source = repo("src/service/bridge/hooks.rs");
    for (message, name) in listed_fields() {
        if message.contains("graduated") {
            // Logged by the bridge: the message and the field are written together there.
            assert!(source.contains(&format!("\"{message}\"")), "{message}");
            assert!(
                name == "message" || source.contains(&name),
                "{message} {name}"
            );
            continue;
        }
        let found = lines
            .iter()
            .filter(|line| line["message"] == message.as_str())
            .any(|line| field(line, &name).is_some());
        assert!(found, "no `{message}` line with `{name}` in:\n{logs}");
    }
}
