//! A minimal browser over the router for the web UI's tests: it keeps cookies (honouring
//! `Max-Age=0`), sends forms, and finds the CSRF token in a page, so tests click through
//! pages as a person would.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt as _;

/// A page as the browser received it.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// Where a redirect points.
    pub(crate) fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The first CSRF token on the page.
    pub(crate) fn csrf(&self) -> String {
        self.field("csrf")
    }

    /// The value of the first field named `name` on the page.
    pub(crate) fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).unwrap_or_else(|| panic!("no `{name}` field on the page:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_owned()
    }

    /// Whether the page has an element with this id.
    pub(crate) fn has_id(&self, id: &str) -> bool {
        self.body.contains(&format!("id=\"{id}\""))
    }

    /// The `Set-Cookie` headers.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }
}

/// One browser: a cookie jar in front of the router.
pub(crate) struct Browser {
    router: Router,
    pub(crate) cookies: BTreeMap<String, String>,
}

impl Browser {
    pub(crate) fn new(router: Router) -> Self {
        Self { router, cookies: BTreeMap::new() }
    }

    /// Sends a request with the jar's cookies and keeps the cookies the answer sets.
    pub(crate) async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut builder = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            builder = builder.header(header::COOKIE, jar.join("; "));
        }
        let body = match form {
            Some(fields) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    s.append_pair(k, v);
                }
                Body::from(s.finish())
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(builder.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let page = Page { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    /// `GET path`.
    pub(crate) async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    /// `GET path`, following redirects within the site.
    pub(crate) async fn visit(&mut self, path: &str) -> Page {
        let mut path = path.to_owned();
        for _ in 0..5 {
            let page = self.get(&path).await;
            if !page.status.is_redirection() {
                return page;
            }
            path = page.location().to_owned();
        }
        panic!("too many redirects at {path}");
    }

    /// `POST path` with `fields`.
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(fields)).await
    }

    /// In the demo: act as `person` through the banner's switch.
    pub(crate) async fn act_as(&mut self, person: &str) {
        let home = self.visit("/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        let csrf = home.csrf();
        let page = self.post("/demo/switch", &[("csrf", &csrf), ("person", person), ("next", "/")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let home = self.visit("/").await;
        assert!(home.body.contains(&format!("<strong id=\"acting-as\">{person}</strong>")), "{}", home.body);
    }
}
