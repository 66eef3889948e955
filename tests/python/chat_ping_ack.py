"""python-socketio 5.x against the chat example's `ping-ack`.

    python chat_ping_ack.py <base-url> <polling|websocket|upgrade>

Sends objects with binary nested in them (and keys in no sorted order) and
checks that the acknowledgement `{ok: true, received: msg}` holds the same
bytes at the same places, as `bytes`, with the keys in the order sent.
Prints `ok ping-ack <transport> ...` or `FAIL ping-ack <transport>: ...` and
exits 1. Every wait is bounded.
"""

import sys

import socketio

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}

MESSAGES = [
    {"z": 1, "blob": b"\x00\x01\xff", "a": [1, "two", None]},
    {"nested": [b"x", {"deep": b"", "k": "v", "more": [b"\x7f" * 1000]}], "b": True},
    b"\x01\x02\x03",
    [b"a", "b", {"c": b"d"}],
]


def same(got, want, where="msg"):
    """Equal values of the same types, objects with their keys in the same order."""
    if type(got) is not type(want):
        raise AssertionError(f"{where}: {type(got).__name__} {got!r}, sent {type(want).__name__}")
    if isinstance(want, dict):
        if list(got) != list(want):
            raise AssertionError(f"{where}: keys {list(got)}, sent {list(want)}")
        for key in want:
            same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        if len(got) != len(want):
            raise AssertionError(f"{where}: {len(got)} elements, sent {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"{where}[{i}]")
    elif got != want:
        raise AssertionError(f"{where}: {got!r}, sent {want!r}")


def main():
    url, transport = sys.argv[1], sys.argv[2]
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=TRANSPORTS[transport], wait_timeout=10)
    try:
        for msg in MESSAGES:
            answer = client.call("ping-ack", msg, timeout=10)
            same(answer, {"ok": True, "received": msg}, "answer")
        used = client.transport()
        if transport == "upgrade" and used != "websocket":
            raise AssertionError(f"still on {used} after the upgrade")
    finally:
        client.disconnect()
    print(f"ok ping-ack {transport} {len(MESSAGES)} messages with nested binary on {used}")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the test shows what failed, whatever it was
        print(f"FAIL ping-ack {sys.argv[2]}: {error!r}")
        sys.exit(1)
