// The CDN bundle as a plain page uses it: one script tag, no build step, a
// strict Content-Security-Policy, against the real server.
import {expect} from '@open-wc/testing';
import type {WsConnection} from '../src/ws-connection.js';
import {Rig, until} from './support/rig.js';

type PageWindow = Window & typeof globalThis & {cspViolations: string[]};

async function openPage(src: string): Promise<{win: PageWindow; frame: HTMLIFrameElement}> {
  const frame = document.createElement('iframe');
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, {once: true}));
  frame.src = src;
  document.body.append(frame);
  await loaded;
  const win = frame.contentWindow as PageWindow;
  await until(() => win.customElements.get('ws-connection') !== undefined, {
    message: 'the bundle defined the tag',
  });
  return {win, frame};
}

describe('CDN bundle in a plain page under a strict CSP', () => {
  let rig: Rig;
  let frame: HTMLIFrameElement | undefined;

  beforeEach(async () => {
    rig = await Rig.start();
  });
  afterEach(async () => {
    frame?.remove();
    await Rig.stopAll();
  });

  it('connects, delivers messages, keeps a heartbeat and reconnects, with no CSP violation', async () => {
    const page = await openPage('/test/cdn/csp.html');
    frame = page.frame;
    const el = page.win.document.querySelector('ws-connection') as WsConnection;
    expect(el.shadowRoot, 'rendered by the bundled element').to.not.equal(null);
    const messages: unknown[] = [];
    el.addEventListener('ws-message', (event) => messages.push(event.detail.data));

    el.url = rig.url;
    el.connect();
    await until(() => el.state === 'open', {message: 'open'});
    expect(el.getAttribute('state')).to.equal('open');

    el.send('through the bundle');
    await until(() => messages.length === 1);
    expect(messages).to.deep.equal(['through the bundle']);

    await until(() => el.latency !== undefined, {message: 'a heartbeat answered'});
    expect(await rig.received()).to.include('ping');

    // The states are recorded as they come: a reconnect can be over before a
    // poll of el.state runs, in a page whose timers run late in the background.
    const states: string[] = [];
    el.addEventListener('ws-state', (event) => states.push(event.detail.state));
    await rig.terminateClients();
    await until(() => states.some((state) => state !== 'open'), {message: 'noticed the drop'});
    await until(() => el.state === 'open', {message: 'reconnected'});
    // Firefox delays a reconnect to a host that just dropped (RFC 6455 7.2.3), so
    // an attempt may time out first; what matters is one live connection.
    expect((await rig.status()).accepted).to.be.at.least(2);
    await until(async () => (await rig.status()).open === 1, {message: 'one connection at the server'});
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="status"]')!.textContent).to.contain('Connected');

    expect(page.win.cspViolations).to.deep.equal([]);
    el.close();
  });

  /** The scripts the page fetched, as paths. */
  const scripts = (win: PageWindow) =>
    win.performance
      .getEntriesByType('resource')
      .map(({name}) => new URL(name).pathname)
      .filter((path) => path.endsWith('.js'));

  it('never fetches the sharing chunk on a page that does not share', async () => {
    const page = await openPage('/test/cdn/csp.html');
    frame = page.frame;
    const el = page.win.document.querySelector('ws-connection') as WsConnection;
    el.url = rig.url;
    el.connect();
    await until(() => el.state === 'open', {message: 'open'});
    el.send('unshared');
    await until(async () => (await rig.received()).includes('unshared'));
    el.close();
    expect(scripts(page.win)).to.include('/dist/ws-connection.bundled.js');
    expect(scripts(page.win).filter((path) => path.includes('sharing'))).to.deep.equal([]);
    expect(scripts(page.win).filter((path) => path.includes('reliable'))).to.deep.equal([]);
    expect(page.win.cspViolations).to.deep.equal([]);
  });

  it('loads the reliable chunk from beside the entry when an element is first reliable, under the strict CSP', async () => {
    const reliableRig = await Rig.startReliable();
    const page = await openPage('/test/cdn/csp.html?from=jsdelivr');
    frame = page.frame;
    const el = page.win.document.querySelector('ws-connection') as WsConnection;
    el.reliable = true;
    el.url = reliableRig.url;
    el.connect();
    // Sent while the protocol's code loads: it waits, and goes in the session.
    expect(el.send('while loading')).to.equal(true);
    await until(() => el.state === 'open', {message: 'open'});
    expect(await el.request('q')).to.equal('re:q');
    const received = (await reliableRig.received()) as unknown as {data: string}[];
    expect(received.map(({data}) => data)).to.deep.equal(['while loading']);
    const fetched = scripts(page.win);
    expect(fetched.filter((path) => path.endsWith('.reliable.js'))).to.deep.equal([
      '/npm/ws-connection@0.1.0/dist/ws-connection.reliable.js',
    ]);
    expect(page.win.cspViolations).to.deep.equal([]);
    el.close();
  });

  for (const [from, dir] of [
    ['dist', '/dist/'],
    ['jsdelivr', '/npm/ws-connection@0.1.0/dist/'],
    ['unpkg', '/ws-connection@0.1.0/dist/'],
  ]) {
    it(`loads the sharing chunk from beside the entry (${dir}) when an element first shares, under the strict CSP`, async () => {
      const page = await openPage(`/test/cdn/csp.html?from=${from}`);
      frame = page.frame;
      const el = page.win.document.querySelector('ws-connection') as WsConnection;
      const states: string[] = [];
      el.addEventListener('ws-state', (event) => states.push(event.detail.state));
      el.shared = `cdn ${from} ${Math.random()}`;
      el.url = rig.url;
      // Sent while sharing's code loads: it waits, as for any socket that is not open yet.
      el.connect();
      expect(el.send('while loading')).to.equal(true);
      expect(el.queued).to.equal(1);
      await until(() => el.state === 'open', {message: 'open'});
      await until(async () => (await rig.received()).includes('while loading'));
      expect(states).to.deep.equal(['connecting', 'open']);
      expect(el.leader).to.equal(true);
      const fetched = scripts(page.win);
      expect(fetched).to.include(`${dir}ws-connection.bundled.js`);
      expect(fetched).to.include(`${dir}ws-connection.sharing.js`);
      // Beside the entry, once: not a second copy from another path.
      expect(fetched.filter((path) => path.endsWith('.sharing.js'))).to.have.length(1);
      expect(fetched.filter((path) => path.endsWith('.bundled.js'))).to.have.length(1);
      expect(page.win.cspViolations).to.deep.equal([]);
      el.close();
    });
  }

  it('says so when the sharing chunk cannot be loaded, and keeps what was sent', async () => {
    const page = await openPage('/test/cdn/csp.html?from=chunk-missing');
    frame = page.frame;
    const el = page.win.document.querySelector('ws-connection') as WsConnection;
    const states: string[] = [];
    const errors: string[] = [];
    el.addEventListener('ws-state', (event) => states.push(event.detail.state));
    el.addEventListener('ws-error', (event) => errors.push(`${event.detail.kind}: ${event.detail.message}`));
    el.shared = true;
    el.url = rig.url;
    el.connect();
    el.send('kept');
    await until(() => errors.length === 1, {message: 'an error'});
    expect(errors[0]).to.match(
      /^socket-error: sharing's code could not be loaded .*connect\(\) tries again$/,
    );
    expect(states).to.deep.equal(['connecting', 'idle']);
    expect(el.queued).to.equal(1);
    expect((await rig.status()).accepted).to.equal(0);
    el.close();
    expect(el.state).to.equal('closed');
  });

  it('exports the element, the engine and the shared engine, as its types say', async () => {
    const bundle = await import('/dist/ws-connection.bundled.js' as string);
    expect(Object.keys(bundle).sort()).to.deep.equal([
      'ConnectionState',
      'SharedClient',
      'WsClient',
      'WsConnection',
    ]);
    expect(customElements.get('ws-connection')).to.be.a('function');
  });

  it('reports what a strict CSP blocks, so a clean run means something', async () => {
    const page = await openPage('/test/cdn/csp.html');
    frame = page.frame;
    const script = page.win.document.createElement('script');
    script.textContent = 'window.inlineRan = true';
    page.win.document.body.append(script);
    await until(() => page.win.cspViolations.length > 0, {message: 'the inline script reported'});
    expect((page.win as unknown as {inlineRan?: boolean}).inlineRan).to.equal(undefined);
  });
});
