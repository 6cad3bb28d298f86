//! What Firebase Auth can import of a stored legacy hash, so that `firegate firebase-auth
//! export` can move accounts without knowing their passwords: the hash parameters of one
//! Identity Toolkit `accounts:batchCreate` request ([`ImportAlgorithm`]), each user's
//! `passwordHash` and `salt` ([`ImportableHash`]), or why a hash cannot go ([`NotImportable`]).
//!
//! A hash is mapped only where the sources below say what Firebase computes; where they do
//! not, it is [`NotImportable::Unconfirmed`], not a guess that would lock its user out.
//!
//! # Sources
//!
//! - **REST**: `projects.accounts.batchCreate`
//!   (<https://cloud.google.com/identity-platform/docs/reference/rest/v1/projects.accounts/batchCreate>,
//!   `…/rest/v1/Argon2Parameters`) and its discovery document (googleapis/google-api-go-client
//!   `identitytoolkit/v1/identitytoolkit-api.json`): the field names; `ARGON2` with iterations
//!   and parallelism 1–16, `memoryCostKib` ≤ 32768 and `hashLengthBytes` 4–1024;
//!   `passwordHashOrder` `SALT_AND_PASSWORD`/`PASSWORD_AND_SALT`; `signerKey`,
//!   `saltSeparator`, `associatedData`, `passwordHash` and `salt` are bytes (base64) fields.
//! - **SDK**: firebase/firebase-admin-node `src/auth/user-import-builder.ts`: the ranges it
//!   enforces (PBKDF_SHA1/PBKDF2_SHA256 rounds 0–120000, MD5 0–8192, SHA1/SHA256/SHA512
//!   1–8192, SCRYPT rounds 1–8 and memoryCost 1–14, one `key` for every HMAC_* user),
//!   STANDARD_SCRYPT's N sent as `cpuMemCost`, and every bytes field encoded with
//!   `utils.toWebSafeBase64` (URL-safe alphabet, padding kept), as firebase-admin-python's
//!   `urlsafe_b64encode` does. None of the SDKs sends `passwordHashOrder` or ARGON2.
//! - **LIVE**: the same repository's `test/integration/auth.spec.ts` (`importUsers()`), which
//!   imports one user per algorithm into a real project and signs in: SHA256 with rounds 1 is
//!   SHA-256(salt ‖ password), raw, with no order given; MD5 with rounds 0 is the lowercase
//!   *hex text* of MD5(salt ‖ password); BCRYPT takes the whole `$2b$` string;
//!   STANDARD_SCRYPT is scrypt(password, salt, N, r, p, dkLen); PBKDF2_SHA256 is
//!   PBKDF2-HMAC-SHA256(password, salt, rounds); HMAC_SHA256 is HMAC(key, password ‖ salt).
//! - **ISSUES**: firebase/firebase-tools #1701 (the Auth team: "round = 0 only works for
//!   MD5"), #1146 (the server caps MD5/SHA* at 8192 rounds), #1617 and #282 (unsalted and
//!   salted MD5 at rounds 0 match the hex text), #1088 (a 32-byte passlib PBKDF2-SHA256 hash
//!   signs in, so the derived length follows the stored hash), firebase-admin-node #792 (the
//!   default order is salt first); firebase-tools `src/accountImporter.ts`
//!   (`--hash-input-order` SALT_FIRST/PASSWORD_FIRST is sent as `passwordHashOrder`).
//! - **SCRYPT**: github.com/firebase/scrypt, as `firebase.rs` implements it.

mod mapping;
mod request;
#[cfg(test)]
mod tests;

pub use mapping::importable;
pub use request::{ImportAlgorithm, ImportableHash, NotImportable};
