//! Optional HTTP basic authentication of the REST API (`rest.auth.credentials.file`).
//!
//! The file holds one user a line, `user:<hash>[:role]`: the hash is an Argon2 PHC string
//! (`$argon2id$...`) or a bcrypt hash (`$2b$...`), the role `admin` (every request, the
//! default) or `read` (GET and HEAD only). Blank lines and `#` comments are skipped.
//! `/health` stays open for probes.

use super::ApiError;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Read,
}

#[derive(Debug, Clone)]
struct User {
    hash: String,
    role: Role,
}

/// The users allowed to call the API.
#[derive(Debug, Clone, Default)]
pub struct Users {
    users: BTreeMap<String, User>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read rest.auth.credentials.file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rest.auth.credentials.file {path} line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl Users {
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, reason)| AuthError::Line {
            path: path.to_path_buf(),
            line,
            reason,
        })
    }

    /// Parses the file text; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut users = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ':');
            let (Some(name), Some(hash)) = (parts.next(), parts.next()) else {
                return Err((i + 1, "expected user:<hash>[:role]".into()));
            };
            let role = match parts.next().map(str::trim) {
                None | Some("") | Some("admin") => Role::Admin,
                Some("read") => Role::Read,
                Some(other) => return Err((i + 1, format!("unknown role {other} (admin, read)"))),
            };
            let hash = hash.trim();
            let known = PasswordHash::new(hash).is_ok() || is_bcrypt(hash);
            if name.trim().is_empty() || !known {
                return Err((
                    i + 1,
                    "expected a user name and an argon2 or bcrypt hash".into(),
                ));
            }
            users.insert(
                name.trim().to_string(),
                User {
                    hash: hash.to_string(),
                    role,
                },
            );
        }
        Ok(Self { users })
    }

    /// The role of `user` when `password` matches its hash.
    pub fn verify(&self, user: &str, password: &str) -> Option<Role> {
        let u = self.users.get(user)?;
        let ok = if is_bcrypt(&u.hash) {
            bcrypt::verify(password, &u.hash).unwrap_or(false)
        } else {
            PasswordHash::new(&u.hash).is_ok_and(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        };
        ok.then_some(u.role)
    }
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
}

fn unauthorized() -> Response {
    let mut resp =
        ApiError::new(StatusCode::UNAUTHORIZED, "Authentication required").into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"cassink\""),
    );
    resp
}

fn credentials(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Middleware: 401 without valid credentials, 403 for read-only users on writes.
pub async fn require(State(users): State<Arc<Users>>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/health" {
        return next.run(req).await;
    }
    let Some((user, password)) = credentials(&req) else {
        return unauthorized();
    };
    // Hash checks are deliberately slow: keep them off the async workers.
    let role = {
        let users = users.clone();
        tokio::task::spawn_blocking(move || users.verify(&user, &password))
            .await
            .ok()
            .flatten()
    };
    match role {
        None => unauthorized(),
        Some(Role::Read) if !matches!(*req.method(), Method::GET | Method::HEAD) => {
            ApiError::new(StatusCode::FORBIDDEN, "This user may only read (role read)")
                .into_response()
        }
        Some(_) => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn argon(pw: &str) -> String {
        let salt = SaltString::encode_b64(b"cassink-test-salt").expect("salt");
        argon2::Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    }

    #[test]
    fn argon2_and_bcrypt_users_with_roles() {
        let bc = bcrypt::hash("reader-pw", 4).expect("bcrypt");
        let text = format!("# users\nadmin:{}\nviewer:{bc}:read\n", argon("admin-pw"));
        let users = Users::parse(&text).expect("parse");
        assert_eq!(users.verify("admin", "admin-pw"), Some(Role::Admin));
        assert_eq!(users.verify("admin", "wrong"), None);
        assert_eq!(users.verify("viewer", "reader-pw"), Some(Role::Read));
        assert_eq!(users.verify("nobody", "x"), None);
    }

    #[test]
    fn bad_lines_name_their_number() {
        assert_eq!(Users::parse("a:plaintext").unwrap_err().0, 1);
        let line = format!("\nb:{}:root", argon("x"));
        assert!(Users::parse(&line).unwrap_err().1.contains("unknown role"));
    }
}
