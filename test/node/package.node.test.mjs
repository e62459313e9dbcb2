// The package as npm would publish it (run after the build): every entry of
// `exports` and every module the manifest names is in it, every source map
// leads to sources that are in it, and a TypeScript project that installs it
// gets the types of every entry, the bundled file's included.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, posix} from 'node:path';
import {after, before, describe, it} from 'node:test';
import ts from 'typescript';

const root = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The files `npm pack` would put in the tarball, relative to the package root. */
function packedFiles() {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Set(JSON.parse(output)[0].files.map((file) => file.path));
}

/** Every target path of the exports map: `types` and `default` of each entry. */
function exportTargets(exports) {
  return Object.values(exports).flatMap((entry) =>
    (typeof entry === 'string' ? [entry] : Object.values(entry)).map((path) => path.replace(/^\.\//, '')),
  );
}

/** Every `module` reference anywhere inside `value`. */
function moduleReferences(value, found = []) {
  if (Array.isArray(value)) for (const item of value) moduleReferences(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'module' && typeof inner === 'string') found.push(inner);
      else moduleReferences(inner, found);
    }
  }
  return found;
}

/** Type-checks `source` as a file of a project that has installed the package; returns the diagnostics. */
function typeCheck(project, source) {
  const file = join(project, 'consumer.ts');
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    .filter(Boolean);
}

describe('the published package', () => {
  let files;
  let project;

  before(() => {
    files = packedFiles();
    // A project with the package installed as npm would: its files, and no dependency, for it has none.
    project = mkdtempSync(join(tmpdir(), 'ws-connection-consumer-'));
    const installed = join(project, 'node_modules', 'ws-connection');
    for (const file of files) {
      mkdirSync(dirname(join(installed, file)), {recursive: true});
      cpSync(join(root, file), join(installed, file));
    }
  });

  after(() => rmSync(project, {recursive: true, force: true}));

  it('holds every file its exports map names, the licence and the manifest', () => {
    for (const target of exportTargets(pkg.exports)) assert.ok(files.has(target), `${target} is not packed`);
    for (const file of ['LICENSE', 'README.md', 'custom-elements.json', pkg.unpkg, pkg.jsdelivr, pkg.types]) {
      assert.ok(files.has(file.replace(/^\.\//, '')), `${file} is not packed`);
    }
    assert.ok(![...files].some((file) => file.startsWith('test/') || file.endsWith('tsconfig.json')));
  });

  it('has source maps whose sources are all in the package, or inside the map', () => {
    const maps = [...files].filter((file) => file.endsWith('.map'));
    assert.ok(maps.length > 10, `only ${maps.length} maps`);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(root, file), 'utf8'));
      map.sources.forEach((source, i) => {
        const path = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        assert.ok(
          files.has(path) || typeof map.sourcesContent?.[i] === 'string',
          `${file} points at ${path}, which is not published`,
        );
      });
    }
  });

  it('has a manifest whose modules and references are published files', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'custom-elements.json'), 'utf8'));
    for (const module of manifest.modules) assert.ok(files.has(module.path), `module ${module.path}`);
    for (const reference of moduleReferences(manifest.modules)) {
      assert.ok(files.has(reference), `reference to ${reference}`);
    }
    const definition = manifest.modules
      .flatMap((module) => module.exports ?? [])
      .find((entry) => entry.kind === 'custom-element-definition');
    assert.equal(definition.name, 'ws-connection');
    const declaring = manifest.modules.find((module) => module.path === definition.declaration.module);
    assert.ok(
      declaring?.declarations?.some(
        (d) => d.name === definition.declaration.name && d.tagName === 'ws-connection',
      ),
      `the definition points at ${definition.declaration.module}#${definition.declaration.name}`,
    );
    const element = declaring.declarations.find((d) => d.tagName === 'ws-connection');
    assert.equal(element.members.find((m) => m.name === 'maxRetries').type.text, 'number');
    assert.deepEqual(
      element.events.map((e) => [e.name, e.type?.text]),
      [
        ['ws-state', 'CustomEvent<StateChange>'],
        ['ws-message', 'CustomEvent<MessageDetail>'],
        ['ws-error', 'CustomEvent<ErrorDetail>'],
      ],
    );
    assert.match(element.events[2].description, /data\?/);
  });

  it('gives a TypeScript project the types of every entry, the bundled file included', () => {
    const diagnostics = typeCheck(
      project,
      `
      import {WsConnection, WsClient, type WsStateEvent} from 'ws-connection/dist/ws-connection.bundled.js';
      import {WsClient as Engine, type ErrorKind} from 'ws-connection/client.js';
      import {WebSocketController} from 'ws-connection/controller.js';
      import {SharedClient} from 'ws-connection/shared.js';
      import {WsConnection as Element} from 'ws-connection/ws-connection.js';
      import 'ws-connection';
      const el: WsConnection = document.createElement('ws-connection');
      const same: Element = el;
      el.addEventListener('ws-state', (event: WsStateEvent) => event.detail.previousState);
      document.addEventListener('ws-error', (event) => {
        const kind: ErrorKind = event.detail.kind;
        return kind;
      });
      const client: WsClient = new Engine({url: 'wss://example.com/'});
      const shared = new SharedClient({url: 'wss://example.com/', share: 'feed'});
      const leads: boolean = shared.leader && el.leader;
      export {same, client, leads, WebSocketController};
      `,
    );
    assert.deepEqual(diagnostics, []);
  });

  it('gives Node, with ws installed, the server half: it runs, and it type-checks', async () => {
    assert.ok(files.has('dist/server/index.js') && files.has('dist/server/keep-alive.js'));
    assert.deepEqual(pkg.peerDependenciesMeta.ws, {optional: true});
    assert.equal(pkg.dependencies, undefined, 'no dependency at all, ws included');
    for (const name of ['ws', '@types/ws', '@types/node']) {
      mkdirSync(dirname(join(project, 'node_modules', name)), {recursive: true});
      symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name));
    }
    writeFileSync(
      join(project, 'server.mjs'),
      `import {WebSocketServer} from 'ws';
      import {keepAlive} from 'ws-connection/server.js';
      const wss = new WebSocketServer({port: 0});
      const keep = keepAlive(wss, {interval: 1000});
      console.log(keep.isHeartbeat('ping'), keep.isHeartbeat(Buffer.from('pong')));
      wss.close();`,
    );
    const output = execFileSync(process.execPath, ['server.mjs'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(output.trim(), 'true false');
    const file = join(project, 'server.ts');
    writeFileSync(
      file,
      `import {WebSocketServer} from 'ws';
      import {keepAlive, type KeepAliveOptions} from 'ws-connection/server.js';
      const options: Partial<KeepAliveOptions> = {interval: 30_000, timeout: 10_000};
      const wss = new WebSocketServer({port: 0});
      const keep = keepAlive(wss, options);
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => keep.isHeartbeat(data, isBinary)));
      keep();`,
    );
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(diagnostics, []);
  });

  it('ships the framework typings on their subpaths, the frameworks optional peers', () => {
    for (const name of ['react', 'solid', 'svelte', 'vue']) {
      const entry = pkg.exports[`./${name}`];
      assert.deepEqual(Object.keys(entry), ['types'], `ws-connection/${name} is types only`);
      assert.ok(files.has(entry.types.slice(2)), `${entry.types} is not packed`);
    }
    assert.ok(files.has('dist/frameworks/jsx.d.ts'), 'the JSX types the entries share');
    const angular = pkg.exports['./angular'];
    assert.ok(files.has(angular.types.slice(2)) && files.has(angular.default.slice(2)));
    // Angular's linker needs the partial declaration, not a decorated class.
    assert.match(readFileSync(join(root, angular.default), 'utf8'), /ɵɵngDeclareDirective\(/);
    for (const peer of Object.keys(pkg.peerDependencies)) {
      assert.deepEqual(pkg.peerDependenciesMeta[peer], {optional: true}, `${peer} is an optional peer`);
    }
  });

  it('keeps the server half out of the browser bundle', () => {
    const bundle = readFileSync(join(root, pkg.unpkg), 'utf8');
    assert.ok(
      !bundle.includes('keepAlive') && !bundle.includes('KeepAlive'),
      'the CDN bundle holds no server code',
    );
  });

  it('would notice a type the bundled file does not have', () => {
    const diagnostics = typeCheck(
      project,
      `import {NotExported} from 'ws-connection/dist/ws-connection.bundled.js'; export {NotExported};`,
    );
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0], /NotExported/);
  });
});
