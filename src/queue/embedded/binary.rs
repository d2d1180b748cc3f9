//! Finding the `redis-server` executable on `PATH`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::error::EmbeddedError;

/// Name of the server binary looked up on `PATH`.
pub const REDIS_SERVER: &str = "redis-server";

/// Look for an executable `program` in the directories of a `PATH`-style list. Empty entries
/// (which would mean the current directory) are skipped.
pub fn find_in_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    let file_name = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(&file_name))
        .find(|candidate| is_executable(candidate))
}

/// Find `redis-server` in a `PATH`-style list, or say how to get it.
pub fn find_redis_server(path: &OsStr) -> Result<PathBuf, EmbeddedError> {
    find_in_path(REDIS_SERVER, path).ok_or(EmbeddedError::NotInstalled)
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}
