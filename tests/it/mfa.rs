//! The second factor over HTTP: Firebase ID tokens on the self-service routes (signed by the
//! Google stand-in's securetoken key, or unsigned as the Auth emulator makes them), TOTP
//! enrolment with codes computed here from the secret, the two-step sign-in, recovery codes,
//! and the lockout ledger that wrong codes share with wrong passwords.

use firegate::factors::{MfaHandle, TotpSecret};
use firegate::lockout::LockoutKey;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::common::{TestApp, TestAppBuilder, keys_dir, project_id};
use crate::google_standin::GoogleStandIn;

const PW: &str = "correct horse battery";

/// A server whose ID tokens come from the stand-in's securetoken key.
struct MfaApp {
    app: TestApp,
    google: GoogleStandIn,
}

/// An account with an authenticator: its uid, secret and recovery codes.
struct Enrolled {
    uid: String,
    secret: TotpSecret,
    recovery: Vec<String>,
}

async fn spawn_mfa(extra: &[&str]) -> MfaApp {
    spawn_mfa_in(&project_id(), TestApp::builder().flags(extra)).await
}

/// A server on `project` with the stand-in's securetoken certificates.
async fn spawn_mfa_in(project: &str, builder: TestAppBuilder) -> MfaApp {
    let google = GoogleStandIn::start(project, 3600).await;
    let app = builder
        .in_project(keys_dir(), project)
        .id_token_certs_url(&google.securetoken_url())
        .start()
        .await;
    MfaApp { app, google }
}

impl MfaApp {
    /// The claims of an ID token for `uid` from a custom-token sign-in at `auth_time`, in
    /// the project the server takes ID tokens for (the signing key's, not Firestore's).
    fn claims(&self, uid: &str, auth_time: i64) -> Value {
        let project = self.app.service.id_token_project();
        let now = Timestamp::now().as_second();
        json!({
            "iss": format!("https://securetoken.google.com/{project}"),
            "aud": project, "sub": uid, "user_id": uid,
            "iat": now, "exp": now + 3600, "auth_time": auth_time,
            "firebase": {"sign_in_provider": "custom", "identities": {}},
        })
    }

    /// A signed ID token of a sign-in just now.
    fn id_token(&self, uid: &str) -> String {
        self.google
            .id_token(&self.claims(uid, Timestamp::now().as_second()))
    }

    /// A request with `Authorization: Bearer <token>`: status and JSON body.
    async fn authed(&self, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let request = match body {
            Some(body) => self.app.http.post(self.app.url(path)).json(&body),
            None => self.app.http.get(self.app.url(path)),
        };
        let response = request.bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    async fn second_factor(&self, mfa_token: &str, code: &str) -> (u16, Value) {
        let response = self
            .app
            .post_json(
                "/login/second-factor/",
                json!({"mfa_token": mfa_token, "code": code}),
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// The `mfa_token` a right password yields (asserting the 403).
    async fn first_step(&self, login: &str) -> String {
        let (status, body) = self.app.sign_in(login, PW).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"], "second_factor_required", "{body}");
        body["mfa_token"].as_str().unwrap().to_string()
    }

    /// Creates `login` and enrols an authenticator for it through the routes.
    async fn enrolled(&self, login: &str) -> Enrolled {
        let uid = self.app.create(login, PW).await.uid.to_string();
        let token = self.id_token(&uid);
        let (status, body) = self
            .authed("/mfa/totp/enroll/", &token, Some(json!({})))
            .await;
        assert_eq!(status, 200, "{body}");
        let secret = TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
        let code = secret.code_at(Timestamp::now());
        let (status, body) = self
            .authed("/mfa/totp/confirm/", &token, Some(json!({"code": code})))
            .await;
        assert_eq!(status, 200, "{body}");
        let recovery = body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        Enrolled {
            uid,
            secret,
            recovery,
        }
    }
}

/// Waits until the clock is in the next whole second.
async fn next_second() {
    let second = Timestamp::now().as_second();
    while Timestamp::now().as_second() == second {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The code of the step after the current one (the current one is spent by the enrolment;
/// one step of skew accepts it).
fn next_code(secret: &TotpSecret) -> String {
    secret.code_at(Timestamp::now() + jiff::SignedDuration::from_secs(30))
}

#[tokio::test]
async fn enrolment_then_both_sign_in_steps() {
    let m = spawn_mfa(&[]).await;
    let uid = m.app.create("kim@example.com", PW).await.uid.to_string();
    let token = m.id_token(&uid);

    let (status, body) = m.authed("/mfa/", &token, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["factors"], json!([]));

    let (status, body) = m.authed("/mfa/totp/enroll/", &token, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    let uri = body["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/firegate:kim%40example.com?"),
        "{uri}"
    );
    assert!(body["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = TotpSecret::from_base32(body["secret"].as_str().unwrap()).unwrap();
    let (_, body) = m.authed("/mfa/", &token, None).await;
    assert_eq!(body["pending_totp"], true);
    // Not a factor until confirmed: the password alone still signs in.
    assert_eq!(m.app.sign_in("kim@example.com", PW).await.0, 200);

    let wrong = json!({"code": "000000"});
    let (status, body) = m.authed("/mfa/totp/confirm/", &token, Some(wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_code"))
    );
    // ID tokens count sign-in times in whole seconds: the change comes a second later.
    next_second().await;
    let code = json!({"code": secret.code_at(Timestamp::now())});
    let (status, body) = m.authed("/mfa/totp/confirm/", &token, Some(code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recovery_codes"].as_array().unwrap().len(), 10);

    // The confirmation changed the factors: the token from before it no longer counts.
    let (status, body) = m.authed("/mfa/", &token, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = m.authed("/mfa/", &m.id_token(&uid), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["factors"][0]["kind"], "totp");
    assert_eq!(body["recovery_codes_left"], 10);

    let (status, body) = m.app.sign_in("kim@example.com", PW).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "second_factor_required");
    assert_eq!(body["factors"], json!(["totp", "recovery_code"]));
    assert!(body.get("token").is_none(), "{body}");
    let mfa_token = body["mfa_token"].as_str().unwrap();

    let code = next_code(&secret);
    let (status, body) = m.second_factor(mfa_token, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], uid.as_str());
    assert!(body["token"].as_str().unwrap().starts_with("eyJ"));

    // The token is spent: the same code again (a double submission) gets the same answer,
    // any other code nothing; and the code's step is used up.
    let (status, body) = m.second_factor(mfa_token, &code).await;
    assert_eq!((status, body["uid"].as_str()), (200, Some(uid.as_str())));
    let (status, body) = m.second_factor(mfa_token, "abcd-efgh-ijkl-mnop").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mfa_token"))
    );
    let again = m.first_step("kim@example.com").await;
    let (status, body) = m.second_factor(&again, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let m = spawn_mfa(&[]).await;
    let kim = m.enrolled("kim@example.com").await;
    let code = kim.recovery[4].to_uppercase();
    let mfa_token = m.first_step("kim@example.com").await;
    let (status, body) = m.second_factor(&mfa_token, &code).await;
    assert_eq!(status, 200, "{body}");
    let mfa_token = m.first_step("kim@example.com").await;
    let (status, body) = m.second_factor(&mfa_token, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
    let (_, body) = m.authed("/mfa/", &m.id_token(&kim.uid), None).await;
    assert_eq!(body["recovery_codes_left"], 9);
    // Another one still works with the same token: a wrong code does not spend it.
    let (status, body) = m.second_factor(&mfa_token, &kim.recovery[0]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn wrong_codes_count_with_wrong_passwords_and_a_password_alone_clears_nothing() {
    let m = spawn_mfa_in(&project_id(), TestApp::builder().lockout(3, 600)).await;
    let kim = m.enrolled("kim@example.com").await;
    let key = LockoutKey::Account(firegate::accounts::Uid::parse(&kim.uid).unwrap());
    let failures = || async {
        let state = m.app.service.store.lockout_state(&key).await.unwrap();
        (
            state.unfamiliar.map_or(0, |r| r.failures),
            state.networks.len(),
        )
    };
    assert_eq!(m.app.sign_in("kim@example.com", "wrong one").await.0, 400);
    assert_eq!(failures().await, (1, 0));
    // The right password: a second step, and the failure stays counted, no network learnt.
    let mfa_token = m.first_step("kim@example.com").await;
    assert_eq!(failures().await, (1, 0));
    let (status, body) = m.second_factor(&mfa_token, "123456x").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
    assert_eq!(failures().await, (2, 0));
    let (status, _) = m.second_factor(&mfa_token, "abcd-efgh-ijkl-mnop").await;
    assert_eq!(status, 400);
    assert_eq!(failures().await, (3, 0));
    // Locked: the password and the right code get today's answer for a locked account.
    let (status, body) = m.app.sign_in("kim@example.com", PW).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
    let (status, body) = m.second_factor(&mfa_token, &next_code(&kim.secret)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );

    // Unlocked, the second step clears the count and makes the network familiar.
    m.app.service.store.clear_failures(&key).await.unwrap();
    assert_eq!(m.app.sign_in("kim@example.com", "wrong one").await.0, 400);
    let mfa_token = m.first_step("kim@example.com").await;
    let (status, body) = m.second_factor(&mfa_token, &kim.recovery[1]).await;
    assert_eq!(status, 200, "{body}");
    let (failed, networks) = failures().await;
    assert_eq!(failed, 0);
    assert_eq!(networks, 1);
}

#[tokio::test]
async fn an_mfa_token_dies_after_a_few_wrong_codes_and_when_expired() {
    let m = spawn_mfa(&["--lockout-threshold", "50"]).await;
    let kim = m.enrolled("kim@example.com").await;
    let mfa_token = m.first_step("kim@example.com").await;
    for _ in 0..5 {
        assert_eq!(m.second_factor(&mfa_token, "999999").await.0, 400);
    }
    let (status, body) = m.second_factor(&mfa_token, &kim.recovery[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mfa_token"))
    );

    // Expiry is checked on read (Firestore's TTL deletes late, the emulator never).
    let handle = MfaHandle::generate();
    let uid = firegate::accounts::Uid::parse(&kim.uid).unwrap();
    let past = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    m.app
        .service
        .store
        .create_mfa_token(&handle.id(), &uid, "any", past, past)
        .await
        .unwrap();
    let (status, body) = m.second_factor(handle.as_str(), &kim.recovery[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mfa_token"))
    );
    // Not a handle at all: no read.
    let (status, _) = m.second_factor("not-a-token", "123456").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_password_change_outdates_the_mfa_token() {
    let m = spawn_mfa(&[]).await;
    let kim = m.enrolled("kim@example.com").await;
    let mfa_token = m.first_step("kim@example.com").await;
    let (ok, _, err) = m
        .app
        .cli(
            &["accounts", "set-password", &kim.uid],
            Some("another password 1\n"),
        )
        .await;
    assert!(ok, "{err}");
    let (status, body) = m.second_factor(&mfa_token, &kim.recovery[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mfa_token"))
    );
}

#[tokio::test]
async fn removing_the_authenticator_needs_a_recent_sign_in_and_a_current_code() {
    let m = spawn_mfa(&[]).await;
    let kim = m.enrolled("kim@example.com").await;
    let fresh = m.id_token(&kim.uid);
    let old_sign_in = Timestamp::now().as_second() - 600;
    let stale = m.google.id_token(&m.claims(&kim.uid, old_sign_in));
    let code = json!({"code": kim.recovery[2]});
    // A sign-in from before the factor was added is refused outright.
    let (status, body) = m
        .authed("/mfa/totp/remove/", &stale, Some(code.clone()))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_id_token"))
    );

    let (status, body) = m
        .authed("/mfa/totp/remove/", &fresh, Some(json!({"code": "000000"})))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_code"))
    );
    // A recovery code may remove the authenticator: the way back from a lost phone.
    let (status, body) = m.authed("/mfa/totp/remove/", &fresh, Some(code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(m.app.sign_in("kim@example.com", PW).await.0, 200);
    let stored = m.app.stored("kim@example.com").await.account.factors;
    assert!(stored.totp.is_none() && stored.recovery.0.is_empty());
}

#[tokio::test]
async fn changes_need_a_sign_in_within_the_window() {
    let m = spawn_mfa(&["--recent-sign-in-secs", "60"]).await;
    // An account last changed an hour ago, signed in ten minutes ago: it may look, not change.
    let account = m.app.seed(Some("kim@example.com"), None, PW, 3600).await;
    let uid = account.uid.to_string();
    let ten_minutes_ago = Timestamp::now().as_second() - 600;
    let token = m.google.id_token(&m.claims(&uid, ten_minutes_ago));
    assert_eq!(m.authed("/mfa/", &token, None).await.0, 200);
    let (status, body) = m.authed("/mfa/totp/enroll/", &token, Some(json!({}))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("requires_recent_login"))
    );
    let (status, body) = m
        .authed("/mfa/totp/enroll/", &m.id_token(&uid), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn regenerated_recovery_codes_replace_the_old_ones() {
    let m = spawn_mfa(&[]).await;
    let kim = m.enrolled("kim@example.com").await;
    let token = m.id_token(&kim.uid);
    let (status, body) = m
        .authed(
            "/mfa/recovery-codes/",
            &token,
            Some(json!({"code": next_code(&kim.secret)})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["recovery_codes"][0].as_str().unwrap().to_string();
    let mfa_token = m.first_step("kim@example.com").await;
    assert_eq!(m.second_factor(&mfa_token, &kim.recovery[0]).await.0, 400);
    assert_eq!(m.second_factor(&mfa_token, &fresh).await.0, 200);
}

#[tokio::test]
async fn id_tokens_are_checked_as_verify_id_token_does() {
    let m = spawn_mfa(&[]).await;
    let uid = m.app.create("kim@example.com", PW).await.uid.to_string();
    let now = Timestamp::now().as_second();
    let good = m.claims(&uid, now);
    assert_eq!(
        m.authed("/mfa/", &m.google.id_token(&good), None).await.0,
        200
    );

    let mut refused = Vec::new();
    for (field, value) in [
        ("aud", json!("another-project")),
        (
            "iss",
            json!("https://securetoken.google.com/another-project"),
        ),
        ("exp", json!(now - 10)),
        ("sub", json!("no-such-account")),
    ] {
        let mut claims = good.clone();
        claims[field] = value;
        refused.push((
            field,
            m.authed("/mfa/", &m.google.id_token(&claims), None).await,
        ));
    }
    // A Firebase password sign-in (a graduated account's) must not change factors.
    let mut password = good.clone();
    password["firebase"]["sign_in_provider"] = json!("password");
    refused.push((
        "provider",
        m.authed("/mfa/", &m.google.id_token(&password), None).await,
    ));
    let mut tenant = good.clone();
    tenant["firebase"]["tenant"] = json!("other-tenant");
    refused.push((
        "tenant",
        m.authed("/mfa/", &m.google.id_token(&tenant), None).await,
    ));
    // A signature over other claims, and an unsigned token outside the emulator.
    let signed = m.google.id_token(&good);
    let (head, rest) = signed.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut other = good.clone();
    other["sub"] = json!("someone-else");
    let forged = format!(
        "{head}.{}.{signature}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            other.to_string()
        )
    );
    refused.push(("signature", m.authed("/mfa/", &forged, None).await));
    refused.push(("unsigned", m.authed("/mfa/", &unsigned(&good), None).await));
    for (what, (status, body)) in refused {
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"], "invalid_id_token", "{what}: {body}");
    }
    let response = m.app.http.get(m.app.url("/mfa/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Kept as long as Cache-Control says: one fetch for all of the above.
    assert_eq!(m.google.securetoken_fetches(), 1);
}

/// An ID token as the Auth emulator makes it: `alg: none`, no signature.
fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let e = |v: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.",
        e(r#"{"alg":"none","typ":"JWT"}"#.to_string()),
        e(claims.to_string())
    )
}

#[tokio::test]
async fn the_emulators_unsigned_tokens_only_for_a_demo_project() {
    let demo = spawn_mfa_in(
        &format!("demo-{}", project_id()),
        TestApp::builder().auth_emulator(),
    )
    .await;
    let uid = demo.app.create("kim@example.com", PW).await.uid.to_string();
    let token = unsigned(&demo.claims(&uid, Timestamp::now().as_second()));
    assert_eq!(demo.authed("/mfa/", &token, None).await.0, 200);

    // The variable set on a real project turns no signature check off.
    let real = spawn_mfa_in(&project_id(), TestApp::builder().auth_emulator()).await;
    let uid = real.app.create("kim@example.com", PW).await.uid.to_string();
    let token = unsigned(&real.claims(&uid, Timestamp::now().as_second()));
    let (status, body) = real.authed("/mfa/", &token, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("unsigned"),
        "{body}"
    );
}

#[tokio::test]
async fn mfa_off_refuses_enrolment_and_secrets_are_sealed_with_a_key() {
    let off = spawn_mfa(&["--mfa", "off"]).await;
    let uid = off.app.create("kim@example.com", PW).await.uid.to_string();
    let (status, body) = off
        .authed("/mfa/totp/enroll/", &off.id_token(&uid), Some(json!({})))
        .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("disabled")));

    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]);
    let sealed = spawn_mfa(&["--mfa-key", &key]).await;
    let kim = sealed.enrolled("kim@example.com").await;
    let stored = sealed.app.stored("kim@example.com").await.account.factors;
    let at_rest = stored.totp.unwrap().sealed;
    assert!(at_rest.starts_with("sealed:v1:"), "{at_rest}");
    assert!(!at_rest.contains(&kim.secret.base32()));
    let mfa_token = sealed.first_step("kim@example.com").await;
    assert_eq!(
        sealed
            .second_factor(&mfa_token, &next_code(&kim.secret))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn factor_changes_are_mailed_and_audited_and_an_admin_resets_them() {
    use crate::common::send;
    use reqwest::Method;
    let sink = crate::smtp_sink::SmtpSink::start(false);
    let m = spawn_mfa_in(&project_id(), TestApp::builder().admin().mail_sink(&sink)).await;
    let kim = m.enrolled("kim@example.com").await;
    let added = sink.mail("kim@example.com", 1).await;
    assert!(
        added["text"]
            .as_str()
            .unwrap()
            .contains("authenticator app was added"),
        "{added}"
    );
    let mfa_token = m.first_step("kim@example.com").await;
    assert_eq!(m.second_factor(&mfa_token, &kim.recovery[0]).await.0, 200);
    let used = sink.mail("kim@example.com", 2).await;
    assert!(
        used["text"]
            .as_str()
            .unwrap()
            .contains("recovery code was used"),
        "{used}"
    );
    // No mail, audit line or secret shows a code.
    assert!(!used.to_string().contains(&kim.recovery[0]));

    let (ok, shown, err) = m
        .app
        .cli(&["accounts", "mfa", "show", &kim.uid], None)
        .await;
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["second_factor"]["recovery_codes_left"], 9, "{shown}");
    assert_eq!(
        shown["second_factor"]["kinds"],
        json!(["totp", "recovery_code"])
    );
    let (ok, stats, err) = m.app.cli(&["accounts", "stats"], None).await;
    assert!(ok, "{err}");
    assert!(
        stats.contains("accounts with a second factor: 1"),
        "{stats}"
    );

    let (status, detail) = send(
        m.app
            .admin(Method::GET, &format!("/admin/api/accounts/{}", kim.uid)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        detail["second_factor"]["totp_enrolled_at"].is_string(),
        "{detail}"
    );
    let reset = format!("/admin/api/accounts/{}/mfa/reset", kim.uid);
    let (status, body) = send(m.app.admin(Method::POST, &reset)).await;
    assert_eq!(
        (status, body),
        (200, json!({"uid": kim.uid, "removed": true}))
    );
    assert_eq!(m.app.sign_in("kim@example.com", PW).await.0, 200);
    let (status, trail) = send(m.app.admin(Method::GET, "/admin/api/audit")).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["mfa-totp-added", "mfa-recovery-code-used", "reset-mfa"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let (ok, out, err) = m
        .app
        .cli(&["accounts", "mfa", "reset", &kim.uid, "--yes"], None)
        .await;
    assert!(ok && out.contains("has no second factor"), "{out}{err}");
}

#[tokio::test]
async fn concurrent_wrong_codes_get_no_more_checks_than_the_token_allows() {
    let m = spawn_mfa(&["--lockout-threshold", "50"]).await;
    let kim = m.enrolled("kim@example.com").await;
    let key = LockoutKey::Account(firegate::accounts::Uid::parse(&kim.uid).unwrap());
    let mfa_token = m.first_step("kim@example.com").await;
    // Four wrong codes one by one, then twelve at once: the token takes five in all.
    for _ in 0..4 {
        assert_eq!(m.second_factor(&mfa_token, "999999").await.0, 400);
    }
    let codes: Vec<String> = (0..12).map(|i| format!("{:06}", 100_000 + i)).collect();
    let answers =
        futures::future::join_all(codes.iter().map(|c| m.second_factor(&mfa_token, c))).await;
    let checked = answers
        .iter()
        .filter(|(_, body)| body["error"] == "invalid_credentials")
        .count();
    let refused = answers
        .iter()
        .filter(|(_, body)| body["error"] == "invalid_mfa_token")
        .count();
    assert_eq!((checked, refused), (1, 11), "{answers:?}");
    let state = m.app.service.store.lockout_state(&key).await.unwrap();
    assert_eq!(state.unfamiliar.map_or(0, |r| r.failures), 5);
    // Spent by the count: even the right code is refused with it.
    let (status, body) = m.second_factor(&mfa_token, &kim.recovery[0]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mfa_token"))
    );
}

#[tokio::test]
async fn a_double_submitted_code_signs_in_twice_and_counts_nothing() {
    let m = spawn_mfa_in(&project_id(), TestApp::builder().lockout(3, 600)).await;
    let kim = m.enrolled("kim@example.com").await;
    let key = LockoutKey::Account(firegate::accounts::Uid::parse(&kim.uid).unwrap());
    // Every count, the familiar network's (the first success makes it one) included.
    let failures = || async {
        let state = m.app.service.store.lockout_state(&key).await.unwrap();
        let networks = state.networks.values().filter_map(|n| n.failures);
        state
            .unfamiliar
            .into_iter()
            .chain(networks)
            .map(|r| r.failures)
            .sum::<u32>()
    };
    for code in [next_code(&kim.secret), kim.recovery[2].clone()] {
        let mfa_token = m.first_step("kim@example.com").await;
        // Both at once, as a double click sends them, then once more after.
        let (first, second) = tokio::join!(
            m.second_factor(&mfa_token, &code),
            m.second_factor(&mfa_token, &code)
        );
        let third = m.second_factor(&mfa_token, &code).await;
        for (status, body) in [first, second, third] {
            assert_eq!(
                (status, body["uid"].as_str()),
                (200, Some(kim.uid.as_str()))
            );
        }
        assert_eq!(failures().await, 0);
    }
    // One recovery code used, not three; and a code sent again with a new token is refused.
    let (_, body) = m.authed("/mfa/", &m.id_token(&kim.uid), None).await;
    assert_eq!(body["recovery_codes_left"], 9);
    let mfa_token = m.first_step("kim@example.com").await;
    let (status, _) = m.second_factor(&mfa_token, &kim.recovery[2]).await;
    assert_eq!(status, 400);
    assert_eq!(failures().await, 1);
}

#[tokio::test]
async fn a_password_change_needs_a_current_code_once_there_is_a_factor() {
    let m = spawn_mfa_in(&project_id(), TestApp::builder().lockout(3, 600)).await;
    let kim = m.enrolled("kim@example.com").await;
    let key = LockoutKey::Account(firegate::accounts::Uid::parse(&kim.uid).unwrap());
    let failures = || async {
        let state = m.app.service.store.lockout_state(&key).await.unwrap();
        state.unfamiliar.map_or(0, |r| r.failures)
    };
    let change = |code: Option<String>| {
        let mut body = json!({"email": "kim@example.com", "password": PW,
                              "new_password": "a new passphrase"});
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        m.app.post("/password/", body)
    };
    // The right password alone: asked for a code, nothing changed, nothing counted.
    let (status, body) = change(None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "second_factor_required");
    assert_eq!(body["factors"], json!(["totp", "recovery_code"]));
    assert!(body.get("mfa_token").is_none(), "{body}");
    assert_eq!(failures().await, 0);
    // A wrong code: the failed-sign-in answer, counted with wrong passwords.
    let (status, body) = change(Some("000000".into())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_credentials"))
    );
    assert_eq!(failures().await, 1);
    // Not locked by one: the right password still reaches the second step.
    m.first_step("kim@example.com").await;
    // A current code changes it, and its step is spent.
    let code = next_code(&kim.secret);
    let (status, body) = change(Some(code.clone())).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(m.app.sign_in("kim@example.com", PW).await.0, 400);
    let (status, body) = m.app.sign_in("kim@example.com", "a new passphrase").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("second_factor_required"))
    );
    let mfa_token = body["mfa_token"].as_str().unwrap();
    let (status, _) = m.second_factor(mfa_token, &code).await;
    assert_eq!(status, 400, "the code that changed the password is used up");
    // An account without a factor changes its password as before.
    m.app.create("lee@example.com", PW).await;
    let (status, body) = m
        .app
        .change_password("lee@example.com", PW, "a new passphrase")
        .await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn id_tokens_are_for_the_signing_keys_project_unless_set() {
    // Firestore in a project of its own, the shared key in `demo-firegate`: custom tokens
    // are exchanged, and ID tokens issued, in the key's project.
    let m = spawn_mfa(&[]).await;
    assert_ne!(m.app.project(), "demo-firegate");
    assert_eq!(m.app.service.id_token_project(), "demo-firegate");
    let uid = m.app.create("kim@example.com", PW).await.uid.to_string();
    let now = Timestamp::now().as_second();
    let for_project = |claims: &Value, project: &str| {
        let mut claims = claims.clone();
        claims["aud"] = json!(project);
        claims["iss"] = json!(format!("https://securetoken.google.com/{project}"));
        m.google.id_token(&claims)
    };
    let good = m.claims(&uid, now);
    assert_eq!(
        m.authed("/mfa/", &for_project(&good, "demo-firegate"), None)
            .await
            .0,
        200
    );
    let firestore = for_project(&good, &m.app.project());
    let (status, body) = m.authed("/mfa/", &firestore, None).await;
    assert_eq!(status, 401, "{body}");

    let set = spawn_mfa(&["--id-token-project", "firebase-elsewhere"]).await;
    let uid = set.app.create("kim@example.com", PW).await.uid.to_string();
    let good = set.claims(&uid, Timestamp::now().as_second());
    let token = |project: &str| {
        let mut claims = good.clone();
        claims["aud"] = json!(project);
        claims["iss"] = json!(format!("https://securetoken.google.com/{project}"));
        set.google.id_token(&claims)
    };
    let (status, body) = set
        .authed("/mfa/", &token("firebase-elsewhere"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        set.authed("/mfa/", &token("demo-firegate"), None).await.0,
        401
    );
}
