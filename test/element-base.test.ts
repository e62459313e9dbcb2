// The element's base class (src/element-base.ts), through throwaway
// subclasses of the element: one update for the changes of a task, with what
// each was before; properties a page set before the tag was defined; a
// reflected boolean; the stylesheet where constructable stylesheets are
// missing. No server: nothing here connects.
import {expect, fixture, html} from '@open-wc/testing';
import '../src/index.js';
import type {ChangedProperties} from '../src/element-base.js';
import {WsConnection} from '../src/ws-connection.js';

let tags = 0;
/** Defines a fresh subclass of the element under a new tag, recording what each update was told. */
function define(): {tag: string; updates: Map<PropertyKey, unknown>[]} {
  const tag = `test-element-base-${++tags}`;
  const updates: Map<PropertyKey, unknown>[] = [];
  customElements.define(
    tag,
    class extends WsConnection {
      protected override willUpdate(changed: ChangedProperties): void {
        updates.push(new Map(changed));
        super.willUpdate(changed);
      }
    },
  );
  return {tag, updates};
}

describe('the element base', () => {
  it('updates once for all the changes of a task, with each value as it was before, and not for the same value', async () => {
    const {tag, updates} = define();
    const el = document.createElement(tag) as WsConnection;
    el.manual = true;
    document.body.append(el);
    try {
      await el.updateComplete;
      expect(updates.length, 'the first update').to.equal(1);
      expect(updates[0].get('timeout')).to.equal(undefined);
      el.timeout = 2000;
      el.timeout = 3000;
      el.setAttribute('ping-message', 'hb');
      expect(el.pingMessage, 'at once, from the attribute').to.equal('hb');
      expect(await el.updateComplete).to.equal(true);
      expect(updates.slice(1)).to.deep.equal([
        new Map<PropertyKey, unknown>([
          ['timeout', 10_000],
          ['pingMessage', 'ping'],
        ]),
      ]);
      el.timeout = 3000;
      el.removeAttribute('ping-message');
      el.setAttribute('ping-message', 'hb');
      await el.updateComplete;
      expect(updates.length, 'changed and back: one update, which names it').to.equal(3);
      expect([...updates[2].keys()]).to.deep.equal(['pingMessage']);
    } finally {
      el.remove();
    }
  });

  it('takes the properties a page set before the tag was defined, through its accessors', async () => {
    const tag = `test-element-base-${++tags}`;
    const el = document.createElement(tag) as WsConnection;
    el.manual = true;
    el.heartbeatInterval = 5000;
    el.openMessages = ['subscribe'];
    document.body.append(el);
    try {
      customElements.define(tag, class extends WsConnection {});
      await el.updateComplete;
      expect([el.manual, el.heartbeatInterval, el.openMessages]).to.deep.equal([true, 5000, ['subscribe']]);
      expect(Object.keys(el), 'no own property left to hide an accessor').to.deep.equal([]);
      expect(el.state, 'manual: it did not connect').to.equal('idle');
      el.setAttribute('heartbeat-interval', '7000');
      expect(el.heartbeatInterval).to.equal(7000);
    } finally {
      el.remove();
    }
  });

  it('reflects hide-status both ways: the attribute at once, the property in the update', async () => {
    const el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    let writes = 0;
    const observer = new MutationObserver((records) => (writes += records.length));
    observer.observe(el, {attributeFilter: ['hide-status']});
    el.setAttribute('hide-status', 'yes');
    expect(el.hideStatus).to.equal(true);
    await el.updateComplete;
    el.hideStatus = false;
    expect(el.hasAttribute('hide-status'), 'in the update, not before').to.equal(true);
    await el.updateComplete;
    expect(el.hasAttribute('hide-status')).to.equal(false);
    el.hideStatus = true;
    await el.updateComplete;
    expect(el.getAttribute('hide-status')).to.equal('');
    writes += observer.takeRecords().length;
    expect(writes, 'no write but these three').to.equal(3);
    observer.disconnect();
  });

  it('styles its shadow root with a <style> where constructable stylesheets are missing', async () => {
    const adopted = Object.getOwnPropertyDescriptor(ShadowRoot.prototype, 'adoptedStyleSheets')!;
    delete (ShadowRoot.prototype as Partial<ShadowRoot>).adoptedStyleSheets;
    let el: WsConnection;
    try {
      el = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    } finally {
      Object.defineProperty(ShadowRoot.prototype, 'adoptedStyleSheets', adopted);
    }
    expect(el.shadowRoot!.adoptedStyleSheets).to.deep.equal([]);
    expect(el.shadowRoot!.querySelectorAll('style').length).to.equal(1);
    expect(getComputedStyle(el).display).to.equal('block');
    const modern = await fixture<WsConnection>(html`<ws-connection manual></ws-connection>`);
    expect(modern.shadowRoot!.querySelector('style')).to.equal(null);
    expect(modern.shadowRoot!.adoptedStyleSheets.length).to.equal(1);
    expect(getComputedStyle(modern).display).to.equal('block');
  });
});
