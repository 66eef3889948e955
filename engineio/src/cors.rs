//! Cross-origin resource sharing: which browser pages may talk to the engine.
//!
//! Browsers need CORS headers on every polling answer when the page comes from
//! another origin (WebSocket is not subject to CORS). The rules follow the npm
//! `cors` package that the reference server uses.

use std::borrow::Cow;

use crate::response::HeaderValue;

/// Which origins may make cross-origin requests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorsOrigin {
    /// Any origin. Answered `*`, or the request's own origin when credentials
    /// are allowed (browsers refuse `*` with credentials).
    Any,
    /// Exactly these origins (e.g. `https://example.com`); the request's
    /// origin is echoed back when it is in the list.
    List(Vec<String>),
}

/// A CORS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cors {
    /// The allowed origins.
    pub origin: CorsOrigin,
    /// Whether to send `Access-Control-Allow-Credentials: true` (cookies and
    /// `withCredentials` requests).
    pub credentials: bool,
    /// `Access-Control-Max-Age` for preflights, in seconds.
    pub max_age_secs: Option<u32>,
}

impl Cors {
    /// Any origin, no credentials: what `cors: { origin: "*" }` does.
    pub fn any_origin() -> Self {
        Cors {
            origin: CorsOrigin::Any,
            credentials: false,
            max_age_secs: None,
        }
    }

    /// Only the listed origins.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cors {
            origin: CorsOrigin::List(origins.into_iter().map(Into::into).collect()),
            credentials: false,
            max_age_secs: None,
        }
    }

    /// Also allow credentials.
    pub fn with_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// Whether a page from `origin` may read the engine's answers: what a runtime counts
    /// as a request CORS refuses (the engine answers it without
    /// `Access-Control-Allow-Origin`, and the browser then refuses the answer).
    pub fn allows(&self, origin: &str) -> bool {
        match &self.origin {
            CorsOrigin::Any => true,
            CorsOrigin::List(list) => list.iter().any(|allowed| allowed == origin),
        }
    }

    /// Decides the CORS headers for a request with this `Origin` header.
    pub(crate) fn decide(&self, origin: Option<&str>) -> CorsHeaders {
        let (allow_origin, vary_origin) = match &self.origin {
            CorsOrigin::Any if !self.credentials => (Some(Cow::Borrowed("*")), false),
            CorsOrigin::Any => (origin.map(|o| Cow::Owned(o.to_owned())), true),
            CorsOrigin::List(list) => {
                let allowed = origin.filter(|o| list.iter().any(|a| a == o));
                (allowed.map(|o| Cow::Owned(o.to_owned())), true)
            }
        };
        CorsHeaders {
            allow_origin,
            credentials: self.credentials,
            vary_origin,
        }
    }
}

/// The CORS headers decided for one request, kept with it until it is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CorsHeaders {
    allow_origin: Option<HeaderValue>,
    credentials: bool,
    vary_origin: bool,
}

impl CorsHeaders {
    /// No CORS headers (CORS not configured).
    pub(crate) fn none() -> Self {
        CorsHeaders::default()
    }

    /// Appends the headers to a response.
    pub(crate) fn apply(&self, headers: &mut Vec<(&'static str, HeaderValue)>) {
        if let Some(origin) = &self.allow_origin {
            headers.push(("Access-Control-Allow-Origin", origin.clone()));
            if self.credentials {
                headers.push(("Access-Control-Allow-Credentials", Cow::Borrowed("true")));
            }
        }
        if self.vary_origin {
            headers.push(("Vary", Cow::Borrowed("Origin")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cors: &Cors, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        cors.decide(origin).apply(&mut h);
        h.into_iter().map(|(k, v)| (k, v.into_owned())).collect()
    }

    #[test]
    fn any_origin_answers_star() {
        assert_eq!(
            headers(&Cors::any_origin(), Some("http://a.test")),
            vec![("Access-Control-Allow-Origin", "*".to_owned())]
        );
        assert_eq!(
            headers(&Cors::any_origin(), None),
            vec![("Access-Control-Allow-Origin", "*".to_owned())]
        );
    }

    #[test]
    fn any_origin_with_credentials_reflects_the_origin() {
        let cors = Cors::any_origin().with_credentials();
        assert_eq!(
            headers(&cors, Some("http://a.test")),
            vec![
                ("Access-Control-Allow-Origin", "http://a.test".to_owned()),
                ("Access-Control-Allow-Credentials", "true".to_owned()),
                ("Vary", "Origin".to_owned()),
            ]
        );
    }

    #[test]
    fn list_allows_only_listed_origins() {
        let cors = Cors::origins(["http://a.test"]);
        assert_eq!(
            headers(&cors, Some("http://a.test")),
            vec![
                ("Access-Control-Allow-Origin", "http://a.test".to_owned()),
                ("Vary", "Origin".to_owned()),
            ]
        );
        assert_eq!(
            headers(&cors, Some("http://b.test")),
            vec![("Vary", "Origin".to_owned())]
        );
        assert!(cors.allows("http://a.test"));
        assert!(!cors.allows("http://b.test"));
        assert!(Cors::any_origin().allows("http://b.test"));
    }
}
