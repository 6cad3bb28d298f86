//! Settings parse as documented and bad values name the setting (and never echo a secret).

use clap::Parser;
use secrecy::ExposeSecret;

use super::*;
use crate::passwords::CostLimits;

#[derive(Parser, Debug)]
struct Harness {
    #[command(flatten)]
    serve: ServeArgs,
}

fn parse(args: &[&str]) -> Result<Harness, String> {
    let mut argv = vec!["firegate"];
    argv.extend_from_slice(args);
    Harness::try_parse_from(argv).map_err(|e| e.to_string())
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$\
                    oWqVsGQ8ILlQ0k0pDyvIY0vTl3F0UvMnQrbcZXUGVgk";

#[test]
fn the_admin_hash_never_shows_in_debug_output() {
    let h = parse(&["--admin-password-hash", HASH]).unwrap();
    let credential = h.serve.server.admin.credential().unwrap();
    assert_eq!(credential.password_hash.expose_secret(), HASH);
    let shown = format!("{h:?} {credential:?}");
    assert!(shown.contains("REDACTED"), "{shown}");
    assert!(
        !shown.contains("$argon2id$") && !shown.contains("oWqVsGQ8"),
        "{shown}"
    );
}

#[test]
fn an_invalid_admin_hash_is_never_echoed() {
    let err = parse(&["--admin-password-hash", "hunter2-plaintext"]).unwrap_err();
    assert!(err.contains("--admin-password-hash"), "{err}");
    assert!(err.contains("firegate admin hash-password"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn defaults_are_documented_values() {
    let h = parse(&[]).unwrap();
    let options = h.serve.server.service_options();
    assert_eq!(options.policy.token_lifetime, 3600);
    assert_eq!(options.store.accounts_collection, "firegate_accounts");
    assert_eq!(options.store.logins_collection, "firegate_logins");
    assert_eq!(options.passwords.argon2_memory_kib, 19456);
    assert_eq!(options.passwords.argon2_iterations, 2);
    assert_eq!(options.passwords.argon2_parallelism, 1);
    assert_eq!(options.passwords.limits, CostLimits::default());
    assert_eq!(
        options.policy.lockout,
        crate::lockout::LockoutPolicy::default()
    );
    assert_eq!(
        options.passwords.limits,
        crate::passwords::PasswordOptions::default().limits
    );
}

#[test]
fn token_lifetime_over_an_hour_names_the_setting_and_range() {
    let err = parse(&["--token-lifetime", "3601"]).unwrap_err();
    assert!(err.contains("--token-lifetime"), "{err}");
    assert!(err.contains("1..=3600"), "{err}");
}

#[test]
fn argon2_memory_out_of_range_is_refused() {
    let err = parse(&["--argon2-memory-kib", "4"]).unwrap_err();
    assert!(err.contains("--argon2-memory-kib"), "{err}");
}

#[test]
fn collection_names_are_checked() {
    for bad in ["", "a/b", "__x__", ".."] {
        let err = parse(&["--accounts-collection", bad]).unwrap_err();
        assert!(err.contains("--accounts-collection"), "{bad}: {err}");
    }
    assert!(parse(&["--logins-collection", "auth_logins"]).is_ok());
}

#[test]
fn cors_origins_are_a_checked_list() {
    let h = parse(&["--cors-origins", "https://a.example,http://localhost:5173"]).unwrap();
    assert_eq!(
        h.serve.server.http.cors_origins,
        ["https://a.example", "http://localhost:5173"]
    );
    let err = parse(&["--cors-origins", "https://a.example/"]).unwrap_err();
    assert!(err.contains("not an origin"), "{err}");
    let err = parse(&["--cors-origins", "a.example"]).unwrap_err();
    assert!(err.contains("not an origin"), "{err}");
    // Any port of one host; no other wildcard.
    let h = parse(&["--cors-origins", "http://localhost:*"]).unwrap();
    assert_eq!(h.serve.server.http.cors_origins, ["http://localhost:*"]);
    for wrong in ["http://*.example", "http://*:5173", "http://:*"] {
        let err = parse(&["--cors-origins", wrong]).unwrap_err();
        assert!(err.contains("not an origin"), "{wrong}: {err}");
    }
}

#[test]
fn listen_defaults_to_port_on_every_interface() {
    let h = parse(&["--port", "9999"]).unwrap();
    assert_eq!(h.serve.listen.addr().to_string(), "0.0.0.0:9999");
    let h = parse(&["--listen", "127.0.0.1:7000", "--port", "9999"]).unwrap();
    assert_eq!(h.serve.listen.addr().to_string(), "127.0.0.1:7000");
    assert!(parse(&["--port", "99999"]).unwrap_err().contains("--port"));
}

#[test]
fn trusting_every_address_is_refused_with_the_hops_advice() {
    for all in ["0.0.0.0/0", "::/0", "10.0.0.0/8,::/0"] {
        let error = parse(&["--trusted-proxies", all]).unwrap_err();
        assert!(error.contains("--trusted-proxy-hops"), "{error}");
    }
}

#[test]
fn graduate_mode_needs_the_api_key_which_never_shows() {
    let h = parse(&["--firebase-auth", "graduate"]).unwrap();
    let err = h.serve.server.bridge.check_for_server().unwrap_err();
    assert!(err.contains("--firebase-api-key"), "{err}");
    assert!(
        parse(&["--firebase-auth", "mirror"])
            .unwrap()
            .serve
            .server
            .bridge
            .check_for_server()
            .is_ok()
    );
    let h = parse(&[
        "--firebase-auth",
        "graduate",
        "--firebase-api-key",
        "AIzaSecretKey123",
    ])
    .unwrap();
    assert!(h.serve.server.bridge.check_for_server().is_ok());
    let options = h.serve.server.service_options().bridge;
    assert_eq!(options.identity.tenant_id, None);
    assert_eq!(options.mode, crate::service::BridgeMode::Graduate);
    let shown = format!("{h:?} {options:?}");
    assert!(!shown.contains("AIzaSecretKey123"), "{shown}");
    assert_eq!(
        parse(&[])
            .unwrap()
            .serve
            .server
            .service_options()
            .bridge
            .mode,
        crate::service::BridgeMode::Off
    );
}
