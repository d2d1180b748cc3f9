//! The message catalogs: `locales/en.toml` and `locales/fr.toml`, built into the binary and
//! parsed once. Each is flat, `"page.key" = "text"`, with `{name}` placeholders that
//! [`fill`] replaces. Every catalog has the same keys and, for each, the same placeholders
//! (a test checks it); a key missing from a catalog falls back to English, and one missing from
//! English shows a mark and is logged.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use super::lang::Lang;

pub const EN_SOURCE: &str = include_str!("../../locales/en.toml");
pub const FR_SOURCE: &str = include_str!("../../locales/fr.toml");

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

/// The text of `key` in `lang` (English when that catalog lacks it, a mark when both do).
pub fn text(lang: Lang, key: &str) -> &'static str {
    if let Some(text) = of(lang).get(key).or_else(|| EN.get(key)) {
        return text;
    }
    // A bug the catalog tests catch (`every_key_used_is_in_the_catalogs`): said in the log, and
    // on the page as a mark rather than as a key.
    tracing::error!(key, "no text for this key in the message catalogs");
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

    /// What keeps `catalogs` (name, catalog) apart: a key one lacks, or other placeholders.
    fn parity_problems(catalogs: &[(&str, &Catalog)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, catalog) in catalogs {
            for (other, other_catalog) in catalogs {
                for (key, text) in other_catalog.iter() {
                    match catalog.get(key) {
                        None => problems.push(format!("{name} lacks {key:?} (in {other})")),
                        Some(mine) if placeholders(mine) != placeholders(text) => {
                            problems.push(format!(
                                "{key:?}: {name} has {:?}, {other} has {:?}",
                                placeholders(mine),
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
        problems
    }

    /// Every catalog has every key another one has, with the same placeholders.
    #[test]
    fn the_catalogs_have_the_same_keys_and_placeholders() {
        let catalogs: Vec<(&str, &Catalog)> =
            Lang::ALL.iter().map(|&l| (l.as_str(), of(l))).collect();
        let problems = parity_problems(&catalogs);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(of(Lang::En).len() > 400);
    }

    #[test]
    fn a_catalog_that_lacks_a_key_or_a_placeholder_is_caught() {
        let en = parse("\"a.b\" = \"Hello {name}\"\n\"a.c\" = \"x\"").unwrap();
        let fr = parse("\"a.b\" = \"Bonjour\"").unwrap();
        assert_eq!(
            parity_problems(&[("en", &en), ("fr", &fr)]),
            vec![
                "\"a.b\": en has [\"name\"], fr has []".to_string(),
                "\"a.b\": fr has [], en has [\"name\"]".to_string(),
                "fr lacks \"a.c\" (in en)".to_string(),
            ]
        );
        assert!(parse("\"a\" = 1").is_err());
    }

    /// The keys written out in templates and code (`t("key")`, `t1("key", ...)`, `tf("key", ...)`).
    fn used_keys(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                used_keys(&path, found);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for call in ["t(\"", "t1(\"", "t2(\"", "tf(\"", "Said::new(\""] {
                for part in text.split(call).skip(1) {
                    let key = part.split('"').next().unwrap_or("");
                    // Keys are dotted words; other calls that end alike (`split("`) are not.
                    if key.contains('.') && !key.contains(' ') && !key.ends_with('.') {
                        found.push((key.to_string(), path.display().to_string()));
                    }
                }
            }
        }
    }

    /// Every key a template or the code asks for is in the English catalog (and so, by the
    /// test above, in every catalog); so are the keys built from actions' and states' names.
    #[test]
    fn every_key_used_is_in_the_catalogs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = Vec::new();
        used_keys(&root.join("templates"), &mut used);
        used_keys(&root.join("src"), &mut used);
        assert!(used.len() > 300, "the scan finds the keys: {}", used.len());
        for action in crate::queue::action::Action::ALL {
            used.push((format!("action.{}", action.name()), "Action::ALL".into()));
        }
        for state in crate::queue::model::JobState::ALL {
            used.push((format!("state.{}", state.as_str()), "JobState::ALL".into()));
        }
        let en = of(Lang::En);
        // Calls outside the catalog's sections are other functions named alike (a host's `t(`).
        let sections: std::collections::HashSet<&str> =
            en.keys().filter_map(|k| k.split('.').next()).collect();
        let missing: Vec<String> = used
            .iter()
            .filter(|(key, _)| sections.contains(key.split('.').next().unwrap_or("")))
            .filter(|(key, _)| !en.contains_key(key))
            .map(|(key, file)| format!("{key} (in {file})"))
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
