//! The web console at `/ui`: the static files of `ui/` (plain HTML, JS and CSS, no build
//! step), embedded in the binary at build time and served as they are. The console only calls
//! the worker's own REST API from the browser, so it sits behind the same basic auth and
//! roles as every other route.

use super::ApiError;
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// One embedded file of the console.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const INDEX: &str = "index.html";

const ASSETS: &[Asset] = &[
    Asset {
        name: INDEX,
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../../ui/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../ui/app.js"),
    },
    Asset {
        name: "chart.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../ui/chart.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../ui/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../ui/favicon.svg"),
    },
];

/// The embedded file named `name` (`""` is the index, as for `/ui/`).
fn asset(name: &str) -> Option<&'static Asset> {
    let name = if name.is_empty() { INDEX } else { name };
    ASSETS.iter().find(|a| a.name == name)
}

fn serve(name: &str) -> Response {
    match asset(name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        None => ApiError::not_found(format!(
            "No console file /ui/{name}; the console is at /ui/"
        ))
        .into_response(),
    }
}

/// `GET /ui` and `GET /ui/`: the console's page.
pub async fn index() -> Response {
    serve(INDEX)
}

/// `GET /ui/{*asset}`: one of the console's files, 404 for any other name.
pub async fn file(path: Result<Path<String>, PathRejection>) -> Response {
    match path {
        Ok(Path(name)) => serve(&name),
        Err(_) => ApiError::not_found("No such console file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn known_assets_have_their_content_type() {
        assert_eq!(asset("").map(|a| a.name), Some(INDEX));
        assert!(asset("index.html").is_some_and(|a| a.content_type.starts_with("text/html")));
        assert!(asset("app.js").is_some_and(|a| a.content_type.starts_with("text/javascript")));
        assert!(asset("app.css").is_some_and(|a| a.content_type.starts_with("text/css")));
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
        }
    }

    #[test]
    fn unknown_or_traversing_names_are_not_found() {
        for name in [
            "nope.js",
            "../Cargo.toml",
            "app.js/",
            "APP.JS",
            "ui/app.js",
            "%2e%2e",
        ] {
            assert!(asset(name).is_none(), "{name}");
            assert_eq!(serve(name).status(), StatusCode::NOT_FOUND, "{name}");
        }
    }

    #[test]
    fn every_file_the_page_links_is_embedded() {
        let html = asset(INDEX)
            .map(|a| String::from_utf8_lossy(a.body))
            .unwrap_or_default();
        let linked: Vec<&str> = html
            .split("\"/ui/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(linked.contains(&"app.js"), "{linked:?}");
        for name in linked {
            assert!(
                asset(name).is_some(),
                "index.html links /ui/{name}, which is not embedded"
            );
        }
    }

    #[test]
    fn files_are_revalidated_before_reuse() {
        let resp = serve(INDEX);
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-cache"[..])
        );
    }
}
