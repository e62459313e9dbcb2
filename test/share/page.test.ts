// Elements of one page that share: one engine, no relay, each element with
// its own options and events; against the real server.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {reached, watched, type Watched} from '../support/watched.js';

describe('shared within a page', () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await Rig.start();
  });
  afterEach(async () => {
    await Rig.stopAll();
  });

  it('elements with the same url share one socket and each hears every message', async () => {
    const a = await watched(rig.url, {shared: ''});
    const b = await watched(rig.url, {shared: ''});
    await reached(a, 'open');
    await reached(b, 'open');
    expect(a.el.leader).to.equal(true);
    expect(b.el.leader).to.equal(true);
    await rig.push(2, 'p');
    await until(() => a.messages.length === 2 && b.messages.length === 2, {message: 'both hear both'});
    expect(b.messages).to.deep.equal(['p0', 'p1']);
    expect((await rig.status()).accepted).to.equal(1);
  });

  it('an unshared element beside them keeps a socket of its own', async () => {
    await watched(rig.url, {shared: ''});
    const own = await watched(rig.url);
    await reached(own, 'open');
    await sleep(200);
    expect((await rig.status()).accepted).to.equal(2);
  });

  it('each element keeps its own json, binary-type and openMessages; all subscriptions go before queued sends', async () => {
    await rig.setEcho(false);
    const text = await watched(rig.url, {shared: ''}, {connect: false});
    const parsed = await watched(
      rig.url,
      {shared: '', json: '', 'binary-type': 'arraybuffer'},
      {connect: false},
    );
    text.el.openMessages = ['sub-text'];
    parsed.el.openMessages = [{sub: 'json'}];
    text.el.send('queued-text');
    parsed.el.send({queued: 'json'});
    text.el.connect();
    parsed.el.connect();
    await reached(text, 'open');
    await reached(parsed, 'open');
    await until(async () => (await rig.received()).length >= 4, {message: 'four messages'});
    expect(await rig.received()).to.deep.equal([
      'sub-text',
      '{"sub":"json"}',
      'queued-text',
      '{"queued":"json"}',
    ]);
    await rig.send('{"n":1}');
    await rig.send('bin', true);
    await until(() => parsed.messages.length === 2 && text.messages.length === 2, {message: 'both messages'});
    expect(parsed.messages[0]).to.deep.equal({n: 1});
    expect(text.messages[0]).to.equal('{"n":1}');
    expect(parsed.messages[1]).to.be.instanceOf(ArrayBuffer);
    expect(text.messages[1]).to.be.instanceOf(Blob);
  });

  it('a subscription is renewed for every element on every reopen', async () => {
    await rig.setEcho(false);
    const a = await watched(rig.url, {shared: ''}, {connect: false});
    const b = await watched(rig.url, {shared: ''}, {connect: false});
    a.el.openMessages = ['sub-a'];
    b.el.openMessages = ['sub-b'];
    a.el.connect();
    b.el.connect();
    await reached(b, 'open');
    await until(async () => (await rig.received()).length === 2, {message: 'two subscriptions'});
    await rig.takeReceived();
    await rig.terminateClients();
    await until(() => a.states.filter((s) => s.state === 'open').length === 2, {message: 'a reopen'});
    await until(async () => (await rig.received()).length === 2, {message: 'renewed subscriptions'});
    expect(await rig.received()).to.deep.equal(['sub-a', 'sub-b']);
  });

  it('elements join and leave in any order: the socket stays while one uses it', async () => {
    const a = await watched(rig.url, {shared: ''});
    await reached(a, 'open');
    const b = await watched(rig.url, {shared: ''});
    await reached(b, 'open');
    a.el.remove();
    await sleep(100);
    expect(a.el.state).to.equal('idle');
    expect(b.el.state).to.equal('open');
    const c = await watched(rig.url, {shared: ''});
    await reached(c, 'open');
    b.el.close();
    await sleep(100);
    expect(c.el.state).to.equal('open');
    expect(await rig.status()).to.include({accepted: 1, open: 1});
    c.el.close();
    await until(async () => (await rig.status()).open === 0, {message: 'the socket to close'});
  });

  it('close() on one element reports only its own queued messages as discarded', async () => {
    const a = await watched(rig.url, {shared: ''}, {connect: false});
    const b = await watched(rig.url, {shared: ''}, {connect: false});
    a.el.send('a1');
    b.el.send('b1');
    a.el.close();
    expect(a.errors.map((e) => e.kind)).to.deep.equal(['queue-discarded']);
    expect(a.errors[0]!.data).to.deep.equal(['a1']);
    b.el.connect();
    await reached(b, 'open');
    await until(async () => (await rig.received()).includes('b1'), {message: 'b1 sent'});
    expect(await rig.received()).not.to.include('a1');
  });

  it("queue-limit is each element's own", async () => {
    const small = await watched(rig.url, {shared: '', 'queue-limit': '1'}, {connect: false});
    const large = await watched(rig.url, {shared: '', 'queue-limit': '5'}, {connect: false});
    expect(small.el.send('1')).to.equal(true);
    expect(small.el.send('2')).to.equal(false);
    for (let i = 0; i < 5; i++) expect(large.el.send(`${i}`)).to.equal(true);
    expect(small.errors.map((e) => e.kind)).to.deep.equal(['queue-overflow']);
    expect(large.errors).to.deep.equal([]);
  });

  it('turning shared on for a connected element moves it, and what waited, to the shared socket', async () => {
    const a = await watched(rig.url, {shared: ''});
    await reached(a, 'open');
    await rig.setEcho(false);
    await rig.kill();
    const b: Watched = await watched(rig.url);
    await until(() => b.el.state === 'reconnecting', {message: 'b reconnecting'});
    b.el.send('waited');
    b.el.setAttribute('shared', '');
    await until(() => b.el.state !== 'idle' && b.el.queued === 1, {message: 'carried over'});
    expect(b.errors.map((e) => e.kind)).not.to.include('queue-discarded');
    expect(b.el.leader).to.equal(true);
    await rig.revive();
    await reached(b, 'open');
    await reached(a, 'open');
    await until(async () => (await rig.received()).includes('waited'), {message: 'waited to arrive'});
    await sleep(200);
    expect((await rig.status()).open).to.equal(1);
  });

  it("a follower's status says another tab holds the socket; a holder's does not", async () => {
    const a = await watched(rig.url, {shared: ''});
    await reached(a, 'open');
    const words = a.el.shadowRoot!.querySelector('[part=status]')!.textContent!;
    expect(words).to.contain('Connected');
    expect(words).not.to.contain('via another tab');
  });
});
