//! The value parsers of the settings: each checks one kind of value at start-up and says
//! what is wrong with it and what is accepted.

/// A setting that must not be empty or blank.
pub(super) fn non_empty(setting: &'static str) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value: &str| {
        if value.trim().is_empty() {
            Err(format!("{setting} must not be empty"))
        } else {
            Ok(value.to_string())
        }
    }
}

/// Firestore collection ids: non-empty, no `/`, not `.`/`..`, not `__*__`, at most 1500 bytes.
pub(super) fn collection_name(value: &str) -> Result<String, String> {
    let reserved = value.len() >= 4 && value.starts_with("__") && value.ends_with("__");
    if value.is_empty()
        || value.contains('/')
        || value == "."
        || value == ".."
        || reserved
        || value.len() > 1500
    {
        return Err(
            "a Firestore collection id must be 1-1500 bytes, without '/', \
                    and neither '.', '..' nor of the form __name__"
                .to_string(),
        );
    }
    Ok(value.to_string())
}

/// An IP network in CIDR notation; a bare address means just that address.
pub(super) fn cidr(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{value}` is not an IP network (e.g. 10.0.0.0/8, ::1)"))
        .and_then(|net| {
            if net.prefix_len() == 0 {
                Err(format!(
                    "`{value}` trusts every address, so no X-Forwarded-For entry could be the \
                     client; behind Cloud Run's front end use --trusted-proxy-hops 1 instead"
                ))
            } else {
                Ok(net)
            }
        })
}

/// A browser origin: `scheme://host[:port]` with no path, `scheme://host:*` for that host on
/// any port, or `*` for any origin.
pub(super) fn cors_origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(value.to_string());
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.strip_suffix(":*").unwrap_or(r));
    match host {
        Some(host)
            if !host.is_empty()
                && !host.contains('/')
                && !host.contains('*')
                && !host.contains(char::is_whitespace) =>
        {
            Ok(value.to_string())
        }
        _ => Err(format!(
            "`{value}` is not an origin: expected scheme://host[:port] without a path or \
             trailing slash (e.g. https://app.example.com), scheme://host:* for any port of \
             a host, or *"
        )),
    }
}

/// A parser for a secret setting: `check` validates it, and its error — never the value —
/// is what clap prints. A plain `fn(&str) -> Result<_, String>` parser would not do: clap
/// prefixes such errors with `invalid value '<the value>'`, which would put a mistyped
/// secret into the logs.
pub(super) fn secret(
    check: fn(&str) -> Result<secrecy::SecretString, String>,
) -> clap::builder::ValueParser {
    clap::builder::ValueParser::new(SecretParser(check))
}

#[derive(Clone)]
struct SecretParser(fn(&str) -> Result<secrecy::SecretString, String>);

impl clap::builder::TypedValueParser for SecretParser {
    type Value = secrecy::SecretString;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<secrecy::SecretString, clap::Error> {
        let name = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(|| "the setting".to_string(), |long| format!("--{long}"));
        let refuse = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("{name}: {why} (the value is not shown)\n"),
            )
            .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| refuse("not UTF-8"))?;
        (self.0)(text).map_err(|why| refuse(&why))
    }
}
