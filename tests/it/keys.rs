//! Key rotation against the emulator: zero failed logins while the signing key changes,
//! refused activations that change nothing, broken key files, two instances switching
//! together, and the admin API's authentication.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

use firegate::service::Service;
use firegate::store::{Store, StoreOptions};

use crate::common::{
    ADMIN_PASSWORD, TestApp, cli_in, emulator_host, eventually, firegate_command, keys_dir,
    outcome, project_id, run_firegate, send, verify_token,
};

const EMAIL: &str = "firegate-dev@demo-firegate.iam.gserviceaccount.com";

/// A stand-in for Google's x509 endpoint, serving whatever certificates the test publishes.
#[derive(Clone, Default)]
struct Published(Arc<Mutex<HashMap<String, String>>>);

impl Published {
    async fn serve(&self) -> SocketAddr {
        let certs = self.0.clone();
        // Google's endpoint serves one service account per path; so does this stand-in, so
        // a request for any other address (a wrong URL) finds nothing.
        let app = axum::Router::new().route(
            "/{email}",
            get(
                move |axum::extract::Path(email): axum::extract::Path<String>| {
                    let certs = certs.clone();
                    async move {
                        if email == EMAIL {
                            Ok(axum::Json(certs.lock().unwrap().clone()))
                        } else {
                            Err(axum::http::StatusCode::NOT_FOUND)
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn publish(&self, kid: &str, certificate: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(kid.to_string(), certificate.to_string());
    }
}

/// Generates a key in `dir` the way an admin would, records a Google-style id, returns it.
fn new_key(dir: &Path, name: &str, project: &str) -> (String, String) {
    let files = firegate::keys::generate(dir, EMAIL, project, name).unwrap();
    let kid: String = (0..40)
        .map(|i| b"0123456789abcdef"[(i * 7 + name.len()) % 16] as char)
        .collect();
    firegate::keys::import_id(dir, name, &kid).unwrap();
    let certificate = std::fs::read_to_string(files.certificate_file).unwrap();
    (kid, certificate)
}

fn public_pem_of_certificate(certificate: &str) -> String {
    use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
    let spki = firegate::keys::certificate_spki_der(certificate).unwrap();
    rsa::PublicKey::from_public_key_der(&spki)
        .unwrap()
        .to_public_key_pem(Default::default())
        .unwrap()
}

async fn login_token(app: &TestApp) -> (u16, Option<String>) {
    let response = app
        .post_json(
            "/login/",
            json!({"email": "kim@example.com", "password": "password-1"}),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["token"].as_str().map(String::from))
}

/// A server started with one key, which then gets a second key file, as the runbook says.
async fn rotation_app(published: &Published) -> (TestApp, String, String) {
    let x509 = published.serve().await;
    let url = format!("http://{x509}");
    let app = TestApp::builder()
        .in_project(keys_dir(), &project_id())
        .x509_base_url(&url)
        .key_refresh_secs(1)
        .start()
        .await;
    app.service.refresh_keys().await;
    let (kid, certificate) = new_key(app.keys.path(), "next", "demo-firegate");
    app.service.refresh_keys().await;
    app.create("kim@example.com", "password-1").await;
    (app, kid, certificate)
}

#[tokio::test]
async fn activating_a_key_during_a_login_loop_fails_no_login() {
    let published = Published::default();
    let (app, new_kid, certificate) = rotation_app(&published).await;
    published.publish(&new_kid, &certificate);
    let old_kid = app.service.signer.key_ring().unwrap().active().kid.clone();
    let old_pem = crate::common::shared_public_pem();
    let new_pem = public_pem_of_certificate(&certificate);

    let app = Arc::new(app);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let looping = {
        let (app, stop, done) = (app.clone(), stop.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                seen.push(login_token(&app).await);
                done.fetch_add(1, Ordering::Relaxed);
            }
            seen
        })
    };
    // A few sign-ins with the old key, the switch, and a few with the new one.
    let signed = || done.load(Ordering::Relaxed);
    eventually("sign-ins before the switch", || async { signed() >= 3 }).await;
    let info = app
        .service
        .rotation()
        .unwrap()
        .activate(&new_kid, false, "test")
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(info.state).unwrap(), "active");
    let switched_at = signed();
    eventually("sign-ins after the switch", || async {
        signed() >= switched_at + 3
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let seen = looping.await.unwrap();
    assert!(
        seen.len() > switched_at,
        "the loop signed in after the switch"
    );

    assert!(
        seen.iter().all(|(status, _)| *status == 200),
        "a login failed during rotation"
    );
    let kids: Vec<String> = seen
        .iter()
        .map(|(_, t)| {
            jsonwebtoken::decode_header(t.as_ref().unwrap())
                .unwrap()
                .kid
                .unwrap()
        })
        .collect();
    let switch = kids
        .iter()
        .position(|k| *k == new_kid)
        .expect("tokens after activation use the new key");
    assert!(switch > 0, "tokens before activation use the old key");
    assert!(kids[..switch].iter().all(|k| *k == old_kid));
    assert!(
        kids[switch..].iter().all(|k| *k == new_kid),
        "no token after the switch uses the old key"
    );
    for ((_, token), kid) in seen.iter().zip(&kids) {
        let token = token.as_ref().unwrap();
        let (own, other) = if *kid == old_kid {
            (&old_pem, &new_pem)
        } else {
            (&new_pem, &old_pem)
        };
        assert!(
            verify_token(token, own).is_ok() && verify_token(token, other).is_err(),
            "{kid}"
        );
    }
}

async fn recorded(app: &TestApp) -> Option<firegate::keys::RecordedState> {
    app.service
        .store
        .recorded_key_state()
        .await
        .unwrap()
        .map(|(state, _)| state)
}

/// Writes `text` as a key file of `dir` with the mode key files must have.
fn write_key_file(dir: &Path, name: &str, text: &[u8]) {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

#[tokio::test]
async fn refused_activations_leave_signing_unchanged() {
    let published = Published::default();
    let (app, unpublished_kid, certificate) = rotation_app(&published).await;
    let dir = app.keys.path();
    let active = app.service.signer.key_ring().unwrap().active().kid.clone();
    let (other_project_kid, other_certificate) = new_key(dir, "other", "some-other-project");
    published.publish(&other_project_kid, &other_certificate);
    firegate::keys::generate(dir, EMAIL, "demo-firegate", "pending").unwrap();
    // A file that never loaded, though it names its key id.
    let broken_kid = "b".repeat(40);
    write_key_file(
        dir,
        "broken.json",
        format!("{{\"type\": \"service_account\", \"private_key_id\": \"{broken_kid}\"}}")
            .as_bytes(),
    );
    // A published key whose file broke after it loaded: the ring keeps its last good copy,
    // but a restarted instance could not load it.
    let (corrupted_kid, corrupted_certificate) = new_key(dir, "corrupted", "demo-firegate");
    published.publish(&corrupted_kid, &corrupted_certificate);
    app.service.refresh_keys().await;
    assert!(
        app.service
            .signer
            .key_ring()
            .unwrap()
            .get(&corrupted_kid)
            .is_some()
    );
    std::fs::write(dir.join("corrupted.json"), b"{\"truncated").unwrap();
    app.service.refresh_keys().await;
    assert!(
        app.service
            .signer
            .key_ring()
            .unwrap()
            .get(&corrupted_kid)
            .is_some(),
        "last good copy kept"
    );
    let pending_kid = app
        .service
        .rotation()
        .unwrap()
        .list()
        .into_iter()
        .find(|k| k.kid.starts_with("pending-"))
        .unwrap()
        .kid;
    let before = recorded(&app)
        .await
        .expect("the first refresh recorded the key");
    assert_eq!(before.active.as_deref(), Some(active.as_str()));

    let rotation = app.service.rotation().unwrap();
    for (kid, why) in [
        (unpublished_kid.as_str(), "does not publish"),
        (
            other_project_kid.as_str(),
            "belongs to project `some-other-project`",
        ),
        (pending_kid.as_str(), "no Google key id yet"),
        (
            broken_kid.as_str(),
            "broken.json: field `project_id` is missing",
        ),
        (
            corrupted_kid.as_str(),
            "corrupted.json: not a JSON service-account key",
        ),
        ("nope", "no key `nope`"),
    ] {
        let err = rotation
            .activate(kid, false, "test")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{kid}: {err}");
        assert_eq!(
            app.service.signer.key_ring().unwrap().active().kid,
            active,
            "{kid} changed the signing key"
        );
        assert_eq!(
            recorded(&app).await.as_ref(),
            Some(&before),
            "{kid} was recorded"
        );
    }
    // --force skips the publication check only.
    for kid in [&broken_kid, &corrupted_kid] {
        let err = rotation.activate(kid, true, "test").await.unwrap_err();
        assert!(err.to_string().contains("has a problem"), "{err}");
    }
    assert_eq!(recorded(&app).await.as_ref(), Some(&before));
    let err = rotation
        .retire(&active, "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is the active key"), "{err}");
    assert_eq!(recorded(&app).await.as_ref(), Some(&before));

    rotation
        .activate(&unpublished_kid, true, "test")
        .await
        .unwrap();
    assert_eq!(
        app.service.signer.key_ring().unwrap().active().kid,
        unpublished_kid
    );
    let (status, token) = login_token(&app).await;
    assert_eq!(status, 200);
    let token = token.unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some(unpublished_kid.as_str())
    );
    assert!(verify_token(&token, &public_pem_of_certificate(&certificate)).is_ok());
    rotation.retire(&active, "test").await.unwrap();
    let err = rotation
        .activate(&active, true, "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("retired"), "{err}");
    let listed: HashMap<String, Value> = rotation
        .list()
        .into_iter()
        .map(|k| (k.kid.clone(), serde_json::to_value(k.state).unwrap()))
        .collect();
    assert_eq!(listed[&active], "retired");
    assert_eq!(listed[&unpublished_kid], "active");
    assert_eq!(listed[&broken_kid], "broken");
    assert_eq!(
        listed[&corrupted_kid], "next",
        "last good copy, with its problem"
    );
}

/// Builds a server's service on `keys` for `project`, as `firegate serve` would.
async fn build_in(keys: &Path, project: &str) -> Result<Arc<Service>, String> {
    crate::common::build_service(keys, project, &[]).await
}

/// Starts a server's service as `firegate serve` does: the recorded key state still being read.
async fn start_in(keys: &Path, project: &str) -> (Arc<Service>, firegate::service::Settling) {
    Service::start(crate::common::serve_options(keys, project, &[]))
        .await
        .unwrap()
}

/// Signs in the account `rotation_app` creates, straight through the service.
async fn sign_in_kim(service: &Arc<Service>) -> firegate::Result<firegate::service::SignedIn> {
    let password = firegate::passwords::Password::new("password-1".into()).unwrap();
    match service
        .sign_in("kim@example.com", &password, None, jiff::Timestamp::now())
        .await?
    {
        firegate::service::SignInOutcome::SignedIn(signed_in) => Ok(signed_in),
        other => panic!("kim has no second factor: {other:?}"),
    }
}

/// Runs `firegate` off the runtime's thread, so this test's stand-in servers keep answering.
/// A Firestore client for `project`, reading the record without any key ring.
async fn store_for(keys: &Path, project: &str) -> Store {
    let _ = keys;
    Store::connect(
        project.into(),
        StoreOptions {
            emulator_host: Some(emulator_host()),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_server_never_starts_signing_with_a_key_the_record_does_not_make_active() {
    let published = Published::default();
    let (app, new_kid, certificate) = rotation_app(&published).await;
    let url = format!("http://{}", published.serve().await);
    let project = app.project();
    let old_kid = app.service.signer.key_ring().unwrap().active().kid.clone();
    let store = store_for(app.keys.path(), &project).await;
    let before = store.recorded_key_state().await.unwrap().unwrap().0;

    // A new secret version mounted in place of the active key's file: only the new key here.
    let replaced = tempfile::tempdir().unwrap();
    std::fs::copy(
        app.keys.path().join("next.json"),
        replaced.path().join("sa.json"),
    )
    .unwrap();
    let err = build_in(replaced.path(), &project).await.err().unwrap();
    assert!(
        err.contains(&format!("records {old_kid} as the active signing key"))
            && err.contains(&format!("{new_kid} (next)"))
            && err.contains("firegate keys activate"),
        "{err}"
    );
    // A server serves while it reads the record: a sign-in sent meanwhile is checked, then
    // refused as unavailable, never signed with the key the record does not make active.
    let (service, settling) = start_in(replaced.path(), &project).await;
    let signed = sign_in_kim(&service).await;
    assert!(
        matches!(&signed, Err(firegate::Error::StartUp(why)) if why.to_string().contains("records")),
        "{:?}",
        signed.map(|s| s.uid)
    );
    let failed = settling.finished().await.err().unwrap().to_string();
    assert!(
        failed.contains(&format!("records {old_kid} as the active signing key")),
        "{failed}"
    );
    assert!(matches!(
        service.ready().await,
        Err(firegate::Error::StartUp(_))
    ));
    // `firegate serve` itself, which binds and serves before the read: it stops, saying why.
    let mut serve = tokio::process::Command::from(firegate_command(replaced.path(), &project));
    serve
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let stopped = tokio::time::timeout(
        Duration::from_secs(60),
        serve.spawn().unwrap().wait_with_output(),
    )
    .await
    .expect("`firegate serve` kept serving after its start-up failed")
    .unwrap();
    let (ok, _, err) = outcome(stopped);
    assert!(
        !ok && err.contains(&format!("records {old_kid} as the active signing key"))
            && !err.contains("listening"),
        "{err}"
    );
    // With the record's key here, a sign-in sent as soon as the service starts signs with the
    // recorded key.
    let (service, settling) = start_in(app.keys.path(), &project).await;
    let token = sign_in_kim(&service).await.unwrap().token;
    settling.finished().await.unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(old_kid.as_str()));
    // Mounting the new key as an additional file starts, signing with the recorded key.
    std::fs::copy(
        app.keys.path().join("key.json"),
        replaced.path().join("old.json"),
    )
    .unwrap();
    assert_eq!(
        build_in(replaced.path(), &project)
            .await
            .unwrap()
            .signer
            .key_ring()
            .unwrap()
            .active()
            .kid,
        old_kid
    );
    assert_eq!(store.recorded_key_state().await.unwrap().unwrap().0, before);

    // The other way out: activate the new key from a directory holding only it.
    std::fs::remove_file(replaced.path().join("old.json")).unwrap();
    published.publish(&new_kid, &certificate);
    let (ok, out, err) = cli_in(
        replaced.path(),
        &project,
        &["keys", "activate", &new_kid, "--x509-base-url", &url],
        None,
    )
    .await;
    assert!(ok && out.contains("is now the signing key"), "{err}");
    let started = build_in(replaced.path(), &project).await.unwrap();
    assert_eq!(started.signer.key_ring().unwrap().active().kid, new_kid);

    // Once retired, a lone old key never signs again.
    app.service.refresh_keys().await;
    app.service
        .rotation()
        .unwrap()
        .retire(&old_kid, "test")
        .await
        .unwrap();
    let old_only = tempfile::tempdir().unwrap();
    std::fs::copy(
        app.keys.path().join("key.json"),
        old_only.path().join("sa.json"),
    )
    .unwrap();
    let err = build_in(old_only.path(), &project).await.err().unwrap();
    assert!(
        err.contains(&format!("records {new_kid} as the active signing key"))
            && err.contains(&format!("{old_kid} (retired)")),
        "{err}"
    );
}

#[tokio::test]
async fn a_broken_key_file_stops_start_up_only_when_it_holds_the_active_key() {
    let keys = keys_dir();
    write_key_file(keys.path(), "garbage.json", b"not a key");
    let project = project_id();
    let app = TestApp::builder().in_project(keys, &project).start().await;
    app.service.refresh_keys().await;
    app.create("kim@example.com", "password-1").await;
    assert_eq!(login_token(&app).await.0, 200);
    let active = app.service.signer.key_ring().unwrap().active().kid.clone();

    // The admin API and page list what the ring lists: the broken file with its problem.
    let listed = app.service.rotation().unwrap().list();
    let broken = listed
        .iter()
        .find(|k| k.file.ends_with("garbage.json"))
        .expect("the broken file is listed");
    assert_eq!(serde_json::to_value(broken.state).unwrap(), "broken");
    assert!(
        broken
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("garbage.json: not a JSON")),
        "{listed:?}"
    );
    let (ok, out, err) = outcome(run_firegate(
        app.keys.path(),
        &project,
        &["keys", "list"],
        None,
    ));
    assert!(ok, "{err}");
    assert!(
        out.contains("broken") && out.contains("garbage.json: not a JSON"),
        "{out}"
    );

    // The active key's own file broken: start-up names it.
    let damaged = tempfile::tempdir().unwrap();
    write_key_file(
        damaged.path(),
        "sa.json",
        format!("{{\"type\": \"service_account\", \"private_key_id\": \"{active}\"}}").as_bytes(),
    );
    let (next_kid, _) = new_key(damaged.path(), "next", "demo-firegate");
    let err = build_in(damaged.path(), &project).await.err().unwrap();
    assert!(
        err.contains(&format!("sa.json: holds {active}"))
            && err.contains("`project_id` is missing")
            && !err.contains(&format!("records {next_kid}")),
        "{err}"
    );
}

#[tokio::test]
async fn the_keys_cli_repairs_a_deployment_without_an_active_key_and_listing_only_reads() {
    let published = Published::default();
    let url = format!("http://{}", published.serve().await);
    let keys = keys_dir();
    let project = project_id();
    let (second_kid, certificate) = new_key(keys.path(), "second", "demo-firegate");
    published.publish(&second_kid, &certificate);
    let store = store_for(keys.path(), &project).await;

    // Two keys and nothing recorded: a server refuses to guess, and says what to run.
    let err = build_in(keys.path(), &project).await.err().unwrap();
    assert!(err.contains("firegate keys activate <kid>"), "{err}");

    let run = |args: &'static [&'static str]| cli_in(keys.path(), &project, args, None);
    let (ok, table, err) = run(&["keys", "list"]).await;
    assert!(ok, "{err}");
    assert!(err.contains("no key is active"), "{err}");
    let (ok, out, err) = run(&["keys", "list", "--json"]).await;
    assert!(ok, "{err}");
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.len(), 2);
    for key in &listed {
        assert_eq!(key["state"], "next", "{out}");
        let fingerprint = key["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 64);
        assert!(table.contains(fingerprint), "whole fingerprint: {table}");
    }
    assert!(
        store.recorded_key_state().await.unwrap().is_none(),
        "keys list wrote to Firestore"
    );
    let (ok, _, err) = cli_in(
        keys.path(),
        &project,
        &["keys", "retire", &second_kid],
        None,
    )
    .await;
    assert!(!ok && err.contains("no key is active yet"), "{err}");
    assert!(store.recorded_key_state().await.unwrap().is_none());

    let (ok, _, err) = cli_in(
        keys.path(),
        &project,
        &["keys", "activate", &second_kid, "--x509-base-url", &url],
        None,
    )
    .await;
    assert!(ok, "{err}");
    let recorded = store.recorded_key_state().await.unwrap().unwrap().0;
    assert_eq!(recorded.active.as_deref(), Some(second_kid.as_str()));
    assert_eq!(recorded.project.as_deref(), Some("demo-firegate"));
    assert!(recorded.changed_by.starts_with("cli:"), "{recorded:?}");
    let service = build_in(keys.path(), &project).await.unwrap();
    assert_eq!(service.signer.key_ring().unwrap().active().kid, second_kid);
}

#[tokio::test]
async fn a_key_file_corrupted_at_runtime_does_not_stop_signing() {
    let app = TestApp::builder().key_refresh_secs(1).start().await;
    app.create("kim@example.com", "password-1").await;
    let kid = app.service.signer.key_ring().unwrap().active().kid.clone();
    let file = app.keys.path().join("key.json");
    std::fs::write(&file, b"garbage, not a key").unwrap();
    app.service.refresh_keys().await;
    let (status, token) = login_token(&app).await;
    assert_eq!(status, 200);
    assert_eq!(
        jsonwebtoken::decode_header(token.unwrap())
            .unwrap()
            .kid
            .unwrap(),
        kid
    );
    let listed = app.service.rotation().unwrap().list();
    assert!(
        listed[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("not a JSON")),
        "{listed:?}"
    );

    std::fs::remove_file(&file).unwrap();
    app.service.refresh_keys().await;
    assert_eq!(
        login_token(&app).await.0,
        200,
        "a removed active key file keeps signing"
    );
}

#[tokio::test]
async fn two_instances_sharing_firestore_switch_keys_together() {
    let published = Published::default();
    let x509 = published.serve().await;
    let url = format!("http://{x509}");
    let project = project_id();
    let flags = ["--x509-base-url", url.as_str(), "--key-refresh-secs", "1"];
    let first = TestApp::builder()
        .in_project(keys_dir(), &project)
        .flags(&flags)
        .start()
        .await;
    let second = TestApp::builder()
        .in_project(keys_dir(), &project)
        .flags(&flags)
        .start()
        .await;
    first.service.refresh_keys().await;
    // The new key reaches both instances' key directories (e.g. a new secret version).
    let (new_kid, certificate) = new_key(first.keys.path(), "next", "demo-firegate");
    for name in ["next.json", "next.crt"] {
        std::fs::copy(first.keys.path().join(name), second.keys.path().join(name)).unwrap();
    }
    published.publish(&new_kid, &certificate);
    first.create("kim@example.com", "password-1").await;

    first
        .service
        .rotation()
        .unwrap()
        .activate(&new_kid, false, "test")
        .await
        .unwrap();
    eventually("the second instance switches to the new key", || async {
        let (status, token) = login_token(&second).await;
        assert_eq!(status, 200);
        jsonwebtoken::decode_header(token.unwrap())
            .unwrap()
            .kid
            .unwrap()
            == new_kid
    })
    .await;
    assert_eq!(
        second.service.signer.key_ring().unwrap().active().kid,
        new_kid,
        "the second instance's ring has the new key active"
    );
}

#[tokio::test]
async fn the_admin_api_requires_the_configured_credential() {
    let plain = TestApp::start().await;
    let response = plain
        .http
        .get(plain.url("/admin/api/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "off without a credential");

    let published = Published::default();
    let x509 = published.serve().await;
    let url = format!("http://{x509}");
    let app = TestApp::builder()
        .in_project(keys_dir(), &project_id())
        .x509_base_url(&url)
        .admin()
        .start()
        .await;
    app.service.refresh_keys().await;
    let (new_kid, certificate) = new_key(app.keys.path(), "next", "demo-firegate");
    published.publish(&new_kid, &certificate);
    let active = app.service.signer.key_ring().unwrap().active().kid.clone();
    // By the name it was generated with (`keys generate --name next`), as the CLI takes it;
    // the e2e suite activates by key id.
    let activate = app.url("/admin/api/keys/next/activate");
    for (user, password) in [
        (None, None),
        (Some("admin"), Some("wrong")),
        (Some("root"), Some(ADMIN_PASSWORD)),
    ] {
        // JSON, as the admin page sends it: the gate refuses other posts before authenticating.
        let mut request = app
            .http
            .post(&activate)
            .header("content-type", "application/json");
        if let Some(user) = user {
            request = request.basic_auth(user, password);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{user:?}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
    }
    assert_eq!(
        app.service.signer.key_ring().unwrap().active().kid,
        active,
        "nothing changed"
    );

    let (_, keys) = send(app.admin(Method::GET, "/admin/api/keys")).await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let page = app.admin(Method::GET, "/admin/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<progress id=\"migration\"") && html.contains(&new_kid));

    let response = app
        .admin(Method::POST, "/admin/api/keys/next/activate")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let activated: Value = response.json().await.unwrap();
    assert_eq!(activated["kid"], json!(new_kid));
    assert_eq!(app.service.signer.key_ring().unwrap().active().kid, new_kid);
    let recorded = app
        .service
        .store
        .recorded_key_state()
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(recorded.changed_by, "admin:admin");
}

#[tokio::test]
async fn the_keys_cli_generates_records_lists_and_refuses_clearly() {
    let app = TestApp::start().await;
    app.service.refresh_keys().await;
    let project = app.project();
    let run = |args: &[&str]| outcome(run_firegate(app.keys.path(), &project, args, None));
    let (ok, out, err) = run(&["keys", "generate", "--client-email", EMAIL, "--name", "n1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "gcloud iam service-accounts keys upload {}",
            app.keys.path().join("n1.crt").display()
        )),
        "{out}"
    );
    assert!(out.contains(&format!("--iam-account={EMAIL}")), "{out}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(app.keys.path().join("n1.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(app.keys.path().join("n1.crt"))
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );

    let (ok, out, _) = run(&["keys", "list", "--json"]);
    assert!(ok);
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    let states: Vec<&str> = listed
        .iter()
        .map(|k| k["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "pending").count(),
        1,
        "{out}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == "active").count(),
        1,
        "{out}"
    );
    assert!(
        listed
            .iter()
            .all(|k| k["fingerprint"].as_str().unwrap().len() == 64)
    );
    assert!(!out.contains("PRIVATE KEY"));

    let (ok, _, err) = run(&["keys", "import-id", "n1", "not-a-key-id"]);
    assert!(!ok && err.contains("40 hexadecimal"), "{err}");
    let kid = "0123456789abcdef0123456789abcdef01234567";
    let (ok, _, err) = run(&["keys", "import-id", "n1", kid]);
    assert!(ok, "{err}");
    let (_, out, _) = run(&["keys", "list", "--json"]);
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(
        listed
            .iter()
            .any(|k| k["kid"] == kid && k["state"] == "next"),
        "{out}"
    );

    let before = app.service.store.recorded_key_state().await.unwrap();
    assert!(before.is_some());
    let (ok, _, err) = run(&["keys", "activate", "nope"]);
    assert!(!ok && err.contains("no key `nope`"), "{err}");
    // By the --name it was generated with.
    let (ok, _, err) = run(&[
        "keys",
        "activate",
        "n1",
        "--x509-base-url",
        "http://127.0.0.1:9",
    ]);
    assert!(
        !ok && err.contains("cannot fetch") && err.contains("--force"),
        "unpublished without --force: {err}"
    );
    let (ok, _, err) = run(&["keys", "import-id", "n1", &"c".repeat(40)]);
    assert!(!ok && err.contains("already has its key id"), "{err}");
    assert_eq!(
        app.service.store.recorded_key_state().await.unwrap(),
        before,
        "a refused activation changed the recorded state"
    );
}
