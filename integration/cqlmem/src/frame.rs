//! Native protocol v4 framing: the 9-byte header, length guard and body compression.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, Result};

pub const HEADER_LEN: usize = 9;
/// Cassandra's default `native_transport_max_frame_size` (256 MB).
pub const MAX_BODY: usize = 256 * 1024 * 1024;
pub const FLAG_COMPRESSION: u8 = 0x01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Snappy,
}

impl Compression {
    pub fn from_name(name: &str) -> Option<Compression> {
        match name.to_ascii_lowercase().as_str() {
            "lz4" => Some(Compression::Lz4),
            "snappy" => Some(Compression::Snappy),
            _ => None,
        }
    }

    pub fn compress(self, body: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => body.to_vec(),
            Compression::Lz4 => {
                let mut out = (body.len() as u32).to_be_bytes().to_vec();
                out.extend_from_slice(&lz4_flex::block::compress(body));
                out
            }
            Compression::Snappy => snap::raw::Encoder::new()
                .compress_vec(body)
                .unwrap_or_else(|_| body.to_vec()),
        }
    }

    pub fn decompress(self, body: &[u8]) -> Result<Vec<u8>> {
        let bad = |e: String| Error::Protocol(format!("Cannot decompress frame body: {e}"));
        match self {
            Compression::None => Ok(body.to_vec()),
            Compression::Lz4 => {
                let len = body
                    .get(..4)
                    .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
                    .ok_or_else(|| bad("lz4 body shorter than its length prefix".into()))?;
                if len > MAX_BODY {
                    return Err(bad("lz4 uncompressed length too large".into()));
                }
                lz4_flex::block::decompress(&body[4..], len).map_err(|e| bad(e.to_string()))
            }
            Compression::Snappy => {
                let len = snap::raw::decompress_len(body).map_err(|e| bad(e.to_string()))?;
                if len > MAX_BODY {
                    return Err(bad("snappy uncompressed length too large".into()));
                }
                snap::raw::Decoder::new()
                    .decompress_vec(body)
                    .map_err(|e| bad(e.to_string()))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Header {
    pub version: u8,
    pub flags: u8,
    pub stream: i16,
    pub opcode: u8,
    pub length: usize,
}

/// Why a frame could not be read: the connection is over, or the client must get an
/// error (on `stream`) and then the connection is closed.
#[derive(Debug)]
pub enum FrameError {
    Closed,
    Fatal { stream: i16, error: Error },
}

pub fn parse_header(h: &[u8; HEADER_LEN]) -> Result<Header, FrameError> {
    let stream = i16::from_be_bytes([h[2], h[3]]);
    let version = h[0] & 0x7F;
    let length = i32::from_be_bytes([h[5], h[6], h[7], h[8]]);
    if h[0] & 0x80 != 0 {
        return Err(FrameError::Fatal {
            stream,
            error: Error::Protocol("Invalid frame: response direction bit set".into()),
        });
    }
    if version != 4 {
        return Err(FrameError::Fatal {
            stream,
            error: Error::Protocol(format!(
                "Invalid or unsupported protocol version ({version}); supported versions are (4/v4)"
            )),
        });
    }
    if length < 0 || length as usize > MAX_BODY {
        return Err(FrameError::Fatal {
            stream,
            error: Error::Protocol(format!(
                "Request is too big: length {length} exceeds maximum allowed length {MAX_BODY}."
            )),
        });
    }
    Ok(Header {
        version,
        flags: h[1],
        stream,
        opcode: h[4],
        length: length as usize,
    })
}

/// Reads one request frame; the body is returned decompressed.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    compression: Compression,
) -> Result<(Header, Vec<u8>), FrameError> {
    let mut h = [0u8; HEADER_LEN];
    r.read_exact(&mut h).await.map_err(|_| FrameError::Closed)?;
    let header = parse_header(&h)?;
    let mut body = vec![0u8; header.length];
    r.read_exact(&mut body)
        .await
        .map_err(|_| FrameError::Closed)?;
    if header.flags & FLAG_COMPRESSION != 0 {
        if compression == Compression::None {
            return Err(FrameError::Fatal {
                stream: header.stream,
                error: Error::Protocol(
                    "Compressed frame received but no compression was negotiated".into(),
                ),
            });
        }
        body = compression
            .decompress(&body)
            .map_err(|error| FrameError::Fatal {
                stream: header.stream,
                error,
            })?;
    }
    Ok((header, body))
}

/// A v4 response frame.
pub fn encode_response(stream: i16, opcode: u8, body: &[u8], compression: Compression) -> Vec<u8> {
    let (flags, body) = match compression {
        Compression::None => (0u8, body.to_vec()),
        c => (FLAG_COMPRESSION, c.compress(body)),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(0x84);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}
