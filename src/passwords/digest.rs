//! The hash functions that legacy frameworks name inside their hash strings, and the
//! plain digest, HMAC and PBKDF2 constructions computed over them.

use hmac::{Hmac, SimpleHmac};
use sha2::Digest as _;

/// Declares every supported hash function once, with its Python `hashlib` name,
/// so names, scheme labels and computations cannot drift apart.
macro_rules! hash_functions {
    ($($variant:ident => $name:literal, $ty:ty, $mac:ident;)*) => {
        /// A hash function as named by Python's `hashlib` (the names Werkzeug stores).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum HashFn { $($variant),* }

        impl HashFn {
            pub(crate) const ALL: &[HashFn] = &[$(HashFn::$variant),*];

            /// The `hashlib` name, e.g. `sha3_256`.
            pub(crate) fn name(self) -> &'static str {
                match self { $(HashFn::$variant => $name),* }
            }

            pub(crate) fn werkzeug_pbkdf2_scheme(self) -> &'static str {
                match self { $(HashFn::$variant => concat!("werkzeug-pbkdf2-", $name)),* }
            }

            pub(crate) fn werkzeug_hmac_scheme(self) -> &'static str {
                match self { $(HashFn::$variant => concat!("werkzeug-hmac-", $name)),* }
            }

            pub(crate) fn werkzeug_plain_scheme(self) -> &'static str {
                match self { $(HashFn::$variant => concat!("werkzeug-", $name)),* }
            }

            pub(crate) fn output_len(self) -> usize {
                match self { $(HashFn::$variant => <$ty>::output_size()),* }
            }

            /// The digest of `parts` concatenated.
            pub(crate) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
                match self { $(HashFn::$variant => digest_of::<$ty>(parts)),* }
            }

            pub(crate) fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
                match self { $(HashFn::$variant => hmac_of::<$mac<$ty>>(key, message)),* }
            }

            /// PBKDF2-HMAC filling `out`; `rounds` must be at least 1.
            pub(crate) fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
                if let Some(algorithm) = self.prebuilt_pbkdf2()
                    && let Ok(params) = pbkdf2::Params::new(rounds)
                {
                    return pbkdf2::pbkdf2_hmac_with_params(password, salt, algorithm, params, out);
                }
                let result = match self {
                    $(HashFn::$variant => pbkdf2::pbkdf2::<$mac<$ty>>(password, salt, rounds, out)),*
                };
                result.expect("HMAC accepts keys of any length");
            }
        }
    };
}

// `Hmac` reuses precomputed pad states and is what makes PBKDF2 fast; it needs a
// block-level hash, so the sponge and BLAKE2 functions take the generic `SimpleHmac`.
hash_functions! {
    Md5 => "md5", md5::Md5, Hmac;
    Sha1 => "sha1", sha1::Sha1, Hmac;
    Sha224 => "sha224", sha2::Sha224, Hmac;
    Sha256 => "sha256", sha2::Sha256, Hmac;
    Sha384 => "sha384", sha2::Sha384, Hmac;
    Sha512 => "sha512", sha2::Sha512, Hmac;
    Sha512_224 => "sha512_224", sha2::Sha512_224, Hmac;
    Sha512_256 => "sha512_256", sha2::Sha512_256, Hmac;
    Sha3_224 => "sha3_224", sha3::Sha3_224, SimpleHmac;
    Sha3_256 => "sha3_256", sha3::Sha3_256, SimpleHmac;
    Sha3_384 => "sha3_384", sha3::Sha3_384, SimpleHmac;
    Sha3_512 => "sha3_512", sha3::Sha3_512, SimpleHmac;
    Blake2b => "blake2b", blake2::Blake2b512, SimpleHmac;
    Blake2s => "blake2s", blake2::Blake2s256, SimpleHmac;
}

impl HashFn {
    /// The pbkdf2 crate's own SHA-2 entry point is compiled in that crate, so it stays
    /// fast in unoptimised test builds, where a generic instance compiled here would run
    /// twenty times slower. It takes 1000 rounds or more.
    fn prebuilt_pbkdf2(self) -> Option<pbkdf2::Algorithm> {
        match self {
            HashFn::Sha256 => Some(pbkdf2::Algorithm::Pbkdf2Sha256),
            HashFn::Sha512 => Some(pbkdf2::Algorithm::Pbkdf2Sha512),
            _ => None,
        }
    }

    /// What one PBKDF2 round of this digest costs, in SHA-256 rounds (the unit of
    /// `--max-pbkdf2-rounds`): measured on x86-64 with the SHA extensions (which speed up
    /// SHA-1 and SHA-256 only) by `cargo bench --bench hashes -- ceilings`, rounded up.
    pub(crate) fn pbkdf2_cost(self) -> u32 {
        match self {
            HashFn::Sha1 | HashFn::Sha256 => 1,
            HashFn::Sha224 => 2,
            HashFn::Md5 => 3,
            HashFn::Sha384 | HashFn::Sha512 | HashFn::Sha512_224 | HashFn::Sha512_256 => 6,
            HashFn::Blake2s => 6,
            HashFn::Blake2b => 7,
            HashFn::Sha3_224 | HashFn::Sha3_256 | HashFn::Sha3_384 | HashFn::Sha3_512 => 14,
        }
    }

    /// The compression function's block size in bytes.
    pub(crate) fn block_len(self) -> usize {
        match self {
            HashFn::Md5 | HashFn::Sha1 | HashFn::Sha224 | HashFn::Sha256 | HashFn::Blake2s => 64,
            HashFn::Sha384 | HashFn::Sha512 | HashFn::Sha512_224 | HashFn::Sha512_256 => 128,
            HashFn::Blake2b => 128,
            HashFn::Sha3_224 => 144,
            HashFn::Sha3_256 => 136,
            HashFn::Sha3_384 => 104,
            HashFn::Sha3_512 => 72,
        }
    }

    /// Looks a name up the way `hashlib.new` does through OpenSSL: case-insensitively.
    pub(crate) fn from_hashlib_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

fn digest_of<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}

#[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
fn hmac_of<M: hmac::Mac + hmac::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac =
        <M as hmac::KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::HashFn;

    #[test]
    fn names_round_trip_case_insensitively() {
        for f in HashFn::ALL {
            assert_eq!(
                HashFn::from_hashlib_name(&f.name().to_uppercase()),
                Some(*f)
            );
        }
        assert_eq!(HashFn::from_hashlib_name("sha-256"), None);
    }

    #[test]
    fn known_answers() {
        // RFC 6070 PBKDF2-HMAC-SHA1, and RFC 4231 HMAC-SHA256 test case 2.
        let mut out = [0u8; 20];
        HashFn::Sha1.pbkdf2(b"password", b"salt", 2, &mut out);
        assert_eq!(hex::encode(out), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
        assert_eq!(
            hex::encode(HashFn::Sha256.hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(HashFn::Md5.digest(&[b"a", b"bc"])),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        for f in HashFn::ALL {
            assert_eq!(f.digest(&[]).len(), f.output_len());
            assert_eq!(f.hmac(b"k", b"m").len(), f.output_len());
        }
    }
}
