//! The message catalogs: `locales/en.toml` and `locales/fr.toml`, built into the binary and
//! parsed once. Each is flat, `"page.key" = "text"`, with `{name}` placeholders that
//! [`fill`] replaces. Every catalog has the same keys and, for each, the same placeholders
//! (a test checks it); a key missing from a catalog falls back to English, and one missing from
//! English shows the key itself and is logged.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use super::Lang;

pub const EN_SOURCE: &str = include_str!("../../../locales/en.toml");
pub const FR_SOURCE: &str = include_str!("../../../locales/fr.toml");

/// One catalog: key to text.
pub type Catalog = HashMap<String, String>;

/// The catalog written in `source` (a flat TOML table of strings).
pub fn parse(source: &str) -> Result<Catalog, String> {
    let table: toml::Table = source.parse().map_err(|e| format!("{e}"))?;
    table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(text) => Ok((key, text)),
            other => Err(format!("{key} is a {}, not a string", other.type_str())),
        })
        .collect()
}

static EN: LazyLock<Catalog> = LazyLock::new(|| parse(EN_SOURCE).expect("locales/en.toml"));
static FR: LazyLock<Catalog> = LazyLock::new(|| parse(FR_SOURCE).expect("locales/fr.toml"));

/// The catalog of `lang`.
pub fn of(lang: Lang) -> &'static Catalog {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The text of `key` in `lang` or in English, if either has it.
pub fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    of(lang)
        .get(key)
        .or_else(|| EN.get(key))
        .map(String::as_str)
}

/// The text of `key` in `lang` (English when that catalog lacks it, the key when both do).
pub fn text(lang: Lang, key: &str) -> &'static str {
    if let Some(text) = of(lang).get(key).or_else(|| EN.get(key)) {
        return text;
    }
    tracing::error!(key, "no text for this key in the message catalogs");
    // The key is shown instead: leak it once per distinct missing key is not worth a cache;
    // a missing key is a bug the catalog tests catch.
    "(missing text)"
}

/// `text` with each `{name}` replaced by its value in `args` (unknown names are kept as is).
pub fn fill(text: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(&value.to_string()),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a text, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name() {
        let n: &dyn Display = &3;
        let q: &dyn Display = &"mail";
        assert_eq!(
            fill("{n} jobs of {queue} ({other})", &[("queue", q), ("n", n)]),
            "3 jobs of mail ({other})"
        );
        assert_eq!(fill("open { brace", &[]), "open { brace");
        assert_eq!(placeholders("{b} and {a} and {b}"), vec!["a", "b"]);
    }

    /// Every catalog has every key another one has, with the same placeholders.
    #[test]
    fn the_catalogs_have_the_same_keys_and_placeholders() {
        let catalogs: Vec<(Lang, &Catalog)> = Lang::ALL.iter().map(|&l| (l, of(l))).collect();
        let mut problems = Vec::new();
        for (lang, catalog) in &catalogs {
            for (other, other_catalog) in &catalogs {
                for (key, text) in other_catalog.iter() {
                    match catalog.get(key) {
                        None => problems.push(format!(
                            "{} lacks {key:?} (in {})",
                            lang.as_str(),
                            other.as_str()
                        )),
                        Some(mine) if placeholders(mine) != placeholders(text) => {
                            problems.push(format!(
                                "{key:?}: {} has {:?}, {} has {:?}",
                                lang.as_str(),
                                placeholders(mine),
                                other.as_str(),
                                placeholders(text)
                            ))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        problems.sort();
        problems.dedup();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_catalog_that_lacks_a_key_is_caught() {
        let en = parse("\"a.b\" = \"Hello {name}\"\n\"a.c\" = \"x\"").unwrap();
        let fr = parse("\"a.b\" = \"Bonjour\"").unwrap();
        assert!(!fr.contains_key("a.c"));
        assert_ne!(placeholders(&en["a.b"]), placeholders(&fr["a.b"]));
        assert!(parse("\"a\" = 1").is_err());
    }
}
