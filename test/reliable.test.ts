// `<ws-connection reliable>` against the real `ws` server with `reliable()`,
// in each browser: at each fault (a killed socket, a blackholed link, a
// server restart that loses its memory store, a resume window that passed)
// nothing is lost or repeated in either direction, and every request
// settles. The engine's rules are tested exactly in
// test/client/ws-client.reliable.test.ts.
import {expect, fixture, html as testHtml} from '@open-wc/testing';
import {html, LitElement} from 'lit';
import {RequestError} from '../src/client/index.js';
import {WebSocketController} from '../src/controller.js';
import {Rig, sleep, until} from './support/rig.js';
import {reached, type Watched, watched} from './support/watched.js';

let rig: Rig;

const numbered = (prefix: string, count: number) => Array.from({length: count}, (_, i) => `${prefix}${i}`);

/** What the server's sessions received, as text, in order. */
async function serverGot(): Promise<string[]> {
  const received = (await rig.received()) as unknown as {session: string; data: string}[];
  return received.map((entry) => entry.data);
}

const got = (w: Watched, prefix: string) =>
  w.messages.filter((data): data is string => typeof data === 'string' && data.startsWith(prefix));
const opens = (w: Watched) => w.states.filter((change) => change.state === 'open');

/** Settles to the reply, or to the kind of the error. */
const settled = (promise: Promise<unknown>) =>
  promise.then(
    (reply) => ({reply}),
    (error: RequestError) => ({kind: error.kind}),
  );

let controllerUrl = '';

class ReliableHost extends LitElement {
  readonly socket = new WebSocketController(this, {
    url: controllerUrl,
    reliable: true,
    heartbeatInterval: 300,
  });
  override render() {
    return html`${this.socket.state}`;
  }
}
customElements.define('test-reliable-host', ReliableHost);

describe('reliable against the real server', () => {
  afterEach(async () => {
    for (const el of document.querySelectorAll('ws-connection')) el.close();
    await Rig.stopAll();
  });

  it('opens a new session (resumed: false), delivers both ways and answers a request', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.url, {reliable: ''});
    expect(w.el.reliable).to.equal(true);
    await reached(w, 'open');
    expect(opens(w)[0]!.resumed).to.equal(false);
    w.el.send('a');
    w.el.send('b');
    expect(await w.el.request('q')).to.equal('re:q');
    await until(() => got(w, '').length === 2, {message: 'the echoes'});
    expect(w.messages).to.deep.equal(['a', 'b']);
    expect(await serverGot()).to.deep.equal(['a', 'b']);
    await until(() => w.el.queued === 0, {message: 'everything acknowledged'});
    expect(w.errors).to.deep.equal([]);
  });

  it('a request made in the task that set reliable and inserted the element is sent and answered', async () => {
    rig = await Rig.startReliable();
    const el = document.createElement('ws-connection');
    el.reliable = true;
    el.url = rig.url;
    document.body.append(el);
    const reply = settled(el.request('at once'));
    expect(await reply).to.deep.equal({reply: 're:at once'});
    el.remove();
  });

  it('a killed socket: resumed, nothing lost or repeated either way, and the request in flight answered', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.url, {reliable: ''});
    await reached(w, 'open');
    const sent = numbered('s', 20);
    sent.slice(0, 10).forEach((data) => w.el.send(data));
    const reply = settled(w.el.request('in flight', {timeout: 10_000}));
    await rig.terminateClients();
    sent.slice(10).forEach((data) => w.el.send(data));
    await rig.push(5, 'p');
    await until(() => opens(w).length === 2, {message: 'open again'});
    expect(opens(w)[1]!.resumed).to.equal(true);
    expect(await reply).to.deep.equal({reply: 're:in flight'});
    await until(
      async () => (await serverGot()).length >= 20 && got(w, 's').length >= 20 && got(w, 'p').length >= 5,
      {
        message: 'everything across',
      },
    );
    await sleep(100);
    expect(await serverGot(), 'the server got each message once, in order').to.deep.equal(sent);
    expect(got(w, 's'), 'each echo once, in order').to.deep.equal(sent);
    expect(got(w, 'p'), 'what the server sent while the client was away, once').to.deep.equal(
      numbered('p', 5),
    );
    expect(w.errors.map((error) => error.kind)).not.to.include('session-lost');
  });

  it('a blackholed link: declared dead, resumed after heal, nothing lost or repeated, the request answered', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.proxyUrl, {reliable: ''});
    await reached(w, 'open');
    await sleep(50);
    await rig.blackhole();
    const sent = numbered('b', 10);
    sent.forEach((data) => w.el.send(data));
    const reply = settled(w.el.request('held', {timeout: 15_000}));
    await rig.push(3, 'p');
    await until(() => w.errors.some((error) => error.kind === 'heartbeat-timeout'), {
      message: 'heartbeat-timeout',
    });
    await rig.heal();
    await until(() => opens(w).length === 2, {timeout: 10_000, message: 'open again'});
    expect(opens(w)[1]!.resumed).to.equal(true);
    expect(await reply).to.deep.equal({reply: 're:held'});
    await until(
      async () => (await serverGot()).length >= 10 && got(w, 'b').length >= 10 && got(w, 'p').length >= 3,
      {
        message: 'everything across',
      },
    );
    await sleep(100);
    expect(await serverGot()).to.deep.equal(sent);
    expect(got(w, 'b')).to.deep.equal(sent);
    expect(got(w, 'p')).to.deep.equal(numbered('p', 3));
  });

  it('a restart that loses the memory store: session-lost with exactly the messages it may not have, the request rejected', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.url, {reliable: ''});
    await reached(w, 'open');
    w.el.send('delivered');
    await until(() => w.el.queued === 0, {message: 'acknowledged'});
    await rig.setAnswer(false);
    const reply = settled(w.el.request('never answered', {timeout: 15_000}));
    await until(() => w.el.queued === 0, {message: 'the request acknowledged'});
    await rig.kill();
    await until(() => w.el.state !== 'open', {message: 'the close'});
    w.el.send('x');
    w.el.send('y');
    await rig.revive();
    await until(() => w.errors.some((error) => error.kind === 'session-lost'), {message: 'session-lost'});
    const lost = w.errors.filter((error) => error.kind === 'session-lost');
    expect(lost).to.have.length(1);
    expect(lost[0]!.data).to.deep.equal(['x', 'y']);
    expect(await reply).to.deep.equal({kind: 'session-lost'});
    await reached(w, 'open');
    expect(opens(w).map((change) => change.resumed)).to.deep.equal([false, false]);
    w.el.send('after');
    await until(async () => (await serverGot()).includes('after'), {message: 'the new session'});
    expect(await serverGot()).to.deep.equal(['delivered', 'after']);
  });

  it('a resume window that passed: session-lost with what was sent while away, then a new session', async () => {
    rig = await Rig.startReliable({resumeWindow: 200});
    const w = await watched(rig.url, {reliable: ''});
    await reached(w, 'open');
    w.el.send('kept');
    await until(() => w.el.queued === 0, {message: 'acknowledged'});
    const parent = w.el.parentNode!;
    w.el.remove();
    await sleep(20);
    w.el.send('while away');
    await sleep(600);
    parent.appendChild(w.el);
    await until(() => w.errors.some((error) => error.kind === 'session-lost'), {message: 'session-lost'});
    expect(w.errors.find((error) => error.kind === 'session-lost')!.data).to.deep.equal(['while away']);
    await reached(w, 'open');
    expect(opens(w).map((change) => change.resumed)).to.deep.equal([false, false]);
    expect(await serverGot()).to.deep.equal(['kept']);
  });

  it('a server that does not speak it: one reliable-refused, and a plain connection that works', async () => {
    // The plain rig selects the first subprotocol offered, as ws does by default: the application's.
    rig = await Rig.start();
    const w = await watched(rig.url, {reliable: '', protocols: 'chat'});
    await reached(w, 'open');
    expect((await rig.connections())[0]).to.deep.include({
      protocols: ['chat', 'ws-connection.reliable.v1'],
      protocol: 'chat',
    });
    expect(w.errors.map((error) => error.kind)).to.deep.equal(['reliable-refused']);
    w.el.send('plain');
    await until(() => w.messages.includes('plain'), {message: 'the echo'});
    const error = await w.el.request('q').catch((reason: RequestError) => reason);
    expect((error as RequestError).kind).to.equal('closed');
  });

  it('close() ends the session for good and rejects a waiting request with closed', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.url, {reliable: ''});
    await reached(w, 'open');
    await rig.setAnswer(false);
    const reply = settled(w.el.request('q'));
    w.el.close();
    expect(await reply).to.deep.equal({kind: 'closed'});
    w.el.connect();
    await until(() => opens(w).length === 2, {message: 'open again'});
    expect(opens(w)[1]!.resumed, 'a new session').to.equal(false);
    expect((await rig.status()) as unknown as {sessions: number}).to.include({sessions: 2});
  });

  it('the controller takes the reliable option and answers request()', async () => {
    rig = await Rig.startReliable();
    controllerUrl = rig.url;
    const el = await fixture<ReliableHost>(testHtml`<test-reliable-host></test-reliable-host>`);
    await until(() => el.socket.state === 'open', {message: 'open'});
    expect(await el.socket.request('q')).to.equal('re:q');
    el.socket.send('via the controller');
    await until(async () => (await serverGot()).length === 1, {message: 'the message'});
    expect(await serverGot()).to.deep.equal(['via the controller']);
    el.socket.close();
  });

  it('shared and reliable: the holder’s socket resumes, says resumed, sends open messages once, and request() rejects with closed', async () => {
    rig = await Rig.startReliable();
    const w = await watched(rig.url, {reliable: '', shared: `reliable ${Math.random()}`}, {connect: false});
    w.el.openMessages = ['subscribe'];
    w.el.connect();
    await reached(w, 'open');
    expect(opens(w)[0]!.resumed).to.equal(false);
    w.el.send('before');
    await until(async () => (await serverGot()).length === 2, {message: 'the message'});
    await rig.terminateClients();
    await until(() => opens(w).length === 2, {message: 'open again'});
    expect(opens(w)[1]!.resumed).to.equal(true);
    w.el.send('after');
    await until(async () => (await serverGot()).length >= 3, {message: 'the message after'});
    await sleep(100);
    expect(await serverGot(), 'the open messages once: the resumed session has them').to.deep.equal([
      'subscribe',
      'before',
      'after',
    ]);
    const error = await w.el.request('q').catch((reason: RequestError) => reason);
    expect((error as RequestError).kind).to.equal('closed');
  });
});
