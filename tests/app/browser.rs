//! A minimal browser for the HTML pages: keeps cookies between requests,
//! follows nothing by itself, and reads the CSRF token out of forms.

use std::collections::BTreeMap;

use rocket::http::{ContentType, Cookie, Status};

use crate::helpers::TestApp;

pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: Status,
    pub html: String,
    pub location: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Page {
    /// The CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.html.find(marker).expect("a form with a CSRF token") + marker.len();
        let end = self.html[start..].find('"').unwrap() + start;
        self.html[start..end].to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Percent-encodes a form value.
fn encode(value: &str) -> String {
    rocket::http::RawStr::new(value)
        .percent_encode()
        .to_string()
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: rocket::local::asynchronous::LocalRequest<'_>) -> Page {
        let mut request = request;
        for (name, value) in &self.cookies {
            request = request.cookie(Cookie::new(name.clone(), value.clone()));
        }
        let response = request.dispatch().await;
        for cookie in response.cookies().iter() {
            let removed = cookie
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie.value().is_empty();
            if removed {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let status = response.status();
        let location = response.headers().get_one("Location").map(str::to_owned);
        let headers = response
            .headers()
            .iter()
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect();
        let html = response.into_string().await.unwrap_or_default();
        Page {
            status,
            html,
            location,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.app.client.get(path.to_owned());
        self.send(request).await
    }

    /// Gets `path`, following one permanent redirect (a post's page asked
    /// for by id goes to its `/posts/<id>-<slug>` address).
    pub async fn visit(&mut self, path: &str) -> Page {
        let page = self.get(path).await;
        match (page.status, &page.location) {
            (Status::MovedPermanently, Some(to)) => self.get(&to.clone()).await,
            _ => page,
        }
    }

    /// Posts a form; `fields` are sent as given (add `csrf_token` yourself).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .app
            .client
            .post(path.to_owned())
            .header(ContentType::Form)
            .body(body);
        self.send(request).await
    }

    /// Posts a raw body with its Content-Type (a multipart form, say).
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let request = self
            .app
            .client
            .post(path.to_owned())
            .header(rocket::http::Header::new(
                "Content-Type",
                content_type.to_owned(),
            ))
            .body(body);
        self.send(request).await
    }

    /// Loads `form_page`, then submits its form to `action` with its token.
    pub async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_page).await.csrf_token();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all).await
    }

    /// Follows a redirect (a browser keeps the `#fragment` to itself).
    pub async fn follow(&mut self, page: &Page) -> Page {
        let location = page.location.clone().expect("a redirect");
        let path = location.split('#').next().unwrap_or_default();
        self.get(path).await
    }

    pub async fn log_in(&mut self, uid: &str, password: &str) -> Page {
        let page = self
            .submit("/login", "/login", &[("uid", uid), ("password", password)])
            .await;
        assert_eq!(
            page.status,
            Status::SeeOther,
            "login of {uid}: {}",
            page.html
        );
        page
    }
}

/// A `multipart/form-data` body of `fields` and an optional image file
/// (name, bytes), with its Content-Type.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----portfolio-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
