//! The server's logs: Cloud Logging JSON with the request and its trace, one `sign-in` line per
//! attempt naming the account but never the login, and no secret anywhere.

use std::io::Write;

use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, ServerProcess};

#[tokio::test]
async fn logs_are_cloud_logging_json_and_hold_no_secret() {
    let hash_path = ADMIN_PASSWORD;
    let admin_hash = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_firegate"))
            .args(["admin", "hash-password"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{hash_path}\n").as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let server = ServerProcess::start(&["--admin-password-hash", &admin_hash], &[]).await;
    let client = reqwest::Client::new();
    let secrets = [
        "Sup3r-secret-password",
        "N3w-secret-password",
        "wrong-secret-guess",
    ];
    let created = server.command(
        &["accounts", "create", "--login", "kim@example.com"],
        Some(&format!("{}\n", secrets[0])),
    );
    assert!(created.status.success());
    let login = client
        .post(server.url("/login/"))
        .header(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1",
        )
        .json(&json!({"email": "kim@example.com", "password": secrets[0]}))
        .send()
        .await
        .unwrap();
    let signed_in = login.json::<Value>().await.unwrap();
    let token = signed_in["token"].as_str().unwrap().to_string();
    let uid = signed_in["uid"].as_str().unwrap().to_string();
    let wrong = client
        .post(server.url("/login/"))
        .json(&json!({"email": "kim@example.com", "password": secrets[2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let register = client
        .post(server.url("/register/"))
        .json(&json!({"email": "new@example.com", "password": secrets[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let change = client
        .post(server.url("/password/"))
        .json(&json!({"email": "kim@example.com", "password": secrets[0], "new_password": secrets[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 204);
    let keys = server
        .admin(reqwest::Method::GET, "/admin/api/keys")
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), 200);

    let logs = server.wait_for_log("/admin/api/keys").await;
    let key_file: Value =
        serde_json::from_slice(&std::fs::read(server.keys.path().join("key.json")).unwrap())
            .unwrap();
    let key_body: String = key_file["private_key"]
        .as_str()
        .unwrap()
        .lines()
        .nth(5)
        .unwrap()
        .to_string();
    let stored = server.command(&["accounts", "show", "--login", "kim@example.com"], None);
    assert!(stored.status.success());
    for secret in secrets.iter().copied().chain([
        hash_path,
        token.as_str(),
        &token[token.len() - 40..],
        key_body.as_str(),
        "$argon2id$",
        admin_hash.as_str(),
    ]) {
        assert!(
            !logs.contains(secret),
            "the logs contain a secret ({} chars)",
            secret.len()
        );
    }

    let entries: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        entries.iter().all(|e| e["severity"].is_string()
            && e["message"].is_string()
            && e["time"].is_string())
    );
    let traced = entries
        .iter()
        .find(|e| e["httpRequest"]["requestUrl"] == "/login/" && e["httpRequest"]["status"] == 200)
        .expect("an access-log entry for the login");
    assert_eq!(traced["httpRequest"]["requestMethod"], "POST");
    assert!(
        traced["httpRequest"]["latency"]
            .as_str()
            .unwrap()
            .ends_with('s')
    );
    assert_eq!(
        traced["logging.googleapis.com/trace"],
        format!(
            "projects/{}/traces/105445aa7843bc8bf206b12000100000",
            server.project
        )
    );
    // One line per sign-in attempt (the password change checks a password but signs no one
    // in), each naming the account and neither holding the login, which may be a password
    // typed into the wrong field.
    let attempts: Vec<&Value> = entries
        .iter()
        .filter(|e| e["message"] == "sign-in")
        .collect();
    let outcomes: Vec<(&str, Option<&str>)> = attempts
        .iter()
        .map(|e| (e["outcome"].as_str().unwrap(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("success", None), ("failure", Some("wrong_password"))]
    );
    for attempt in attempts {
        assert_eq!(attempt["uid"], uid.as_str(), "{attempt}");
        assert!(!attempt.to_string().contains("kim@"), "{attempt}");
    }
    let admin = entries
        .iter()
        .find(|e| e["httpRequest"]["requestUrl"] == "/admin/api/keys")
        .expect("an access-log entry for the admin API");
    assert_eq!(admin["httpRequest"]["status"], 200);
}
