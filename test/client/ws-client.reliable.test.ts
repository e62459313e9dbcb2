// `reliable` in the engine, exactly, under a fake clock and socket, against
// a server made of the protocol's own ServerEndpoint: the handshake, acks,
// resume and replay, session loss, requests, malformed frames and the
// heartbeat's p/o frames. The same paths run against the real server in
// test/reliable.test.ts.
import {expect} from '@open-wc/testing';
import {
  type ErrorDetail,
  RequestError,
  type StateChange,
  WsClient,
  type WsClientOptions,
} from '../../src/client/index.js';
import {loadLink} from '../../src/client/reliable-loader.js';
import {
  type Payload,
  readFirstFrame,
  ServerEndpoint,
  SUBPROTOCOL,
  type Wire,
} from '../../src/protocol/index.js';
import {fakeWorld, type FakeSocket, type FakeWorld} from '../support/fake-environment.js';

/** A reliable server in memory, made of ServerEndpoints; it reads what a socket was sent when told to. */
class FakeServer {
  readonly received: Payload[] = [];
  /** Requests get `re:` and their text back, unless this says otherwise. */
  answer: (data: Payload) => {reply: Payload} | {error: string} | undefined = (data) => ({
    reply: `re:${data}`,
  });
  readonly #sessions = new Map<string, {endpoint: ServerEndpoint; token: string}>();
  readonly #bound = new Map<FakeSocket, ServerEndpoint>();
  readonly #sessionOf = new Map<FakeSocket, ServerEndpoint>();
  readonly #read = new Map<FakeSocket, number>();
  #made = 0;

  constructor(readonly world: FakeWorld) {}

  /** Accepts the last socket, selecting the subprotocol, and answers its handshake. */
  accept(socket = this.world.sockets.last): FakeSocket {
    socket.open(SUBPROTOCOL);
    this.pump(socket);
    return socket;
  }

  /** Reads every frame the client wrote on `socket` since the last time. */
  pump(socket = this.world.sockets.last): void {
    for (
      let index = this.#read.get(socket) ?? 0;
      index < socket.sent.length;
      index = this.#read.get(socket)!
    ) {
      this.#read.set(socket, index + 1);
      this.#frame(socket, socket.sent[index] as Wire);
    }
  }

  /** The application sends to the session that is or was on `socket` (held while it has no connection). */
  send(data: Payload, socket = this.world.sockets.last): void {
    const endpoint = this.#sessionOf.get(socket);
    if (!endpoint) throw new Error('no session was on that socket');
    this.#write(socket, endpoint.send(data).frames);
  }

  /** The server's ack timer fires. */
  ack(socket = this.world.sockets.last): void {
    this.#write(socket, this.#endpoint(socket).tick(this.world.clock.now + 1000).frames);
  }

  /** The connection went, from the server's side. */
  drop(socket = this.world.sockets.last): void {
    this.#bound.get(socket)?.disconnected();
    this.#bound.delete(socket);
    socket.serverClose(1006);
  }

  /** A restart with the memory store: every session is forgotten. */
  forget(): void {
    this.#sessions.clear();
  }

  write(socket: FakeSocket, frame: Wire): void {
    socket.receive(typeof frame === 'string' ? frame : frame.slice().buffer);
  }

  #endpoint(socket: FakeSocket): ServerEndpoint {
    const endpoint = this.#bound.get(socket);
    if (!endpoint) throw new Error('no session on that socket');
    return endpoint;
  }

  #write(socket: FakeSocket, frames: readonly Wire[]): void {
    if (socket.readyState !== 1) return;
    for (const frame of frames) this.write(socket, frame);
  }

  #frame(socket: FakeSocket, raw: Wire): void {
    const now = this.world.clock.now;
    const bound = this.#bound.get(socket);
    if (!bound) {
      const first = readFirstFrame(raw);
      if (!first.ok) throw new Error(`bad first frame: ${first.reason}`);
      const {frame} = first;
      if (frame.type === 'ping') return this.#write(socket, ['o']);
      const known = frame.type === 'resume' ? this.#sessions.get(frame.session) : undefined;
      if (frame.type === 'resume' && known && known.token === frame.token) {
        this.#bound.set(socket, known.endpoint);
        this.#sessionOf.set(socket, known.endpoint);
        return this.#write(socket, known.endpoint.resume(frame.ack).frames);
      }
      const id = `s${++this.#made}`;
      const token = `t${this.#made}`;
      const endpoint = new ServerEndpoint({session: id});
      this.#sessions.set(id, {endpoint, token});
      this.#bound.set(socket, endpoint);
      this.#sessionOf.set(socket, endpoint);
      return this.#write(socket, endpoint.welcome(token, 120_000, frame.type === 'resume').frames);
    }
    const {frames, events} = bound.receive(raw, now);
    this.#write(socket, frames);
    for (const event of events) {
      if (event.type === 'message') this.received.push(event.data);
      if (event.type === 'request') {
        const answer = this.answer(event.data);
        if (answer && 'reply' in answer) this.#write(socket, bound.reply(event.id, answer.reply).frames);
        if (answer && 'error' in answer) this.#write(socket, bound.replyError(event.id, answer.error).frames);
      }
    }
  }
}

interface Harness {
  world: FakeWorld;
  server: FakeServer;
  client: WsClient;
  states: StateChange[];
  errors: ErrorDetail[];
  messages: unknown[];
}

function setup(options: Partial<WsClientOptions> = {}, world = fakeWorld()): Harness {
  const client = new WsClient(
    {url: 'wss://server.example/ws', heartbeatInterval: 1000, timeout: 500, reliable: true, ...options},
    world.environment,
  );
  const h: Harness = {world, server: new FakeServer(world), client, states: [], errors: [], messages: []};
  client.on('state', (change) => h.states.push(change));
  client.on('error', (error) => h.errors.push(error));
  client.on('message', ({data}) => h.messages.push(data));
  return h;
}

/** Connects, and the server accepts and answers the handshake. */
function opened(options: Partial<WsClientOptions> = {}, world?: FakeWorld): Harness {
  const h = setup(options, world);
  h.client.connect();
  h.server.accept();
  return h;
}

/** The socket closes under the client; the retry happens and the server accepts it. */
function reconnect(h: Harness): FakeSocket {
  h.server.drop();
  h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
  return h.server.accept();
}

const kinds = (h: Harness) => h.errors.map((error) => error.kind);
const opens = (h: Harness) => h.states.filter((change) => change.state === 'open');
/** Frames the client wrote on a socket, as text (binary frames shown by their kind). */
const written = (socket: FakeSocket) =>
  socket.sent.map((frame) =>
    typeof frame === 'string' ? frame : `binary ${String.fromCharCode((frame as Uint8Array)[0]!)}`,
  );

async function rejection(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (error) {
    return error as RequestError;
  }
  throw new Error('the request did not reject');
}

before(() => loadLink());

describe('WsClient reliable: negotiation and sessions', () => {
  it('offers the subprotocol after the application’s own and opens only once the session is answered', () => {
    const h = setup({protocols: 'chat v2'});
    h.client.connect();
    const socket = h.world.sockets.last;
    expect(socket.protocols).to.deep.equal(['chat', 'v2', SUBPROTOCOL]);
    socket.open(SUBPROTOCOL);
    expect(written(socket)).to.deep.equal(['{"type":"hello"}']);
    expect(h.client.state, 'still connecting during the handshake').to.equal('connecting');
    h.server.pump();
    expect(h.client.state).to.equal('open');
    expect(opens(h)[0]).to.include({resumed: false});
  });

  it('without the option offers nothing more and request() rejects at once with kind closed', async () => {
    const h = setup({reliable: false, protocols: 'chat'});
    h.client.connect();
    expect(h.world.sockets.last.protocols).to.deep.equal(['chat']);
    const error = await rejection(h.client.request('x'));
    expect(error).to.be.instanceOf(RequestError);
    expect(error.kind).to.equal('closed');
    expect(error.message).to.match(/reliable/);
  });

  it('reports reliable-refused once when the server does not select it, and works as a plain connection', () => {
    const h = setup({openMessages: ['sub']});
    h.client.send('early');
    h.client.connect();
    h.world.sockets.last.open('');
    expect(h.client.state).to.equal('open');
    expect(kinds(h)).to.deep.equal(['reliable-refused']);
    expect(h.world.sockets.last.sent, 'plain: open messages, then what waited').to.deep.equal([
      'sub',
      'early',
    ]);
    h.client.send('now');
    expect(h.world.sockets.last.sent.at(-1)).to.equal('now');
    h.world.sockets.last.serverClose(1006);
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.world.sockets.last.open('');
    expect(kinds(h), 'once, not per reconnect').to.deep.equal(['reliable-refused']);
  });

  it('resumes the session on a new connection, saying resumed: true, and sends open messages only at the start', () => {
    const h = opened({openMessages: ['subscribe']});
    expect(h.server.received).to.deep.equal(['subscribe']);
    const socket = reconnect(h);
    expect(written(socket)[0]).to.match(/^\{"type":"resume","session":"s1","token":"t1","ack":0\}$/);
    expect(opens(h).map((change) => change.resumed)).to.deep.equal([false, true]);
    expect(h.server.received, 'no open messages on a resume').to.deep.equal(['subscribe']);
  });

  it('counts a message in queued until the server acknowledges it, and the queue limit bounds what is accepted', () => {
    const h = opened({queueLimit: 2});
    expect(h.client.send('a')).to.equal(true);
    expect(h.client.send('b')).to.equal(true);
    expect(h.client.queued, 'sent but not acknowledged').to.equal(2);
    expect(h.client.send('c')).to.equal(false);
    expect(kinds(h)).to.deep.equal(['queue-overflow']);
    h.server.pump();
    expect(h.client.queued).to.equal(2);
    h.server.ack();
    expect(h.client.queued).to.equal(0);
    expect(h.client.send('c')).to.equal(true);
  });

  it('replays what the server did not acknowledge after a reconnect, and the server gets each message once', () => {
    const h = opened();
    h.client.send('one');
    h.server.pump();
    h.server.ack();
    h.client.send('two');
    h.client.send('three');
    // Written, then the connection dies before the server read them.
    h.world.sockets.last.serverClose(1006);
    h.client.send('four');
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    h.server.pump();
    expect(h.server.received).to.deep.equal(['one', 'two', 'three', 'four']);
  });

  it('delivers what the server sent while the client was away exactly once, in order, after the resume', () => {
    const h = opened();
    h.server.send('a');
    h.server.send('b');
    expect(h.messages).to.deep.equal(['a', 'b']);
    h.server.drop();
    h.server.send('c');
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    expect(h.messages, 'c replayed; a and b not again').to.deep.equal(['a', 'b', 'c']);
  });

  it('drops a replayed frame it had already delivered (the high-water mark)', () => {
    const h = opened();
    h.server.send('a');
    h.server.write(h.world.sockets.last, 'm1:a');
    expect(h.messages).to.deep.equal(['a']);
    expect(h.errors).to.deep.equal([]);
  });

  it('reports session-lost with the messages the server may not have, in order, when the server forgot the session', () => {
    const h = opened({openMessages: ['subscribe']});
    h.client.send('acked');
    h.server.pump();
    h.server.ack();
    h.client.send('x');
    h.client.send('y');
    h.server.drop();
    h.client.send('z');
    h.server.forget();
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    const lost = h.errors.filter((error) => error.kind === 'session-lost');
    expect(lost).to.have.length(1);
    expect(lost[0]!.data).to.deep.equal(['x', 'y', 'z']);
    expect(opens(h).map((change) => change.resumed)).to.deep.equal([false, false]);
    h.server.pump();
    expect(
      h.server.received.slice(-1),
      'the new session gets its open messages, not the lost ones',
    ).to.deep.equal(['subscribe']);
    expect(h.client.queued).to.equal(1);
  });

  it('keeps json messages as the application gave them for session-lost', () => {
    const h = opened({json: true});
    const message = {n: 1};
    h.client.send(message);
    h.server.drop();
    h.server.forget();
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    expect(h.errors.find((error) => error.kind === 'session-lost')!.data).to.deep.equal([message]);
    expect((h.errors.find((error) => error.kind === 'session-lost')!.data as unknown[])[0]).to.equal(message);
  });

  it('sends binary messages and gives binary ones back as binaryType says', () => {
    const h = opened({binaryType: 'arraybuffer'});
    h.client.send(new Uint8Array([1, 2, 3]));
    h.server.pump();
    expect([...(h.server.received[0] as Uint8Array)]).to.deep.equal([1, 2, 3]);
    h.server.send(new Uint8Array([4, 5]));
    expect([...new Uint8Array(h.messages[0] as ArrayBuffer)]).to.deep.equal([4, 5]);
  });

  it('close() ends the session with an end frame, and reports what was not acknowledged as queue-discarded', () => {
    const h = opened();
    h.client.send('kept');
    const socket = h.world.sockets.last;
    h.client.close();
    expect(socket.sent.at(-1)).to.equal('{"type":"end"}');
    expect(socket.closedWith).to.deep.equal({code: 1000, reason: ''});
    const discarded = h.errors.filter((error) => error.kind === 'queue-discarded');
    expect(discarded.map((error) => error.data)).to.deep.equal([['kept']]);
    expect(discarded[0]!.message).to.equal('1 queued messages were not sent, or not acknowledged');
    h.client.connect();
    h.server.accept();
    expect(written(h.world.sockets.last)[0], 'a new session after close()').to.equal('{"type":"hello"}');
  });
});

describe('WsClient reliable: requests', () => {
  it('resolves with the reply, parsed with json', async () => {
    const h = opened({json: true});
    h.server.answer = (data) => ({reply: JSON.stringify({echo: JSON.parse(data as string)})});
    const reply = h.client.request({get: 'me'});
    h.server.pump();
    expect(await reply).to.deep.equal({echo: {get: 'me'}});
  });

  it('rejects with kind error-reply when the server answers with an error', async () => {
    const h = opened();
    h.server.answer = () => ({error: 'not allowed'});
    const reply = h.client.request('x');
    h.server.pump();
    const error = await rejection(reply);
    expect([error.kind, error.message]).to.deep.equal(['error-reply', 'not allowed']);
  });

  it('rejects with request-timeout when no reply comes in time, and drops a late reply', async () => {
    const h = opened({heartbeatInterval: 0});
    h.server.answer = () => undefined;
    const reply = h.client.request('x', {timeout: 200});
    h.world.clock.advance(200);
    expect((await rejection(reply)).kind).to.equal('request-timeout');
    h.server.write(h.world.sockets.last, 'r1:1:late');
    expect(h.errors).to.deep.equal([]);
    expect(h.client.state).to.equal('open');
  });

  it('a request made before the open is sent after it, in order with messages, and resolves', async () => {
    const h = setup();
    h.client.send('before');
    const reply = h.client.request('q');
    h.client.send('after');
    h.client.connect();
    h.server.accept();
    h.server.pump();
    expect(h.server.received).to.deep.equal(['before', 'after']);
    expect(await reply).to.equal('re:q');
  });

  it('a request survives a reconnect: replayed once, answered once', async () => {
    const h = opened();
    const reply = h.client.request('q', {timeout: 10_000});
    h.server.drop();
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    h.server.pump();
    expect(await reply).to.equal('re:q');
  });

  it('never throws on bad options: a timeout that is not a number of ms rejects with send-failed', async () => {
    const h = opened();
    for (const options of [{timeout: 'soon'}, {timeout: -1}, {timeout: 2 ** 31}]) {
      let request: Promise<unknown> | undefined;
      expect(() => (request = h.client.request('x', options as never))).not.to.throw();
      expect((await rejection(request!)).kind).to.equal('send-failed');
    }
    let answered: Promise<unknown> | undefined;
    expect(() => (answered = h.client.request('x', null as never))).not.to.throw();
    h.server.pump();
    expect(await answered).to.equal('re:x');
  });

  it('rejects with closed on close()', async () => {
    const h = opened();
    h.server.answer = () => undefined;
    const reply = h.client.request('q');
    h.client.close();
    expect((await rejection(reply)).kind).to.equal('closed');
    expect((await rejection(h.client.request('again'))).kind).to.equal('closed');
  });

  it('rejects a request still waiting to be sent with closed on close()', async () => {
    const h = setup();
    const reply = h.client.request('q');
    h.client.close();
    expect((await rejection(reply)).kind).to.equal('closed');
  });

  it('rejects with session-lost when the server lost the session', async () => {
    const h = opened();
    h.server.answer = () => undefined;
    const sent = h.client.request('q1', {timeout: 10_000});
    h.server.pump();
    h.server.ack();
    const unsent = h.client.request('q2', {timeout: 10_000});
    h.server.drop();
    h.server.forget();
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    expect((await rejection(sent)).kind).to.equal('session-lost');
    expect((await rejection(unsent)).kind).to.equal('session-lost');
  });

  it('rejects on a plain connection with closed, saying the server did not select the subprotocol', async () => {
    const h = setup();
    h.client.connect();
    h.world.sockets.last.open('');
    const error = await rejection(h.client.request('q'));
    expect(error.kind).to.equal('closed');
    expect(error.message).to.include(SUBPROTOCOL);
  });
});

describe('WsClient reliable: malformed frames and the heartbeat', () => {
  it('a malformed frame: a parse-error, close 1002, and the resume loses nothing either way', () => {
    const h = opened();
    h.client.send('one');
    h.server.send('a');
    const socket = h.world.sockets.last;
    h.server.write(socket, 'm9:gap');
    const error = h.errors.find((detail) => detail.kind === 'parse-error');
    expect(error?.message).to.match(/delivery protocol .*gap/);
    expect(error?.data).to.equal('m9:gap');
    expect(socket.closedWith?.code).to.equal(1002);
    expect(h.client.state).to.equal('reconnecting');
    h.server.drop(socket);
    h.server.send('b', socket);
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    h.server.pump();
    expect(h.server.received).to.deep.equal(['one']);
    expect(h.messages).to.deep.equal(['a', 'b']);
    expect(opens(h).at(-1)!.resumed).to.equal(true);
  });

  for (const frame of ['', 'z', 'mx:1', '{"type":"session"}', 'q1:1:x', 'a99']) {
    it(`never throws on ${JSON.stringify(frame)}: it closes with 1002 and reconnects`, () => {
      const h = opened();
      const socket = h.world.sockets.last;
      expect(() => h.server.write(socket, frame)).not.to.throw();
      expect(socket.closedWith?.code).to.equal(1002);
      expect(kinds(h)).to.deep.equal(['parse-error']);
      expect(h.client.state).to.equal('reconnecting');
    });
  }

  it('a binary frame it cannot read at once (a Blob, from a socket that ignored binaryType): closed, never thrown', () => {
    const h = opened();
    const socket = h.world.sockets.last;
    expect(() => socket.receive(new Blob(['m1:x']))).not.to.throw();
    expect(socket.closedWith?.code).to.equal(1003);
    expect(kinds(h)).to.deep.equal(['parse-error']);
  });

  it('a frame over the largest it accepts: closed with 1009, and it reconnects', () => {
    const h = opened();
    const socket = h.world.sockets.last;
    h.server.write(socket, `m1:${'x'.repeat(1 << 20)}`);
    expect(socket.closedWith?.code).to.equal(1009);
    expect(kinds(h)).to.deep.equal(['parse-error']);
    expect(h.client.state).to.equal('reconnecting');
  });

  it('pings with the protocol’s p frame, takes the o frame as the reply, and never sends the ping text', () => {
    const h = opened({heartbeatInterval: 1000, timeout: 500});
    const socket = h.world.sockets.last;
    h.world.clock.advance(1000);
    expect(written(socket).at(-1)).to.equal('p');
    h.world.clock.advance(100);
    h.server.pump();
    expect(h.client.latency).to.equal(100);
    expect(socket.sent).not.to.include('ping');
    expect(h.client.state).to.equal('open');
  });

  it('declares a silent link dead within interval + timeout, as without reliable, and resumes after', () => {
    const h = opened({heartbeatInterval: 1000, timeout: 500});
    h.client.send('in flight');
    h.world.clock.advance(1000 + 500 + 1);
    expect(kinds(h)).to.include('heartbeat-timeout');
    expect(h.client.state).to.equal('reconnecting');
    h.world.clock.advance(h.client.nextRetryAt! - h.world.clock.epochStart - h.world.clock.now);
    h.server.accept();
    h.server.pump();
    expect(h.server.received).to.deep.equal(['in flight']);
  });

  it('acknowledges what it received within the ack delay', () => {
    const h = opened({heartbeatInterval: 0});
    const socket = h.world.sockets.last;
    h.server.send('a');
    h.server.send('b');
    expect(written(socket).slice(1)).to.deep.equal([]);
    h.world.clock.advance(10);
    expect(written(socket).slice(1)).to.deep.equal(['a2']);
  });

  it('sets its ack timer once for a run of messages, not once for each, and again after each ack and reconnect', () => {
    const world = fakeWorld();
    const {setTimeout} = world.environment;
    let timers = 0;
    world.environment.setTimeout = (callback, ms) => (timers++, setTimeout(callback, ms));
    const h = opened({heartbeatInterval: 0}, world);
    timers = 0;
    for (let i = 0; i < 20; i++) h.server.send(`m${i}`);
    expect(timers, 'one timer for 20 messages').to.equal(1);
    h.world.clock.advance(10);
    expect(written(h.world.sockets.last).slice(1)).to.deep.equal(['a20']);
    h.server.send('after the ack');
    h.world.clock.advance(10);
    expect(written(h.world.sockets.last).slice(1)).to.deep.equal(['a20', 'a21']);
    // Dropped and back (on `online`) within the same ms: the new connection's deadline is the old timer's.
    h.server.send('before the drop');
    h.server.drop();
    h.world.signal('online');
    const socket = h.server.accept();
    h.server.send('on the new connection');
    h.world.clock.advance(10);
    expect(written(socket).slice(1), 'acknowledged on the new connection').to.deep.equal(['a23']);
    expect(h.messages).to.have.length(23);
  });

  it('sets its ack timer again when it fired before the ack was due (as Node’s timers may, by up to a ms)', () => {
    const world = fakeWorld();
    const {setTimeout} = world.environment;
    let early = false;
    world.environment.setTimeout = (callback, ms) =>
      setTimeout(callback, early ? ((early = false), ms - 1) : ms);
    const h = opened({heartbeatInterval: 0}, world);
    early = true;
    h.server.send('a');
    h.world.clock.advance(9);
    expect(written(h.world.sockets.last).slice(1), 'not due yet').to.deep.equal([]);
    h.world.clock.advance(1);
    expect(written(h.world.sockets.last).slice(1)).to.deep.equal(['a1']);
  });

  it('never leaves a socket behind when reliable is turned off: what the session held goes plain', () => {
    const h = opened();
    h.client.send('held');
    h.client.configure({reliable: false});
    expect(h.world.sockets.all.length).to.equal(2);
    h.world.sockets.last.open();
    expect(h.world.sockets.last.sent).to.deep.equal(['held']);
  });
});
