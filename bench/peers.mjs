// The libraries users pick instead, bundled for the browser with esbuild, and
// the minified gzip size of each (and of our engine alone) for the size table.
import {readFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import {build} from 'esbuild';
import {CDN_FILES, cdnSizes} from '../scripts/size.mjs';

/** Peer name → how to import it and which export is the constructor. */
export const peers = {
  'reconnecting-websocket': {module: 'reconnecting-websocket', pick: 'default'},
  partysocket: {module: 'partysocket/ws', pick: 'default'},
  'websocket-heartbeat-js': {module: 'websocket-heartbeat-js', pick: 'default'},
  sockette: {module: 'sockette', pick: 'default'},
};

/** The chunk the engine loads on first use of `reliable` stays out, as a CDN or splitting bundler keeps it. */
const reliableChunkApart = {
  name: 'reliable-chunk-apart',
  setup(build) {
    build.onResolve({filter: /\/reliable\.js$/}, (args) =>
      args.kind === 'dynamic-import' ? {path: args.path, external: true} : undefined,
    );
  },
};

async function bundle(contents, minify, platform = 'browser') {
  const result = await build({
    stdin: {contents, resolveDir: process.cwd(), loader: 'js'},
    bundle: true,
    platform,
    plugins: [reliableChunkApart],
    format: 'esm',
    minify,
    write: false,
    target: 'es2022',
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

const gzip = (bytes) => gzipSync(bytes, {level: 9}).length;

/** Browser modules for the bench page, and minified gzip sizes. */
export async function buildPeers() {
  const modules = {};
  const sizes = {};
  for (const [name, {module, pick}] of Object.entries(peers)) {
    // Some peers are CommonJS or UMD; unwrap a `default` that holds the constructor.
    const source = `import * as m from '${module}';\nconst v = m.${pick};\nexport default (v && v.default) || v;\n`;
    modules[name] = Buffer.from(await bundle(source, false));
    sizes[name] = gzip(await bundle(`export * from '${module}'; export {default} from '${module}';`, true));
  }
  sizes.engine = gzip(await bundle(`export * from './dist/client/index.js';`, true));
  // For Node, whose built-in modules (`node:crypto`) stay imports.
  sizes.server = gzip(await bundle(`export * from './dist/server/index.js';`, true, 'node'));
  // The CDN files and pairs, measured as `npm run size` measures them.
  Object.assign(sizes, cdnSizes());
  // The server's half is for Node: none of it may reach the browser's files.
  sizes.serverInBundle = Object.values(CDN_FILES).some((file) => readFileSync(file).includes('keepAlive'));
  return {modules, sizes};
}
