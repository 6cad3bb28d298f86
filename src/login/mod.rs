//! Login identifiers: the email or username a user types. One rule decides how they match:
//! a login containing `@` is an email and matches case-insensitively; any other login is a
//! username and matches exactly (as Django's default user model does) — exactly, that is,
//! up to Unicode normalisation: new logins are stored with fullwidth and halfwidth forms
//! folded and in NFC, and may not contain invisible or formatting characters, so two logins
//! that look alike are one login. An email login is one bare address (`email.rs`). Logins
//! that still look alike after that (`аdmin` with a Cyrillic `а` and `admin`, a no-break
//! space and a space) share a Unicode TR39 skeleton, which the store keeps unique.

mod email;

use std::borrow::Cow;
use std::fmt;

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

use crate::{Error, Result};

/// Longest accepted login, in bytes (RFC 5321 caps a forward path at 256).
pub const MAX_BYTES: usize = 256;

/// A normalized login identifier: lowercased when it is an email, exact when it is a username.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login(String);

impl Login {
    /// Normalizes and checks a new login (registration, import, an admin's command):
    /// refuses invisible and formatting characters (zero-width spaces and joiners, bidi
    /// controls, soft hyphens, variation selectors, …), folds fullwidth and halfwidth forms
    /// to their ordinary characters (the width mapping of RFC 8264's PRECIS profiles), and
    /// stores the result in NFC; an email is lowercased too.
    pub fn parse(input: &str) -> Result<Login> {
        if input.len() > MAX_BYTES {
            return Err(too_long());
        }
        if let Some(c) = input.chars().find(|&c| is_invisible(c)) {
            return Err(Error::invalid(
                "invalid_login",
                format!(
                    "the login must not contain invisible or formatting characters \
                     (it contains U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        let folded = fold_width(input);
        let nfc = ComposingNormalizerBorrowed::new_nfc();
        Login::checked(&nfc.normalize(&folded), true)
    }

    /// A login as typed, by the rules logins were stored under before normalisation (emails
    /// lowercased, usernames byte for byte): how a sign-in still finds such a login.
    pub fn as_typed(input: &str) -> Result<Login> {
        Login::checked(input, false)
    }

    /// The logins a typed text may name, normalized first: the normalized login and the
    /// login as typed, when they differ and are valid. Refused only when neither is.
    pub fn lookups(input: &str) -> Result<Vec<Login>> {
        let exact = Login::as_typed(input);
        let mut out = Vec::with_capacity(2);
        match Login::parse(input) {
            Ok(login) => out.push(login),
            Err(e) if exact.is_err() => return Err(e),
            Err(_) => {}
        }
        if let Ok(exact) = exact
            && !out.contains(&exact)
        {
            out.push(exact);
        }
        Ok(out)
    }

    fn checked(input: &str, normalize: bool) -> Result<Login> {
        if input.is_empty() {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not be empty",
            ));
        }
        if input.len() > MAX_BYTES {
            return Err(too_long());
        }
        if input.trim() != input {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not start or end with whitespace",
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(Error::invalid(
                "invalid_login",
                "the login must not contain control characters",
            ));
        }
        if input.contains('@') {
            let (local, domain) = input.rsplit_once('@').unwrap_or_default();
            if local.is_empty() || domain.is_empty() || input.contains(char::is_whitespace) {
                return Err(Error::invalid(
                    "invalid_email",
                    "an email must look like name@domain, without spaces",
                ));
            }
            let lower = input.to_lowercase();
            if !normalize {
                return Ok(Login(lower));
            }
            // Lowercasing can leave a sequence NFC would compose differently.
            let nfc = ComposingNormalizerBorrowed::new_nfc();
            let email = nfc.normalize(&lower).into_owned();
            email::bare_address(&email)?;
            return Ok(Login(email));
        }
        Ok(Login(input.to_string()))
    }

    /// The address mail for this login goes to: the login itself, when it is an email that
    /// the rules for new logins accept (one bare address, nothing invisible). An email stored
    /// under older rules that is not (`"a" <b@c>`, a list) gets no mail: mail never goes to
    /// any address but the one the login is.
    pub fn mail_address(&self) -> Result<lettre::Address> {
        if let Some(c) = self.0.chars().find(|&c| is_invisible(c)) {
            return Err(Error::invalid(
                "invalid_email",
                format!(
                    "an email must not contain invisible or formatting characters (it \
                     contains U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        email::bare_address(&self.0)
    }

    /// The login's confusable skeleton (Unicode TR39 section 4): two logins look alike
    /// exactly when their skeletons are equal, e.g. `аdmin` (Cyrillic `а`) and `admin`, or
    /// `kim lee` with a no-break space and with a space.
    ///
    /// An email's domain is first brought to the one Unicode spelling IDNA gives it, as mail
    /// relays resolve it: `bücher.example` and `xn--bcher-kva.example`, or `mail.example。com`
    /// (ideographic full stop) and `mail.example.com`, name one mailbox's domain.
    pub fn skeleton(&self) -> String {
        match self.0.rsplit_once('@') {
            Some((local, domain)) => {
                let (unicode, mapped) = idna::domain_to_unicode(domain);
                let domain = if mapped.is_ok() {
                    unicode.as_str()
                } else {
                    domain
                };
                unicode_security::skeleton(&format!("{local}@{domain}")).collect()
            }
            None => unicode_security::skeleton(&self.0).collect(),
        }
    }

    /// True when this login is an email (contains `@`).
    pub fn is_email(&self) -> bool {
        self.0.contains('@')
    }

    /// The normalized text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The other spelling of this login under a legacy domain: the username `name` for the
    /// email `name@<domain>`, and that email for the username `name`. Legacy clients send
    /// either, so both must belong to one account.
    pub fn legacy_alias(&self, legacy_domain: &str) -> Option<Login> {
        match self.0.rsplit_once('@') {
            Some((name, domain)) if domain.eq_ignore_ascii_case(legacy_domain) => {
                Login::parse(name).ok().filter(|l| !l.is_email())
            }
            Some(_) => None,
            None => Login::parse(&format!("{}@{legacy_domain}", self.0)).ok(),
        }
    }

    /// The logins a sign-in attempt may mean: the [`Login::lookups`] of the text and, when
    /// it is `name@<legacy domain>`, those of the bare username `name` — as typed first
    /// (usernames keep their case, so `Kim@school.example` is the username `Kim`), then as
    /// the lowercased email has it.
    pub fn candidates(input: &str, legacy_domain: Option<&str>) -> Result<Vec<Login>> {
        let mut out = Login::lookups(input)?;
        let Some(domain) = legacy_domain else {
            return Ok(out);
        };
        let typed = std::iter::once(input.to_string());
        let names: Vec<String> = typed
            .chain(out.iter().map(|login| login.as_str().to_string()))
            .filter_map(|text| {
                let (name, at) = text.rsplit_once('@')?;
                (at.eq_ignore_ascii_case(domain) && !name.contains('@')).then(|| name.to_string())
            })
            .collect();
        for name in names {
            for login in Login::lookups(&name).unwrap_or_default() {
                if !out.contains(&login) {
                    out.push(login);
                }
            }
        }
        Ok(out)
    }
}

fn too_long() -> Error {
    Error::invalid(
        "invalid_login",
        format!("the login is longer than {MAX_BYTES} bytes"),
    )
}

/// Characters that show nothing, or change how their neighbours show: Unicode's default
/// ignorable code points (zero-width space and joiners, word joiner, soft hyphen, variation
/// selectors, Hangul fillers, …) and every format character (category Cf: bidi controls,
/// the byte-order mark, …).
fn is_invisible(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
}

/// Maps fullwidth and halfwidth forms (`ｋｉｍ`, `ｶﾞ`, the ideographic space) to their
/// ordinary characters. Only this block's compatibility mappings are applied: NFKC as a
/// whole would also rewrite ligatures, superscripts and Hangul compatibility jamo, which
/// users type on purpose.
fn fold_width(input: &str) -> Cow<'_, str> {
    let is_width_form = |c: char| matches!(c, '\u{3000}' | '\u{FF01}'..='\u{FFEE}');
    if !input.chars().any(is_width_form) {
        return Cow::Borrowed(input);
    }
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let mut out = String::with_capacity(input.len());
    let mut buf = [0u8; 4];
    for c in input.chars() {
        if is_width_form(c) {
            out.push_str(&nfkc.normalize(c.encode_utf8(&mut buf)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_case_insensitive_usernames_exact() {
        assert_eq!(
            Login::parse("Alice@Example.COM").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(Login::parse("Alice").unwrap().as_str(), "Alice");
        assert!(Login::parse("Alice@x.org").unwrap().is_email());
        assert!(!Login::parse("alice").unwrap().is_email());
    }

    #[test]
    fn malformed_logins_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            (" alice", "whitespace"),
            ("al\u{0}ice", "control"),
            ("@example.com", "name@domain"),
            ("alice@", "name@domain"),
            ("a b@example.com", "name@domain"),
        ] {
            let err = Login::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(Login::parse(&"a".repeat(MAX_BYTES + 1)).is_err());
        assert!(Login::parse(&"a".repeat(MAX_BYTES)).is_ok());
    }

    #[test]
    fn an_email_login_is_one_bare_address() {
        for bad in [
            "\"ceo@school.example\"<attacker@evil.example>",
            "n1<victim@school.example>",
            "victim9@school.example,attacker9@evil.example",
            "\"kim\"@example.com",
            "kim(x)@example.com",
            // Fullwidth brackets fold to `<` and `>` first.
            "n1＜victim@school.example＞",
        ] {
            let err = Login::parse(bad).unwrap_err().to_string();
            assert!(err.contains("one bare address"), "{bad:?}: {err}");
        }
        let kim = Login::parse("Kim.Lee+x@Example.com").unwrap();
        assert_eq!(
            kim.mail_address().unwrap().to_string(),
            "kim.lee+x@example.com"
        );
        // A login stored before the rule is still found, but mail never goes to it.
        let old = Login::as_typed("n1<victim@school.example>").unwrap();
        assert!(old.mail_address().is_err());
        assert!(
            Login::as_typed("ki\u{200B}m@example.com")
                .unwrap()
                .mail_address()
                .is_err()
        );
        assert!(Login::parse("kim").unwrap().mail_address().is_err());
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let skeleton = |s: &str| Login::parse(s).unwrap().skeleton();
        assert_eq!(skeleton("\u{430}dmin"), skeleton("admin"));
        assert_eq!(skeleton("kim\u{a0}lee"), skeleton("kim lee"));
        assert_eq!(
            skeleton("\u{440}\u{430}\u{443}\u{440}\u{430}\u{4cf}"),
            skeleton("paypal")
        );
        assert_eq!(
            skeleton("\u{430}dmin@example.com"),
            skeleton("admin@example.com")
        );
        assert_ne!(
            skeleton("admin"),
            skeleton("Admin"),
            "usernames keep their case"
        );
        assert_ne!(skeleton("kim"), skeleton("lee"));
    }

    #[test]
    fn spellings_of_one_mail_domain_share_a_skeleton() {
        let skeleton = |s: &str| Login::parse(s).unwrap().skeleton();
        assert_eq!(
            skeleton("kim@xn--bcher-kva.example"),
            skeleton("kim@b\u{fc}cher.example")
        );
        assert_eq!(
            skeleton("kim@mail.example\u{3002}com"),
            skeleton("kim@mail.example.com")
        );
        assert_eq!(skeleton("kim@\u{2460}.example"), skeleton("kim@1.example"));
        assert_eq!(
            skeleton("kim@ex\u{430}mple.com"),
            skeleton("kim@example.com"),
            "a look-alike domain still looks alike"
        );
        assert_ne!(skeleton("kim@example.com"), skeleton("kim@example.org"));
    }

    #[test]
    fn legacy_domain_adds_the_bare_username() {
        let c = Login::candidates("kim@school.example", Some("School.Example")).unwrap();
        let c: Vec<_> = c.iter().map(Login::as_str).collect();
        assert_eq!(c, ["kim@school.example", "kim"]);
        let c = Login::candidates("kim@other.example", Some("school.example")).unwrap();
        assert_eq!(c.len(), 1);
        let c = Login::candidates("kim", Some("school.example")).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn look_alike_logins_normalise_to_one() {
        let nfd = "Jose\u{301}@example.com";
        assert_eq!(Login::parse(nfd).unwrap().as_str(), "jos\u{e9}@example.com");
        assert_eq!(
            Login::parse("ｋｉｍ＠ｅｘａｍｐｌｅ．ｃｏｍ")
                .unwrap()
                .as_str(),
            "kim@example.com"
        );
        assert_eq!(Login::parse("ｋｉｍ").unwrap().as_str(), "kim");
        // Halfwidth katakana with a halfwidth voiced mark compose to one character.
        assert_eq!(Login::parse("ｶﾞｯｺｳ").unwrap().as_str(), "ガッコウ");
        assert_eq!(Login::parse("Jose\u{301}").unwrap().as_str(), "Jos\u{e9}");
        // Other compatibility characters are what the user typed, and stay.
        assert_eq!(Login::parse("ㅋㅋ").unwrap().as_str(), "ㅋㅋ");
        assert_eq!(Login::parse("ﬁsh").unwrap().as_str(), "ﬁsh");
    }

    #[test]
    fn invisible_and_formatting_characters_are_refused_in_new_logins() {
        for bad in [
            "ki\u{200B}m@example.com",
            "kim\u{200D}",
            "\u{FEFF}kim",
            "kim\u{00AD}lee",
            "kim\u{202E}",
            "kim\u{2060}",
            "kim\u{FE0F}",
            "kim\u{3164}",
            "kim\u{FFA0}",
            "kim\u{E0041}",
        ] {
            let err = Login::parse(bad).unwrap_err().to_string();
            assert!(err.contains("invisible"), "{bad:?}: {err}");
        }
        // Sign-in still finds a login stored with one before the rule (as typed only).
        let lookups = Login::lookups("ki\u{200B}m").unwrap();
        assert_eq!(lookups, [Login::as_typed("ki\u{200B}m").unwrap()]);
    }

    #[test]
    fn lookups_try_the_normalised_login_then_the_login_as_typed() {
        let typed = "Jose\u{301}";
        let lookups: Vec<String> = Login::lookups(typed)
            .unwrap()
            .iter()
            .map(Login::to_string)
            .collect();
        assert_eq!(lookups, ["Jos\u{e9}", typed]);
        assert_eq!(Login::lookups("kim").unwrap().len(), 1);
        assert!(Login::lookups("").is_err());
    }

    #[test]
    fn legacy_aliases_go_both_ways() {
        let email = Login::parse("kim@School.Example").unwrap();
        assert_eq!(
            email.legacy_alias("school.example").unwrap().as_str(),
            "kim"
        );
        let name = Login::parse("kim").unwrap();
        assert_eq!(
            name.legacy_alias("School.Example").unwrap().as_str(),
            "kim@school.example"
        );
        assert!(email.legacy_alias("other.example").is_none());
        let c = Login::candidates("ｋｉｍ@school.example", Some("school.example")).unwrap();
        let c: Vec<_> = c.iter().map(Login::as_str).collect();
        assert_eq!(
            c,
            [
                "kim@school.example",
                "ｋｉｍ@school.example",
                "kim",
                "ｋｉｍ"
            ]
        );
    }
}
