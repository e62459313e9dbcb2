// The element with the server's half: examples/server (keepAlive from
// ws-connection/server.js, a JSON feed) keeps a quiet connection up with no
// reconnect, and gets its subscriptions back on every connection; a server
// that answers no heartbeat is diagnosed, once on the console.
import {expect} from '@open-wc/testing';
import {executeServerCommand} from '@web/test-runner-commands';
import {Rig, sleep, until} from './support/rig.js';
import {watched} from './support/watched.js';
import {captureWarnings} from './support/warnings.js';

const example = async <T>(op: string, args: object = {}) =>
  (await executeServerCommand('ws-rig', {op, ...args})) as T;

afterEach(() => Rig.stopAll());

describe('with examples/server', () => {
  it('stays open through a quiet period with no reconnect, both ends pinging', async () => {
    // The server pings every 200 ms and lets go of a client silent for 200 ms more.
    const {url} = await example<{url: string}>('startExample', {interval: 200, timeout: 200});
    const w = await watched(url, {json: '', 'heartbeat-interval': '200', timeout: '300'});
    w.el.openMessages = [{type: 'subscribe', topic: 'quiet'}];
    await until(() => w.el.state === 'open', {message: 'open'});
    // Ten heartbeat periods of each side with nothing else on the line.
    await sleep(2500);
    expect(w.states.map((change) => change.state)).to.deep.equal(['connecting', 'open']);
    expect(w.errors).to.deep.equal([]);
    expect(w.messages).to.deep.equal([{type: 'subscribed', topic: 'quiet'}]);
    expect(w.el.latency, 'the server answered the element’s pings').to.be.a('number');
  });

  it('renews the subscriptions of openMessages on every connection', async () => {
    const {id, url} = await example<{id: number; url: string}>('startExample', {every: 100});
    const w = await watched(url, {json: ''});
    w.el.openMessages = [{type: 'subscribe', topic: 'clock'}];
    const updates = () => w.messages.filter((m) => (m as {type: string}).type === 'update').length;
    await until(() => updates() >= 2, {message: 'clock updates'});
    expect(await example('dropExample', {id})).to.equal(1);
    const before = updates();
    await until(() => w.states.filter((change) => change.state === 'open').length === 2, {
      message: 'open again',
    });
    await until(() => updates() >= before + 2, {message: 'clock updates on the new connection'});
    const subscribed = w.messages.filter((m) => (m as {type: string}).type === 'subscribed');
    expect(subscribed).to.deep.equal([
      {type: 'subscribed', topic: 'clock'},
      {type: 'subscribed', topic: 'clock'},
    ]);
  });
});

describe('with a server that answers no heartbeat', () => {
  it('says why the heartbeat gives up, and warns once on the console', async () => {
    const rig = await Rig.start();
    await rig.setPong(false);
    await rig.setEcho(false);
    const console = captureWarnings();
    try {
      const w = await watched(rig.url, {
        'heartbeat-interval': '200',
        timeout: '200',
        'reconnect-delay': '50',
      });
      await until(() => w.errors.filter((e) => e.kind === 'heartbeat-timeout').length >= 2, {
        timeout: 10_000,
        message: 'two heartbeat timeouts',
      });
      for (const error of w.errors.filter((e) => e.kind === 'heartbeat-timeout')) {
        expect(error.message).to.include('no "pong" has arrived on any connection so far');
        expect(error.message).to.include('Make it answer "ping" with "pong" (or with anything)');
        expect(error.message).to.include('heartbeat-interval="0"');
      }
      const diagnoses = console.warnings.filter((warning) => warning.includes('heartbeat-timeout'));
      expect(diagnoses).to.have.length(1);
    } finally {
      console.restore();
    }
  });

  it('does not once the server has answered a ping, though it later stops', async () => {
    const rig = await Rig.start();
    const console = captureWarnings();
    try {
      const w = await watched(rig.url, {
        'heartbeat-interval': '200',
        timeout: '200',
        'reconnect-delay': '50',
      });
      await until(() => w.el.latency !== undefined, {message: 'a pong'});
      await rig.setPong(false);
      await rig.setEcho(false);
      await until(() => w.errors.some((e) => e.kind === 'heartbeat-timeout'), {message: 'heartbeat-timeout'});
      expect(w.errors.find((e) => e.kind === 'heartbeat-timeout')!.message).to.equal(
        'no reply from the server within 200 ms of a ping',
      );
      expect(console.warnings.filter((warning) => warning.includes('heartbeat-timeout'))).to.deep.equal([]);
    } finally {
      console.restore();
    }
  });
});
