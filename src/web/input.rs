//! The fields of an action's input, an HTML form or a JSON body, looked up by name, with a
//! 400 naming the field when one is not what it should be.

use axum::http::{HeaderMap, header};
use serde_json::Value;

use crate::web::error::WebError;
use crate::web::i18n;

/// The fields of a form or JSON body, looked up by name.
pub struct Input {
    form: Vec<(String, String)>,
    json: Value,
}

impl Input {
    /// An `application/x-www-form-urlencoded` body.
    pub fn form(body: &[u8]) -> Input {
        Input {
            form: form_urlencoded::parse(body).into_owned().collect(),
            json: Value::Null,
        }
    }

    /// A JSON body; an empty body is no fields.
    pub fn json(body: &[u8]) -> Result<Input, WebError> {
        let json = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .map_err(|e| WebError::BadRequest(i18n::tf("input.body_json", &[("detail", &e)])))?
        };
        Ok(Input {
            form: Vec::new(),
            json,
        })
    }

    /// Whether the input is a form with fields.
    pub fn is_form(&self) -> bool {
        !self.form.is_empty()
    }

    /// No fields at all.
    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.json.is_null()
    }

    /// The whole JSON body, when there is one (the API's edit-data takes the new data as it).
    pub fn body(&self) -> Option<&Value> {
        (!self.json.is_null()).then_some(&self.json)
    }

    /// The raw form fields, to show a refused form again as it was typed.
    pub fn fields(&self) -> &[(String, String)] {
        &self.form
    }

    pub fn text(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.form.iter().find(|(k, _)| k == name) {
            return Some(v.trim().to_string()).filter(|v| !v.is_empty());
        }
        // An empty (or blank) JSON string is no value, as an empty form field is.
        match self.json.get(name)? {
            Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A text field exactly as sent (not trimmed: line numbers in it keep their meaning).
    pub fn raw(&self, name: &str) -> Option<&str> {
        if let Some((_, v)) = self.form.iter().find(|(k, _)| k == name) {
            return Some(v.as_str());
        }
        self.json.get(name)?.as_str()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        if let Some(Value::Array(items)) = self.json.get(name) {
            return items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect();
        }
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn flag(&self, name: &str) -> bool {
        match self.json.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => matches!(
                self.text(name).as_deref(),
                Some("1" | "true" | "on" | "yes")
            ),
        }
    }

    pub fn number(&self, name: &str, default: u64) -> Result<u64, WebError> {
        match self.text(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                WebError::BadRequest(crate::web::i18n::tf(
                    "input.not_whole",
                    &[("name", &name), ("text", &format!("{text:?}"))],
                ))
            }),
        }
    }

    /// A JSON value typed in a form field, or given as JSON.
    pub fn json_value(&self, name: &str) -> Result<Option<Value>, WebError> {
        if let Some((_, text)) = self.form.iter().find(|(k, _)| k == name) {
            if text.trim().is_empty() {
                return Ok(None);
            }
            return serde_json::from_str(text).map(Some).map_err(|e| {
                WebError::BadRequest(crate::web::i18n::tf(
                    "input.not_json",
                    &[("name", &name), ("error", &e)],
                ))
            });
        }
        Ok(self.json.get(name).cloned())
    }
}

/// The body of an action: under `{base}/api/` only `application/json`, elsewhere only
/// `application/x-www-form-urlencoded` (what the dashboard's forms send); anything else is a
/// 415, so a cross-site `<form enctype="text/plain">` cannot pass for JSON. An empty body
/// without a `Content-Type` is no fields (`curl -X POST .../pause`); with a wrong one it is 415.
pub fn body_input(api: bool, headers: &HeaderMap, body: &[u8]) -> Result<Input, WebError> {
    let expected = if api {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        if body.is_empty() {
            return Ok(Input::form(b""));
        }
        return Err(WebError::UnsupportedMediaType(i18n::tf(
            "input.no_content_type",
            &[("expected", &expected)],
        )));
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if essence != expected {
        let given = format!("{:?}", essence.chars().take(80).collect::<String>());
        return Err(WebError::UnsupportedMediaType(i18n::tf(
            "input.content_type",
            &[("given", &given), ("expected", &expected)],
        )));
    }
    if api {
        Input::json(body)
    } else {
        Ok(Input::form(body))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_empty_json_string_is_no_value_as_an_empty_form_field_is() {
        // Found by the query fuzz target: `{"name":""}` was a name, `name=` was none.
        let json = Input::json(br#"{"name":"","limit":" ","data":"x"}"#).expect("JSON");
        let form = Input::form(b"name=&limit=+&data=x");
        for input in [&json, &form] {
            assert_eq!(input.text("name"), None);
            assert_eq!(input.number("limit", 7).ok(), Some(7));
            assert_eq!(input.text("data").as_deref(), Some("x"));
        }
    }
    use super::*;

    #[test]
    fn fields_come_from_forms_or_json() {
        let form = Input::form(b"name=+x+&ids=a&ids=b&force=on&n=12&data=%7B%7D");
        assert_eq!(form.text("name").as_deref(), Some("x"));
        assert_eq!(form.all("ids"), ["a", "b"]);
        assert!(form.flag("force") && !form.flag("delayed"));
        assert_eq!(form.number("n", 0).unwrap(), 12);
        assert_eq!(
            form.json_value("data").unwrap(),
            Some(serde_json::json!({}))
        );
        let json = Input::json(br#"{"ids": [1, "b"], "force": true, "n": "x"}"#).unwrap();
        assert_eq!(json.all("ids"), ["1", "b"]);
        assert!(json.flag("force"));
        assert!(json.number("n", 0).is_err());
        assert!(Input::json(b"{").is_err());
        assert!(Input::json(b"  ").unwrap().is_empty());
    }

    #[test]
    fn bodies_are_taken_only_in_their_own_type() {
        let typed = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            headers
        };
        let json = typed("application/json; charset=utf-8");
        let form = typed("application/x-www-form-urlencoded");
        let text = typed("text/plain");
        let unsupported =
            |r: Result<Input, WebError>| matches!(r, Err(WebError::UnsupportedMediaType(_)));
        assert!(body_input(true, &json, br#"{"a":1}"#).is_ok());
        assert!(unsupported(body_input(true, &text, br#"{"a":1}"#)));
        assert!(unsupported(body_input(true, &form, b"a=1")));
        assert!(unsupported(body_input(true, &text, b"")));
        assert!(unsupported(body_input(true, &HeaderMap::new(), b"{}")));
        assert!(body_input(true, &HeaderMap::new(), b"").unwrap().is_empty());
        assert!(body_input(false, &form, b"a=1").unwrap().is_form());
        assert!(unsupported(body_input(false, &text, b"a=1")));
        assert!(unsupported(body_input(false, &json, b"{}")));
        assert!(
            body_input(false, &HeaderMap::new(), b"")
                .unwrap()
                .is_empty()
        );
    }
}
