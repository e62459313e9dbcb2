// Each framework's own checker on a small example that uses <ws-connection>
// through the package's typings for it (test/frameworks/<name>/), in a
// project that has installed the package as npm would publish it (run after
// the build). Both ways: the example passes, and copies of it with a typo —
// a misspelt event, a wrong use of `detail`, a value of the wrong type —
// each fail with the diagnostic that names the mistake.
import assert from 'node:assert/strict';
import {execFile, execFileSync} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, dirname, extname, join} from 'node:path';
import {after, before, describe, it} from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);

/**
 * What the examples and the package's typings import, as the project would
 * have installed it: the frameworks, and no Lit, of which the typings need none.
 */
const INSTALLED = ['react', '@types/react', 'solid-js', 'vue', 'svelte', '@angular/core'];

const FRAMEWORKS = [
  {
    name: 'React 19',
    dir: 'react',
    example: 'LiveFeed.tsx',
    check: [bin('tsc'), '-p', 'tsconfig.json'],
    typos: [
      {
        what: 'a misspelt event',
        from: 'onws-state=',
        to: 'onws-stat=',
        diagnostic: /TS7006: Parameter 'event' implicitly has an 'any' type/,
      },
      {
        what: 'a detail field ws-message does not have',
        from: 'event.detail.data]',
        to: 'event.detail.date]',
        diagnostic: /TS2339: Property 'date' does not exist on type 'MessageDetail(<unknown>)?'/,
      },
      {
        what: 'a string for a number attribute',
        from: 'heartbeat-interval={5000}',
        to: 'heartbeat-interval="5s"',
        diagnostic:
          /'"heartbeat-interval"' are incompatible[\s\S]*Type 'string' is not assignable to type 'number'/,
      },
    ],
  },
  {
    name: 'Solid',
    dir: 'solid',
    example: 'LiveFeed.tsx',
    check: [bin('tsc'), '-p', 'tsconfig.json'],
    typos: [
      {
        what: 'a misspelt event',
        from: 'on:ws-error=',
        to: 'on:ws-eror=',
        diagnostic: /TS7006: Parameter 'event' implicitly has an 'any' type/,
      },
      {
        what: 'a detail field ws-state does not have',
        from: 'event.detail.state)',
        to: 'event.detail.status)',
        diagnostic: /TS2339: Property 'status' does not exist on type 'StateChange'/,
      },
      {
        what: 'a misspelt property',
        from: 'prop:url=',
        to: 'prop:uri=',
        diagnostic: /'prop:uri' does not exist on type/,
      },
    ],
  },
  {
    name: 'Vue 3',
    dir: 'vue',
    example: 'LiveFeed.vue',
    check: [bin('vue-tsc'), '-p', 'tsconfig.json'],
    typos: [
      {
        what: 'a misspelt event',
        from: '@ws-message=',
        to: '@ws-mesage=',
        diagnostic: /'onWsMesage' does not exist in type/,
      },
      {
        what: 'a detail field ws-error does not have',
        from: 'event.detail.kind,',
        to: 'event.detail.code,',
        diagnostic: /TS2339: Property 'code' does not exist on type 'ErrorDetail'/,
      },
      {
        what: 'a string for a number property',
        from: ':heartbeat-interval="5000"',
        to: `:heartbeat-interval="'5s'"`,
        diagnostic: /TS2322: Type 'string' is not assignable to type 'number'/,
      },
    ],
  },
  {
    name: 'Svelte 5',
    dir: 'svelte',
    example: 'LiveFeed.svelte',
    check: [
      bin('svelte-check'),
      '--tsconfig',
      './tsconfig.json',
      '--output',
      'machine',
      '--fail-on-warnings',
    ],
    typos: [
      {
        what: 'a misspelt event',
        from: 'onws-message=',
        to: 'onws-messages=',
        diagnostic: /Parameter 'event' implicitly has an 'any' type/,
      },
      {
        what: 'a detail field ws-state does not have',
        from: 'event.detail.state)',
        to: 'event.detail.previous)',
        diagnostic: /Property 'previous' does not exist on type 'StateChange'/,
      },
      {
        what: 'a string for a number attribute',
        from: 'heartbeat-interval={5000}',
        to: 'heartbeat-interval="5s"',
        diagnostic: /Type 'string' is not assignable to type 'number'/,
      },
    ],
  },
  {
    name: 'Angular',
    dir: 'angular',
    example: 'live-feed.component.ts',
    check: [bin('ngc'), '-p', 'tsconfig.json'],
    typos: [
      {
        what: 'a misspelt event',
        from: '(ws-state)=',
        to: '(ws-stat)=',
        diagnostic: /TS2339: Property 'detail' does not exist on type 'Event'/,
      },
      {
        what: 'a misspelt event, its handler typed',
        from: '(ws-error)=',
        to: '(ws-eror)=',
        diagnostic: /TS2345: Argument of type 'Event' is not assignable to parameter of type 'WsErrorEvent'/,
      },
      {
        what: 'a detail field ws-message does not have',
        from: '$event.detail.data]',
        to: '$event.detail.date]',
        diagnostic: /TS2339: Property 'date' does not exist on type 'MessageDetail(<unknown>)?'/,
      },
      {
        what: 'a string for a number input',
        from: 'heartbeatInterval="5000"',
        to: 'heartbeatInterval="5s"',
        diagnostic: /TS2322: Type '"5s"' is not assignable to type 'number \| `\$\{number\}`'/,
      },
      {
        what: 'the directive left out',
        from: 'imports: [WsConnectionDirective],',
        to: 'imports: [],',
        diagnostic: /NG8001: 'ws-connection' is not a known element/,
      },
    ],
  },
];

/** The files `npm pack` would put in the tarball, relative to the package root. */
function packedFiles() {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(output)[0].files.map((file) => file.path);
}

/** Runs a checker in `cwd`; resolves with its exit code and its output, colours removed. */
function runChecker([command, ...args], cwd) {
  return new Promise((resolve) => {
    execFile(command, args, {cwd, encoding: 'utf8', timeout: 120_000}, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
      resolve({code: error ? (error.code ?? 1) : 0, output});
    });
  });
}

/**
 * The errors in a checker's output, each with the file it is in: tsc and
 * vue-tsc write `file(1,2): error …`, ngc `file:1:2 - error …`, svelte-check
 * (machine output) `… ERROR "file" 1:2 "…"`; a message may go on over the
 * lines that follow.
 */
function errorsByFile(output) {
  const errors = [];
  for (const line of output.split('\n')) {
    const start =
      /^(\S+?)\(\d+,\d+\): error /.exec(line) ??
      /^(\S+?):\d+:\d+ - error /.exec(line) ??
      /^\d+ ERROR "([^"]+)" /.exec(line);
    if (start) errors.push({file: basename(start[1]), message: line});
    else if (errors.length && line.trim()) errors.at(-1).message += `\n${line}`;
  }
  return errors;
}

/** `LiveFeed.tsx` with the typo `a misspelt event` → `LiveFeed-a-misspelt-event.tsx`. */
function typoFile(example, what) {
  const ext = extname(example);
  return `${basename(example, ext)}-${what.replace(/\W+/g, '-')}${ext}`;
}

describe('framework typings, checked by each framework', () => {
  let project;

  before(() => {
    // A project with the package installed as npm would: its files, and the frameworks.
    project = mkdtempSync(join(tmpdir(), 'ws-connection-frameworks-'));
    const installed = join(project, 'node_modules', 'ws-connection');
    for (const file of packedFiles()) {
      mkdirSync(dirname(join(installed, file)), {recursive: true});
      cpSync(join(root, file), join(installed, file));
    }
    for (const name of INSTALLED) {
      mkdirSync(dirname(join(project, 'node_modules', name)), {recursive: true});
      symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name));
    }
  });

  after(() => rmSync(project, {recursive: true, force: true}));

  it("gives the Angular directive, written by hand, an input for each of the element's settable properties and an output for each event", () => {
    const manifest = JSON.parse(readFileSync(join(root, 'custom-elements.json'), 'utf8'));
    const element = manifest.modules
      .flatMap((module) => module.declarations ?? [])
      .find((declaration) => declaration.tagName === 'ws-connection');
    const settable = element.members
      .filter(
        (member) =>
          member.kind === 'field' && !member.readonly && !member.static && member.privacy === 'public',
      )
      .map((member) => member.name);
    // What Angular's compiler reads: `ɵɵDirectiveDeclaration<Type, selector, exportAs, inputs, outputs, …>`.
    const declaration = readFileSync(join(root, 'dist', 'frameworks', 'angular.d.ts'), 'utf8')
      .split('\n')
      .find((line) => line.includes('ɵɵDirectiveDeclaration<WsConnectionDirective, "ws-connection",'));
    assert.ok(declaration, 'the directive is compiled for selector ws-connection');
    const inputs = [...declaration.matchAll(/"(\w+)": \{ "alias": "(\w+)"/g)].map(([, name, alias]) => {
      assert.equal(alias, name, `input ${name} keeps the property's name`);
      return name;
    });
    // The outputs follow the inputs: `{ "wsState": "ws-state"; … }`.
    const outputMap = /\}; \}, \{ ((?:"\w+": "[\w-]+"; )*)\}/.exec(declaration)[1];
    const outputs = [...outputMap.matchAll(/"\w+": "([\w-]+)";/g)].map(([, event]) => event);
    assert.deepEqual(inputs.sort(), [...settable].sort());
    assert.deepEqual(outputs.sort(), element.events.map((event) => event.name).sort());
  });

  for (const framework of FRAMEWORKS) {
    describe(framework.name, () => {
      const source = readFileSync(join(root, 'test', 'frameworks', framework.dir, framework.example), 'utf8');

      it(`passes ${basename(framework.check[0])} as written`, async () => {
        const dir = join(project, framework.dir);
        cpSync(join(root, 'test', 'frameworks', framework.dir), dir, {recursive: true});
        const {code, output} = await runChecker(framework.check, dir);
        assert.deepEqual(errorsByFile(output), []);
        assert.equal(code, 0, output);
      });

      it(`fails it with ${framework.typos.map((typo) => typo.what).join(', ')}`, async () => {
        // Every typo in a copy of its own, all checked in one run.
        const dir = join(project, `${framework.dir}-typos`);
        mkdirSync(dir);
        cpSync(join(root, 'test', 'frameworks', framework.dir, 'tsconfig.json'), join(dir, 'tsconfig.json'));
        const files = framework.typos.map((typo) => {
          assert.equal(source.split(typo.from).length, 2, `${typo.from} is in the example once`);
          const file = typoFile(framework.example, typo.what);
          writeFileSync(join(dir, file), source.replace(typo.from, typo.to));
          return file;
        });
        if (framework.dir === 'angular') {
          // Its tsconfig names the one file to compile.
          const config = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
          writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({...config, files}));
        }
        const {code, output} = await runChecker(framework.check, dir);
        assert.notEqual(code, 0, 'the checker exits non-zero');
        const errors = errorsByFile(output);
        framework.typos.forEach((typo, i) => {
          const messages = errors.filter((error) => error.file === files[i]).map((error) => error.message);
          assert.ok(
            messages.some((message) => typo.diagnostic.test(message)),
            `${typo.what}: expected ${typo.diagnostic}, got:\n${messages.join('\n') || '(no error)'}`,
          );
        });
        assert.deepEqual(
          errors.filter((error) => !files.includes(error.file)),
          [],
          'errors only in the copies with typos',
        );
      });
    });
  }
});
