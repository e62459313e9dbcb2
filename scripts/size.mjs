// Prints the gzip sizes of the CDN build, the figures a page pays for: the
// entry every page loads, the sharing chunk it loads when an element first
// shares, the reliable chunk it loads when one is first reliable, and the
// entry with each. With `--check` it fails when one is over its budget
// (bench/README.md). With `--parts` (after `npm run build`) it also prints
// what each part of the entry costs: the entry's gzip size, bundled as
// rollup.config.mjs does, less its size with that part left out.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {gzipSync} from 'node:zlib';

// The targets are 9 KB for the entry and 10.5 KB with sharing (bench/README.md),
// and both are missed. These budgets stop them growing further unnoticed.
// The single file had grown to 15.56 KB as sharing learned to survive real
// tabs (a checked wire, liveness by answers, everyone's openMessages, final
// closes every tab hears of, tabs vouched for by the lock manager); loading
// sharing only on first use took its 5.4 KB out of the entry. What is left
// is Lit's ReactiveElement (2.7 KB), the engine (5.1 KB) and the element.
// Status words in the page's language (`statusText`, numbers by Intl) cost
// 0.19 KB more, and `reliable` 1.45 KB: the delivery protocol itself
// (frames, sequences, the endpoint, requests: 5.7 KB) loads on first use,
// but the engine's side of it (the option, request(), the handshake before
// `open`, session-lost and reliable-refused, ending the session on close())
// is in every page.
const BUDGETS = {
  entry: 12.75 * 1024,
  sharing: 5.75 * 1024,
  reliable: 6 * 1024,
  'entry with sharing': 18.25 * 1024,
  'entry with reliable': 18.5 * 1024,
};
const FILES = {
  entry: 'dist/ws-connection.bundled.js',
  sharing: 'dist/ws-connection.sharing.js',
  reliable: 'dist/ws-connection.reliable.js',
};

const gzip = (file) => gzipSync(readFileSync(file), {level: 9}).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;

/** The gzip size of each file of the CDN build, and of the entry with each chunk, in bytes. */
export function cdnSizes() {
  const entry = gzip(FILES.entry);
  const sharing = gzip(FILES.sharing);
  const reliable = gzip(FILES.reliable);
  return {
    entry,
    sharing,
    reliable,
    'entry with sharing': entry + sharing,
    'entry with reliable': entry + reliable,
  };
}

/** The parts of the entry, each by the paths (under dist/ or node_modules/) of its modules. */
const PARTS = {
  "Lit's ReactiveElement": ['/@lit/reactive-element/'],
  'the engine (src/client/)': ['/dist/client/'],
  '  of which WsClient alone (ws-client.ts)': ['/dist/client/ws-client.js'],
  '  of which option checks (options.ts)': ['/dist/client/options.js'],
  '  of which the heartbeat (heartbeat.ts)': ['/dist/client/heartbeat.js'],
  '  of which the queue (outgoing.ts)': ['/dist/client/outgoing.js'],
  "sharing's entry side (SharedClient, the chunk's loader)": ['/dist/share/'],
  'status words (status-text.ts)': ['/dist/status-text.js'],
  'placement (placement.ts)': ['/dist/placement.js'],
  'the element, with what only it imports (Lit, status words, placement)': ['/dist/ws-connection.js'],
};

/** What each part of the entry costs, in gzip bytes: the entry less the entry without it. */
async function partSizes() {
  const [{rollup}, {default: config}] = await Promise.all([import('rollup'), import('../rollup.config.mjs')]);
  const entryWithout = async (paths) => {
    const external = (id, importer) => {
      const resolved = importer && id.startsWith('.') ? path.resolve(path.dirname(importer), id) : id;
      return paths.some((part) => resolved.includes(part) || `/node_modules/${resolved}/`.includes(part));
    };
    const bundle = await rollup({...config, external});
    const {output} = await bundle.generate(config.output);
    return gzipSync(output[0].code, {level: 9}).length;
  };
  const whole = await entryWithout([]);
  const sizes = {};
  for (const [name, paths] of Object.entries(PARTS)) sizes[name] = whole - (await entryWithout(paths));
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = cdnSizes();
  for (const [name, bytes] of Object.entries(sizes)) {
    const file = FILES[name] ? ` (${FILES[name]}, ${kb(readFileSync(FILES[name]).length)} minified)` : '';
    console.log(`${name}${file}: ${kb(bytes)} gzip`);
  }
  if (process.argv.includes('--parts')) {
    for (const [name, bytes] of Object.entries(await partSizes())) console.log(`${name}: ${kb(bytes)} gzip`);
  }
  if (process.argv.includes('--check')) {
    for (const [name, budget] of Object.entries(BUDGETS)) {
      if (sizes[name] > budget) {
        console.error(`${name} is ${sizes[name] - budget} B over its ${kb(budget)} gzip budget`);
        process.exitCode = 1;
      } else {
        console.log(`${name} within its ${kb(budget)} gzip budget, ${budget - sizes[name]} B to spare`);
      }
    }
  }
}
