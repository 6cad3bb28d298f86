//! Email addresses: the one shape an email login may take, and the only thing mail is ever
//! addressed to — a bare addr-spec (`local@domain`), parsed by lettre, with firegate's
//! stricter rules on top: no display name, list, quoted local part, comment or domain
//! literal, no whitespace and no control characters.

use lettre::Address;

use crate::{Error, Result};

/// The address `email` names, when it is one bare address; the error says which rule it
/// breaks, without quoting it.
pub(super) fn bare_address(email: &str) -> Result<Address> {
    let refuse = |why: &str| {
        Err(Error::invalid(
            "invalid_email",
            format!("an email must be one bare address like name@example.com: {why}"),
        ))
    };
    if email.contains(['<', '>']) {
        return refuse("no display name or angle brackets");
    }
    if email.contains([',', ';']) {
        return refuse("one address, not a list");
    }
    if email.contains(char::is_whitespace) {
        return refuse("no spaces");
    }
    if email.contains(char::is_control) {
        return refuse("no control characters");
    }
    if email.contains(['"', '\\']) {
        return refuse("no quotes");
    }
    if email.contains(['(', ')']) {
        return refuse("no comments in parentheses");
    }
    if email.contains(['[', ']']) {
        return refuse("the domain must be a name, not an [address]");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return refuse("it has no `@`");
    };
    if local.is_empty() || domain.is_empty() {
        return refuse("a name before the `@` and a domain after it");
    }
    if local.contains('@') {
        return refuse("one `@` only");
    }
    // Relays that still honour the old source-routing forms (Postfix's percent hack and
    // bang paths, on by default for its own domains) would deliver `a%evil.example@school`
    // or `evil.example!a@school` to another domain than the one the address names.
    if local.contains(['%', '!']) {
        return refuse("no `%` or `!` before the `@` (mail relays read them as routes)");
    }
    match email.parse::<Address>() {
        Ok(address) => Ok(address),
        Err(lettre::address::AddressError::InvalidDomain) => {
            refuse("the part after the `@` is not a domain name")
        }
        Err(_) => refuse(
            "the part before the `@` may hold letters, digits, dots between them and \
             # $ & ' * + - / = ? ^ _ ` { | } ~",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_addresses_pass_and_keep_their_text() {
        for good in [
            "kim@example.com",
            "kim.lee+tag@mail.example.co.kr",
            "o'neil@example.com",
            "홍길동@example.com",
            "kim@bücher.example",
            "x@localhost",
        ] {
            let address = bare_address(good).unwrap();
            assert_eq!(address.to_string(), good);
        }
    }

    #[test]
    fn anything_but_one_bare_address_is_refused_with_its_rule() {
        for (bad, why) in [
            (
                "\"ceo@school.example\"<attacker@evil.example>",
                "display name",
            ),
            (
                "\"ceo@school.example\" <attacker@evil.example>",
                "display name",
            ),
            ("n1<victim@school.example>", "display name"),
            ("<victim@school.example>", "display name"),
            ("victim9@school.example,attacker9@evil.example", "list"),
            ("victim@school.example;attacker@evil.example", "list"),
            ("kim\u{a0}lee@example.com", "spaces"),
            ("kim@example.com\u{2028}", "spaces"),
            ("kim\u{85}@example.com", "spaces"),
            ("kim\u{9f}@example.com", "control"),
            ("\"kim\"@example.com", "quotes"),
            ("kim\\@example.com", "quotes"),
            ("kim(comment)@example.com", "comments"),
            ("kim@[127.0.0.1]", "[address]"),
            ("kim.example.com", "no `@`"),
            ("@school.example", "a name before"),
            ("kim@", "a domain after"),
            ("kim@lee@example.com", "one `@`"),
            ("kim@exa_mple..com", "domain name"),
            ("kim@-example.com", "domain name"),
            (".kim@example.com", "may hold"),
            ("kim..lee@example.com", "may hold"),
            ("victim%evil.example@school.example", "`%` or `!`"),
            ("evil.example!victim@school.example", "`%` or `!`"),
        ] {
            let err = bare_address(bad).unwrap_err();
            let Error::InvalidInput { code, message, .. } = &err else {
                panic!("{bad:?}: {err:?}");
            };
            assert_eq!(*code, "invalid_email", "{bad:?}");
            assert!(message.contains(why), "{bad:?}: {message}");
            assert!(!message.contains(bad), "never quoted: {message}");
        }
    }
}
