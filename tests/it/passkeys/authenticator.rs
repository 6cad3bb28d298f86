//! A software authenticator, as a browser and a platform authenticator together answer
//! `navigator.credentials.create()` and `get()`: a P-256 key (aws-lc-rs), `none`
//! attestation and COSE key in CBOR (ciborium), client data with the origin it is told,
//! user verification done, and a signature counter it keeps (or is told to reuse).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// User present, user verified, attested credential data.
const FLAGS_CREATE: u8 = 0x01 | 0x04 | 0x40;
/// User present, user verified.
const FLAGS_GET: u8 = 0x01 | 0x04;

/// One authenticator holding one discoverable credential once it has made it.
pub struct SoftAuthenticator {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The signature counter of the last assertion.
    pub counter: u32,
}

impl SoftAuthenticator {
    pub fn new() -> SoftAuthenticator {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        SoftAuthenticator {
            key,
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: Vec::new(),
            counter: 0,
        }
    }

    /// The credential id as the server names it.
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    /// Answers creation options (`{"publicKey": …}` as the server sent them) from `origin`.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().unwrap();
        self.user_handle = URL_SAFE_NO_PAD
            .decode(public_key["user"]["id"].as_str().unwrap())
            .unwrap();
        let client_data = client_data("webauthn.create", public_key, origin);
        let point = self.key.public_key().as_ref();
        let cose = cbor(&Cbor::Map(vec![
            (1.into(), 2.into()),
            (3.into(), (-7).into()),
            ((-1).into(), 1.into()),
            ((-2).into(), Cbor::Bytes(point[1..33].to_vec())),
            ((-3).into(), Cbor::Bytes(point[33..65].to_vec())),
        ]));
        let mut auth_data = auth_data(rp_id, FLAGS_CREATE, 0);
        auth_data.extend_from_slice(&[0u8; 16]);
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cose);
        let attestation = cbor(&Cbor::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), Cbor::Map(Vec::new())),
            ("authData".into(), Cbor::Bytes(auth_data)),
        ]));
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "transports": ["internal", "hybrid"],
            },
            "extensions": {},
        })
    }

    /// Answers request options from `origin`, with the next counter value.
    pub fn get(&mut self, options: &Value, origin: &str) -> Value {
        self.counter += 1;
        self.get_at(options, origin, self.counter)
    }

    /// Answers request options with signature counter `counter` (a clone's).
    pub fn get_at(&self, options: &Value, origin: &str, counter: u32) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().unwrap();
        let client_data = client_data("webauthn.get", public_key, origin);
        let auth_data = auth_data(rp_id, FLAGS_GET, counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

fn client_data(kind: &str, public_key: &Value, origin: &str) -> Vec<u8> {
    json!({
        "type": kind,
        "challenge": public_key["challenge"],
        "origin": origin,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

fn auth_data(rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
    let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
    data.push(flags);
    data.extend_from_slice(&counter.to_be_bytes());
    data
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}
