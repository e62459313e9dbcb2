// Server-side rendering: React renders the page with the tag to a string,
// as a server does, the browser gets that markup, and React hydrates it
// (examples/react/ServerRenderedFeed.jsx). The element in the markup
// connects once, on its own as it is upgraded, and hydration takes it as it
// is: no second socket, no mismatch.
import {createElement} from 'react';
import {hydrateRoot, type Root} from 'react-dom/client';
import {renderToString} from 'react-dom/server';
import {ServerRenderedFeed} from '../examples/react/ServerRenderedFeed.jsx';
import {expect} from '@open-wc/testing';
import {Rig, sleep, until} from './support/rig.js';

describe('server-side rendering', () => {
  let rig: Rig;
  let container: HTMLElement;
  let root: Root | undefined;

  beforeEach(async () => {
    rig = await Rig.start();
    container = document.createElement('div');
    document.body.append(container);
  });
  afterEach(async () => {
    root?.unmount();
    root = undefined;
    container.remove();
    await Rig.stopAll();
  });

  it("hydrates React's renderToString of the tag: one connection, no mismatch, and the page works", async () => {
    const markup = renderToString(createElement(ServerRenderedFeed, {url: rig.url}));
    // What a server sends: the tag with its attributes, no listeners, no socket.
    expect(markup).to.match(/<ws-connection url="ws:\/\/[^"]+" json="">/);
    expect(markup).to.not.contain('onws');
    expect((await rig.status()).accepted).to.equal(0);

    const recoverable: unknown[] = [];
    container.innerHTML = markup;
    root = hydrateRoot(container, createElement(ServerRenderedFeed, {url: rig.url}), {
      onRecoverableError: (error) => recoverable.push(error),
    });
    const stateText = () => container.querySelector('.state')?.textContent ?? undefined;
    await until(() => stateText() === 'open', {message: 'shows open'});
    await sleep(300);
    expect(recoverable, 'hydration mismatches').to.deep.equal([]);
    expect(await rig.status()).to.include({accepted: 1, open: 1});
    // It hears the element from then on: a message, and an outage and its end.
    await rig.send(JSON.stringify({price: 1}));
    await until(() => container.querySelector('li')?.textContent === '{"price":1}', {
      message: 'lists the message',
    });
    await rig.restart(500);
    await until(() => stateText() !== 'open', {message: 'notices the outage'});
    await until(() => stateText() === 'open', {timeout: 10_000, message: 'back open'});
    root.unmount();
    root = undefined;
    await until(async () => (await rig.status()).open === 0, {message: 'unmount closes the socket'});
  });
});
