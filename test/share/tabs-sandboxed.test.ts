// A sandboxed frame has an opaque origin: `navigator.locks` is there but
// refuses (SecurityError). Its shared elements share within the page only:
// they connect on their own, and nothing goes unhandled.
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from '../support/rig.js';
import {FAST} from '../support/watched.js';
import {allOpen, closeTabs, openTab, startRig, type Tab} from './frames.js';

/** What the sandboxed page tells the test: each event of each element, and what went wrong unhandled. */
type Report =
  | {type: 'ready'}
  | {type: 'state'; i: number; state: string; leader: boolean}
  | {type: 'error'; i: number; kind: string}
  | {type: 'message'; i: number; data: string}
  | {type: 'page-error'; text: string}
  | {type: 'locks'; request: string};

/**
 * The sandboxed page. It loads the CDN bundle as it would from a CDN, whose
 * files any origin may load (the test server sends the CORS header for
 * /dist/ as a CDN does), and the bundle its sharing chunk from beside it.
 */
const SANDBOXED_PAGE = `<!doctype html><body><script>
  const report = (message) => parent.postMessage(message, '*');
  addEventListener('error', (event) => report({type: 'page-error', text: String(event.error ?? event.message)}));
  addEventListener('unhandledrejection', (event) =>
    report({type: 'page-error', text: 'unhandled rejection: ' + event.reason}),
  );
  const elements = [];
  addEventListener('message', async ({data}) => {
    if (data.type === 'send') {
      elements[data.i].send(data.data);
      return;
    }
    if (data.type !== 'start') return;
    // What the page is up against.
    navigator.locks.request('probe', async () => {}).then(
      () => report({type: 'locks', request: 'granted'}),
      (error) => report({type: 'locks', request: error.name}),
    );
    await import(data.bundle);
    for (let i = 0; i < data.elements; i++) {
      const el = document.createElement('ws-connection');
      for (const [name, value] of Object.entries(data.attributes)) el.setAttribute(name, value);
      el.setAttribute('url', data.url);
      el.addEventListener('ws-state', ({detail}) => report({type: 'state', i, state: detail.state, leader: el.leader}));
      el.addEventListener('ws-error', ({detail}) => report({type: 'error', i, kind: detail.kind}));
      el.addEventListener('ws-message', ({detail}) => report({type: 'message', i, data: String(detail.data)}));
      elements.push(el);
      document.body.append(el);
    }
  });
  report({type: 'ready'});
</script></body>`;

describe('shared in a sandboxed frame', () => {
  let rig: Rig;
  let tabs: Tab[] = [];
  let sandboxed: HTMLIFrameElement | undefined;
  let onReport: ((event: MessageEvent) => void) | undefined;

  beforeEach(async () => {
    rig = await startRig();
    tabs = [];
  });
  afterEach(async () => {
    if (onReport) removeEventListener('message', onReport);
    sandboxed?.remove();
    await closeTabs();
  });

  it('connects on its own beside a tab that holds the socket, with no unhandled rejection', async () => {
    // A frame of the origin holds the key's socket; the sandboxed page cannot take part.
    const holder = await openTab();
    tabs.push(holder);
    holder.add(rig.url);
    await allOpen(holder.members);

    const reports: Report[] = [];
    const frame = document.createElement('iframe');
    sandboxed = frame;
    frame.setAttribute('sandbox', 'allow-scripts');
    onReport = (event: MessageEvent) => {
      if (event.source === frame.contentWindow) reports.push(event.data as Report);
    };
    addEventListener('message', onReport);
    frame.srcdoc = SANDBOXED_PAGE;
    document.body.append(frame);
    await until(() => reports.some(({type}) => type === 'ready'), {message: 'the sandboxed page'});
    frame.contentWindow!.postMessage(
      {
        type: 'start',
        bundle: new URL('/dist/ws-connection.bundled.js', location.href).href,
        elements: 2,
        url: rig.url,
        attributes: {...FAST, shared: ''},
      },
      '*',
    );

    const last = (i: number) => reports.filter((r) => r.type === 'state' && r.i === i).at(-1);
    const states = () => [0, 1].map((i) => (last(i) as {state: string} | undefined)?.state);
    const opened = await until(() => states().every((state) => state === 'open'), {
      timeout: 5000,
      message: 'both sandboxed elements open',
    }).then(
      () => true,
      () => false,
    );
    // Past a follower's watch of the holder (timeout 1000), where a refused lock query would surface.
    await sleep(2000);
    expect(reports.find((r) => r.type === 'locks')).to.deep.equal({type: 'locks', request: 'SecurityError'});
    const pageErrors = reports.filter((r) => r.type === 'page-error').map((r) => (r as {text: string}).text);
    expect(pageErrors, 'unhandled in the sandboxed page').to.deep.equal([]);
    expect(opened, `both sandboxed elements open; they are ${states().join(', ')}`).to.equal(true);
    expect(
      [0, 1].map((i) => (last(i) as {leader: boolean}).leader),
      'each holds its socket itself',
    ).to.deep.equal([true, true]);
    // One socket for the sandboxed page's two elements, beside the holder's.
    expect(await rig.status()).to.include({accepted: 2, open: 2});
    expect(holder.members[0]!.el.state).to.equal('open');

    frame.contentWindow!.postMessage({type: 'send', i: 1, data: 'from-sandbox'}, '*');
    await until(async () => (await rig.received()).includes('from-sandbox'), {message: 'the sandboxed send'});
    await rig.send('to-all');
    await until(
      () =>
        [0, 1].every((i) => reports.some((r) => r.type === 'message' && r.i === i && r.data === 'to-all')) &&
        holder.members[0]!.messages.includes('to-all'),
      {message: 'the server’s message at every element'},
    );
    expect(reports.filter((r) => r.type === 'error')).to.deep.equal([]);
  });
});
