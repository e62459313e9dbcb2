import {expect} from '@open-wc/testing';
import {retryDelay} from '../../src/client/backoff.js';

describe('retryDelay', () => {
  it('draws from a window that doubles from the base up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 20].map((retry) => retryDelay(retry, 1000, 10_000, top))).to.deep.equal([
      999, 1999, 3999, 7999, 9999, 9999, 9999,
    ]);
  });

  it('spreads clients over the whole window', () => {
    expect(retryDelay(3, 1000, 30_000, () => 0)).to.equal(0);
    expect(retryDelay(3, 1000, 30_000, () => 0.5)).to.equal(2000);
  });

  it('spreads a thousand simultaneous clients so no 100 ms holds more than 12 %', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const windows = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const slot = Math.floor(retryDelay(1, 1000, 30_000, random) / 100);
      windows.set(slot, (windows.get(slot) ?? 0) + 1);
    }
    expect(Math.max(...windows.values())).to.be.at.most(120);
  });
});
