// The README's API table and the generated manifest describe the same element.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describe, it} from 'node:test';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const manifest = JSON.parse(readFileSync(new URL('../../custom-elements.json', import.meta.url), 'utf8'));
const element = manifest.modules
  .flatMap((module) => module.declarations ?? [])
  .find((declaration) => declaration.tagName === 'ws-connection');

/** The rows of the README table under "## Attributes": their first cell, unquoted. */
function readmeAttributes() {
  const section = readme.split(/^## Attributes$/m)[1].split(/^## /m)[0];
  return section
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((line) => /^\| `([^`]+)`/.exec(line)[1]);
}

/** `text` names `name` as code: `name` for events and properties, `name(…)` for methods. */
function namesAsCode(text, name, {method = false} = {}) {
  return new RegExp(`\`${name}${method ? '\\(' : '`'}`).test(text);
}

describe('README and custom-elements.json', () => {
  it('list the same attributes', () => {
    const documented = readmeAttributes().sort();
    const manifested = element.attributes.map((attribute) => attribute.name).sort();
    assert.deepEqual(documented, manifested);
  });

  it('name every event, method and read-only property as code', () => {
    const publicMembers = element.members.filter((member) => member.privacy !== 'private' && !member.static);
    const methods = publicMembers.filter((member) => member.kind === 'method').map((member) => member.name);
    const properties = [
      'state',
      'attempt',
      'latency',
      'queued',
      'nextRetryAt',
      'urlProvider',
      'openMessages',
    ];
    assert.ok(methods.length >= 4, `only ${methods.length} methods in the manifest`);
    for (const name of methods) {
      assert.ok(namesAsCode(readme, name, {method: true}), `README does not name \`${name}(…)\``);
    }
    for (const name of [...element.events.map((event) => event.name), ...properties]) {
      assert.ok(namesAsCode(readme, name), `README does not name \`${name}\``);
    }
  });

  it('take only a name written as code, not a word in the prose', () => {
    const prose = 'Shows the state and the nextRetryAt time; `stateful` and `reconnected()` are other names.';
    assert.equal(namesAsCode(prose, 'state'), false);
    assert.equal(namesAsCode(prose, 'nextRetryAt'), false);
    assert.equal(namesAsCode(prose, 'reconnect', {method: true}), false);
    assert.equal(namesAsCode('Read `state`, call `send(data)`.', 'state'), true);
    assert.equal(namesAsCode('Read `state`, call `send(data)`.', 'send', {method: true}), true);
  });

  it('agree on the defaults the README states', () => {
    const section = readme.split(/^## Attributes$/m)[1].split(/^## /m)[0];
    let compared = 0;
    for (const attribute of element.attributes) {
      const row = section.split('\n').find((line) => line.startsWith(`| \`${attribute.name}\``));
      const documented = /^\|[^|]+\|\s*`([^`]+)`/.exec(row)?.[1];
      if (documented === undefined || attribute.default === undefined) continue;
      assert.equal(
        attribute.default.replace(/^'(.*)'$/, '$1').replaceAll('_', ''),
        documented,
        `default of ${attribute.name}: README says ${documented}, the code ${attribute.default}`,
      );
      compared++;
    }
    assert.ok(compared >= 8, `only ${compared} defaults compared`);
  });
});

describe('README and the examples it quotes', () => {
  it('quotes each `<!-- name: file -->` block as the file has it', () => {
    const quotes = [...readme.matchAll(/<!-- [\w-]+: (\S+) -->\n\n```\w*\n([\s\S]*?)```/g)];
    assert.ok(quotes.length >= 1, 'no quoted block found');
    for (const [, file, code] of quotes) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      assert.ok(source.includes(code), `the README's block from ${file} is not in it as written`);
    }
  });
});
