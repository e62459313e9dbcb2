// The public surface is exactly the documented one: the README's "Entries"
// table names what each entry of package.json's `exports` gives, values and
// types, and this test holds every entry to it, both ways. Each entry is
// also imported in Node without a DOM, as server-side rendering does (the
// CDN file is for browsers, test/cdn.test.ts checks its values there; the
// Angular directive needs Angular's compiler).
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describe, it} from 'node:test';
import ts from 'typescript';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const BROWSER_ONLY = new Set(['./dist/ws-connection.bundled.js', './angular']);

/** The README's table: entry → {values, types}, each a sorted list of names. */
function documented() {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(
    readme.indexOf('\n## Entries\n'),
    readme.indexOf('\n## ', readme.indexOf('\n## Entries\n') + 1),
  );
  const names = (cell) => [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name).sort();
  const table = new Map();
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const entry = /^`(ws-connection[^`]*)`$/.exec(cells[0] ?? '')?.[1];
    if (!entry) continue;
    table.set(entry === 'ws-connection' ? '.' : `.${entry.slice('ws-connection'.length)}`, {
      values: names(cells[1]),
      types: names(cells[2]),
    });
  }
  return table;
}

/** Every name each entry's declarations export, values and types alike. */
function declared(entries) {
  const files = entries.map(([, target]) => target.types);
  const program = ts.createProgram(files, {
    strict: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();
  return new Map(
    entries.map(([entry, target]) => {
      const source = program.getSourceFile(target.types);
      const module = source && checker.getSymbolAtLocation(source);
      return [
        entry,
        module
          ? checker
              .getExportsOfModule(module)
              .map(({name}) => name)
              .sort()
          : [],
      ];
    }),
  );
}

describe('the public surface', () => {
  const entries = Object.entries(pkg.exports).filter(
    ([, target]) => typeof target === 'object' && target.types,
  );
  const table = documented();

  it('documents every entry, and no entry that is not there', () => {
    assert.deepEqual([...table.keys()].sort(), entries.map(([entry]) => entry).sort());
  });

  it('declares, for every entry, exactly the values and types its row names', () => {
    const exported = declared(entries);
    for (const [entry] of entries) {
      const {values, types} = table.get(entry) ?? {values: [], types: []};
      assert.deepEqual(exported.get(entry), [...values, ...types].sort(), entry);
    }
  });

  it('imports every entry in Node without a DOM, with exactly the values its row names', async () => {
    assert.equal(typeof globalThis.document, 'undefined');
    for (const [entry, target] of entries) {
      if (!target.default || BROWSER_ONLY.has(entry)) continue;
      const module = await import(`ws-connection${entry.slice(1)}`);
      assert.deepEqual(Object.keys(module).sort(), table.get(entry)?.values ?? [], entry);
    }
  });
});
