//! The recomputation of each hash family, one function per family: the password goes in with
//! the stored parameters, and the result is compared with the stored output in constant time.

use std::sync::Arc;

use sha_crypt::PasswordVerifier as _;
use subtle::ConstantTimeEq as _;

use super::digest::HashFn;
use super::settings::FirebaseProject;
use super::verifier::{BcryptInput, Layout};

/// PBKDF2 over the salt, as long as the stored output.
pub(super) fn pbkdf2(
    hash: HashFn,
    rounds: u32,
    salt: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    let mut out = vec![0u8; expected.len()];
    hash.pbkdf2(password, salt, rounds, &mut out);
    same(&out, expected)
}

/// One digest (or HMAC) pass combining password and salt as `layout` says.
pub(super) fn salted_digest(
    hash: HashFn,
    layout: Layout,
    salt: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    let out = match layout {
        Layout::Unsalted => hash.digest(&[password]),
        Layout::SaltThenPassword => hash.digest(&[salt, password]),
        Layout::PasswordThenSalt => hash.digest(&[password, salt]),
        Layout::HmacKeyedBySalt => hash.hmac(salt, password),
    };
    same(&out, expected)
}

pub(super) fn scrypt(
    params: &scrypt::Params,
    salt: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    let mut out = vec![0u8; expected.len()];
    scrypt::scrypt(password, salt, params, &mut out).is_ok() && same(&out, expected)
}

pub(super) fn argon2(
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    params: &argon2::Params,
    salt: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    let mut out = vec![0u8; expected.len()];
    let argon = argon2::Argon2::new(algorithm, version, params.clone());
    super::memory::hash_into(&argon, password, salt, &mut out).is_ok() && same(&out, expected)
}

/// bcrypt of the password after the dialect's pre-hash, compared on the checksum's text.
pub(super) fn bcrypt(
    input: BcryptInput,
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    expected: &str,
) -> bool {
    let input = bcrypt_input(input, salt, password);
    // `hash_with_salt` truncates at 72 bytes like OpenBSD bcrypt did.
    bcrypt::hash_with_salt(input.as_slice(), cost, *salt).is_ok_and(|parts| {
        let full = parts.format_for_version(bcrypt::Version::TwoB);
        full.get(29..)
            .is_some_and(|checksum| same(checksum.as_bytes(), expected.as_bytes()))
    })
}

/// What bcrypt is fed: the password, or its pre-hash in the dialect's text form.
fn bcrypt_input(
    input: BcryptInput,
    salt: &[u8; 16],
    password: &[u8],
) -> zeroize::Zeroizing<Vec<u8>> {
    use base64::Engine as _;
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    zeroize::Zeroizing::new(match input {
        BcryptInput::Password => password.to_vec(),
        BcryptInput::Sha256Hex => hex::encode(HashFn::Sha256.digest(&[password])).into_bytes(),
        BcryptInput::Sha256Base64 => b64(HashFn::Sha256.digest(&[password])).into_bytes(),
        BcryptInput::HmacSha256Base64 => {
            let key = bcrypt::BASE_64.encode(salt);
            b64(HashFn::Sha256.hmac(key.as_bytes(), password)).into_bytes()
        }
        BcryptInput::WordPress => b64(HashFn::Sha384.hmac(b"wp-sha384", password)).into_bytes(),
    })
}

pub(super) fn sha_crypt(algorithm: sha_crypt::Algorithm, stored: &str, password: &[u8]) -> bool {
    sha_crypt::ShaCrypt::from(algorithm)
        .verify_password(password, stored)
        .is_ok()
}

pub(super) fn md5_crypt(stored: &str, password: &[u8]) -> bool {
    // Deprecated only to steer new hashes elsewhere; checking old ones is its use.
    #[allow(deprecated)]
    let out = pwhash::md5_crypt::hash_with(stored, password);
    out.is_ok_and(|out| same(out.as_bytes(), stored.as_bytes()))
}

pub(super) fn des_crypt(stored: &str, password: &[u8]) -> bool {
    #[allow(deprecated)]
    let out = pwhash::unix_crypt::hash_with(stored.get(..2).unwrap_or(""), password);
    out.is_ok_and(|out| same(out.as_bytes(), stored.as_bytes()))
}

/// phpass and Drupal 7: `count` rounds over the (possibly MD5-hexed) password, compared on
/// as many characters as the stored string kept.
pub(super) fn phpass(
    hash: HashFn,
    count: u32,
    md5_first: bool,
    salt: &[u8],
    password: &[u8],
    expected: &str,
) -> bool {
    let hexed;
    let password = if md5_first {
        hexed = hex::encode(HashFn::Md5.digest(&[password]));
        hexed.as_bytes()
    } else {
        password
    };
    let mut out = hash.digest(&[salt, password]);
    for _ in 0..count {
        out = hash.digest(&[&out, password]);
    }
    let encoded = super::phpass::encode64(&out);
    encoded
        .get(..expected.len())
        .is_some_and(|kept| same(kept.as_bytes(), expected.as_bytes()))
}

/// Spring's `StandardPasswordEncoder`: `hash` applied `count` times to prefix ‖ password.
pub(super) fn iterated(
    hash: HashFn,
    count: u32,
    prefix: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    let mut out = hash.digest(&[prefix, password]);
    for _ in 1..count {
        out = hash.digest(&[&out]);
    }
    same(&out, expected)
}

pub(super) fn apr1(salt: &str, password: &[u8], expected: &str) -> bool {
    let out = super::passlib::md5_crypt(password, salt.as_bytes(), b"$apr1$");
    same(out.as_bytes(), expected.as_bytes())
}

pub(super) fn sha1_crypt(rounds: u32, salt: &str, password: &[u8], expected: &str) -> bool {
    super::passlib::sha1_crypt_checksum(password, salt, rounds)
        .is_some_and(|out| same(out.as_bytes(), expected.as_bytes()))
}

/// Firebase's scrypt under its project's parameters.
pub(super) fn firebase_scrypt(
    project: &Arc<FirebaseProject>,
    params: &scrypt::Params,
    salt: &[u8],
    password: &[u8],
    expected: &[u8],
) -> bool {
    super::firebase::hash(project, params, salt, password).is_some_and(|out| same(&out, expected))
}

/// Constant-time equality of a recomputed output with the stored one.
fn same(computed: &[u8], expected: &[u8]) -> bool {
    computed.ct_eq(expected).into()
}
