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

  it('adds the latency while open', () => {
    expect(statusText({...base, state: 'open', latency: 41.6}).text).to.equal('Connected · 42 ms');
  });

  it('counts down to the next attempt while reconnecting, rounding up', () => {
    expect(statusText({...base, state: 'reconnecting', attempt: 2, nextRetryAt: 12_100})).to.deep.equal({
      text: 'Reconnecting, attempt 2',
      countdown: ' in 3 s',
    });
    expect(statusText({...base, state: 'reconnecting', attempt: 1, nextRetryAt: 9_000}).countdown).to.equal(
      ' in 0 s',
    );
  });
});
