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
