"""A reference server for the ws-connection delivery protocol, version 1.

Written from docs/PROTOCOL.md alone, with the `websockets` package (10.4 or
later; Debian's python3-websockets). Sessions live in memory, as with the
Node half's default store: a restart forgets them.

The application here is a small echo service, so that a client can see
every part of the protocol at work:

- a message is answered with the message "echo " + its text (bytes are
  echoed as they are);
- a message "later <ms> <text>" makes the server send <text> after <ms>
  milliseconds, whether or not a connection holds the session then;
- a request is answered with "re:" + its text, and the request "fail" with
  an error-reply.

Run: python3 examples/python/reliable_server.py [port]   (default 8080)
It prints "listening on <port>" once it accepts connections.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import sys

import websockets

SUBPROTOCOL = "ws-connection.reliable.v1"
MAX_NUMBER = 2**53 - 1
MAX_FRAME = 1 << 20
RESUME_WINDOW = 120_000  # ms
FIRST_FRAME_TIMEOUT = 10  # s
BUFFER_LIMIT = 10_000  # unacknowledged messages per session
BUFFER_BYTES = 8 << 20  # their bytes
ACK_EVERY = 64  # frames
ACK_DELAY = 0.010  # s

NUMBER = re.compile(r"0|[1-9][0-9]*")
ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
TEXT_KINDS = {"m": "message", "q": "request", "r": "reply", "x": "error-reply"}
LETTERS = {kind: letter for letter, kind in TEXT_KINDS.items()}
BINARY_KINDS = {0x6D: "message", 0x71: "request", 0x72: "reply"}


class ProtocolError(Exception):
    """A malformed frame: the connection closes with `code` (1002, or 1009) and the reason."""

    def __init__(self, reason, code=1002):
        super().__init__(reason)
        self.code = code


class SessionEnded(Exception):
    """The client sent `end`: the session is over, and the connection closes with 1000."""


def new_token():
    """128 random bits, base64url without padding: 22 characters (section 4.1)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def token_hash(token):
    return hashlib.sha256(token.encode()).digest()


def number(text, what):
    if not NUMBER.fullmatch(text) or int(text) > MAX_NUMBER:
        raise ProtocolError(f"{what}: bad number {text[:20]!r}")
    return int(text)


def varint(data, start, what):
    value, shift = 0, 0
    for i in range(start, min(start + 8, len(data))):
        value |= (data[i] & 0x7F) << shift
        if data[i] < 0x80:
            if value > MAX_NUMBER:
                raise ProtocolError(f"{what}: varint too large")
            return value, i + 1
        shift += 7
    raise ProtocolError(f"{what}: bad varint")


def encode_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode(raw):
    """A frame as a dict, or ProtocolError (section 5)."""
    if isinstance(raw, bytes):
        if not raw:
            raise ProtocolError("empty frame")
        kind = BINARY_KINDS.get(raw[0])
        if kind is None:
            raise ProtocolError(f"unknown binary kind 0x{raw[0]:02x}")
        seq, end = varint(raw, 1, f"{kind} frame")
        request_id = 0
        if kind != "message":
            request_id, end = varint(raw, end, f"{kind} frame")
        return {"type": kind, "seq": seq, "id": request_id, "data": raw[end:]}
    if not raw:
        raise ProtocolError("empty frame")
    letter = raw[0]
    if letter in TEXT_KINDS:
        kind = TEXT_KINDS[letter]
        parts = raw[1:].split(":", 1 if kind == "message" else 2)
        if len(parts) < (2 if kind == "message" else 3):
            raise ProtocolError(f"{letter} frame without its ':'")
        seq = number(parts[0], f"{letter} frame")
        request_id = 0 if kind == "message" else number(parts[1], f"{letter} frame")
        return {"type": kind, "seq": seq, "id": request_id, "data": parts[-1]}
    if letter in "apo":
        kind = {"a": "ack", "p": "ping", "o": "pong"}[letter]
        if len(raw) == 1:
            if kind == "ack":
                raise ProtocolError("a frame without its number")
            return {"type": kind, "ack": None}
        return {"type": kind, "ack": number(raw[1:], f"{letter} frame")}
    if letter == "{":
        return control(raw)
    raise ProtocolError(f"unknown frame {letter!r}")


def control(raw):
    try:
        fields = json.loads(raw)
    except ValueError:
        raise ProtocolError("control frame that is not JSON") from None
    if not isinstance(fields, dict):
        raise ProtocolError("control frame that is not an object")
    kind = fields.get("type")
    if not isinstance(kind, str):
        raise ProtocolError('control frame without a string "type"')
    if kind in ("hello", "end"):
        return {"type": kind}
    if kind == "resume":
        for field in ("session", "token"):
            if not isinstance(fields.get(field), str) or not ID.fullmatch(fields[field]):
                raise ProtocolError(f'resume frame: bad "{field}"')
        ack = fields.get("ack")
        # Any JSON number of a whole value (41, 41.0, 4.1e1), but not a boolean (section 2.5).
        if type(ack) not in (int, float) or not 0 <= ack <= MAX_NUMBER or ack != int(ack):
            raise ProtocolError('resume frame: bad "ack"')
        ack = int(ack)
        return {"type": "resume", "session": fields["session"], "token": fields["token"], "ack": ack}
    if kind in ("session", "resumed"):
        raise ProtocolError(f"{kind} frame from the client")
    raise ProtocolError(f"unknown control frame {kind[:40]!r}")


def encode_sequenced(kind, seq, data, request_id):
    if isinstance(data, bytes):
        head = bytes([ord(LETTERS[kind])]) + encode_varint(seq)
        return head + (encode_varint(request_id) if kind != "message" else b"") + data
    middle = f"{request_id}:" if kind != "message" else ""
    return f"{LETTERS[kind]}{seq}:{middle}{data}"


def size(data):
    return len(data) if isinstance(data, bytes) else len(data.encode())


class Session:
    """A session: outlives its connections for RESUME_WINDOW (section 4)."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.id = new_token()
        self.token = new_token()
        self.token_hash = token_hash(self.token)
        self.last_sent = 0  # the highest seq given to a frame to the client
        self.acked = 0  # the highest seq the client acknowledged
        self.outbox = []  # (seq, wire frame, bytes) of the unacknowledged, in order
        self.outbox_bytes = 0
        self.received = 0  # the high-water mark of the client's frames
        self.acked_received = 0  # the mark last sent to the client as an ack
        self.unacked_frames = 0
        self.ack_timer = None
        self.ws = None
        self.expiry = None
        sessions[self.id] = self

    def send(self, kind, data, request_id=0):
        """Numbers a frame, keeps it until acknowledged, writes it if connected; False past a bound."""
        if len(self.outbox) >= BUFFER_LIMIT or self.outbox_bytes + size(data) > BUFFER_BYTES:
            return False  # the bound (section 6): refused, nothing accepted is dropped
        self.last_sent += 1
        frame = encode_sequenced(kind, self.last_sent, data, request_id)
        if size(frame) > MAX_FRAME:
            self.last_sent -= 1
            return False
        self.outbox.append((self.last_sent, frame, size(data)))
        self.outbox_bytes += size(data)
        self.write(frame)
        return True

    def write(self, frame):
        if self.ws is not None:
            asyncio.ensure_future(self.safe_send(self.ws, frame))

    @staticmethod
    async def safe_send(ws, frame):
        try:
            await ws.send(frame)
        except websockets.ConnectionClosed:
            pass  # kept in the outbox: replayed on resume

    def acknowledge(self, ack):
        if ack is None or ack <= self.acked:
            return
        if ack > self.last_sent:
            raise ProtocolError(f"ack {ack} of a frame never sent (last {self.last_sent})")
        self.outbox = [entry for entry in self.outbox if entry[0] > ack]
        self.outbox_bytes = sum(entry[2] for entry in self.outbox)
        self.acked = ack

    def attach(self, ws):
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        previous, self.ws = self.ws, ws
        if previous is not None and previous is not ws:
            asyncio.ensure_future(previous.close(1008, "session resumed on another connection"))

    def detach(self, ws):
        if self.ws is not ws:
            return
        self.ws = None
        if self.ack_timer is not None:
            self.ack_timer.cancel()
            self.ack_timer = None
        loop = asyncio.get_running_loop()
        self.expiry = loop.call_later(RESUME_WINDOW / 1000, self.end)

    def end(self):
        self.sessions.pop(self.id, None)
        if self.expiry is not None:
            self.expiry.cancel()

    def received_one(self):
        """A sequenced frame was delivered: ack after ACK_EVERY frames or ACK_DELAY (section 2.2)."""
        self.unacked_frames += 1
        if self.unacked_frames >= ACK_EVERY:
            self.send_ack()
        elif self.ack_timer is None:
            self.ack_timer = asyncio.get_running_loop().call_later(ACK_DELAY, self.send_ack)

    def send_ack(self):
        if self.ack_timer is not None:
            self.ack_timer.cancel()
        self.ack_timer = None
        self.unacked_frames = 0
        if self.received > self.acked_received:
            self.acked_received = self.received
            self.write(f"a{self.received}")

    def ride(self):
        """The ack a ping or pong may carry."""
        if self.received > self.acked_received:
            self.acked_received = self.received
            self.unacked_frames = 0
            return str(self.received)
        return ""


class Application:
    """The echo service the module's docstring describes."""

    def message(self, session, data):
        if isinstance(data, str) and data.startswith("later "):
            _, ms, text = data.split(" ", 2)
            asyncio.get_running_loop().call_later(int(ms) / 1000, session.send, "message", text)
            return
        session.send("message", data if isinstance(data, bytes) else f"echo {data}")

    def request(self, session, request_id, data):
        if data == "fail":
            session.send("error-reply", "not allowed", request_id)
        elif isinstance(data, bytes):
            session.send("reply", data, request_id)
        else:
            session.send("reply", f"re:{data}", request_id)


class Server:
    def __init__(self, application):
        self.sessions = {}
        self.application = application

    async def handler(self, ws, *_path):
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close(1002, "this server speaks ws-connection.reliable.v1 only")
            return
        session = None
        try:
            session = await self.handshake(ws)
            async for raw in ws:
                self.receive(session, decode(raw))
        except ProtocolError as error:
            await ws.close(error.code, str(error).encode()[:123].decode(errors="ignore"))
        except SessionEnded:
            session = None
            await ws.close(1000, "session ended")
        except websockets.ConnectionClosed:
            pass
        finally:
            if session is not None:
                session.detach(ws)

    async def handshake(self, ws):
        """Reads first frames until hello or resume; answers a bare ping meanwhile (section 3)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FIRST_FRAME_TIMEOUT
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ProtocolError("no hello or resume in time") from None
            frame = decode(raw)
            if frame["type"] == "ping" and frame["ack"] is None:
                await ws.send("o")
                continue
            if frame["type"] == "hello":
                return self.start(ws, refused=False)
            if frame["type"] == "resume":
                session = self.sessions.get(frame["session"])
                if session is not None and hmac.compare_digest(token_hash(frame["token"]), session.token_hash):
                    return self.resume(ws, session, frame["ack"])
                return self.start(ws, refused=True)
            raise ProtocolError(f"expected hello or resume first, not {frame['type']}")

    def start(self, ws, refused):
        session = Session(self.sessions)
        session.attach(ws)
        answer = {
            "type": "session",
            "session": session.id,
            "token": session.token,
            "resumeWindow": RESUME_WINDOW,
            "maxFrame": MAX_FRAME,
        }
        if refused:
            answer["refused"] = "unknown-session"
        session.write(json.dumps(answer))
        return session

    def resume(self, ws, session, ack):
        session.acknowledge(ack)  # an ack beyond what was sent: ProtocolError
        session.attach(ws)
        session.acked_received = session.received
        session.write(json.dumps({"type": "resumed", "ack": session.received, "maxFrame": MAX_FRAME}))
        for _, frame, _ in session.outbox:
            session.write(frame)
        return session

    def receive(self, session, frame):
        kind = frame["type"]
        if kind == "ack":
            session.acknowledge(frame["ack"])
        elif kind == "ping":
            session.acknowledge(frame["ack"])
            session.write(f"o{session.ride()}")
        elif kind == "pong":
            session.acknowledge(frame["ack"])
        elif kind == "end":
            session.end()
            raise SessionEnded()
        elif kind in ("hello", "resume"):
            raise ProtocolError(f"a second {kind}")
        elif kind in ("message", "request"):
            if frame["seq"] == 0:
                raise ProtocolError(f"{LETTERS[kind]} frame: sequence 0")
            if frame["seq"] <= session.received:
                return  # a duplicate, replayed: dropped
            if frame["seq"] > session.received + 1:
                raise ProtocolError(f"{LETTERS[kind]} frame: sequence {frame['seq']} after {session.received} (a gap)")
            session.received = frame["seq"]
            if kind == "message":
                self.application.message(session, frame["data"])
            else:
                self.application.request(session, frame["id"], frame["data"])
            session.received_one()
        else:
            raise ProtocolError(f"{kind} frame from the client")


async def main(port):
    server = Server(Application())
    async with websockets.serve(
        server.handler,
        "127.0.0.1",
        port,
        subprotocols=[SUBPROTOCOL],
        max_size=MAX_FRAME,
        ping_interval=30,
        ping_timeout=10,
    ) as listening:
        bound = listening.sockets[0].getsockname()[1]
        print(f"listening on {bound}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
