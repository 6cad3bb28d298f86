//! TOTP (RFC 6238) as authenticator apps speak it: a 160-bit secret, SHA-1, six digits,
//! 30-second steps, one step of skew either way; codes computed and compared (in constant
//! time) by the `totp-rs` crate, and a code accepted only at a step later than the last
//! accepted one. Enrolment hands out the `otpauth://` URI and its QR code as SVG.

use jiff::Timestamp;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

/// Digits of a code.
const DIGITS: u8 = 6;
/// Seconds of a step.
pub const STEP_SECS: u64 = 30;
/// Steps of skew accepted either way.
const SKEW: u64 = 1;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
const SECRET_BYTES: usize = 20;

/// A TOTP secret in the clear; never printed (its `Debug` is redacted).
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> TotpSecret {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        TotpSecret(Zeroizing::new(bytes.to_vec()))
    }

    pub(super) fn from_bytes(bytes: &[u8]) -> TotpSecret {
        TotpSecret(Zeroizing::new(bytes.to_vec()))
    }

    /// A secret given as base32 (what authenticator apps show and take).
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let secret = Secret::try_from_base32(text).ok()?;
        Some(TotpSecret(Zeroizing::new(secret.as_bytes().to_vec())))
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as base32, without padding, as authenticator apps take it typed in.
    pub fn base32(&self) -> String {
        Secret::new(self.0.to_vec().into_boxed_slice()).to_base32()
    }

    fn totp(&self, issuer: Option<&str>, account: &str) -> Result<Totp, String> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW as u16)
            .with_step_duration(STEP_SECS)
            .with_secret(Secret::new(self.0.to_vec().into_boxed_slice()))
            .with_issuer(issuer.map(str::to_string))
            .with_account_name(account.replace(':', "_"))
            .build()
            .map_err(|e| format!("cannot build the TOTP parameters: {e}"))
    }

    /// The code of the step that `at` falls in (for tests and the CLI's checks).
    pub fn code_at(&self, at: Timestamp) -> String {
        match self.totp(None, "") {
            Ok(totp) => totp.generate(unix_secs(at)).to_string(),
            Err(_) => String::new(),
        }
    }

    /// The step `code` is right for around `now` (one step of skew either way), when that
    /// step is later than `after`: a code is accepted once, and never an older one after it.
    pub fn check(&self, code: &str, now: Timestamp, after: Option<u64>) -> Option<u64> {
        let totp = self.totp(None, "").ok()?;
        // totp-rs compares in constant time and returns the step the code is for; a code is
        // for one step only (another's matching is a one-in-a-million chance).
        let step = totp.check(code, unix_secs(now))?;
        after.is_none_or(|last| step > last).then_some(step)
    }

    /// What an authenticator app needs: the secret, the `otpauth://` URI and its QR code.
    pub fn enrollment(&self, issuer: &str, account: &str) -> Result<Enrollment, String> {
        let uri = self
            .totp(Some(&issuer.replace(':', "_")), account)?
            .to_url()
            .map_err(|e| format!("cannot write the otpauth URI: {e}"))?;
        Ok(Enrollment {
            secret: self.base32(),
            qr_svg: qr_svg(&uri)?,
            uri,
        })
    }
}

fn unix_secs(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0)
}

/// An authenticator app's enrolment: the secret (base32), the `otpauth://` URI and the QR
/// code of the URI as an SVG document.
#[derive(serde::Serialize)]
pub struct Enrollment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> Result<String, String> {
    let code =
        qrcode::QrCode::new(text.as_bytes()).map_err(|e| format!("cannot make a QR code: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrollment { .. }")
    }
}

/// A confirmed authenticator, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// The secret in its stored form ([`super::Sealer::seal`]).
    pub sealed: String,
    pub enrolled_at: Timestamp,
    /// The step of the last accepted code: only a later one is accepted.
    pub last_step: Option<u64>,
}

/// A secret handed out by enrolment, waiting for its first code.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingTotp {
    pub sealed: String,
    pub created_at: Timestamp,
}

// The stored secret may be unsealed (`plain:…`): never in a Debug line.
impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PendingTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingTotp")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, the last six digits.
        let secret = TotpSecret::from_bytes(b"12345678901234567890");
        assert_eq!(secret.code_at(at(59)), "287082");
        assert_eq!(secret.code_at(at(1_111_111_109)), "081804");
        assert_eq!(secret.code_at(at(2_000_000_000)), "279037");
    }

    #[test]
    fn one_step_of_skew_either_way_and_never_a_step_twice() {
        let secret = TotpSecret::generate();
        let now = at(1_700_000_000);
        let step = 1_700_000_000 / STEP_SECS;
        let code = secret.code_at(now);
        assert_eq!(secret.check(&code, now, None), Some(step));
        assert_eq!(secret.check(&code, at(1_700_000_030), None), Some(step));
        assert_eq!(secret.check(&code, at(1_699_999_970), None), Some(step));
        assert_eq!(
            secret.check(&code, at(1_700_000_060), None),
            None,
            "two steps late"
        );
        assert_eq!(secret.check(&code, now, Some(step)), None, "accepted once");
        let earlier = secret.code_at(at(1_699_999_970));
        assert_eq!(
            secret.check(&earlier, now, Some(step)),
            None,
            "never an older one"
        );
        assert_eq!(secret.check("000000x", now, None), None);
    }

    #[test]
    fn enrollment_gives_an_otpauth_uri_and_its_qr_code() {
        let secret = TotpSecret::generate();
        let e = secret.enrollment("Timetable", "kim@example.com").unwrap();
        assert!(
            e.uri
                .starts_with("otpauth://totp/Timetable:kim%40example.com?"),
            "{}",
            e.uri
        );
        assert!(e.uri.contains(&format!("secret={}", e.secret)), "{}", e.uri);
        assert!(e.qr_svg.contains("<svg"), "{}", &e.qr_svg[..80]);
        assert_eq!(
            TotpSecret::from_base32(&e.secret).unwrap().bytes(),
            secret.bytes()
        );
        assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
    }
}
