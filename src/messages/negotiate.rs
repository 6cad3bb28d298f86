//! Which loaded language answers a request: an explicit `lang`/`hl` parameter when it names
//! one we have, else the best of `Accept-Language` by quality, else `--default-language`.

use unic_langid::LanguageIdentifier;

use super::{Catalogs, Lang};

/// At most this many `Accept-Language` entries are read (browsers send a handful).
const MAX_ACCEPTED: usize = 16;

impl Catalogs {
    /// The language of a request: `explicit` (a `lang` or `hl` parameter) if it maps to a
    /// loaded catalog, else the first of `accept_language`'s languages, by quality, that
    /// does, else the default.
    pub fn negotiate(&self, explicit: Option<&str>, accept_language: Option<&str>) -> Lang {
        self.requested(explicit, accept_language)
            .unwrap_or(self.default)
    }

    /// The language a request names, if it names one we have: [`Catalogs::negotiate`]
    /// without the default.
    pub fn requested(&self, explicit: Option<&str>, accept_language: Option<&str>) -> Option<Lang> {
        if let Some(lang) = explicit.and_then(|tag| self.find(tag)) {
            return Some(lang);
        }
        accept_language
            .into_iter()
            .flat_map(accepted)
            .find_map(|wanted| self.best(&wanted))
    }

    /// The loaded language `tag` maps to (`ko-KR` to `ko`), if any.
    pub fn find(&self, tag: &str) -> Option<Lang> {
        let wanted: LanguageIdentifier = tag.trim().parse().ok()?;
        self.best(&wanted)
    }

    /// The exact catalog for `wanted`, else the most specific one of its language whose
    /// script and region do not contradict it (`pt-BR` for `pt-BR-x`, `pt` for `pt-PT`).
    fn best(&self, wanted: &LanguageIdentifier) -> Option<Lang> {
        if let Some(at) = self.catalogs.iter().position(|c| c.id == *wanted) {
            return Some(Lang(at));
        }
        self.catalogs
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.id.language == wanted.language
                    && c.id.script.is_none_or(|s| Some(s) == wanted.script)
                    && c.id.region.is_none_or(|r| Some(r) == wanted.region)
            })
            .max_by_key(|(_, c)| {
                usize::from(c.id.script.is_some()) + usize::from(c.id.region.is_some())
            })
            .map(|(at, _)| Lang(at))
    }
}

/// `Accept-Language`'s languages, best first: by quality, then in the header's order;
/// `q=0` and malformed entries left out, as is `*` (the default answers it).
pub(super) fn accepted(header: &str) -> Vec<LanguageIdentifier> {
    let mut found: Vec<(u16, LanguageIdentifier)> = Vec::new();
    for item in header.split(',').take(MAX_ACCEPTED) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let mut quality = Some(1000);
        for param in parts {
            let param = param.trim();
            if let Some(q) = param
                .strip_prefix("q=")
                .or_else(|| param.strip_prefix("Q="))
            {
                quality = parse_quality(q.trim());
            }
        }
        let (Some(quality), Ok(id)) = (quality, tag.parse::<LanguageIdentifier>()) else {
            continue;
        };
        if quality > 0 && tag != "*" {
            found.push((quality, id));
        }
    }
    // Stable: equal qualities keep the header's order.
    found.sort_by_key(|(quality, _)| std::cmp::Reverse(*quality));
    found.into_iter().map(|(_, id)| id).collect()
}

/// A quality value (`0` to `1`, at most three decimals) in thousandths.
fn parse_quality(q: &str) -> Option<u16> {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
