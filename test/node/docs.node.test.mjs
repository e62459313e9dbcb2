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

describe('README and custom-elements.json', () => {
  it('list the same attributes', () => {
    const documented = readmeAttributes().sort();
    const manifested = element.attributes.map((attribute) => attribute.name).sort();
    assert.deepEqual(documented, manifested);
  });

  it('name every event, method and read-only property', () => {
    const publicMembers = element.members.filter((member) => member.privacy !== 'private' && !member.static);
    for (const name of [
      ...element.events.map((event) => event.name),
      ...publicMembers.filter((member) => member.kind === 'method').map((member) => `${member.name}(`),
      ...['state', 'attempt', 'latency', 'queued', 'nextRetryAt', 'urlProvider', 'openMessages'],
    ]) {
      assert.ok(readme.includes(name), `README does not mention ${name}`);
    }
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
