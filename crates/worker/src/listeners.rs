//! The REST listeners of the worker: `listeners=http://host:port,https://host:port` and the
//! TLS settings of the https ones (`listeners.https.ssl.*`, PEM files).

use cassink_config::ConfigMap;
use std::path::PathBuf;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// One entry of `listeners`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestListener {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
}

impl RestListener {
    /// `host:port` to bind (IPv6 hosts bracketed).
    pub fn bind(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `listeners.https.ssl.client.auth`: whether https clients must show a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    #[default]
    None,
    /// Asked for and verified when given; clients without one are still served.
    Requested,
    /// Connections without a certificate signed by the truststore are refused.
    Required,
}

/// TLS of the https listeners: PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestTls {
    /// Certificate chain (leaf first).
    pub certificate: PathBuf,
    /// Unencrypted private key.
    pub key: PathBuf,
    pub client_auth: ClientAuth,
    /// CA certificates client certificates must chain to.
    pub truststore: Option<PathBuf>,
}

/// Parses `listeners` (comma-separated URLs). Errors are the reason only.
pub fn parse_listeners(value: &str) -> Result<Vec<RestListener>, String> {
    let listeners = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_listener)
        .collect::<Result<Vec<_>, _>>()?;
    if listeners.is_empty() {
        return Err("no listener given".into());
    }
    Ok(listeners)
}

/// Parses `http://host:port` or `https://host:port` (host may be empty for all interfaces,
/// or `[v6]`).
fn parse_listener(listener: &str) -> Result<RestListener, String> {
    let (scheme, rest) = match listener.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        Some((s, _)) => return Err(format!("listeners are http or https, not {s}")),
        None => return Err("expected a URL such as http://0.0.0.0:8083".into()),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| "the listener needs a port".to_string())?;
    let port: u16 = port.parse().map_err(|_| format!("invalid port {port:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    Ok(RestListener {
        scheme,
        host: host.to_string(),
        port,
    })
}

/// A listener TLS key: `listeners.https.<suffix>` first, then the worker-wide `<suffix>`
/// (Connect applies unprefixed `ssl.*` to https listeners too).
fn tls_key<'a>(map: &'a ConfigMap, suffix: &str) -> Option<(String, &'a str)> {
    [format!("listeners.https.{suffix}"), suffix.to_string()]
        .into_iter()
        .find_map(|k| {
            let v = map.get(&k)?.trim();
            (!v.is_empty()).then_some((k, v))
        })
}

/// The TLS settings of the https listeners. Errors are `(key, value, reason)`.
pub fn parse_tls(map: &ConfigMap) -> Result<RestTls, (String, String, String)> {
    let keystore = tls_key(map, "ssl.keystore.location");
    let (cert_key, certificate) = tls_key(map, "ssl.certificate.location")
        .or_else(|| keystore.clone())
        .ok_or_else(|| {
            (
                "listeners.https.ssl.certificate.location".to_string(),
                String::new(),
                "an https listener needs a PEM certificate (chain): set \
                 listeners.https.ssl.certificate.location and listeners.https.ssl.key.location \
                 (or a PEM listeners.https.ssl.keystore.location holding both)"
                    .to_string(),
            )
        })?;
    let key = tls_key(map, "ssl.key.location")
        .or(keystore)
        .map(|(_, v)| v)
        .ok_or_else(|| {
            (
                "listeners.https.ssl.key.location".to_string(),
                String::new(),
                format!("{cert_key} is set but no PEM private key: set listeners.https.ssl.key.location"),
            )
        })?;
    let client_auth = match tls_key(map, "ssl.client.auth") {
        None => ClientAuth::None,
        Some((k, v)) => match v.to_ascii_lowercase().as_str() {
            "none" => ClientAuth::None,
            "requested" => ClientAuth::Requested,
            "required" => ClientAuth::Required,
            _ => {
                return Err((
                    k,
                    v.to_string(),
                    "expected required, requested or none".to_string(),
                ))
            }
        },
    };
    let truststore = tls_key(map, "ssl.truststore.location").map(|(_, v)| PathBuf::from(v));
    if client_auth != ClientAuth::None && truststore.is_none() {
        return Err((
            "listeners.https.ssl.truststore.location".to_string(),
            String::new(),
            "client authentication needs the PEM CA certificates client certificates are \
             signed by"
                .to_string(),
        ));
    }
    Ok(RestTls {
        certificate: PathBuf::from(certificate),
        key: PathBuf::from(key),
        client_auth,
        truststore,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cassink_config::properties::parse_properties;

    #[test]
    fn http_and_https_listeners() {
        let l = parse_listeners("http://127.0.0.1:8083, https://:8443/").unwrap();
        assert_eq!(l[0].scheme, Scheme::Http);
        assert_eq!(l[1].scheme, Scheme::Https);
        assert_eq!(l[1].bind(), "0.0.0.0:8443");
        assert!(parse_listeners("ftp://x:1").unwrap_err().contains("ftp"));
        assert!(parse_listeners(" , ").is_err());
    }

    #[test]
    fn tls_keys_prefixed_connect_names_and_errors() {
        let map = parse_properties(
            "listeners.https.ssl.certificate.location=/c.pem\n\
             listeners.https.ssl.key.location=/k.pem\n\
             listeners.https.ssl.client.auth=REQUIRED\nssl.truststore.location=/ca.pem\n",
        );
        let tls = parse_tls(&map).unwrap();
        assert_eq!(tls.certificate, PathBuf::from("/c.pem"));
        assert_eq!(tls.key, PathBuf::from("/k.pem"));
        assert_eq!(tls.client_auth, ClientAuth::Required);
        assert_eq!(tls.truststore, Some(PathBuf::from("/ca.pem")));

        // Connect's keystore name, a PEM holding chain and key.
        let map = parse_properties("listeners.https.ssl.keystore.location=/both.pem\n");
        let tls = parse_tls(&map).unwrap();
        assert_eq!(
            (tls.certificate.clone(), tls.key),
            ("/both.pem".into(), "/both.pem".into())
        );

        assert!(parse_tls(&ConfigMap::new())
            .unwrap_err()
            .2
            .contains("certificate"));
        let map = parse_properties(
            "listeners.https.ssl.keystore.location=/both.pem\nlisteners.https.ssl.client.auth=required\n",
        );
        assert_eq!(
            parse_tls(&map).unwrap_err().0,
            "listeners.https.ssl.truststore.location"
        );
        let map = parse_properties(
            "listeners.https.ssl.keystore.location=/b.pem\nlisteners.https.ssl.client.auth=maybe\n",
        );
        assert_eq!(
            parse_tls(&map).unwrap_err().0,
            "listeners.https.ssl.client.auth"
        );
    }
}
