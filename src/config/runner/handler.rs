//! A worker's `handler` table checked: its type is known, a webhook's URL, headers, secret and
//! signature header are usable, a command names a program and usable variable names (its
//! `inherit_env` defaults to `PATH`, `HOME`, `LANG`, `TZ`), timeouts are at least a second.

use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::file::{CommandTable, HandlerTable, WebhookTable};
use super::spec::{
    CommandSpec, DEFAULT_HANDLER_TIMEOUT, DEFAULT_INHERIT_ENV, HandlerSpec, WebhookSpec,
};
use crate::config::error::{ConfigError, bad};

/// The handler of the entry named `setting` (`[[workers]] #1 (queue "sync") handler`).
pub(super) fn handler_spec(setting: &str, table: &toml::Table) -> Result<HandlerSpec, ConfigError> {
    let parsed = HandlerTable::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
        // The whole message (it names the key), so that the source adds nothing to it.
        let message = e.to_string().trim().to_string();
        let problem = if message.contains("unknown variant") {
            format!("{message} (type is one of webhook, command, noop)")
        } else {
            message
        };
        ConfigError::caused_by(setting, problem, e)
    })?;
    match parsed {
        HandlerTable::Webhook(table) => webhook_spec(setting, table).map(HandlerSpec::Webhook),
        HandlerTable::Command(table) => command_spec(setting, table).map(HandlerSpec::Command),
        HandlerTable::Noop {} => Ok(HandlerSpec::Noop),
        HandlerTable::Closures {} => Ok(HandlerSpec::Closures),
    }
}

fn timeout(setting: &str, secs: Option<u64>) -> Result<Duration, ConfigError> {
    match secs {
        Some(0) => Err(bad(
            &format!("{setting} timeout_secs"),
            "must be at least 1",
        )),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Ok(DEFAULT_HANDLER_TIMEOUT),
    }
}

fn webhook_spec(setting: &str, table: WebhookTable) -> Result<WebhookSpec, ConfigError> {
    let url = table.url;
    // Shown without user information, query or fragment: they may hold a token.
    let shown = crate::http::shown_url(&url);
    let uri: hyper::Uri = url.parse().map_err(|e| {
        ConfigError::caused_by(
            format!("{setting} url"),
            format!("{shown:?} is not a URL"),
            e,
        )
    })?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(bad(
            &format!("{setting} url"),
            format!("{shown:?} is not an http:// or https:// URL"),
        ));
    }
    for (name, value) in &table.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() || HeaderValue::from_str(value).is_err()
        {
            return Err(bad(
                &format!("{setting} headers"),
                format!("{name:?} is not a valid header"),
            ));
        }
    }
    let secret = webhook_secret(setting, table.secret, table.secret_env)?;
    let signature_header = table
        .signature_header
        .unwrap_or_else(|| "x-bullring-signature".into());
    if let Err(e) = HeaderName::from_bytes(signature_header.as_bytes()) {
        return Err(ConfigError::caused_by(
            format!("{setting} signature_header"),
            format!("{signature_header:?} is not a header name"),
            e,
        ));
    }
    Ok(WebhookSpec {
        url,
        timeout: timeout(setting, table.timeout_secs)?,
        headers: table.headers,
        secret,
        signature_header,
        retry_4xx: table.retry_4xx.unwrap_or(false),
    })
}

/// The signing key: given in the file, or read from the environment variable it names.
fn webhook_secret(
    setting: &str,
    secret: Option<String>,
    secret_env: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let secret = match (secret, secret_env) {
        (Some(_), Some(_)) => return Err(bad(setting, "give secret or secret_env, not both")),
        (Some(secret), None) => Some(secret),
        (None, Some(var)) => Some(std::env::var(&var).map_err(|e| {
            ConfigError::caused_by(
                format!("{setting} secret_env"),
                format!("environment variable {var} is not set"),
                e,
            )
        })?),
        (None, None) => None,
    };
    if secret.as_deref() == Some("") {
        return Err(bad(&format!("{setting} secret"), "is empty"));
    }
    Ok(secret)
}

fn command_spec(setting: &str, table: CommandTable) -> Result<CommandSpec, ConfigError> {
    if table.program.trim().is_empty() {
        return Err(bad(&format!("{setting} program"), "is empty"));
    }
    let inherit_env = table
        .inherit_env
        .unwrap_or_else(|| DEFAULT_INHERIT_ENV.map(String::from).to_vec());
    for name in inherit_env.iter().chain(table.env.keys()) {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(bad(
                &format!("{setting} env"),
                format!("{name:?} is not an environment variable name"),
            ));
        }
    }
    Ok(CommandSpec {
        program: table.program,
        args: table.args,
        timeout: timeout(setting, table.timeout_secs)?,
        env: table.env,
        inherit_env,
        cwd: table.cwd,
    })
}
