//! Input transforms: what a lossy legacy scheme did to a typed password before hashing it.
//! An argon2id hash that replaces a lossy one is computed over the transformed password and
//! kept with the transform's name, so every input the old hash accepted still signs in, and
//! nothing it refused does.

use zeroize::Zeroizing;

use super::scheme::HashError;

/// What PHP's `trim()` strips by default.
const PHP_TRIM: &[u8] = b" \t\n\r\0\x0B";

/// How many bytes of a password bcrypt reads.
const BCRYPT_BYTES: usize = 72;

/// How many bytes of a password DES crypt reads.
const DES_BYTES: usize = 8;

/// The canonical form a typed password is brought to before it is checked against an
/// account's hash: the identity for hashes firegate computed from a password as typed, and
/// for the others the same reduction the legacy scheme made, so that all the inputs it
/// accepted as one password still are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Transform {
    /// The password as typed.
    #[default]
    None,
    /// PHP's `trim()`: surrounding spaces, tabs, newlines, NULs and vertical tabs dropped,
    /// as WordPress does before hashing and before checking.
    Trim,
    /// DES crypt(3)'s key: the first 8 bytes, each without its high bit, zero-padded to 8
    /// (what `crypt` and the `pwhash` verifier feed DES; the later bytes are never read).
    Des8,
    /// bcrypt's input: the first 72 bytes.
    Bcrypt72,
    /// PHP's `trim()`, then bcrypt's first 72 bytes: a bare bcrypt hash in WordPress, whose
    /// login trims what is typed.
    TrimBcrypt72,
}

impl Transform {
    /// Every transform a stored document may name.
    pub const NAMED: [Transform; 4] = [
        Transform::Trim,
        Transform::Des8,
        Transform::Bcrypt72,
        Transform::TrimBcrypt72,
    ];

    /// The name stored with a hash (`password_input`); `None` for the password as typed.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Transform::None => None,
            Transform::Trim => Some("trim"),
            Transform::Des8 => Some("des8"),
            Transform::Bcrypt72 => Some("bcrypt72"),
            Transform::TrimBcrypt72 => Some("trim-bcrypt72"),
        }
    }

    /// The transform a stored name means; absent means the password as typed. A name this
    /// version does not know makes the hash unusable: guessing would let either the wrong
    /// inputs in or the right ones out.
    pub fn from_name(name: Option<&str>) -> Result<Transform, HashError> {
        match name {
            None => Ok(Transform::None),
            Some(name) => Transform::NAMED
                .into_iter()
                .find(|t| t.name() == Some(name))
                .ok_or(HashError::UnknownTransform),
        }
    }

    /// `password` in this transform's canonical form. DES's form can hold bytes that are
    /// not UTF-8 text (and bcrypt's 72 bytes can cut a character), so the form is bytes.
    pub fn apply(&self, password: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Transform::None => password.to_vec(),
            Transform::Trim => php_trim(password).to_vec(),
            Transform::Des8 => {
                let mut key = vec![0u8; DES_BYTES];
                for (to, from) in key.iter_mut().zip(password) {
                    *to = from & 0x7f;
                }
                key
            }
            Transform::Bcrypt72 => password[..password.len().min(BCRYPT_BYTES)].to_vec(),
            Transform::TrimBcrypt72 => {
                let trimmed = php_trim(password);
                trimmed[..trimmed.len().min(BCRYPT_BYTES)].to_vec()
            }
        })
    }

    /// For a plain bcrypt hash that `password` matched: [`Transform::Bcrypt72`] when bcrypt
    /// ignored some of it, or would ignore anything typed after it (72 bytes or more).
    /// Shorter passwords have no other form without a NUL byte, so they keep none.
    pub(crate) fn for_bcrypt(password: &[u8]) -> Transform {
        if password.len() >= BCRYPT_BYTES {
            Transform::Bcrypt72
        } else {
            Transform::None
        }
    }
}

/// `password` without what PHP's `trim()` strips from both ends. The stripped bytes are all
/// ASCII, so the result of trimming UTF-8 text is UTF-8 text.
pub(crate) fn php_trim(password: &[u8]) -> &[u8] {
    let start = password
        .iter()
        .position(|b| !PHP_TRIM.contains(b))
        .unwrap_or(password.len());
    let end = password
        .iter()
        .rposition(|b| !PHP_TRIM.contains(b))
        .map_or(start, |i| i + 1);
    &password[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        assert_eq!(Transform::from_name(None).unwrap(), Transform::None);
        for t in Transform::NAMED {
            assert_eq!(Transform::from_name(t.name()).unwrap(), t);
        }
        let unknown = Transform::from_name(Some("rot13")).unwrap_err().to_string();
        assert!(unknown.contains("trim, des8, bcrypt72"), "{unknown}");
        assert!(!unknown.contains("rot13"), "{unknown}");
    }

    #[test]
    fn trim_is_php_trim() {
        assert_eq!(php_trim(b" \t\n\r\0\x0Bx y\x0B \n"), b"x y");
        assert_eq!(php_trim(b"   "), b"");
        assert_eq!(php_trim(b""), b"");
        // Other Unicode spaces are kept, as PHP keeps them.
        assert_eq!(php_trim("\u{a0}x".as_bytes()), "\u{a0}x".as_bytes());
        assert_eq!(&*Transform::Trim.apply(b"  spaces  "), b"spaces");
    }

    #[test]
    fn des8_keeps_seven_bits_of_eight_bytes() {
        assert_eq!(&*Transform::Des8.apply(b"password+x"), b"password");
        assert_eq!(&*Transform::Des8.apply(b"abc"), b"abc\0\0\0\0\0");
        // Trailing NULs are DES's own padding.
        assert_eq!(
            Transform::Des8.apply(b"abc\0"),
            Transform::Des8.apply(b"abc")
        );
        // "ä" is C3 A4: DES reads 'C' and '$'.
        assert_eq!(&*Transform::Des8.apply("pässwörd".as_bytes()), b"pC$sswC6");
    }

    #[test]
    fn bcrypt72_keeps_72_bytes_and_only_long_passwords_need_it() {
        let long = "é".repeat(40);
        let cut = Transform::Bcrypt72.apply(long.as_bytes());
        assert_eq!(&cut[..], &long.as_bytes()[..72]);
        assert_eq!(&*Transform::Bcrypt72.apply(b"short"), b"short");
        assert_eq!(Transform::for_bcrypt(&[b'a'; 71]), Transform::None);
        assert_eq!(Transform::for_bcrypt(&[b'a'; 72]), Transform::Bcrypt72);
    }

    /// For every lossy fixture hash (written by the real software), the inputs it accepts
    /// are exactly those with its password's form under the transform it names: an upgrade
    /// stored with that transform turns away nothing the hash let in, and lets in nothing
    /// it turned away.
    #[test]
    fn lossy_fixture_hashes_accept_exactly_the_inputs_of_their_passwords_form() {
        use crate::passwords::{CostLimits, parse_with, tests::cases};
        let fixtures = [
            include_str!("../../tests/fixtures/legacy-hashes.jsonl"),
            include_str!("../../tests/fixtures/more-hashes.jsonl"),
            include_str!("../../tests/fixtures/library-hashes.jsonl"),
            include_str!("../../tests/fixtures/php-hashes.jsonl"),
        ];
        let mut seen = std::collections::BTreeMap::<&str, usize>::new();
        for case in fixtures.into_iter().flat_map(cases) {
            let parsed = parse_with(
                case.dialect,
                &case.hash,
                &CostLimits::default(),
                &case.settings,
            )
            .unwrap();
            let pw = case.password.as_bytes();
            let des = matches!(
                parsed.verifier(),
                super::super::verifier::Verifier::DesCrypt { .. }
            );
            let expected = match parsed.scheme() {
                _ if des => Transform::Des8,
                // WordPress and Drupal check the trimmed input only: a hash of untrimmed text
                // never signed in there (see `tests.rs`).
                _ if parsed.trims_typed() && php_trim(pw) != pw => continue,
                _ if parsed.trims_typed() => Transform::Trim,
                "phpass-md5" if php_trim(pw) == pw => Transform::Trim,
                "phpass-md5" => Transform::None,
                // A `$wp$` hash of untrimmed text never signed in (see `tests.rs`).
                "wordpress-bcrypt" if php_trim(pw) == pw => Transform::Trim,
                _ => continue,
            };
            *seen.entry(parsed.scheme()).or_default() += 1;
            let what = format!("{} {}", case.source, case.hash);
            assert_eq!(parsed.matches(pw), Some(expected), "{what}");
            let form = expected.apply(pw);
            let mut flipped = pw.to_vec();
            flipped[0] ^= 1;
            let probes: Vec<Vec<u8>> = vec![
                [pw, b"+x"].concat(),
                [b"  ", pw, b"\t\n"].concat(),
                [b"\xc2\xa0", pw].concat(),
                php_trim(pw).to_vec(),
                pw[..pw.len().min(8)].to_vec(),
                pw[..pw.len().min(7)].to_vec(),
                Transform::Des8
                    .apply(pw)
                    .iter()
                    .copied()
                    .filter(|&b| b != 0)
                    .collect(),
                case.wrong.as_bytes().to_vec(),
                flipped,
            ];
            for probe in probes {
                assert_eq!(
                    parsed.matches(&probe).is_some(),
                    *expected.apply(&probe) == *form,
                    "{what}: {:?}",
                    String::from_utf8_lossy(&probe)
                );
            }
        }
        for scheme in [
            "des-crypt",
            "django-crypt",
            "phpass-md5",
            "wordpress-bcrypt",
        ] {
            assert!(
                seen.get(scheme).is_some_and(|&n| n >= 1),
                "{scheme}: {seen:?}"
            );
        }
    }

    /// bcrypt of the password reads 72 bytes; its pre-hashed variants read every byte.
    #[test]
    fn only_bcrypt_of_the_password_itself_is_cut_at_72_bytes() {
        use crate::passwords::{CostLimits, Dialect, parse};
        let limits = CostLimits::default();
        let real = format!("{}{}", "ü".repeat(36), "real-end");
        let variant = format!("{}{}", &real[..72], "typo-end");
        let plain = bcrypt::hash_with_salt(&real, 4, [3u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let plain = parse(Dialect::Phc, &plain, &limits).unwrap();
        assert_eq!(plain.matches(real.as_bytes()), Some(Transform::Bcrypt72));
        assert_eq!(plain.matches(variant.as_bytes()), Some(Transform::Bcrypt72));
        assert_eq!(
            plain.matches(&real.as_bytes()[..72]),
            Some(Transform::Bcrypt72)
        );
        assert_eq!(plain.matches(&real.as_bytes()[..71]), None);

        let short = bcrypt::hash_with_salt("short one", 4, [3u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let short = parse(Dialect::Phc, &short, &limits).unwrap();
        assert_eq!(short.matches(b"short one"), Some(Transform::None));

        // Django's bcrypt_sha256: bcrypt of SHA-256's hex, which reads the whole password.
        let sha = hex::encode(crate::passwords::digest::HashFn::Sha256.digest(&[real.as_bytes()]));
        let sha = bcrypt::hash_with_salt(sha, 4, [3u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let sha = parse(Dialect::Django, &format!("bcrypt_sha256${sha}"), &limits).unwrap();
        assert_eq!(sha.matches(real.as_bytes()), Some(Transform::None));
        assert_eq!(sha.matches(variant.as_bytes()), None);
    }
}
