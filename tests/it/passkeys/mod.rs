//! Passkeys over HTTP with a software authenticator ([`authenticator`]): registration with
//! a Firebase ID token, passwordless sign-in (discoverable, or narrowed to a login with
//! stable decoys for an unknown one), the second step after a password, and what is
//! refused: a counter that goes backwards, a foreign origin, a replayed ceremony, an unknown
//! credential, a disabled account.

mod authenticator;

use firegate::lockout::LockoutKey;
use serde_json::{Value, json};

use crate::common::{TestApp, TestAppBuilder, keys_dir, project_id, send, verify_token};
use crate::google_standin::GoogleStandIn;
use authenticator::SoftAuthenticator;

const PW: &str = "correct horse battery";
const ORIGIN: &str = "https://app.example.com";

/// A server with passkeys for `example.com` (origin [`ORIGIN`]) and ID tokens from the
/// stand-in's securetoken key.
pub struct PasskeyApp {
    pub app: TestApp,
    google: GoogleStandIn,
}

pub async fn spawn(builder: TestAppBuilder) -> PasskeyApp {
    let project = project_id();
    let google = GoogleStandIn::start(&project, 3600).await;
    let app = builder
        .in_project(keys_dir(), &project)
        .id_token_certs_url(&google.securetoken_url())
        .flags(&[
            "--webauthn-rp-id",
            "example.com",
            "--webauthn-origin",
            ORIGIN,
        ])
        .start()
        .await;
    PasskeyApp { app, google }
}

impl PasskeyApp {
    /// An ID token of `uid` signed in just now.
    pub fn id_token(&self, uid: &str) -> String {
        self.google
            .signed_in(self.app.service.id_token_project(), uid)
    }

    /// A request with `Authorization: Bearer <token>`: status and JSON body.
    pub async fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// Registers `authenticator` for `uid` through the routes: the stored passkey.
    pub async fn register(&self, uid: &str, authenticator: &mut SoftAuthenticator) -> Value {
        let token = self.id_token(uid);
        let post = reqwest::Method::POST;
        let (status, start) = self
            .authed(
                post.clone(),
                "/passkeys/register/start/",
                &token,
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "{start}");
        let credential = authenticator.create(&start, ORIGIN);
        let body =
            json!({"ceremony": start["ceremony"], "credential": credential, "name": "Phone"});
        let (status, added) = self
            .authed(post, "/passkeys/register/finish/", &token, Some(body))
            .await;
        assert_eq!(status, 200, "{added}");
        added
    }

    /// `POST /passkeys/login/start/`, optionally for `login`: the ceremony and options.
    pub async fn login_start(&self, login: Option<&str>) -> Value {
        let body = match login {
            Some(login) => json!({"login": login}),
            None => json!({}),
        };
        let (status, start) = self.app.post("/passkeys/login/start/", body).await;
        assert_eq!(status, 200, "{start}");
        start
    }

    /// `POST /passkeys/login/finish/` with an assertion for `start`.
    pub async fn login_finish(&self, start: &Value, assertion: Value) -> (u16, Value) {
        let body = json!({"ceremony": start["ceremony"], "credential": assertion});
        self.app.post("/passkeys/login/finish/", body).await
    }

    /// A whole passwordless sign-in with `authenticator`.
    pub async fn sign_in_with(&self, authenticator: &mut SoftAuthenticator) -> (u16, Value) {
        let start = self.login_start(None).await;
        let assertion = authenticator.get(&start, ORIGIN);
        self.login_finish(&start, assertion).await
    }
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_password() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    let added = p.register(&uid, &mut phone).await;
    assert_eq!(added["id"], phone.id());
    assert_eq!(added["name"], "Phone");

    let token = p.id_token(&uid);
    let (status, list) = p
        .authed(reqwest::Method::GET, "/passkeys/", &token, None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["passkeys"][0]["id"], phone.id(), "{list}");
    assert_eq!(
        list["passkeys"][0]["transports"],
        json!(["internal", "hybrid"])
    );
    assert!(
        list["passkeys"][0].get("passkey").is_none(),
        "no key shown: {list}"
    );

    let start = p.login_start(None).await;
    assert_eq!(
        start["publicKey"]["userVerification"], "required",
        "{start}"
    );
    let (status, body) = p.login_finish(&start, phone.get(&start, ORIGIN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], uid.as_str());
    let claims = verify_token(
        body["token"].as_str().unwrap(),
        &crate::common::shared_public_pem(),
    )
    .unwrap();
    assert_eq!(claims["uid"], uid.as_str());

    // Narrowed to the login: its credential, and the sign-in works the same.
    let start = p.login_start(Some("kim@example.com")).await;
    let allowed = &start["publicKey"]["allowCredentials"];
    assert_eq!(allowed[0]["id"], phone.id(), "{start}");
    let (status, body) = p.login_finish(&start, phone.get(&start, ORIGIN)).await;
    assert_eq!(status, 200, "{body}");

    let (_, list) = p
        .authed(reqwest::Method::GET, "/passkeys/", &token, None)
        .await;
    assert!(list["passkeys"][0]["last_used_at"].is_string(), "{list}");
}

#[tokio::test]
async fn registration_needs_an_id_token_of_a_firegate_sign_in() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let (status, body) = p.app.post("/passkeys/register/start/", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "missing_id_token");
    let project = p.app.service.id_token_project().to_string();
    let now = jiff::Timestamp::now().as_second();
    let firebase_password = p.google.id_token(&json!({
        "iss": format!("https://securetoken.google.com/{project}"),
        "aud": project, "sub": uid, "user_id": uid,
        "iat": now, "exp": now + 3600, "auth_time": now,
        "firebase": {"sign_in_provider": "password", "identities": {}},
    }));
    let (status, body) = p
        .authed(
            reqwest::Method::POST,
            "/passkeys/register/start/",
            &firebase_password,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_id_token", "{body}");
}

#[tokio::test]
async fn a_replayed_ceremony_is_refused() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    let start = p.login_start(None).await;
    let assertion = phone.get(&start, ORIGIN);
    let (status, body) = p.login_finish(&start, assertion.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = p.login_finish(&start, assertion).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "ceremony_invalid", "{body}");

    // A registration's ceremony is single use too.
    let token = p.id_token(&uid);
    let post = reqwest::Method::POST;
    let (_, start) = p
        .authed(
            post.clone(),
            "/passkeys/register/start/",
            &token,
            Some(json!({})),
        )
        .await;
    let mut laptop = SoftAuthenticator::new();
    let body = json!({"ceremony": start["ceremony"], "credential": laptop.create(&start, ORIGIN)});
    let (status, _) = p
        .authed(
            post.clone(),
            "/passkeys/register/finish/",
            &token,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 200);
    let (status, again) = p
        .authed(post, "/passkeys/register/finish/", &token, Some(body))
        .await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"], "ceremony_invalid", "{again}");
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused_and_counted() {
    let p = spawn(TestApp::builder().lockout(1, 600)).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    // Two ceremonies; the authenticator answers both, the later answer arrives first.
    let first = p.login_start(None).await;
    let second = p.login_start(None).await;
    let early = phone.get(&first, ORIGIN);
    let late = phone.get(&second, ORIGIN);
    let (status, body) = p.login_finish(&second, late).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = p.login_finish(&first, early).await;
    assert_eq!(status, 400, "a clone's counter: {body}");
    assert_eq!(body["error"], "invalid_credentials", "{body}");
    let key = LockoutKey::Account(firegate::accounts::Uid::parse(&uid).unwrap());
    let state = p.app.service.store.lockout_state(&key).await.unwrap();
    // The sign-in before made the network familiar: the failure counts there.
    let failures: u32 = state
        .networks
        .values()
        .filter_map(|n| n.failures.as_ref().map(|r| r.failures))
        .sum();
    assert_eq!(
        failures, 1,
        "counted against the account's network: {state:?}"
    );
    let (status, _) = p.sign_in_with(&mut phone).await;
    assert_eq!(status, 400, "locked after one failure");
}

#[tokio::test]
async fn an_assertion_from_a_foreign_origin_is_refused() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    let start = p.login_start(None).await;
    let (status, body) = p
        .login_finish(
            &start,
            phone.get(&start, "https://app.example.com.evil.test"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_credentials");

    // Nor does a registration from one.
    let token = p.id_token(&uid);
    let post = reqwest::Method::POST;
    let (_, start) = p
        .authed(
            post.clone(),
            "/passkeys/register/start/",
            &token,
            Some(json!({})),
        )
        .await;
    let mut laptop = SoftAuthenticator::new();
    let credential = laptop.create(&start, "https://evil.test");
    let body = json!({"ceremony": start["ceremony"], "credential": credential});
    let (status, body) = p
        .authed(post, "/passkeys/register/finish/", &token, Some(body))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "passkey_refused", "{body}");
}

#[tokio::test]
async fn an_unknown_credential_is_refused_and_counted_per_network() {
    let p = spawn(TestApp::builder().lockout(2, 600)).await;
    let mut stranger = SoftAuthenticator::new();
    let start = p.login_start(None).await;
    let (status, body) = p.login_finish(&start, stranger.get(&start, ORIGIN)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_credentials");
    let key = LockoutKey::Network("127.0.0.1".into());
    let state = p.app.service.store.lockout_state(&key).await.unwrap();
    assert_eq!(state.unfamiliar.map(|r| r.failures), Some(1), "{state:?}");
}

#[tokio::test]
async fn an_unknown_login_gets_the_same_decoys_every_time() {
    let p = spawn(TestApp::builder()).await;
    p.app.create("kim@example.com", PW).await;
    let ids = |start: &Value| -> Vec<Value> {
        start["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect()
    };
    let unknown = p.login_start(Some("nobody@example.com")).await;
    let again = p.login_start(Some("nobody@example.com")).await;
    assert!(!ids(&unknown).is_empty(), "{unknown}");
    assert_eq!(ids(&unknown), ids(&again));
    assert_ne!(unknown["ceremony"], again["ceremony"]);
    // An account without passkeys answers alike: decoys, same shape.
    let known = p.login_start(Some("kim@example.com")).await;
    assert!(!ids(&known).is_empty(), "{known}");
    assert_ne!(ids(&known), ids(&unknown));
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["publicKey"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&known), keys(&unknown));
}

#[tokio::test]
async fn a_disabled_account_signs_in_with_nothing() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("lee@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    let (disabled, _, stderr) = p
        .app
        .cli(&["accounts", "disable", "--login", "lee@example.com"], None)
        .await;
    assert!(disabled, "{stderr}");
    let (status, body) = p.sign_in_with(&mut phone).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_credentials");
}

#[tokio::test]
async fn passkeys_become_a_second_factor_only_when_turned_on() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    let (status, body) = p.app.sign_in("kim@example.com", PW).await;
    assert_eq!(
        status, 200,
        "a passkey alone keeps password sign-in one step: {body}"
    );

    let token = p.id_token(&uid);
    let post = reqwest::Method::POST;
    let (status, body) = p
        .authed(
            post.clone(),
            "/passkeys/second-factor/",
            &token,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = p.id_token(&uid);
    let (_, listed) = p.authed(reqwest::Method::GET, "/mfa/", &token, None).await;
    assert_eq!(listed["factors"][0]["kind"], "webauthn", "{listed}");
    let (status, body) = p.app.sign_in("kim@example.com", PW).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "second_factor_required");
    assert_eq!(body["factors"], json!(["webauthn"]), "{body}");
    let mfa_token = body["mfa_token"].clone();

    let (status, start) = p
        .app
        .post(
            "/login/second-factor/passkey/",
            json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["publicKey"]["allowCredentials"][0]["id"], phone.id());
    // A wrong origin is a wrong code; the token survives it.
    let wrong = phone.get(&start, "https://evil.test");
    let body = json!({"mfa_token": mfa_token, "ceremony": start["ceremony"], "credential": wrong});
    let (status, answer) = p.app.post("/login/second-factor/", body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_credentials");

    let (_, start) = p
        .app
        .post(
            "/login/second-factor/passkey/",
            json!({"mfa_token": mfa_token}),
        )
        .await;
    let assertion = phone.get(&start, ORIGIN);
    let body =
        json!({"mfa_token": mfa_token, "ceremony": start["ceremony"], "credential": assertion});
    let (status, answer) = p.app.post("/login/second-factor/", body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["uid"], uid.as_str());
    let (status, _) = p.app.post("/login/second-factor/", body).await;
    assert_eq!(status, 400, "the mfa_token and the ceremony are spent");

    // The last passkey stays while it is the second factor.
    let token = p.id_token(&uid);
    let path = format!("/passkeys/{}/", phone.id());
    let (status, body) = p.authed(reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "last_passkey");
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_and_their_owner_is_mailed() {
    let builder = TestApp::builder();
    let sink = crate::smtp_sink::SmtpSink::start(false);
    let p = spawn(builder.mail_sink(&sink)).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    let added = sink.mail("kim@example.com", 1).await;
    assert!(added.to_string().contains("passkey was added"), "{added}");

    let token = p.id_token(&uid);
    let path = format!("/passkeys/{}/", phone.id());
    let (status, body) = p
        .authed(
            reqwest::Method::PATCH,
            &path,
            &token,
            Some(json!({"name": "Work laptop"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Work laptop");
    let (status, body) = p.authed(reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 200, "{body}");
    let removed = sink.mail("kim@example.com", 2).await;
    assert!(
        removed.to_string().contains("passkey was removed"),
        "{removed}"
    );
    let (status, _) = p.sign_in_with(&mut phone).await;
    assert_eq!(status, 400, "a deleted passkey signs in with nothing");
}

#[tokio::test]
async fn admins_list_and_remove_passkeys_and_stats_count_their_accounts() {
    let p = spawn(TestApp::builder().admin()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let mut phone = SoftAuthenticator::new();
    let mut laptop = SoftAuthenticator::new();
    p.register(&uid, &mut phone).await;
    p.register(&uid, &mut laptop).await;

    let list = ["accounts", "passkeys", "list", "--login", "kim@example.com"];
    let (listed, stdout, stderr) = p.app.cli(&list, None).await;
    assert!(listed, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["passkeys"].as_array().unwrap().len(), 2, "{stdout}");
    assert!(!stdout.contains("passkey\""), "no key material: {stdout}");
    let (counted, stdout, stderr) = p.app.cli(&["accounts", "stats"], None).await;
    assert!(counted, "{stderr}");
    assert!(stdout.contains("accounts with a passkey: 1"), "{stdout}");

    let path = format!("/admin/api/accounts/{uid}/passkeys");
    let (status, body) = send(p.app.admin(reqwest::Method::GET, &path)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["passkeys"].as_array().unwrap().len(), 2);
    let remove = p
        .app
        .admin(reqwest::Method::POST, &format!("{path}/remove"))
        .json(&json!({"id": phone.id()}));
    let (status, body) = send(remove).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        p.sign_in_with(&mut phone).await.0,
        400,
        "removed by the admin"
    );
    assert_eq!(
        p.sign_in_with(&mut laptop).await.0,
        200,
        "the other one stays"
    );

    let remove = [
        "accounts",
        "passkeys",
        "remove",
        "--login",
        "kim@example.com",
        "--id",
        &laptop.id(),
        "--yes",
    ];
    let (removed, _, stderr) = p.app.cli(&remove, None).await;
    assert!(removed, "{stderr}");
    assert_eq!(
        p.sign_in_with(&mut laptop).await.0,
        400,
        "removed with the CLI"
    );
}

#[tokio::test]
async fn a_passkey_removed_during_the_second_step_does_not_pass_it() {
    let p = spawn(TestApp::builder()).await;
    let uid = p.app.create("kim@example.com", PW).await.uid.to_string();
    let (mut phone, mut laptop) = (SoftAuthenticator::new(), SoftAuthenticator::new());
    p.register(&uid, &mut phone).await;
    p.register(&uid, &mut laptop).await;
    let token = p.id_token(&uid);
    let on = Some(json!({"enabled": true}));
    let (status, body) = p
        .authed(
            reqwest::Method::POST,
            "/passkeys/second-factor/",
            &token,
            on,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = p.app.sign_in("kim@example.com", PW).await;
    assert_eq!(status, 403, "{body}");
    let mfa_token = body["mfa_token"].clone();
    let (status, start) = p
        .app
        .post(
            "/login/second-factor/passkey/",
            json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(status, 200, "{start}");
    // The phone is lost and removed while the step is open: its assertion no longer passes.
    let path = format!("/passkeys/{}/", phone.id());
    let (status, body) = p
        .authed(reqwest::Method::DELETE, &path, &p.id_token(&uid), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let assertion = phone.get(&start, ORIGIN);
    let body =
        json!({"mfa_token": mfa_token, "ceremony": start["ceremony"], "credential": assertion});
    let (status, answer) = p.app.post("/login/second-factor/", body).await;
    assert_eq!(status, 400, "{answer}");
}
