import {expect} from '@open-wc/testing';
import {formatCodeRanges, includesCode, parseCodeRanges} from '../../src/client/close-codes.js';

describe('close code lists', () => {
  it('parses codes and ranges separated by spaces or commas', () => {
    const ranges = parseCodeRanges(' 1000, 1008 4000-4099,4500 ');
    expect(ranges).to.deep.equal([
      [1000, 1000],
      [1008, 1008],
      [4000, 4099],
      [4500, 4500],
    ]);
    expect(formatCodeRanges(ranges!)).to.equal('1000 1008 4000-4099 4500');
  });

  it('matches codes inside ranges only', () => {
    const ranges = parseCodeRanges('1000 4000-4099')!;
    expect(
      [999, 1000, 1001, 3999, 4000, 4050, 4099, 4100].map((code) => includesCode(ranges, code)),
    ).to.deep.equal([false, true, false, false, true, true, true, false]);
  });

  it('takes an empty list as "retry after every code"', () => {
    expect(parseCodeRanges('')).to.deep.equal([]);
  });

  it('refuses anything that is not a code or an ascending range', () => {
    for (const text of ['abc', '1000-', '4099-4000', '5000', '1000 x', '-1', '10.5', '1000--1001']) {
      expect(parseCodeRanges(text), text).to.equal(undefined);
    }
  });
});
