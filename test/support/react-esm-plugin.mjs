// React 19 ships CommonJS only, which browsers cannot import. This test-server
// plugin bundles React's entry points once, together (so there is one React),
// with esbuild, and serves each entry as an ES module whose export names are
// read by loading that entry in a separate Node process (React patches the
// console when loaded, which the test runner's own console does not allow).
import {execFileSync} from 'node:child_process';
import {build} from 'esbuild';

const entries = [
  'react',
  'react-dom',
  'react-dom/client',
  'react-dom/server',
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
];
const bundlePath = '/__react/bundle.js';
const facadePath = (entry) => `/__react/${entry.replaceAll('/', '__')}.js`;

function facade(entry) {
  const script = `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(entry)}))))`;
  const names = JSON.parse(execFileSync(process.execPath, ['-e', script], {encoding: 'utf8'})).filter(
    (name) => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name),
  );
  const index = entries.indexOf(entry);
  return [
    `import {entry${index} as module} from '${bundlePath}';`,
    'export default module.default;',
    `export const {${names.join(', ')}} = module;`,
  ].join('\n');
}

export function reactEsmPlugin() {
  let bundle;
  return {
    name: 'react-esm',
    resolveImport({source}) {
      return entries.includes(source) ? facadePath(source) : undefined;
    },
    async serve({path}) {
      if (path === bundlePath) {
        bundle ??= build({
          stdin: {
            contents: entries.map((entry, i) => `export * as entry${i} from '${entry}';`).join('\n'),
            resolveDir: process.cwd(),
          },
          bundle: true,
          format: 'esm',
          write: false,
          define: {'process.env.NODE_ENV': JSON.stringify('development')},
        }).then((result) => result.outputFiles[0].text);
        return {body: await bundle, type: 'js'};
      }
      const entry = entries.find((candidate) => path === facadePath(candidate));
      return entry ? {body: facade(entry), type: 'js'} : undefined;
    },
  };
}
