//! CORS headers on every answer, and preflights.

use engineio::sim::Sim;
use engineio::{Config, Cors, Method, RequestHead};

use super::config;

fn with_cors(cors: Cors) -> Sim {
    Sim::new(Config {
        cors: Some(cors),
        ..config()
    })
}

fn head(method: Method, query: &str, origin: &str) -> RequestHead {
    let mut head = RequestHead::new(method, query);
    head.origin = Some(origin.to_owned());
    head
}

#[test]
fn any_origin_puts_the_header_on_every_answer() {
    let mut sim = with_cors(Cors::any_origin());
    let hs = sim.request(head(
        Method::Get,
        "EIO=4&transport=polling",
        "http://a.test",
    ));
    let r = sim.response(hs).unwrap();
    assert_eq!(r.header_value("Access-Control-Allow-Origin"), Some("*"));
    let sid = sim.open_sids()[0];
    let q = format!("EIO=4&transport=polling&sid={sid}");
    // A parked GET keeps the headers decided when it arrived.
    let get = sim.request(head(Method::Get, &q, "http://a.test"));
    sim.send_text(sid, "x").unwrap();
    assert_eq!(
        sim.response(get)
            .unwrap()
            .header_value("Access-Control-Allow-Origin"),
        Some("*")
    );
    let post = sim.request_with_body(head(Method::Post, &q, "http://a.test"), Some("4y".into()));
    assert_eq!(
        sim.response(post)
            .unwrap()
            .header_value("Access-Control-Allow-Origin"),
        Some("*")
    );
    // Errors too.
    let err = sim.request(head(Method::Get, "EIO=4&transport=nope", "http://a.test"));
    assert_eq!(sim.status(err), Some(400));
    assert_eq!(
        sim.response(err)
            .unwrap()
            .header_value("Access-Control-Allow-Origin"),
        Some("*")
    );
}

#[test]
fn a_list_echoes_listed_origins_only() {
    let mut sim = with_cors(Cors::origins(["http://a.test"]));
    let ok = sim.request(head(
        Method::Get,
        "EIO=4&transport=polling",
        "http://a.test",
    ));
    let r = sim.response(ok).unwrap();
    assert_eq!(
        r.header_value("Access-Control-Allow-Origin"),
        Some("http://a.test")
    );
    assert_eq!(r.header_value("Vary"), Some("Origin"));
    let other = sim.request(head(
        Method::Get,
        "EIO=4&transport=polling",
        "http://evil.test",
    ));
    let r = sim.response(other).unwrap();
    assert_eq!(r.header_value("Access-Control-Allow-Origin"), None);
}

#[test]
fn credentials_reflect_the_origin() {
    let mut sim = with_cors(Cors::any_origin().with_credentials());
    let id = sim.request(head(
        Method::Get,
        "EIO=4&transport=polling",
        "http://a.test",
    ));
    let r = sim.response(id).unwrap();
    assert_eq!(
        r.header_value("Access-Control-Allow-Origin"),
        Some("http://a.test")
    );
    assert_eq!(
        r.header_value("Access-Control-Allow-Credentials"),
        Some("true")
    );
}

#[test]
fn preflight_is_answered_204() {
    let mut cors = Cors::any_origin();
    cors.max_age_secs = Some(600);
    let mut sim = with_cors(cors);
    let mut h = head(Method::Options, "EIO=4&transport=polling", "http://a.test");
    h.access_control_request_headers = Some("content-type".to_owned());
    let id = sim.request(h);
    let r = sim.response(id).unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.header_value("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        r.header_value("Access-Control-Allow-Methods"),
        Some("GET,POST,OPTIONS")
    );
    assert_eq!(
        r.header_value("Access-Control-Allow-Headers"),
        Some("content-type")
    );
    assert_eq!(r.header_value("Access-Control-Max-Age"), Some("600"));
    assert!(r.body.is_empty());
}

#[test]
fn without_cors_there_are_no_headers_and_no_preflight() {
    let mut sim = Sim::new(config());
    let id = sim.request(head(
        Method::Get,
        "EIO=4&transport=polling",
        "http://a.test",
    ));
    assert_eq!(
        sim.response(id)
            .unwrap()
            .header_value("Access-Control-Allow-Origin"),
        None
    );
    let pre = sim.request(head(
        Method::Options,
        "EIO=4&transport=polling",
        "http://a.test",
    ));
    assert_eq!(sim.status(pre), Some(400));
}
