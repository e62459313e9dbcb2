import {expect} from '@open-wc/testing';
import {redactUrl, resolveSocketUrl} from '../../src/client/url.js';

describe('resolveSocketUrl', () => {
  const page = 'https://app.example/area/page.html';

  it('keeps ws: and wss: URLs', () => {
    expect(resolveSocketUrl('ws://a.example:8080/x?y=1', page)).to.equal('ws://a.example:8080/x?y=1');
    expect(resolveSocketUrl('  wss://a.example/  ', page)).to.equal('wss://a.example/');
  });

  it('maps http: to ws: and https: to wss:', () => {
    expect(resolveSocketUrl('http://a.example/ws', page)).to.equal('ws://a.example/ws');
    expect(resolveSocketUrl('https://a.example/ws', page)).to.equal('wss://a.example/ws');
  });

  it('resolves /, ./ and ../ paths against the page, wss: on https pages and ws: on http pages', () => {
    expect(resolveSocketUrl('/ws', page)).to.equal('wss://app.example/ws');
    expect(resolveSocketUrl('./ws', page)).to.equal('wss://app.example/area/ws');
    expect(resolveSocketUrl('../ws?t=1', page)).to.equal('wss://app.example/ws?t=1');
    expect(resolveSocketUrl('/ws', 'http://localhost:3000/')).to.equal('ws://localhost:3000/ws');
  });

  it('drops the fragment, which WebSocket refuses', () => {
    expect(resolveSocketUrl('wss://a.example/ws#part', page)).to.equal('wss://a.example/ws');
  });

  it('refuses other schemes, bare words, protocol-relative URLs and paths without a page', () => {
    for (const input of [
      'ftp://a.example/',
      'javascript:alert(1)',
      'ws',
      'ws/x',
      '',
      '//a.example/ws',
      'file:///x',
    ]) {
      expect(resolveSocketUrl(input, page), input).to.equal(undefined);
    }
    expect(resolveSocketUrl('/ws', undefined)).to.equal(undefined);
  });
});

describe('redactUrl', () => {
  it('keeps scheme, host and path, and hides the query and fragment', () => {
    expect(redactUrl('wss://a.example:8443/ws?token=secret#x')).to.equal('wss://a.example:8443/ws?…');
    expect(redactUrl('wss://a.example/ws')).to.equal('wss://a.example/ws');
  });

  it('cuts text that is not a URL at its query', () => {
    expect(redactUrl('ws/path?token=secret')).to.equal('ws/path?…');
    expect(redactUrl('not a url#frag')).to.equal('not a url');
    expect(redactUrl('javascript:alert(1)?x')).to.equal('javascript:alert(1)?…');
  });

  it('hides credentials in the authority', () => {
    expect(redactUrl('wss://user:password@a.example/ws')).to.equal('wss://a.example/ws');
    expect(redactUrl('wss://user:p@ss@a.example/ws#frag?x')).to.equal('wss://a.example/ws');
    expect(redactUrl('ws:user@a.example/ws?t=1')).to.equal('ws:a.example/ws?…');
  });
});
