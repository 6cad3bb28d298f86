//! `--signer iam`: custom tokens signed through IAM Credentials `signBlob` with no key file,
//! against the local stand-in of the metadata server and IAM Credentials
//! (`google_standin.rs`) — Google's documented shapes, not Google itself. What firegate sends
//! is asserted, tokens are verified with the stand-in's public key, and each failure users
//! meet is checked for its status and log line.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, ServerProcess, keys_dir, project_id, send, shared_public_pem, verify_token,
};
use crate::google_standin::{
    EMAIL, GoogleStandIn, KEY_ID, google_error, permission_denied, service_disabled,
};

const PASSWORD: &str = "correct horse";

/// A `serve --signer iam` process over an empty keys directory, with the account
/// `kim@example.com` (created with the CLI's key settings, which only name the project).
struct IamServer {
    server: ServerProcess,
    standin: GoogleStandIn,
    home: tempfile::TempDir,
    _no_keys: tempfile::TempDir,
}

impl IamServer {
    async fn start(token_lifetime_secs: u64, extra: &[&str]) -> IamServer {
        let project = project_id();
        let standin = GoogleStandIn::start(&project, token_lifetime_secs).await;
        let home = tempfile::tempdir().unwrap();
        let no_keys = tempfile::tempdir().unwrap();
        let mut args = vec!["--keys-dir", no_keys.path().to_str().unwrap()];
        args.extend_from_slice(extra);
        // No project setting either: the metadata server names it.
        let mut env = standin.env(home.path());
        env.push(("FIREGATE_PROJECT_ID", String::new()));
        env.push((
            "FIREGATE_ADMIN_PASSWORD_HASH",
            crate::common::argon2id_hash(ADMIN_PASSWORD, 1024, 1).await,
        ));
        let server = ServerProcess::start_in(keys_dir(), project, &args, &[], &env).await;
        let created = server.command(
            &["accounts", "create", "--login", "kim@example.com"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        IamServer {
            server,
            standin,
            home,
            _no_keys: no_keys,
        }
    }

    /// Waits for the start-up probe, so the calls tests count are their own.
    async fn ready(&self) {
        self.server.wait_for_log("IAM signer ready").await;
    }

    async fn sign_in(&self) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(self.server.url("/login/"))
            .json(&json!({"email": "kim@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// A `firegate` command signing through the stand-in, run off the runtime's thread so
    /// the stand-in keeps answering.
    async fn command(&self, args: &[&str]) -> (bool, String, String) {
        let mut command =
            crate::common::firegate_command(self.server.keys.path(), &self.server.project);
        crate::common::set_env(&mut command, &self.standin.env(self.home.path()));
        command.args(args);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        crate::common::outcome(output)
    }
}

use crate::common::jwt_part as decode_part;

#[tokio::test]
async fn tokens_are_signed_by_iam_as_the_metadata_servers_account_without_a_key_file() {
    let iam = IamServer::start(3600, &[]).await;
    iam.ready().await;
    let metadata_before = iam.standin.metadata_requests();
    // No --service-account and no --project-id: both came from the metadata server.
    assert!(
        metadata_before.contains(&"email".to_string()),
        "{metadata_before:?}"
    );
    assert!(
        metadata_before.contains(&"project-id".to_string()),
        "{metadata_before:?}"
    );
    let calls_before = iam.standin.calls().len();

    let (status, body) = iam.sign_in().await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(decode_part(parts[0]), json!({"alg": "RS256", "typ": "JWT"}));
    let claims = verify_token(token, &iam.standin.public_pem).unwrap();
    assert_eq!(claims["iss"], EMAIL);
    assert_eq!(claims["sub"], EMAIL);
    assert_eq!(claims["uid"], body["uid"]);
    assert!(
        verify_token(token, &shared_public_pem()).is_err(),
        "a key file's key must not have signed"
    );

    // Exactly one signBlob for the sign-in, as the account, with the metadata server's
    // access token, over exactly `header.payload`.
    let calls = iam.standin.calls();
    assert_eq!(calls.len(), calls_before + 1);
    let call = calls.last().unwrap();
    assert_eq!(call.account, EMAIL);
    assert!(
        call.authorization
            .starts_with("Bearer standin-access-token-"),
        "{}",
        call.authorization
    );
    assert_eq!(
        call.payload,
        format!("{}.{}", parts[0], parts[1]).into_bytes()
    );

    // A warm sign-in makes no metadata call at all.
    let (status, _) = iam.sign_in().await;
    assert_eq!(status, 200);
    assert_eq!(iam.standin.metadata_requests(), metadata_before);
    assert_eq!(iam.standin.calls().len(), calls_before + 2);
}

#[tokio::test]
async fn the_usual_misconfigurations_answer_503_and_log_the_fix() {
    let iam = IamServer::start(3600, &[]).await;
    iam.ready().await;
    let cases = [
        (
            permission_denied(),
            "grant roles/iam.serviceAccountTokenCreator on",
        ),
        (
            service_disabled(),
            "gcloud services enable iamcredentials.googleapis.com --project 424242",
        ),
        (
            google_error(404, "NOT_FOUND", "Not found; Gaia id not found", None),
            "does not exist or is not visible",
        ),
    ];
    let calls_before = iam.standin.calls().len();
    for (answer, fix) in cases {
        iam.standin.fail_next([answer]);
        let (status, body) = iam.sign_in().await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "unavailable");
        assert!(body.get("token").is_none());
        let logs = iam.server.wait_for_log(fix).await;
        let line = logs.lines().rev().find(|l| l.contains(fix)).unwrap();
        assert!(line.contains(EMAIL), "the line names the account: {line}");
    }
    // None of them is retried: retrying a refusal only delays the answer.
    assert_eq!(iam.standin.calls().len(), calls_before + 3);
    // The access token never reaches the log.
    assert!(
        !iam.server
            .logs
            .lock()
            .unwrap()
            .contains("standin-access-token-")
    );
}

#[tokio::test]
async fn transient_failures_are_retried_and_a_refused_token_is_fetched_again() {
    let iam = IamServer::start(3600, &[]).await;
    iam.ready().await;
    let calls_before = iam.standin.calls().len();
    iam.standin.fail_next([
        google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", None),
        google_error(
            503,
            "UNAVAILABLE",
            "The service is currently unavailable.",
            None,
        ),
    ]);
    let (status, body) = iam.sign_in().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(iam.standin.calls().len(), calls_before + 3);

    // A 401 drops the cached access token: the retry carries a new one.
    let tokens_before = iam.standin.tokens_issued();
    iam.standin.fail_next([google_error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials.",
        None,
    )]);
    let (status, body) = iam.sign_in().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(iam.standin.tokens_issued(), tokens_before + 1);
    let calls = iam.standin.calls();
    let [.., refused, retried] = calls.as_slice() else {
        panic!("two calls expected")
    };
    assert_ne!(refused.authorization, retried.authorization);
    assert_eq!(
        retried.authorization,
        format!("Bearer standin-access-token-{}", tokens_before + 1)
    );
}

#[tokio::test]
async fn a_slow_iam_endpoint_is_cut_at_the_deadline_with_503() {
    let iam = IamServer::start(3600, &["--iam-deadline-secs", "2"]).await;
    // On a loaded machine the start-up probe itself may miss so short a deadline; either
    // outcome is fine here, as long as it is over before the latency changes.
    iam.server.wait_for_log("IAM signer").await;
    iam.standin.set_latency(Duration::from_secs(10));
    let (status, body) = iam.sign_in().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "unavailable");
    iam.server.wait_for_log("within 2000 ms").await;
    iam.standin.set_latency(Duration::ZERO);
    let mut recovered = false;
    for _ in 0..5 {
        if iam.sign_in().await.0 == 200 {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the signer recovers when IAM does");
}

#[tokio::test]
async fn an_expiring_access_token_is_replaced_before_it_expires() {
    // 241 s: google-cloud-auth refreshes 240 s before expiry, so after about a second.
    let iam = IamServer::start(241, &[]).await;
    iam.ready().await;
    iam.standin
        .wait_until("a second access token", |s| s.tokens_issued() >= 2)
        .await;
    let (status, body) = iam.sign_in().await;
    assert_eq!(status, 200, "{body}");
    let last = iam.standin.calls().last().unwrap().authorization.clone();
    assert_ne!(
        last, "Bearer standin-access-token-1",
        "the expiring token was still used"
    );
}

#[tokio::test]
async fn keys_check_verifies_the_iam_signature_with_googles_published_key() {
    let iam = IamServer::start(3600, &[]).await;
    let (ok, out, err) = iam.command(&["keys", "check"]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(EMAIL), "{out}");
    assert!(out.contains(KEY_ID), "{out}");
    assert!(out.contains("published key:    ok"), "{out}");

    iam.standin.fail_next([permission_denied()]);
    let (ok, _, err) = iam.command(&["keys", "check"]).await;
    assert!(!ok);
    assert!(
        err.contains("roles/iam.serviceAccountTokenCreator"),
        "{err}"
    );

    // Rotation is Google's with IAM: the commands say so instead of touching key state.
    let (ok, _, err) = iam.command(&["keys", "activate", "whatever"]).await;
    assert!(!ok);
    assert!(err.contains("does not apply to --signer iam"), "{err}");
    let (ok, out, _) = iam.command(&["keys", "list"]).await;
    assert!(ok);
    assert!(out.contains("signer: iam"), "{out}");
}

#[tokio::test]
async fn a_named_service_account_is_used_without_asking_the_metadata_server() {
    let other = "other@signer-project.iam.gserviceaccount.com";
    let iam = IamServer::start(3600, &["--service-account", other]).await;
    // The stand-in knows no such account: 404, named.
    iam.server.wait_for_log("IAM signer cannot sign").await;
    assert!(
        !iam.standin
            .metadata_requests()
            .contains(&"email".to_string())
    );
    let (status, _) = iam.sign_in().await;
    assert_eq!(status, 503);
    assert_eq!(iam.standin.calls().last().unwrap().account, other);
    iam.server
        .wait_for_log(&format!("service account {other} does not exist"))
        .await;
}

#[tokio::test]
async fn the_admin_api_shows_the_iam_signer_and_refuses_rotation() {
    let iam = IamServer::start(3600, &[]).await;
    iam.ready().await;
    let admin = |method: reqwest::Method, path: &str| {
        iam.server.admin(method, path).body(json!({}).to_string())
    };
    let (_, signer) = send(admin(reqwest::Method::GET, "/admin/api/signer")).await;
    assert_eq!(
        signer,
        json!({"signer": "iam", "service_account": EMAIL, "key_id": KEY_ID})
    );
    let (_, keys) = send(admin(reqwest::Method::GET, "/admin/api/keys")).await;
    assert_eq!(keys, json!([]));
    let refused = admin(reqwest::Method::POST, "/admin/api/keys/anything/activate")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let page = admin(reqwest::Method::GET, "/admin/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Signed through IAM Credentials as <code>runtime@signer-project"),
        "{page}"
    );
}

#[tokio::test]
async fn a_key_file_as_application_default_credentials_signs_through_iam() {
    // Off Google Cloud: GOOGLE_APPLICATION_CREDENTIALS names a service-account key, whose
    // self-signed JWT is the bearer token (google-cloud-auth signs it with the process's
    // TLS crypto provider).
    let iam = IamServer::start(3600, &[]).await;
    let mut command = crate::common::firegate_command(iam.server.keys.path(), &iam.server.project);
    crate::common::set_env(&mut command, &iam.standin.env(iam.home.path()));
    command
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            crate::common::shared_key(),
        )
        .args(["keys", "check", "--service-account", EMAIL]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let (ok, out, err) = crate::common::outcome(output);
    assert!(ok, "{out}{err}");
    let call = iam.standin.calls().last().unwrap().clone();
    assert!(
        call.authorization.starts_with("Bearer eyJ"),
        "a self-signed JWT: {}",
        call.authorization
    );
}
