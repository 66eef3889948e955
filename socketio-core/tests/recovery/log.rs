//! The rules of connection state recovery, on a virtual clock and without sockets:
//! expiry at the exact duration, replay order and filtering, the limits, forged and
//! stale pids and offsets, and the CONNECT answer with its pid.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use socketio_core::recovery::{
    KeptSession, NotRecovered, Offset, Pid, RecoveryConfig, SessionLog, Target,
};
use socketio_core::{Config, Connection, DisconnectReason, Event, SocketId, Transmit};
use socketio_parser::Namespace;

const MINUTE: Duration = Duration::from_secs(60);

fn t0() -> Instant {
    #[allow(clippy::disallowed_methods)] // the virtual clock's origin
    Instant::now()
}

/// A log of packets that are their own text.
type Log = SessionLog<&'static str, String>;

fn log(config: RecoveryConfig) -> Log {
    SessionLog::new(config)
}

fn id(n: u8) -> SocketId {
    SocketId::from_random_bytes([n; 15])
}

fn pid(n: u8) -> Pid {
    Pid::from_random_bytes([n.wrapping_add(100); 15])
}

fn to(rooms: &[&str]) -> Target {
    Target {
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
        except: Vec::new(),
    }
}

fn main_nsp() -> Namespace {
    Namespace::main()
}

/// Records `name` for `target` in `/`; the packet is `name@offset`.
fn record(log: &mut Log, now: Instant, target: Target, name: &str) -> Offset {
    log.record(now, &main_nsp(), target, name.len(), |o| {
        format!("{name}@{o}")
    })
}

fn session(n: u8, rooms: &[&str], joined_at: Offset) -> KeptSession<&'static str> {
    KeptSession {
        pid: pid(n),
        id: id(n),
        namespace: main_nsp(),
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
        data: "data",
        joined_at,
    }
}

fn restore(
    log: &mut Log,
    now: Instant,
    n: u8,
    offset: Option<Offset>,
) -> Result<Vec<String>, NotRecovered> {
    let text = offset.map(|o| o.to_string());
    log.restore(now, "/", pid(n).as_str(), text.as_deref())
        .map(|r| {
            assert_eq!(r.session.id, id(n), "the same socket id");
            r.replay
        })
}

#[test]
fn the_defaults_are_the_reference_servers() {
    let config = RecoveryConfig::default();
    assert_eq!(config.max_disconnection_duration, Duration::from_secs(120));
    assert!(config.skip_middlewares);
}

#[test]
fn a_session_comes_back_with_its_rooms_data_and_what_it_missed_in_order() {
    let t = t0();
    let mut log = log(RecoveryConfig::default());
    let seen = record(&mut log, t, to(&[]), "before");
    log.persist(t, session(1, &["r"], Offset::new(0)));
    record(&mut log, t, to(&[]), "all");
    record(&mut log, t, to(&["r"]), "room");
    record(&mut log, t, to(&["other"]), "elsewhere");
    record(&mut log, t, to(&[id(1).as_str()]), "direct");
    record(&mut log, t, to(&[id(2).as_str()]), "someone else");
    let mut except = to(&["r"]);
    except.except = vec![id(1).to_string()];
    record(&mut log, t, except, "from itself");
    let restored = log
        .restore(t + MINUTE, "/", pid(1).as_str(), Some(&seen.to_string()))
        .unwrap();
    assert_eq!(restored.session.rooms, vec!["r".to_owned()]);
    assert_eq!(restored.session.data, "data");
    assert_eq!(restored.replay, ["all@2", "room@3", "direct@5"]);
    assert_eq!(restored.head, Offset::new(7));
}

#[test]
fn a_session_expires_at_exactly_the_duration() {
    let t = t0();
    let config = RecoveryConfig {
        max_disconnection_duration: Duration::from_secs(10),
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    log.persist(t, session(1, &[], Offset::new(0)));
    log.persist(t, session(2, &[], Offset::new(0)));
    let at_limit = t + Duration::from_secs(10);
    assert_eq!(restore(&mut log, at_limit, 1, None), Ok(vec![]));
    let just_after = at_limit + Duration::from_nanos(1);
    assert_eq!(
        restore(&mut log, just_after, 2, None),
        Err(NotRecovered::UnknownSession),
        "purged as time passed"
    );
    assert_eq!(log.sessions(), 0);
}

#[test]
fn an_expired_session_found_before_the_purge_is_not_restored() {
    let t = t0();
    let config = RecoveryConfig {
        max_disconnection_duration: Duration::from_secs(10),
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    log.persist(t, session(1, &[], Offset::new(0)));
    // A session kept later sits behind it in the age order, but time is what counts.
    assert_eq!(
        log.poll_timeout(),
        Some(t + Duration::from_secs(10) + Duration::from_nanos(1))
    );
    log.handle_timeout(t + Duration::from_secs(10));
    assert_eq!(log.sessions(), 1, "still valid at the duration");
    log.handle_timeout(t + Duration::from_secs(11));
    assert_eq!(log.sessions(), 0);
    assert_eq!(log.poll_timeout(), None);
}

#[test]
fn packets_older_than_the_duration_are_dropped_and_a_replay_needing_them_is_refused() {
    let t = t0();
    let config = RecoveryConfig {
        max_disconnection_duration: Duration::from_secs(10),
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    let seen = record(&mut log, t, to(&[]), "seen");
    record(&mut log, t + Duration::from_secs(1), to(&[]), "missed");
    log.persist(t + Duration::from_secs(5), session(1, &[], Offset::new(0)));
    log.persist(t + Duration::from_secs(5), session(2, &[], Offset::new(0)));
    // At 11 s, "seen" is gone but "missed" (1 s) is not: everything after `seen` is there.
    let now = t + Duration::from_secs(11);
    assert_eq!(
        restore(&mut log, now, 1, Some(seen)),
        Ok(vec!["missed@2".into()])
    );
    // At 11 s + 1 ns past "missed", it is gone too: no partial replay.
    let later = t + Duration::from_secs(11) + Duration::from_nanos(1);
    assert_eq!(
        restore(&mut log, later, 2, Some(seen)),
        Err(NotRecovered::PacketsDropped)
    );
    assert_eq!(log.sessions(), 0, "a failed restore forgets the session");
}

#[test]
fn the_packet_limits_drop_the_oldest_and_refuse_replays_that_need_them() {
    let t = t0();
    let config = RecoveryConfig {
        max_packets: 3,
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    let first = record(&mut log, t, to(&[]), "a");
    let second = record(&mut log, t, to(&[]), "b");
    log.persist(t, session(1, &[], Offset::new(0)));
    log.persist(t, session(2, &[], Offset::new(0)));
    for name in ["c", "d", "e"] {
        record(&mut log, t, to(&[]), name);
    }
    assert_eq!(log.packets(), 3);
    // "b" was dropped: a client that last saw "a" would miss it.
    assert_eq!(
        restore(&mut log, t, 1, Some(first)),
        Err(NotRecovered::PacketsDropped)
    );
    // A client that saw "b" misses nothing that was dropped.
    assert_eq!(
        restore(&mut log, t, 2, Some(second)),
        Ok(vec!["c@3".into(), "d@4".into(), "e@5".into()])
    );
}

#[test]
fn the_byte_limit_counts_packets_and_a_huge_one_is_not_kept() {
    let t = t0();
    let config = RecoveryConfig {
        max_packet_bytes: 1000,
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    let seen = record(&mut log, t, to(&[]), "small");
    log.persist(t, session(1, &[], Offset::new(0)));
    let huge = "x".repeat(2000);
    let offset = log.record(t, &main_nsp(), to(&[]), huge.len(), |o| format!("huge@{o}"));
    assert_eq!(offset, Offset::new(2), "it still gets its offset");
    assert_eq!(log.packets(), 0);
    assert_eq!(log.bytes().1, 0);
    assert_eq!(
        restore(&mut log, t, 1, Some(seen)),
        Err(NotRecovered::PacketsDropped)
    );
}

#[test]
fn the_session_limits_drop_the_session_kept_longest() {
    let t = t0();
    let config = RecoveryConfig {
        max_sessions: 2,
        ..RecoveryConfig::default()
    };
    let mut log = log(config);
    for n in 1..=3 {
        log.persist(
            t + Duration::from_secs(n.into()),
            session(n, &[], Offset::new(0)),
        );
    }
    assert_eq!(log.sessions(), 2);
    let now = t + Duration::from_secs(5);
    assert_eq!(
        restore(&mut log, now, 1, None),
        Err(NotRecovered::UnknownSession)
    );
    assert!(restore(&mut log, now, 2, None).is_ok());
    assert!(restore(&mut log, now, 3, None).is_ok());

    let config = RecoveryConfig {
        max_session_bytes: 800,
        ..RecoveryConfig::default()
    };
    let mut log = self::log(config);
    assert!(!log.persist(t, session(1, &["x".repeat(600).as_str()], Offset::new(0))));
    assert!(log.persist(t, session(2, &["a".repeat(200).as_str()], Offset::new(0))));
    assert!(log.persist(t, session(3, &["b".repeat(200).as_str()], Offset::new(0))));
    assert_eq!(
        log.sessions(),
        1,
        "two would pass 800 bytes with their bookkeeping"
    );
    assert!(restore(&mut log, t, 3, None).is_ok());
    assert_eq!(log.bytes().0, 0);
}

#[test]
fn a_forged_or_stale_pid_restores_nothing_and_changes_nothing() {
    let t = t0();
    let mut log = log(RecoveryConfig::default());
    let seen = record(&mut log, t, to(&[]), "a");
    log.persist(t, session(1, &["r"], Offset::new(0)));
    let before = (log.sessions(), log.packets(), log.bytes());
    for forged in ["", "not a pid", "AAAAAAAAAAAAAAAAAAAA", &"A".repeat(200)] {
        assert_eq!(
            log.restore(t, "/", forged, Some(&seen.to_string())).err(),
            Some(NotRecovered::UnknownSession),
            "{forged:?}"
        );
    }
    // The right pid in another namespace is no pid there.
    assert_eq!(
        log.restore(t, "/admin", pid(1).as_str(), None).err(),
        Some(NotRecovered::UnknownSession)
    );
    assert_eq!((log.sessions(), log.packets(), log.bytes()), before);
    // Restored once; the same pid again is stale.
    assert!(restore(&mut log, t, 1, Some(seen)).is_ok());
    assert_eq!(
        restore(&mut log, t, 1, Some(seen)),
        Err(NotRecovered::UnknownSession)
    );
}

#[test]
fn an_offset_this_log_never_gave_gives_a_fresh_session() {
    let t = t0();
    let mut log = log(RecoveryConfig::default());
    record(&mut log, t, to(&[]), "a");
    for (n, offset) in [
        (1, "2"),
        (2, "-1"),
        (3, "1.0"),
        (4, " 1"),
        (5, "abc"),
        (6, ""),
    ] {
        log.persist(t, session(n, &[], Offset::new(0)));
        assert_eq!(
            log.restore(t, "/", pid(n).as_str(), Some(offset)).err(),
            Some(NotRecovered::UnknownOffset),
            "{offset:?}"
        );
    }
}

#[test]
fn without_an_offset_or_with_an_older_one_the_replay_starts_where_the_socket_joined() {
    let t = t0();
    let mut log = log(RecoveryConfig::default());
    let old = record(&mut log, t, to(&["r"]), "before it joined");
    let joined = log.head();
    record(&mut log, t, to(&["r"]), "while away");
    log.persist(t, session(1, &["r"], joined));
    log.persist(t, session(2, &["r"], joined));
    assert_eq!(
        restore(&mut log, t, 1, None),
        Ok(vec!["while away@2".into()])
    );
    // An offset from an earlier session of the same client is no reason to replay
    // what was sent before this one joined.
    assert_eq!(
        restore(&mut log, t, 2, Some(old)),
        Ok(vec!["while away@2".into()])
    );
}

#[test]
fn a_catch_up_after_the_restore_finds_only_what_came_since() {
    let t = t0();
    let mut log = log(RecoveryConfig::default());
    log.persist(t, session(1, &[], Offset::new(0)));
    record(&mut log, t, to(&[]), "a");
    let restored = log.restore(t, "/", pid(1).as_str(), Some("0")).unwrap();
    assert_eq!(restored.replay, ["a@1"]);
    record(&mut log, t, to(&[]), "b");
    assert_eq!(
        log.replay_since(t, &restored.session, restored.head),
        Ok(vec!["b@2".to_owned()])
    );
}

#[test]
fn the_offset_becomes_the_events_last_argument() {
    let mut text = BytesMut::from(&br#"2["news",{"n":1}]"#[..]);
    assert!(Offset::new(42).append_to_event(&mut text));
    assert_eq!(&text[..], br#"2["news",{"n":1},"42"]"#);
    let mut binary = BytesMut::from(&br#"/chat,51-["file",{"_placeholder":true,"num":0}]"#[..]);
    assert!(Offset::new(7).append_to_event(&mut binary));
    assert_eq!(
        &binary[..],
        br#"/chat,51-["file",{"_placeholder":true,"num":0},"7"]"#
    );
    let mut not_an_event = BytesMut::from(&b"1"[..]);
    assert!(!Offset::new(1).append_to_event(&mut not_an_event));
    assert_eq!(&not_an_event[..], b"1");
    assert_eq!(Offset::parse("42"), Some(Offset::new(42)));
    assert_eq!(Offset::parse("99999999999999999999999"), None);
}

#[test]
fn only_lost_connections_are_recoverable() {
    use DisconnectReason::*;
    for reason in [
        TransportClose,
        TransportError,
        PingTimeout,
        ServerShuttingDown,
        ForcedServerClose,
    ] {
        assert!(reason.is_recoverable(), "{reason}");
    }
    for reason in [
        ClientNamespaceDisconnect,
        ServerNamespaceDisconnect,
        ParseError,
    ] {
        assert!(!reason.is_recoverable(), "{reason}");
    }
}

fn text(s: &str) -> engineio::Message {
    engineio::Message::Text(Bytes::copy_from_slice(s.as_bytes()))
}

fn sent(conn: &mut Connection) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(t) = conn.poll_transmit() {
        match t {
            Transmit::Text(b) => out.push(String::from_utf8(b.to_vec()).unwrap()),
            Transmit::Binary(b) => out.push(format!("<{} bytes>", b.len())),
            other => out.push(format!("{other:?}")),
        }
    }
    out
}

#[test]
fn the_connect_answer_carries_the_pid_after_the_replay() {
    let t = t0();
    let mut conn = Connection::new(t, &Config::default());
    conn.handle_message(t, text(r#"0/chat,{"pid":"x","offset":"1"}"#));
    let Some(Event::ConnectRequest { namespace, .. }) = conn.poll_event() else {
        panic!("a connect request")
    };
    let replay = [
        (Bytes::from_static(br#"/chat,2["a","2"]"#), &[][..]),
        (
            Bytes::from_static(br#"/chat,51-["b",{"_placeholder":true,"num":0},"3"]"#),
            &[Bytes::from_static(b"\x01")][..],
        ),
    ];
    conn.accept_with_pid(t, namespace.as_str(), id(1), &pid(1), &replay)
        .unwrap();
    assert_eq!(
        sent(&mut conn),
        [
            r#"/chat,2["a","2"]"#.to_owned(),
            r#"/chat,51-["b",{"_placeholder":true,"num":0},"3"]"#.to_owned(),
            "<1 bytes>".to_owned(),
            format!(
                r#"0/chat,{{"sid":"{}","pid":"{}"}}"#,
                id(1),
                pid(1).as_str()
            ),
        ]
    );
    // Without recovery the answer has no pid.
    let mut conn = Connection::new(t, &Config::default());
    conn.handle_message(t, text("0"));
    let _ = conn.poll_event();
    conn.accept(t, "/", id(2)).unwrap();
    assert_eq!(sent(&mut conn), [format!(r#"0{{"sid":"{}"}}"#, id(2))]);
}

proptest! {
    /// Any sequence of records, persists, restores and time jumps: the limits always
    /// hold, a replay is always in offset order and never partial, and nothing panics.
    #[test]
    fn the_limits_hold_and_replays_are_whole_and_ordered(
        ops in proptest::collection::vec((0u8..4, 0u8..6, 0u64..4000, 0usize..300), 1..200)
    ) {
        let t = t0();
        let config = RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(5),
            max_sessions: 4,
            max_session_bytes: 1200,
            max_packets: 8,
            max_packet_bytes: 2000,
            ..RecoveryConfig::default()
        };
        let mut log: SessionLog<u8, (Offset, u8)> = SessionLog::new(config);
        let mut now = t;
        // What each socket last "handled", as a client would remember it.
        let mut last: [Option<Offset>; 6] = [None; 6];
        for (op, n, ms, size) in ops {
            now += Duration::from_millis(ms);
            match op {
                0 => {
                    let rooms = if n % 2 == 0 { to(&["even"]) } else { to(&[]) };
                    let off = log.record(now, &main_nsp(), rooms, size, |o| (o, n));
                    prop_assert_eq!(off, log.head());
                }
                1 => {
                    let kept = KeptSession {
                        pid: pid(n),
                        id: id(n),
                        namespace: main_nsp(),
                        rooms: vec!["even".repeat(size / 40 + 1)],
                        data: n,
                        joined_at: Offset::new(0),
                    };
                    last[n as usize] = Some(log.head());
                    log.persist(now, kept);
                }
                2 => {
                    let offset = last[n as usize].map(|o| o.to_string());
                    if let Ok(r) = log.restore(now, "/", pid(n).as_str(), offset.as_deref()) {
                        prop_assert_eq!(r.session.data, n);
                        let offsets: Vec<Offset> = r.replay.iter().map(|p| p.0).collect();
                        prop_assert!(offsets.windows(2).all(|w| w[0] < w[1]));
                        prop_assert!(offsets.iter().all(|o| Some(*o) > last[n as usize]));
                    }
                }
                _ => log.handle_timeout(now),
            }
            prop_assert!(log.sessions() <= 4);
            prop_assert!(log.packets() <= 8);
            let (session_bytes, packet_bytes) = log.bytes();
            prop_assert!(session_bytes <= 1200 && packet_bytes <= 2000);
            if let Some(next) = log.poll_timeout() {
                prop_assert!(next > now);
            }
        }
    }
}
