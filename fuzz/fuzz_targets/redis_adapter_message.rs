//! Fuzzes the Redis adapter's wire decoders (`socketio_redis::wire`): whatever arrives on
//! a channel must decode to a message or to an error, never panic. A decoded broadcast or
//! request is encoded again and must decode to the same message; a packet inside goes
//! through the MessagePack transcoder.
//!
//! Input: the first byte picks what the rest is read as (broadcast, request, response).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_parser::DecoderConfig;
use socketio_redis::wire;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let frame = Bytes::copy_from_slice(rest);
    match mode % 3 {
        0 => {
            if let Ok(b) = wire::decode_broadcast(&frame) {
                let again = wire::encode_broadcast(&b.uid, &b.packet, &b.opts, &b.flags);
                let back = wire::decode_broadcast(&again).expect("our own encoding decodes");
                assert_eq!(back.opts, b.opts);
                assert_eq!(back.packet, b.packet);
                let _ = wire::decode_packet(b.packet, &DecoderConfig::default());
            }
        }
        1 => {
            if let Ok(request) = wire::decode_request(&frame) {
                let again = wire::encode_request(&request);
                assert!(wire::decode_request(&again).is_ok(), "our own encoding decodes");
            }
        }
        _ => {
            if let Ok(response) = wire::decode_response(&frame) {
                let _ = wire::encode_response(&response);
            }
        }
    }
});
