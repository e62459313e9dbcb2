// The rig's own tests: each control does what it says, seen from a raw
// browser WebSocket, so later tests can trust it.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from './rig.js';

interface Probe {
  socket: WebSocket;
  messages: string[];
  closed: Promise<CloseEvent>;
  opened: Promise<boolean>;
}

function open(url: string): Probe {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  socket.addEventListener('message', (event) => messages.push(String(event.data)));
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener('close', resolve));
  const opened = new Promise<boolean>((resolve) => {
    socket.addEventListener('open', () => resolve(true));
    socket.addEventListener('close', () => resolve(false));
  });
  return {socket, messages, closed, opened};
}

describe('server rig', () => {
  let rig: Rig;
  const probes: Probe[] = [];
  const connect = async (url = rig.url) => {
    const probe = open(url);
    probes.push(probe);
    expect(await probe.opened, `open ${url}`).to.equal(true);
    return probe;
  };

  beforeEach(async () => {
    rig = await Rig.start();
  });

  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.socket.close();
    await Rig.stopAll();
  });

  it('gives each test its own server on its own port', async () => {
    const other = await Rig.start();
    expect(other.port).to.not.equal(rig.port);
    await connect(other.url);
    await until(async () => (await other.status()).open === 1);
    expect((await rig.status()).open).to.equal(0);
  });

  it('echoes messages and answers ping with pong', async () => {
    const probe = await connect();
    probe.socket.send('hello');
    probe.socket.send('ping');
    await until(() => probe.messages.length === 2);
    expect(probe.messages).to.deep.equal(['hello', 'pong']);
  });

  it('stays silent to pings when muted, and to everything with echo off', async () => {
    const probe = await connect();
    await rig.setPong(false);
    probe.socket.send('ping');
    probe.socket.send('still echoed');
    await until(() => probe.messages.length === 1);
    await rig.setEcho(false);
    probe.socket.send('ping');
    probe.socket.send('not echoed');
    await until(async () => (await rig.status()).received === 4);
    await sleep(200);
    expect(probe.messages).to.deep.equal(['still echoed']);
  });

  it('pushes N messages in order', async () => {
    const probe = await connect();
    expect(await rig.push(500, 'n')).to.equal(1);
    await until(() => probe.messages.length === 500);
    expect(probe.messages[0]).to.equal('n0');
    expect(probe.messages[499]).to.equal('n499');
    expect(probe.messages.every((message, i) => message === `n${i}`)).to.equal(true);
  });

  it('sends text and binary frames', async () => {
    const probe = await connect();
    probe.socket.binaryType = 'arraybuffer';
    const frames: unknown[] = [];
    probe.socket.addEventListener('message', (event) => frames.push(event.data));
    await rig.send('text');
    await rig.send('bin', true);
    await until(() => frames.length === 2);
    expect(frames[0]).to.equal('text');
    expect(frames[1]).to.be.instanceOf(ArrayBuffer);
    expect(new TextDecoder().decode(frames[1] as ArrayBuffer)).to.equal('bin');
  });

  it('closes clients with a code and a reason', async () => {
    const probe = await connect();
    expect(await rig.closeClients(4001, 'going away — ünïcode')).to.equal(1);
    const event = await probe.closed;
    expect(event.code).to.equal(4001);
    expect(event.reason).to.equal('going away — ünïcode');
    expect(event.wasClean).to.equal(true);
  });

  it('terminates clients without a close frame (1006)', async () => {
    const probe = await connect();
    expect(await rig.terminateClients()).to.equal(1);
    const event = await probe.closed;
    expect(event.code).to.equal(1006);
    expect(event.wasClean).to.equal(false);
  });

  it('flaps: accepts each connection and drops it at once', async () => {
    await rig.setFlap(true);
    const probe = open(rig.url);
    probes.push(probe);
    const event = await probe.closed;
    expect(event.code).to.equal(1006);
    expect(await rig.status()).to.include({accepted: 1, open: 0});
    await rig.setFlap(false);
    await connect();
    expect(await rig.status()).to.include({accepted: 2, open: 1});
  });

  it('puts nginx in front, which forwards and cuts a connection idle for 2 s', async () => {
    const url = await rig.startNginx();
    expect(url).to.not.equal(rig.url);
    const probe = await connect(url);
    probe.socket.send('through nginx');
    await until(() => probe.messages.includes('through nginx'), {message: 'the echo'});
    const openedAt = performance.now();
    const event = await probe.closed;
    expect(performance.now() - openedAt).to.be.within(1500, 4000);
    expect(event.wasClean).to.equal(false);
  });

  it('records what it received and counts connections', async () => {
    const a = await connect();
    const b = await connect();
    a.socket.send('from a');
    b.socket.send(new Uint8Array([1, 2, 3]));
    await until(async () => (await rig.status()).received === 2);
    const received = await rig.received();
    expect(received).to.have.length(2);
    expect(received).to.deep.include('from a');
    expect(received).to.deep.include({binary: 3});
    expect(await rig.status()).to.include({open: 2, accepted: 2, peak: 2});
    a.socket.close();
    await a.closed;
    await until(async () => (await rig.status()).open === 1);
    expect((await rig.takeReceived()).length).to.equal(2);
    expect(await rig.received()).to.deep.equal([]);
  });

  it('records the subprotocols each connection offered and the one it chose, and when', async () => {
    const started = Date.now();
    const probe = open(`${rig.url}/feed?n=1`);
    const plain = open(rig.url);
    probes.push(probe, plain);
    await probe.opened;
    await plain.opened;
    // Reproduced here rather than in open(): protocols are a constructor argument.
    const offered = new WebSocket(rig.url, ['chat.v2', 'chat.v1']);
    await new Promise((resolve) => offered.addEventListener('open', resolve));
    expect(offered.protocol).to.equal('chat.v2');
    offered.close();
    const connections = await rig.connections();
    expect(connections.map((c) => c.path).sort()).to.deep.equal(['/', '/', '/feed?n=1']);
    const {at, ...chosen} = connections.find((c) => c.protocols.length)!;
    expect(chosen).to.deep.equal({protocols: ['chat.v2', 'chat.v1'], protocol: 'chat.v2', path: '/'});
    // Accepted in this test, on the server's clock (same machine).
    expect(at).to.be.within(started - 1000, Date.now() + 1000);
  });

  it('kills and revives on the same port', async () => {
    const probe = await connect();
    await rig.kill();
    expect((await probe.closed).code).to.equal(1006);
    expect((await rig.status()).listening).to.equal(false);
    const refused = open(rig.url);
    expect(await refused.opened).to.equal(false);
    await rig.revive();
    await connect();
    expect((await rig.status()).open).to.equal(1);
  });

  it('restarts on the same port after N ms', async () => {
    const probe = await connect();
    const started = performance.now();
    // Long enough that Firefox, which holds back a connect to a host that
    // just failed, still dials while the server is down.
    await rig.restart(2000);
    expect((await probe.closed).code).to.equal(1006);
    expect(await open(rig.url).opened, 'refused while down').to.equal(false);
    await until(async () => (await rig.status()).listening, {message: 'revived'});
    expect(performance.now() - started).to.be.at.least(1900);
    const again = await connect();
    again.socket.send('back');
    await until(() => again.messages.length === 1);
    expect(again.messages).to.deep.equal(['back']);
  });

  it('blackholes both directions without closing either socket, and heals', async () => {
    const probe = await connect(rig.proxyUrl);
    probe.socket.send('before');
    await until(() => probe.messages.length === 1);

    await rig.blackhole();
    probe.socket.send('during');
    await rig.push(3, 'pushed');
    let closed = false;
    void probe.closed.then(() => (closed = true));
    await sleep(600);
    expect(probe.messages, 'nothing reaches the browser').to.deep.equal(['before']);
    expect(await rig.received(), 'nothing reaches the server').to.deep.equal(['before']);
    expect(closed, 'browser socket stays open').to.equal(false);
    expect(probe.socket.readyState).to.equal(WebSocket.OPEN);
    expect((await rig.status()).open, 'server socket stays open').to.equal(1);

    const late = open(rig.proxyUrl);
    probes.push(late);
    let lateOpened = false;
    void late.opened.then((opened) => (lateOpened = opened));
    await sleep(300);
    expect(lateOpened, 'a new connection hangs while blackholed').to.equal(false);

    await rig.heal();
    expect(await late.opened, 'the held connection completes after heal').to.equal(true);
    await until(() => probe.messages.length === 5, {message: 'buffered traffic after heal'});
    expect(probe.messages).to.deep.equal(['before', 'pushed0', 'pushed1', 'pushed2', 'during']);
  });

  it('injects raw bytes that make the browser fail the connection', async () => {
    const probe = await connect(rig.proxyUrl);
    // A frame header with reserved bits set and an unknown opcode is a protocol error.
    await rig.inject([0xff, 0x00]);
    const event = await probe.closed;
    expect(event.wasClean).to.equal(false);
    expect(event.code).to.equal(1006);
  });
});
