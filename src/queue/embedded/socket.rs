//! Where the private server listens: a unix socket in a directory only our user can enter (mode
//! 0700), with TCP off. No other local user, and no web page through a browser, can reach it, so it
//! needs no password.
//!
//! The directory is `<data dir>/run`. A socket path is limited to about 100 bytes by the system;
//! when the data directory is too deep for that, a fresh private directory is made under the
//! temporary directory instead (and removed at stop).

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::EmbeddedError;

/// The socket's directory inside the data directory.
pub const SOCKET_DIR: &str = "run";
/// The socket's file name.
pub const SOCKET_FILE: &str = "redis.sock";
/// The longest socket path used (the system's limit is 104 to 108 bytes with the final NUL).
const MAX_SOCKET_PATH: usize = 100;

/// The socket of a private server.
#[derive(Debug)]
pub struct SocketPlace {
    /// The private directory holding it.
    pub dir: PathBuf,
    /// The socket file.
    pub path: PathBuf,
    /// Made under the temporary directory for this run: removed at stop.
    pub temporary: bool,
}

impl SocketPlace {
    /// The client URL, `redis+unix:///<path>`.
    pub fn url(&self) -> String {
        socket_url(&self.path)
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `redis+unix://` URL of a socket file, its path percent-encoded where a URL needs it.
pub fn socket_url(path: &Path) -> String {
    let mut url = String::from("redis+unix://");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(char::from(*byte))
            }
            other => url.push_str(&format!("%{other:02X}")),
        }
    }
    url
}

/// The socket for a server on `abs_dir` (the absolute data directory), its directory made (or
/// checked) private.
pub(super) fn prepare(abs_dir: &Path) -> Result<SocketPlace, EmbeddedError> {
    let dir = abs_dir.join(SOCKET_DIR);
    let path = dir.join(SOCKET_FILE);
    if path.as_os_str().len() <= MAX_SOCKET_PATH {
        private_dir(&dir, false).map_err(|source| EmbeddedError::SocketDir {
            path: dir.clone(),
            source,
        })?;
        return Ok(SocketPlace {
            dir,
            path,
            temporary: false,
        });
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("bullring-redis-{}-{nanos}", std::process::id()));
    // A new directory: one that already exists (someone else's) is refused.
    private_dir(&dir, true).map_err(|source| EmbeddedError::SocketDir {
        path: dir.clone(),
        source,
    })?;
    Ok(SocketPlace {
        path: dir.join(SOCKET_FILE),
        dir,
        temporary: true,
    })
}

/// Make `dir` with mode 0700 (or, unless `must_be_new`, take an existing one that is a real
/// directory of our user and set it to 0700).
fn private_dir(dir: &Path, must_be_new: bool) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists && !must_be_new => {}
        Err(err) => return Err(err),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "not a directory owned by this user",
        ));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// The socket of a server already running on `abs_dir`, if it is there.
pub(super) fn existing_url(abs_dir: &Path) -> Option<String> {
    let path = abs_dir.join(SOCKET_DIR).join(SOCKET_FILE);
    path.exists().then(|| socket_url(&path))
}
