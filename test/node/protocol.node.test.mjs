// The delivery protocol's pure half (dist/protocol, run after the build),
// alone, under a fake clock: every frame written and read, every malformed
// frame, the handshake, replay after a resume in both directions, the
// high-water mark, acks batched and riding on the heartbeat, requests, the
// store's gate, and every bound with its rule.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  base64url,
  ClientEndpoint,
  constantTimeEqual,
  constantTimeEqualText,
  decode,
  encode,
  newToken,
  Outbox,
  readFirstFrame,
  ServerEndpoint,
  SUBPROTOCOL,
  utf8Length,
  varint,
} from '../../dist/protocol/index.js';

const bytes = (...values) => new Uint8Array(values);

/**
 * A client and a server joined by a connection that can be cut. Frames
 * written go into a queue per direction; `flush()` carries them until
 * nothing moves. A cut drops whatever was in flight, as a dead link does.
 */
function world({client: clientOptions = {}, server: serverOptions = {}, startMessages} = {}) {
  const clock = {now: 0};
  const client = new ClientEndpoint({...clientOptions, startMessages});
  const sessions = new Map();
  const log = {client: [], server: [], clientFrames: [], serverFrames: []};
  let server;
  let link;
  let sessionCount = 0;

  const deliver = (side, events) => {
    for (const event of events) log[side].push(event);
  };

  const serverReceive = (raw) => {
    if (!server) {
      const first = readFirstFrame(raw);
      if (!first.ok) return link.close('server', first);
      if (first.frame.type === 'ping') return link.toClient.push('o');
      const known = first.frame.type === 'resume' ? sessions.get(first.frame.session) : undefined;
      if (known && constantTimeEqualText(known.token, first.frame.token)) {
        server = known.endpoint;
        const out = server.resume(first.frame.ack);
        link.toClient.push(...out.frames);
        return deliver('server', out.events);
      }
      const id = `S${++sessionCount}`;
      const token = newToken((b) => b.fill(sessionCount));
      server = new ServerEndpoint({session: id, ...serverOptions});
      sessions.set(id, {endpoint: server, token});
      const out = server.welcome(token, 1000, first.frame.type === 'resume');
      link.toClient.push(...out.frames);
      return deliver('server', out.events);
    }
    const out = server.receive(raw, clock.now);
    link.toClient.push(...out.frames);
    deliver('server', out.events);
    if (out.events.some((event) => event.type === 'protocol-error')) link.close('server');
  };

  const connect = () => {
    link = {toServer: [], toClient: [], open: true};
    link.close = (by, problem) => {
      link.open = false;
      link.closedBy = by;
      link.problem = problem;
      link.toServer.length = link.toClient.length = 0;
      client.disconnected();
      server?.disconnected();
      server = undefined;
    };
    link.toServer.push(...client.open(clock.now).frames);
    return link;
  };

  const flush = () => {
    while (link.open && (link.toServer.length || link.toClient.length)) {
      if (link.toServer.length) {
        const raw = link.toServer.shift();
        log.serverFrames.push(raw);
        serverReceive(raw);
      } else {
        const raw = link.toClient.shift();
        log.clientFrames.push(raw);
        const out = client.receive(raw, clock.now);
        link.toServer.push(...out.frames);
        deliver('client', out.events);
        if (out.events.some((event) => event.type === 'protocol-error')) link.close('client');
      }
    }
  };

  return {
    clock,
    client,
    log,
    sessions,
    get server() {
      return server;
    },
    get link() {
      return link;
    },
    connect,
    flush,
    /** The connection dies: what is in flight is lost, both ends notice. */
    cut: () => link.close('network'),
    clientSend: (data) => {
      const result = client.send(data, clock.now);
      if (link?.open) link.toServer.push(...result.frames);
      return result;
    },
    clientRequest: (data) => {
      const result = client.request(data, clock.now);
      if (link?.open) link.toServer.push(...result.frames);
      return result;
    },
    serverSend: (data, endpoint = server) => {
      const result = endpoint.send(data);
      if (link?.open && endpoint === server) link.toClient.push(...result.frames);
      return result;
    },
    tick: (ms) => {
      clock.now += ms;
      const fromClient = client.tick(clock.now).frames;
      const fromServer = server ? server.tick(clock.now).frames : [];
      if (link?.open) {
        link.toServer.push(...fromClient);
        link.toClient.push(...fromServer);
      }
    },
    messages: (side) => log[side].filter((event) => event.type === 'message').map((event) => event.data),
    events: (side, type) => log[side].filter((event) => event.type === type),
  };
}

describe('frames', () => {
  it('are named by the subprotocol ws-connection.reliable.v1', () => {
    assert.equal(SUBPROTOCOL, 'ws-connection.reliable.v1');
  });

  it('write and read every frame, as docs/PROTOCOL.md shows them', () => {
    const cases = [
      [{type: 'message', seq: 17, data: 'hello'}, 'm17:hello'],
      [{type: 'message', seq: 1, data: ''}, 'm1:'],
      [{type: 'message', seq: 2, data: 'a:b:c'}, 'm2:a:b:c'],
      [{type: 'request', seq: 18, id: 3, data: '{"get":"me"}'}, 'q18:3:{"get":"me"}'],
      [{type: 'reply', seq: 9, id: 3, data: '{"name":"A"}'}, 'r9:3:{"name":"A"}'],
      [{type: 'error-reply', seq: 10, id: 4, data: 'not allowed'}, 'x10:4:not allowed'],
      [{type: 'ack', ack: 17}, 'a17'],
      [{type: 'ack', ack: 0}, 'a0'],
      [{type: 'ping'}, 'p'],
      [{type: 'ping', ack: 17}, 'p17'],
      [{type: 'pong'}, 'o'],
      [{type: 'pong', ack: 9}, 'o9'],
      [{type: 'hello'}, '{"type":"hello"}'],
      [{type: 'end'}, '{"type":"end"}'],
      [
        {type: 'resume', session: 'k3Jt0xVQ2r8cQmB5h1pZ7w', token: 'f0bq3hY2pQ9Vd4w1sK8xZg', ack: 41},
        '{"type":"resume","session":"k3Jt0xVQ2r8cQmB5h1pZ7w","token":"f0bq3hY2pQ9Vd4w1sK8xZg","ack":41}',
      ],
      [
        {type: 'session', session: 'S', token: 'T', resumeWindow: 120000, maxFrame: 1048576},
        '{"type":"session","session":"S","token":"T","resumeWindow":120000,"maxFrame":1048576}',
      ],
      [
        {
          type: 'session',
          session: 'S',
          token: 'T',
          resumeWindow: 5,
          maxFrame: 64,
          refused: 'unknown-session',
        },
        '{"type":"session","session":"S","token":"T","resumeWindow":5,"maxFrame":64,"refused":"unknown-session"}',
      ],
      [{type: 'resumed', ack: 12, maxFrame: 1048576}, '{"type":"resumed","ack":12,"maxFrame":1048576}'],
    ];
    for (const [frame, wire] of cases) {
      assert.equal(encode(frame), wire);
      assert.deepEqual(decode(wire), {ok: true, frame}, wire);
    }
  });

  it('write binary data as binary frames with a varint header, and read them back', () => {
    // The document's example: the message 01 02 03 with seq 300.
    const message = encode({type: 'message', seq: 300, data: bytes(1, 2, 3)});
    assert.deepEqual([...message], [0x6d, 0xac, 0x02, 1, 2, 3]);
    assert.deepEqual(decode(message), {ok: true, frame: {type: 'message', seq: 300, data: bytes(1, 2, 3)}});
    for (const type of ['request', 'reply']) {
      const frame = {type, seq: 2 ** 40, id: 129, data: bytes(0, 255)};
      assert.deepEqual(decode(encode(frame)), {ok: true, frame});
    }
    const largest = {type: 'message', seq: Number.MAX_SAFE_INTEGER, data: bytes()};
    assert.deepEqual(decode(encode(largest)), {ok: true, frame: largest});
    assert.deepEqual(varint(0), [0]);
    assert.deepEqual(varint(127), [127]);
    assert.deepEqual(varint(128), [0x80, 1]);
    assert.throws(() => encode({type: 'error-reply', seq: 1, id: 1, data: bytes(1)}), TypeError);
  });

  it('cost a short message 4 bytes at seq 17 and 8 at a six-digit seq: under the 16 B budget', () => {
    assert.equal(encode({type: 'message', seq: 17, data: 'hello'}).length - 'hello'.length, 4);
    assert.equal(encode({type: 'message', seq: 123456, data: 'hello'}).length - 'hello'.length, 8);
    assert.equal(encode({type: 'message', seq: 123456, data: bytes(1, 2)}).length - 2, 4);
  });

  it('refuse each malformed frame with 1002 and a reason that names it', () => {
    const cases = [
      ['', /empty frame/],
      [bytes(), /empty binary frame/],
      ['z1:x', /unknown frame/],
      ['hello', /unknown frame/],
      ['m17hello', /m frame without ":"/],
      ['m:hello', /bad sequence number/],
      ['m0:hello', /bad sequence number/],
      ['m017:hello', /bad sequence number/],
      ['m-1:hello', /bad sequence number/],
      ['m1.5:x', /bad sequence number/],
      ['m99999999999999999:x', /bad sequence number/],
      ['m9007199254740992:x', /bad sequence number/],
      ['q1:x', /q frame without its two ":"/],
      ['q1:0:x', /bad request id/],
      ['r1::x', /bad request id/],
      ['xa:1:x', /bad sequence number/],
      ['a', /a frame: bad ack/],
      ['a-1', /a frame: bad ack/],
      ['a01', /a frame: bad ack/],
      ['p1x', /p frame: bad ack/],
      ['o ', /o frame: bad ack/],
      ['{', /not JSON/],
      ['{"type":"hello"', /not JSON/],
      ['{"kind":"hello"}', /without a string "type"/],
      ['{"type":7}', /without a string "type"/],
      ['{"type":"welcome"}', /unknown control frame "welcome"/],
      ['{"type":"resume","session":"S","ack":0}', /resume frame: bad "token"/],
      ['{"type":"resume","session":"S s","token":"T","ack":0}', /resume frame: bad "session"/],
      ['{"type":"resume","session":"S","token":"T","ack":-1}', /resume frame: bad "ack"/],
      ['{"type":"resume","session":"S","token":"T","ack":"1"}', /resume frame: bad "ack"/],
      [`{"type":"resume","session":"${'S'.repeat(129)}","token":"T","ack":1}`, /bad "session"/],
      ['{"type":"session","session":"S","token":"T","resumeWindow":1}', /bad "maxFrame"/],
      [
        '{"type":"session","session":"S","token":"T","resumeWindow":1,"maxFrame":9,"refused":1}',
        /bad "refused"/,
      ],
      ['{"type":"resumed","ack":1.5,"maxFrame":9}', /resumed frame: bad "ack"/],
      [bytes(0x6d), /binary m frame: bad sequence number/],
      [bytes(0x6d, 0x80), /binary m frame: bad sequence number/],
      [bytes(0x6d, 0), /binary m frame: bad sequence number/],
      [bytes(0x6d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1), /bad sequence number/],
      [bytes(0x6d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), /bad sequence number/],
      [bytes(0x71, 1), /binary q frame: bad request id/],
      [bytes(0x72, 1, 0), /binary r frame: bad request id/],
      [bytes(0x78, 1, 1), /unknown binary frame 0x78/],
      [bytes(0x61, 1), /unknown binary frame 0x61/],
    ];
    for (const [raw, reason] of cases) {
      const decoded = decode(raw);
      assert.equal(decoded.ok, false, JSON.stringify(String(raw)));
      assert.equal(decoded.code, 1002);
      assert.match(decoded.reason, reason, JSON.stringify(String(raw)));
      assert.ok(decoded.reason.length <= 123);
    }
    // Unknown fields of a control frame are ignored, for later versions.
    assert.deepEqual(decode('{"type":"hello","v":2}'), {ok: true, frame: {type: 'hello'}});
  });

  it('keep a close reason within 123 bytes', () => {
    const decoded = decode(`{"type":"${'w'.repeat(300)}"}`);
    assert.ok(decoded.reason.length <= 123, decoded.reason);
  });

  it('count UTF-8 bytes without encoding', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a😀é€', '\ud800', '\udc00x']) {
      assert.equal(utf8Length(text), Buffer.byteLength(text), JSON.stringify(text));
    }
  });

  it('let the server read only hello, resume or a bare ping first', () => {
    assert.deepEqual(readFirstFrame('{"type":"hello"}'), {ok: true, frame: {type: 'hello'}});
    assert.equal(readFirstFrame('p').ok, true);
    for (const raw of ['m1:x', 'p3', 'a0', '{"type":"end"}', '{"type":"session"}']) {
      const first = readFirstFrame(raw);
      assert.equal(first.ok, false, raw);
      assert.equal(first.code, 1002);
    }
    assert.match(readFirstFrame('m1:x').reason, /expected hello or resume first, not message/);
    const big = readFirstFrame('x'.repeat(100), 64);
    assert.equal(big.code, 1009);
  });
});

describe('tokens', () => {
  it('are 128 random bits as 22 base64url characters, from the random source given', () => {
    let calls = 0;
    const token = newToken((buffer) => {
      calls++;
      assert.equal(buffer.length, 16);
      buffer.set([...Array(16).keys()].map((i) => i * 17));
    });
    assert.equal(calls, 1);
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(token, Buffer.from([...Array(16).keys()].map((i) => i * 17)).toString('base64url'));
    for (const length of [0, 1, 2, 3, 4, 5, 31, 32]) {
      const data = Uint8Array.from({length}, (_, i) => (i * 53) & 255);
      assert.equal(base64url(data), Buffer.from(data).toString('base64url'));
    }
  });

  it('compare in constant time, and tell every difference', () => {
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 3)), true);
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 4)), false);
    assert.equal(constantTimeEqual(bytes(0, 2, 3), bytes(1, 2, 3)), false);
    assert.equal(constantTimeEqual(bytes(1, 2), bytes(1, 2, 3)), false);
    assert.equal(constantTimeEqualText('abc', 'abc'), true);
    assert.equal(constantTimeEqualText('abc', 'abd'), false);
    assert.equal(constantTimeEqualText('abc', 'ab'), false);
  });
});

describe('a session', () => {
  it('starts with hello and session, then the start messages, then what was sent before it', () => {
    const w = world({startMessages: () => ['subscribe']});
    assert.equal(w.clientSend('early').accepted, true);
    assert.equal(w.client.queued, 1);
    w.connect();
    assert.deepEqual(w.link.toServer, ['{"type":"hello"}']);
    w.flush();
    assert.deepEqual(w.events('client', 'open'), [
      {type: 'open', session: 'S1', resumed: false, started: 1, skipped: []},
    ]);
    assert.deepEqual(w.messages('server'), ['subscribe', 'early']);
    assert.deepEqual(w.log.serverFrames.slice(1), ['m1:subscribe', 'm2:early']);
    assert.equal(w.client.session, 'S1');
  });

  it('carries text and binary both ways, in order', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientSend('a');
    w.clientSend(bytes(1, 2));
    w.serverSend('b');
    w.serverSend(bytes(3));
    w.flush();
    assert.deepEqual(w.messages('server'), ['a', bytes(1, 2)]);
    assert.deepEqual(w.messages('client'), ['b', bytes(3)]);
  });

  it('holds what is sent while no connection is open, and sends it when the session resumes', () => {
    const w = world();
    w.connect();
    w.flush();
    w.cut();
    const result = w.clientSend('while away');
    assert.equal(result.accepted, true);
    assert.equal(result.held, true);
    assert.deepEqual(result.frames, []);
    w.connect();
    w.flush();
    assert.deepEqual(w.messages('server'), ['while away']);
  });
});

describe('acks', () => {
  it('are cumulative and batched: one after 64 messages, not one per message', () => {
    const w = world();
    w.connect();
    w.flush();
    for (let i = 1; i <= 130; i++) w.clientSend(`m${i}`);
    w.flush();
    const acks = w.log.clientFrames.filter((frame) => /^a\d+$/.test(frame));
    assert.deepEqual(acks, ['a64', 'a128']);
    assert.equal(w.client.queued, 2);
    assert.deepEqual(w.events('client', 'acknowledged'), [
      {type: 'acknowledged', count: 64, upTo: 64},
      {type: 'acknowledged', count: 64, upTo: 128},
    ]);
  });

  it('come a few ms after a message when fewer arrive, under the clock given', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientSend('one');
    w.flush();
    assert.equal(w.server.nextDeadline(), 10);
    w.tick(9);
    w.flush();
    assert.equal(w.client.queued, 1, 'not yet: 9 ms');
    w.tick(1);
    w.flush();
    assert.equal(w.client.queued, 0, 'acked at 10 ms');
    assert.equal(w.server.nextDeadline(), undefined, 'nothing more owed');
    assert.deepEqual(w.server.tick(100).frames, [], 'no ack of nothing');
  });

  it('ride on the ping and on the pong', () => {
    const w = world();
    w.connect();
    w.flush();
    w.serverSend('s1');
    w.clientSend('c1');
    w.flush();
    assert.equal(w.client.ping(w.clock.now), 'p1', 'the client acks s1 on its ping');
    assert.equal(w.client.ping(w.clock.now), 'p', 'and owes nothing more');
    const answer = w.server.receive('p1', w.clock.now);
    assert.deepEqual(answer.frames, ['o1'], 'the pong acks c1');
    assert.deepEqual(answer.events, [{type: 'acknowledged', count: 1, upTo: 1}]);
    const pong = w.client.receive('o1', w.clock.now);
    assert.deepEqual(pong.events, [{type: 'acknowledged', count: 1, upTo: 1}, {type: 'pong'}]);
    assert.equal(w.client.queued, 0);
    assert.equal(w.server.queued, 0);
    // A ping with nothing to ack is answered too.
    assert.deepEqual(w.server.receive('p', w.clock.now).frames, ['o']);
  });

  it('of a frame never sent are a protocol error, and old acks are not news', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientSend('x');
    w.flush();
    assert.deepEqual(w.client.receive('a0', 0).events, []);
    const out = w.client.receive('a5', 0);
    assert.equal(out.events[0].type, 'protocol-error');
    assert.equal(out.events[0].code, 1002);
    assert.match(out.events[0].reason, /ack 5 of a frame never sent \(last 1\)/);
    assert.equal(w.client.state, 'failed');
    assert.deepEqual(w.client.receive('m1:after', 0), {frames: [], events: []}, 'nothing read after');
  });
});

describe('the high-water mark', () => {
  it('drops a frame that arrived already, and never delivers it twice', () => {
    const w = world();
    w.connect();
    w.flush();
    const frame = w.serverSend('once').frames[0];
    w.flush();
    const again = w.client.receive(frame, 0);
    assert.deepEqual(again.events, [{type: 'duplicate', seq: 1}]);
    assert.deepEqual(w.messages('client'), ['once']);
    const fromClient = w.clientSend('mine').frames[0];
    w.flush();
    assert.deepEqual(w.server.receive(fromClient, 0).events, [{type: 'duplicate', seq: 1}]);
    assert.deepEqual(w.messages('server'), ['mine']);
  });

  it('refuses a gap with 1002', () => {
    const w = world();
    w.connect();
    w.flush();
    const out = w.server.receive('m2:skipped one', 0);
    assert.deepEqual(out.events, [
      {type: 'protocol-error', code: 1002, reason: 'message: sequence 2 after 0 (a gap)'},
    ]);
  });
});

describe('resume', () => {
  it('replays both ways what the other side had not acknowledged, in order, before new traffic', () => {
    const w = world();
    w.connect();
    w.flush();
    for (const text of ['c1', 'c2']) w.clientSend(text);
    for (const text of ['s1', 's2']) w.serverSend(text);
    w.flush();
    // Delivered, not yet acknowledged: both sides keep them.
    assert.equal(w.client.queued, 2);
    assert.equal(w.server.queued, 2);
    // In flight when the link dies: lost on the wire.
    w.clientSend('c3');
    w.serverSend('s3');
    w.cut();
    // Sent while away.
    w.clientSend('c4');
    const session = w.sessions.get('S1').endpoint;
    w.serverSend('s4', session);
    w.connect();
    const resume = JSON.parse(w.link.toServer[0]);
    assert.deepEqual(resume, {type: 'resume', session: 'S1', token: w.sessions.get('S1').token, ack: 2});
    w.flush();
    assert.deepEqual(w.events('client', 'open').at(-1), {
      type: 'open',
      session: 'S1',
      resumed: true,
      started: 0,
      skipped: [],
    });
    assert.deepEqual(w.messages('server'), ['c1', 'c2', 'c3', 'c4'], 'nothing lost or repeated');
    assert.deepEqual(w.messages('client'), ['s1', 's2', 's3', 's4'], 'nothing lost or repeated');
    // The answer comes first, then the replay of what the client lacked, from s3.
    const afterResume = w.log.clientFrames.slice(w.log.clientFrames.findIndex((f) => f.includes('resumed')));
    assert.deepEqual(afterResume, ['{"type":"resumed","ack":2,"maxFrame":1048576}', 'm3:s3', 'm4:s4']);
    // The client too replays from the server's mark on, before anything new.
    w.clientSend('c5');
    w.flush();
    const fromClient = w.log.serverFrames.slice(w.log.serverFrames.findIndex((f) => f.includes('resume')));
    assert.deepEqual(fromClient.slice(1), ['m3:c3', 'm4:c4', 'm5:c5']);
    assert.equal(w.events('client', 'session-lost').length, 0);
  });

  it('drops the duplicates of a replay whose acks were lost', () => {
    const w = world();
    w.connect();
    w.flush();
    w.serverSend('s1');
    w.serverSend('s2');
    w.flush();
    // The server's endpoint never heard an ack: after the cut, it replays both.
    w.cut();
    const session = w.sessions.get('S1').endpoint;
    const replay = session.resume(0);
    assert.deepEqual(replay.frames.slice(1), ['m1:s1', 'm2:s2']);
    session.disconnected();
    // The client had them: it says so in resume, and drops any replayed copy.
    w.connect();
    assert.equal(JSON.parse(w.link.toServer[0]).ack, 2);
    w.flush();
    assert.deepEqual(w.client.receive('m2:s2', 0).events, [{type: 'duplicate', seq: 2}]);
    assert.deepEqual(w.messages('client'), ['s1', 's2']);
  });

  it('sends the start messages at the start of each session, not on a resume', () => {
    let starts = 0;
    const w = world({startMessages: () => [`subscribe ${++starts}`]});
    w.connect();
    w.flush();
    w.cut();
    w.connect();
    w.flush();
    assert.deepEqual(w.messages('server'), ['subscribe 1']);
    assert.equal(starts, 1);
  });

  it('refused (a wrong token): a new session, and session-lost with what the server may not have', () => {
    const w = world({startMessages: () => ['subscribe']});
    w.connect();
    w.flush();
    w.tick(20);
    w.flush();
    w.clientSend('kept by the server');
    w.flush();
    w.tick(20);
    w.flush();
    assert.equal(w.client.queued, 0);
    w.clientSend('in flight');
    w.cut();
    w.clientRequest('a question');
    w.clientSend('while away');
    // The server holds a different token than the client's.
    w.sessions.get('S1').token = 'AAAAAAAAAAAAAAAAAAAAAA';
    w.connect();
    w.flush();
    const [lost] = w.events('client', 'session-lost');
    assert.deepEqual(
      lost.messages.map(({kind, id, data}) => [kind, id, data]),
      [
        ['message', 0, 'in flight'],
        ['request', 1, 'a question'],
        ['message', 0, 'while away'],
      ],
    );
    assert.deepEqual(w.events('client', 'open').at(-1), {
      type: 'open',
      session: 'S2',
      resumed: false,
      started: 1,
      skipped: [],
    });
    // The new session starts as any does, from seq 1, with the start messages; the lost ones are not sent.
    assert.deepEqual(w.log.serverFrames.at(-1), 'm1:subscribe');
    assert.equal(w.client.queued, 1);
    // Its frames are numbered from 1 again, both ways.
    w.serverSend('new');
    w.flush();
    assert.deepEqual(w.messages('client').at(-1), 'new');
  });

  it('keeps what the application accepted across a protocol error', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientSend('c1');
    w.serverSend('s1');
    // A broken frame from the server closes the connection before c1 or s1 is acknowledged.
    w.link.toClient.push('m1:s1', 'zzz');
    w.flush();
    assert.equal(w.link.closedBy, 'client');
    assert.equal(w.events('client', 'protocol-error')[0].code, 1002);
    assert.equal(w.client.queued, 1, 'c1 is kept');
    w.connect();
    w.flush();
    assert.deepEqual(w.messages('server'), ['c1']);
    assert.deepEqual(w.messages('client'), ['s1']);
  });
});

describe('requests', () => {
  it('carry an id that the reply names; an error reply names it too', () => {
    const w = world();
    w.connect();
    w.flush();
    const first = w.clientRequest('profile?');
    const second = w.clientRequest(bytes(7));
    assert.deepEqual([first.id, second.id], [1, 2]);
    w.flush();
    const requests = w.events('server', 'request');
    assert.deepEqual(requests, [
      {type: 'request', id: 1, data: 'profile?'},
      {type: 'request', id: 2, data: bytes(7)},
    ]);
    w.link.toClient.push(...w.server.replyError(2, 'not allowed').frames);
    w.link.toClient.push(...w.server.reply(1, bytes(1, 2)).frames);
    w.flush();
    assert.deepEqual(w.events('client', 'error-reply'), [
      {type: 'error-reply', id: 2, message: 'not allowed'},
    ]);
    assert.deepEqual(w.events('client', 'reply'), [{type: 'reply', id: 1, data: bytes(1, 2)}]);
  });

  it('go from the client only, and a reply must name a request that was made', () => {
    const cases = [
      ['client', 'q1:1:x', /requests go from client to server/],
      ['client', 'r1:1:x', /reply names request 1, never sent/],
      ['client', 'x1:1:x', /error-reply names request 1, never sent/],
      ['server', 'r1:1:x', /reply frame from the client/],
      ['server', 'x1:1:x', /error-reply frame from the client/],
    ];
    for (const [side, raw, reason] of cases) {
      const w = world();
      w.connect();
      w.flush();
      const [event] = w[side].receive(raw, 0).events;
      assert.equal(event.type, 'protocol-error', raw);
      assert.equal(event.code, 1002);
      assert.match(event.reason, reason);
    }
  });

  it('are replayed after a resume like any message', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientRequest('lost in flight');
    w.cut();
    w.connect();
    w.flush();
    assert.deepEqual(w.events('server', 'request'), [{type: 'request', id: 1, data: 'lost in flight'}]);
    const reply = w.server.reply(1, 'answer');
    w.cut();
    assert.equal(reply.accepted, true);
    w.connect();
    w.flush();
    assert.deepEqual(w.events('client', 'reply'), [{type: 'reply', id: 1, data: 'answer'}]);
  });
});

describe('the handshake', () => {
  it('refuses frames at the wrong time with 1002', () => {
    const cases = [
      ['m1:x', /message before the handshake/, false],
      ['a0', /a frame before the handshake/, false],
      ['p3', /ping with an ack before the handshake/, false],
      ['{"type":"resumed","ack":0,"maxFrame":99}', /resumed frame outside a resume/, false],
      ['{"type":"hello"}', /hello frame from the server/, false],
      ['{"type":"session","session":"S","token":"T","resumeWindow":1,"maxFrame":999}', /outside/, true],
    ];
    for (const [raw, reason, afterOpen] of cases) {
      const w = world();
      w.connect();
      if (afterOpen) w.flush();
      const out = w.client.receive(raw, 0);
      assert.equal(out.events[0]?.type, 'protocol-error', raw);
      assert.match(out.events[0].reason, reason, raw);
    }
    const w = world();
    w.connect();
    w.flush();
    for (const [raw, reason] of [
      ['{"type":"hello"}', /hello frame after the handshake/],
      ['{"type":"resume","session":"S","token":"T","ack":0}', /resume frame after the handshake/],
    ]) {
      const server = new ServerEndpoint({session: 'X'});
      server.welcome('T', 1);
      assert.match(server.receive(raw, 0).events[0].reason, reason);
    }
    // A bare ping is answered any time, even before the session frame.
    const early = world();
    early.connect();
    assert.deepEqual(early.client.receive('p', 0).frames, ['o']);
  });

  it('refuses a resume acking what the server never sent', () => {
    const server = new ServerEndpoint({session: 'X'});
    const out = server.resume(3);
    assert.match(out.events[0].reason, /resume: ack 3 of a frame never sent \(last 0\)/);
  });

  it('ends a session for good with end, either way', () => {
    const w = world();
    w.connect();
    w.flush();
    w.clientSend('unacked');
    assert.deepEqual(w.client.end().frames, ['{"type":"end"}']);
    assert.equal(w.client.isEnded, true);
    assert.deepEqual(w.client.end().frames, [], 'once');
    assert.deepEqual(w.client.send('after', 0), {accepted: false, reason: 'ended', frames: []});
    assert.equal(w.client.unacknowledged().length, 1, 'what was not acknowledged is still known');
    const server = w.server;
    assert.deepEqual(server.receive('{"type":"end"}', 0).events, [{type: 'ended'}]);
    assert.equal(server.isEnded, true);
    assert.equal(server.send('after').accepted, false);
  });
});

describe('a gated server (a store behind it)', () => {
  it('writes a message only once the store holds it', () => {
    const server = new ServerEndpoint({session: 'S', gated: true});
    server.welcome('T', 1);
    const sent = server.send('stored first');
    assert.equal(sent.accepted, true);
    assert.equal(sent.held, true);
    assert.deepEqual(sent.frames, []);
    assert.deepEqual(server.stored(1, 0, 0).frames, ['m1:stored first']);
    assert.deepEqual(server.stored(1, 0, 0).frames, [], 'written once');
  });

  it('acknowledges only what the store holds the mark of, however many arrive', () => {
    const server = new ServerEndpoint({session: 'S', gated: true, ackEvery: 2});
    server.welcome('T', 1);
    const out = [1, 2, 3].map((seq) => server.receive(`m${seq}:x`, 0));
    assert.deepEqual(
      out.flatMap((o) => o.frames),
      [],
      'delivered, but no ack before the store has them',
    );
    assert.deepEqual(
      out.flatMap((o) => o.events.map((e) => e.type)),
      ['message', 'message', 'message'],
    );
    assert.equal(server.nextDeadline(), undefined, 'no timer can ack them either');
    assert.deepEqual(server.stored(0, 2, 0).frames, ['a2']);
    assert.deepEqual(server.stored(0, 3, 5).frames, [], 'one is not enough, and 5 ms is not 10');
    assert.equal(server.nextDeadline(), 10);
    assert.deepEqual(server.tick(10).frames, ['a3']);
    // A resume tells the mark the store holds.
    server.receive('m4:y', 11);
    server.disconnected();
    assert.deepEqual(server.resume(0).frames, ['{"type":"resumed","ack":3,"maxFrame":1048576}']);
  });

  it('resumes from what a store kept, in another process', () => {
    const first = new ServerEndpoint({session: 'S'});
    first.welcome('T', 1);
    first.send('s1');
    first.send('s2');
    first.receive('m1:c1', 0);
    first.receive('a1', 0);
    const state = first.snapshot();
    assert.deepEqual(
      state.outbox.messages.map((m) => m.data),
      ['s2'],
    );
    const second = new ServerEndpoint({session: 'S', restore: state});
    const out = second.resume(1);
    assert.deepEqual(out.frames, ['{"type":"resumed","ack":1,"maxFrame":1048576}', 'm2:s2']);
    assert.deepEqual(second.receive('m1:c1', 0).events, [{type: 'duplicate', seq: 1}]);
    assert.equal(second.send('s3').frames[0], 'm3:s3');
  });
});

describe('bounds', () => {
  it('refuse the message past maxUnacked, keep all before it, and take more once acknowledged', () => {
    const w = world({client: {maxUnacked: 3}});
    w.connect();
    w.flush();
    for (const text of ['1', '2', '3']) assert.equal(w.clientSend(text).accepted, true);
    assert.deepEqual(w.clientSend('4'), {accepted: false, reason: 'buffer-full', frames: []});
    assert.equal(w.client.queued, 3);
    w.flush();
    w.tick(10);
    w.flush();
    assert.equal(w.client.queued, 0);
    assert.equal(w.clientSend('4').accepted, true);
  });

  it('refuse the message that would cross maxUnackedBytes, counting UTF-8', () => {
    const w = world({server: {maxUnackedBytes: 10}});
    w.connect();
    w.flush();
    assert.equal(w.serverSend('€€€').accepted, true, '9 bytes');
    assert.deepEqual(w.serverSend('ab'), {accepted: false, reason: 'buffer-full', frames: []});
    assert.equal(w.serverSend('a').accepted, true);
  });

  it('hold the buffer at its bound however long the peer fails to acknowledge', () => {
    const server = new ServerEndpoint({session: 'S', maxUnacked: 100});
    server.welcome('T', 1);
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) if (server.send(`flood ${i}`).accepted) accepted++;
    assert.equal(accepted, 100);
    assert.equal(server.queued, 100);
    assert.equal(server.unacknowledged().at(-1).data, 'flood 99');
  });

  it('bound the messages held before the first session too', () => {
    const client = new ClientEndpoint({maxUnacked: 2});
    client.send('1', 0);
    client.request('2', 0);
    assert.equal(client.send('3', 0).reason, 'buffer-full');
    assert.deepEqual(
      client.unacknowledged().map(({seq, kind, data}) => [seq, kind, data]),
      [
        [0, 'message', '1'],
        [0, 'request', '2'],
      ],
    );
  });

  it('refuse a message whose frame would exceed maxFrame, and close on a frame that does with 1009', () => {
    const w = world({server: {maxFrame: 100}});
    w.connect();
    w.flush();
    assert.deepEqual(w.clientSend('x'.repeat(90)), {accepted: false, reason: 'too-big', frames: []});
    assert.equal(w.clientSend('x'.repeat(60)).accepted, true);
    const out = w.server.receive(`m2:${'y'.repeat(100)}`, 0);
    assert.equal(out.events[0].code, 1009);
    assert.match(out.events[0].reason, /frame larger than 100 bytes/);
  });

  it('refuse, when the server announces a smaller maxFrame, what was held before the session and exceeds it', () => {
    const w = world({server: {maxFrame: 100}});
    w.clientSend('x'.repeat(200));
    w.clientSend('fits');
    w.connect();
    w.flush();
    const [refused] = w.events('client', 'refused');
    assert.equal(refused.reason, 'too-big');
    assert.deepEqual(
      refused.messages.map((m) => m.data.length),
      [200],
    );
    assert.deepEqual(w.messages('server'), ['fits']);
  });

  it('leave out, and name, a start message whose frame would exceed the maxFrame the server announced', () => {
    const w = world({server: {maxFrame: 100}, startMessages: () => ['x'.repeat(200), 'subscribe']});
    w.clientSend('after');
    w.connect();
    w.flush();
    assert.deepEqual(
      w.events('client', 'open').map(({started, skipped}) => [started, skipped.map((data) => data.length)]),
      [[1, [200]]],
    );
    assert.deepEqual(w.messages('server'), ['subscribe', 'after']);
  });

  it('keep the outgoing buffer cheap to release in any order of acks', () => {
    const outbox = new Outbox({maxMessages: 5000, maxBytes: Infinity});
    outbox.connected(0);
    for (let i = 1; i <= 3000; i++) outbox.push('message', `${i}`);
    assert.equal(outbox.take().length, 3000);
    assert.equal(outbox.acknowledge(2000), 2000);
    assert.equal(outbox.acknowledge(1500), 0);
    assert.equal(outbox.acknowledge(3001), -1);
    assert.deepEqual(
      outbox.unacknowledged().map((m) => m.seq),
      [...Array(1000).keys()].map((i) => 2001 + i),
    );
    outbox.connected(2500);
    assert.equal(outbox.take()[0].seq, 2501);
    assert.equal(outbox.bytes, 500 * 4);
  });
});
