//! Errors as the native protocol reports them: each variant carries Cassandra's error code.

/// A request failure, encoded into an ERROR response body by [`Error::encode_body`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Protocol(String),
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{msg}")]
    AlreadyExists {
        msg: String,
        keyspace: String,
        table: String,
    },
    #[error("Prepared query with ID {} not found", hex(.0))]
    Unprepared(Vec<u8>),
    #[error("Cannot achieve consistency level ONE")]
    Unavailable,
    #[error("Operation timed out - received only 0 responses.")]
    WriteTimeout,
    #[error("Operation timed out - received only 0 responses.")]
    ReadTimeout,
    #[error("Server is overloaded")]
    Overloaded,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}

impl Error {
    pub fn code(&self) -> i32 {
        match self {
            Error::Server(_) => 0x0000,
            Error::Protocol(_) => 0x000A,
            Error::Syntax(_) => 0x2000,
            Error::Invalid(_) => 0x2200,
            Error::Unauthorized(_) => 0x2100,
            Error::AlreadyExists { .. } => 0x2400,
            Error::Unprepared(_) => 0x2500,
            Error::Unavailable => 0x1000,
            Error::Overloaded => 0x1001,
            Error::WriteTimeout => 0x1100,
            Error::ReadTimeout => 0x1200,
        }
    }

    /// The ERROR body: code, message and the code-specific extra fields of protocol v4 §9.
    pub fn encode_body(&self) -> Vec<u8> {
        use crate::protocol::wire::*;
        let mut b = Vec::new();
        put_int(&mut b, self.code());
        put_string(&mut b, &self.to_string());
        match self {
            Error::AlreadyExists {
                keyspace, table, ..
            } => {
                put_string(&mut b, keyspace);
                put_string(&mut b, table);
            }
            Error::Unprepared(id) => put_short_bytes(&mut b, id),
            Error::Unavailable => {
                put_short(&mut b, 1);
                put_int(&mut b, 1);
                put_int(&mut b, 0);
            }
            Error::WriteTimeout => {
                put_short(&mut b, 1);
                put_int(&mut b, 0);
                put_int(&mut b, 1);
                put_string(&mut b, "SIMPLE");
            }
            Error::ReadTimeout => {
                put_short(&mut b, 1);
                put_int(&mut b, 0);
                put_int(&mut b, 1);
                b.push(0);
            }
            _ => {}
        }
        b
    }
}
