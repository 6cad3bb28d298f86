//! X.509 for key rotation: the self-signed certificate `keys generate` writes for
//! `gcloud iam service-accounts keys upload`, and reading the public key back out of the
//! certificates Google publishes. Offline RSA work only (the `rsa` crate never signs tokens).

use std::str::FromStr;
use std::time::Duration;

use der::{DecodePem, Encode, EncodePem};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey;
use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::Validity;

use crate::error::Cause;

/// Validity of generated certificates; Google ignores it for signing-key verification, but
/// keys are meant to be rotated well before it ends.
const VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Issuer = subject, no extensions: what `keys upload` needs and nothing more.
struct SelfSigned(Name);

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.0.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(Vec::new())
    }
}

/// A PEM self-signed certificate of `key`'s public key, with `CN=<common_name>`.
pub fn self_signed_certificate(key: &rsa::PrivateKey, common_name: &str) -> Result<String, Cause> {
    let cn = common_name.replace([',', '+', '=', '\\', '"', '<', '>', ';'], "_");
    let subject = Name::from_str(&format!("CN={cn}"))?;
    let signer = SigningKey::<Sha256>::new(key.clone());
    let spki = SubjectPublicKeyInfo::from_key(&key.to_public_key())?;
    let serial: [u8; 16] = rand::random();
    let mut serial = serial;
    serial[0] &= 0x7f;
    let builder = CertificateBuilder::new(
        SelfSigned(subject),
        SerialNumber::new(&serial)?,
        Validity::from_now(VALIDITY)?,
        spki,
    )?;
    let certificate = builder.build::<_, rsa::pkcs1v15::Signature>(&signer)?;
    Ok(certificate.to_pem(der::pem::LineEnding::LF)?)
}

/// The DER `SubjectPublicKeyInfo` of an RSA public key given as DER `RSAPublicKey` (the form
/// aws-lc-rs exposes).
pub fn public_key_spki_der(rsa_public_key: &[u8]) -> Vec<u8> {
    rsa::PublicKey::from_pkcs1_der(rsa_public_key)
        .ok()
        .and_then(|k| k.to_public_key_der().ok())
        .map(|doc| doc.as_bytes().to_vec())
        .unwrap_or_default()
}

/// A certificate that cannot be read: not PEM, or a key that cannot be encoded.
#[derive(Debug, thiserror::Error)]
#[error("not a PEM certificate")]
pub struct CertificateError(#[source] der::Error);

/// The DER `SubjectPublicKeyInfo` inside a PEM certificate.
pub fn certificate_spki_der(pem: &str) -> Result<Vec<u8>, CertificateError> {
    let certificate = Certificate::from_pem(pem).map_err(CertificateError)?;
    certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(CertificateError)
}

/// The DER `RSAPublicKey` of a PEM certificate's key, as signature checks take it.
pub fn certificate_rsa_public_key(pem: &str) -> Result<Vec<u8>, CertificateError> {
    let certificate = Certificate::from_pem(pem).map_err(CertificateError)?;
    Ok(certificate
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;

    #[test]
    fn a_generated_certificate_carries_the_keys_public_key() {
        let generated = crate::keys::keygen::generate_rsa(2048).unwrap();
        let key = rsa::PrivateKey::from_pkcs8_der(generated.pkcs8_der()).unwrap();
        let pem = self_signed_certificate(&key, "sa@p.iam.gserviceaccount.com").unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let spki = key.to_public_key().to_public_key_der().unwrap();
        assert_eq!(certificate_spki_der(&pem).unwrap(), spki.as_bytes());

        let signer =
            crate::custom_token::TokenSigner::from_pkcs8_der("k", "e", generated.pkcs8_der())
                .unwrap();
        assert_eq!(
            public_key_spki_der(signer.public_key_der()),
            spki.as_bytes()
        );
        assert!(certificate_spki_der("not pem").is_err());
    }
}
