import {expect} from '@open-wc/testing';
import {statusText} from '../src/status-text.js';

describe('statusText', () => {
  const base = {attempt: 0, latency: undefined, nextRetryAt: undefined, now: 10_000};

  it('names each state in words', () => {
    const words = (['idle', 'connecting', 'open', 'offline', 'closed'] as const).map(
      (state) => statusText({...base, state}).text,
    );
    expect(words).to.deep.equal(['Not connected', 'Connecting…', 'Connected', 'Offline', 'Closed']);
  });

  it('gives the latency while open apart from the words', () => {
    expect(statusText({...base, state: 'open', latency: 41.6})).to.deep.equal({
      text: 'Connected',
      detail: ' · 42 ms',
    });
  });

  it('says when another tab holds a live shared socket, and only then', () => {
    expect(statusText({...base, state: 'open', latency: 12, remote: true})).to.deep.equal({
      text: 'Connected · via another tab',
      detail: ' · 12 ms',
    });
    expect(statusText({...base, state: 'connecting', remote: true}).text).to.equal(
      'Connecting… · via another tab',
    );
    expect(statusText({...base, state: 'idle', remote: true}).text).to.equal('Not connected');
    expect(statusText({...base, state: 'open', remote: false}).text).to.equal('Connected');
  });

  it('gives the code and reason of an unusual close', () => {
    expect(statusText({...base, state: 'closed', close: {code: 1008, reason: 'policy'}}).text).to.equal(
      'Closed (1008: policy)',
    );
    expect(statusText({...base, state: 'closed', close: {code: 4001}}).text).to.equal('Closed (4001)');
    expect(statusText({...base, state: 'closed', close: {code: 1000, reason: 'bye'}}).text).to.equal(
      'Closed',
    );
  });

  it('takes the words it is given, and formats numbers for the language', () => {
    const words = {
      reconnecting: (attempt: string) => `Versuch ${attempt}`,
      retryIn: (seconds: string) => ` in ${seconds}`,
      latency: (ms: string) => ` (${ms})`,
    };
    expect(
      statusText({...base, state: 'reconnecting', attempt: 1234, nextRetryAt: 12_100}, words, 'de'),
    ).to.deep.equal({
      text: 'Versuch 1.234',
      detail: ' in 3 Sek.',
    });
    const french = statusText({...base, state: 'open', latency: 1500}, words, 'fr');
    expect(french.text).to.equal('Connected');
    // French groups digits with a (narrow) no-break space.
    expect(french.detail).to.match(/^ \(1\s500\sms\)$/);
    // A language Intl does not know falls back to the default, never throws.
    expect(
      statusText({...base, state: 'reconnecting', attempt: 2, nextRetryAt: 12_100}, {}, 'x-%%').text,
    ).to.match(/^Reconnecting, attempt 2$/);
  });

  it('counts down to the next attempt while reconnecting, rounding up', () => {
    expect(statusText({...base, state: 'reconnecting', attempt: 2, nextRetryAt: 12_100})).to.deep.equal({
      text: 'Reconnecting, attempt 2',
      detail: ' in 3 sec',
    });
    expect(statusText({...base, state: 'reconnecting', attempt: 1, nextRetryAt: 9_000}).detail).to.equal(
      ' in 0 sec',
    );
  });
});
