//! [`Said`]: a text bullring tells the user (a refusal of bad input by the queue core, of the
//! security layer, of a role), kept as its catalog key and arguments so that it can be written in
//! either language: English for the JSON API, the CLI and the logs (the English catalog's words),
//! the reader's language on pages (`web::i18n::here`).

use std::fmt;

use super::catalog;
use super::lang::Lang;

/// A catalog key with its `{name}` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    key: &'static str,
    /// Each argument's value in every language, by `Lang::ALL`'s order (the same text in each
    /// unless given with [`Said::with_each`]).
    args: Vec<(&'static str, Vec<String>)>,
    /// The English words when they are not the catalog's (an engine's message kept verbatim).
    english: Option<String>,
}

impl Said {
    /// The text of `key`, with no arguments yet.
    pub fn new(key: &'static str) -> Said {
        Said {
            key,
            args: Vec::new(),
            english: None,
        }
    }

    /// `text` as it is, in every language: words quoted from elsewhere (a parser's or the
    /// engine's description of what it refused) or written for the terminal only (the CLI is
    /// English).
    pub fn plain(text: impl Into<String>) -> Said {
        Said::new("said.plain").with("text", text.into())
    }

    /// The same text, said in English as `text` (the words the JSON API has always given).
    pub fn english_as(mut self, text: String) -> Said {
        self.english = Some(text);
        self
    }

    /// The same text with `{name}` filled with `value`.
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Said {
        let value = value.to_string();
        self.args
            .push((name, Lang::ALL.iter().map(|_| value.clone()).collect()));
        self
    }

    /// The same text with `{name}` filled, in each language, with what `value` gives for it
    /// (a state's or an action's name, which the catalogs translate).
    pub fn with_each(mut self, name: &'static str, value: impl Fn(Lang) -> String) -> Said {
        self.args
            .push((name, Lang::ALL.iter().map(|&lang| value(lang)).collect()));
        self
    }

    /// The same text with `{name}` filled with `inner`, in the same language as the whole.
    pub fn with_said(self, name: &'static str, inner: &Said) -> Said {
        self.with_each(name, |lang| inner.in_lang(lang))
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The text in `lang`.
    pub fn in_lang(&self, lang: Lang) -> String {
        if let (Lang::En, Some(text)) = (lang, &self.english) {
            return text.clone();
        }
        let at = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        let args: Vec<(&str, &dyn fmt::Display)> = self
            .args
            .iter()
            .map(|(name, values)| (*name, &values[at] as &dyn fmt::Display))
            .collect();
        catalog::fill(catalog::text(lang, self.key), &args)
    }

    /// The text in English: what the JSON API and the logs say.
    pub fn english(&self) -> String {
        self.in_lang(Lang::En)
    }
}

/// English, as the JSON API says it.
impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_said_text_is_english_by_default_and_french_when_asked() {
        let said = Said::new("security.read_only");
        assert_eq!(
            said.english(),
            "The dashboard is in read-only mode: no action can be taken."
        );
        assert_eq!(said.to_string(), said.english());
        assert!(said.in_lang(Lang::Fr).contains("lecture seule"));
        let host = Said::new("security.host_header_bad").with("header", "Host");
        assert_eq!(host.english(), "the Host header is not a host name");
    }

    #[test]
    fn a_plain_text_is_the_same_in_every_language() {
        let said = Said::plain("expected `,` at line 1 column 5 {not a placeholder}");
        for lang in Lang::ALL {
            assert_eq!(
                said.in_lang(lang),
                "expected `,` at line 1 column 5 {not a placeholder}"
            );
        }
    }
}
