// The package as it is published: publint checks its package.json against
// what `npm pack` ships (exports, files, ESM), and arethetypeswrong checks
// that every entry's types resolve, as ESM, under Node's and bundlers' rules.
// Both pack the built package; `npm run build` comes first.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {describe, it} from 'node:test';
import {promisify} from 'node:util';

const run = promisify(execFile);
const bin = (name) => new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;

async function check(command, args) {
  try {
    const {stdout} = await run(bin(command), args, {timeout: 180_000, maxBuffer: 16 * 1024 * 1024});
    return {code: 0, out: stdout};
  } catch (error) {
    return {code: error.code ?? 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}`};
  }
}

describe('the package as published', () => {
  it('passes publint: exports, files and module format agree with what is packed', async () => {
    const {code, out} = await check('publint', ['--strict']);
    assert.equal(code, 0, out);
    assert.match(out, /All good!/);
  });

  it('passes arethetypeswrong for every entry, as ESM for Node and bundlers', async () => {
    const {code, out} = await check('attw', ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii']);
    assert.equal(code, 0, out);
  });
});
