// `npm run bench`: every figure of bench/README.md, measured in one run, ours
// next to raw WebSocket and the peers; prints the table and writes it to
// bench/results/ as JSON and markdown, with the storm chart beside them.
// `BENCH_ONLY=sharing` measures the sharing figures alone and puts them in
// place of those of the last run in bench/results/, saying so;
// `BENCH_ONLY=reliable-server` does the same for the server half's figures of
// `reliable` (Node clients, no browser), and `BENCH_ONLY=reliable` for the
// element with `reliable` against the plain element, in the browser.
/* global window -- page.evaluate callbacks run in the page */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import puppeteer from 'puppeteer-core';
import {ensureBrowsers} from '../scripts/browsers.mjs';
import {CHROMIUM_FLAGS, ON_TIME_TIMER_FLAGS} from '../scripts/chromium-flags.mjs';
import {buildPeers, peers} from './peers.mjs';
import {reliableServerFigures} from './reliable-server.mjs';
import {startBenchServer} from './server.mjs';
import {shareFigures} from './share.mjs';
import {storm, stormChart} from './storm.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY;
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PEERS = Object.keys(peers);
const HEARTBEAT = 500;
const TIMEOUT = 1000;
const NO_HEARTBEAT_LIMIT = 2000;

const median = (values) => {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const began = Date.now();
const log = (line) => console.log(`[bench ${Math.round((Date.now() - began) / 1000)} s] ${line}`);

/**
 * Raw, the element and the engine take turns, in a rotating order; each ratio
 * is raw/library within one round. (The peers are thin wrappers whose cost is
 * not in question, and a browser here takes seconds per 100,000 messages.)
 */
async function throughput(page, server, kind) {
  const libraries = ['raw', 'element', 'engine'];
  const times = Object.fromEntries(libraries.map((name) => [name, []]));
  const ratios = Object.fromEntries(libraries.slice(1).map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = libraries.map((_, i) => libraries[(i + run) % libraries.length]);
    const round = {};
    for (const name of order) {
      round[name] = await page.evaluate(
        (k, n, u, c) => window.bench[k](n, u, c),
        kind,
        name,
        server.url,
        MESSAGES,
      );
      times[name].push(round[name]);
    }
    for (const name of libraries.slice(1)) ratios[name].push(round.raw / round[name]);
    log(
      `${kind} round ${run + 1}/${RUNS}: ${order.map((n) => `${n} ${Math.round(round[n])} ms`).join(', ')}`,
    );
  }
  return {
    roundsMs: times,
    medianMs: Object.fromEntries(libraries.map((name) => [name, median(times[name])])),
    rawRange: [Math.min(...times.raw), Math.max(...times.raw)],
    ratio: Object.fromEntries(Object.entries(ratios).map(([name, values]) => [name, median(values)])),
    ratioRange: Object.fromEntries(
      Object.entries(ratios).map(([name, values]) => [name, [Math.min(...values), Math.max(...values)]]),
    ),
  };
}

/**
 * The element with `reliable` (against the server half) and without (against
 * the plain server) take turns, in a rotating order, each way; each ratio is
 * plain/reliable within one round, so 1 means no cost.
 */
async function reliableThroughput(page, server, kind) {
  const runs = {element: server.url, reliable: server.reliableUrl};
  const times = {element: [], reliable: []};
  const ratios = [];
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 ? ['reliable', 'element'] : ['element', 'reliable'];
    const round = {};
    for (const name of order) {
      round[name] = await page.evaluate(
        (k, n, u, c) => window.bench[k](n, u, c),
        kind,
        name,
        runs[name],
        MESSAGES,
      );
      times[name].push(round[name]);
    }
    ratios.push(round.element / round.reliable);
    log(
      `reliable ${kind} round ${run + 1}/${RUNS}: ${order.map((n) => `${n} ${Math.round(round[n])} ms`).join(', ')}`,
    );
  }
  return {
    roundsMs: times,
    medianMs: {element: median(times.element), reliable: median(times.reliable)},
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
  };
}

/** The rows of the reliable throughput figures, and their raw data. */
async function reliableFigures(page, server) {
  const inbound = await reliableThroughput(page, server, 'inbound');
  const outbound = await reliableThroughput(page, server, 'outbound');
  const rows = [
    ['Inbound', inbound],
    ['Outbound', outbound],
  ].map(([kind, data]) => ({
    figure: `Reliable: ${kind.toLowerCase()} ${MESSAGES} msgs, element with reliable vs without, median ratio (range; medians)`,
    ours:
      `${data.ratio.toFixed(3)} (${data.ratioRange.map((r) => r.toFixed(2)).join('–')}; ` +
      `${Math.round(data.medianMs.reliable)} ms, ${Math.round(data.medianMs.element)} ms)`,
    target: '≥ 0.8',
    met: data.ratio >= 0.8,
  }));
  return {rows, raw: {inbound, outbound}};
}

/** What a size row was called before sharing became a chunk of its own: the entry with sharing. */
const FORMER_SIZE_FIGURES = {
  'Size, gzip: CDN bundle with Lit and sharing (peers: minified library)':
    'Size, gzip: CDN entry with sharing',
};

/** The size rows' figures of the last run in bench/results/, by figure, to show beside the new ones. */
function previousSizes() {
  try {
    const {rows} = JSON.parse(readFileSync('bench/results/results.json', 'utf8'));
    return new Map(
      rows
        .filter((row) => row.figure.startsWith('Size'))
        .map((row) => [
          FORMER_SIZE_FIGURES[row.figure] ?? row.figure,
          row.bytes ?? (typeof row.ours === 'number' ? row.ours : undefined),
        ]),
    );
  } catch {
    return new Map();
  }
}

/** The size rows: each CDN file and pair in gzip bytes, beside the last run's and the peers'. */
function sizeRows(sizes, previous) {
  const row = (figure, bytes, target, peers = false) => {
    const before = previous.get(figure);
    const change = before === undefined || before === bytes ? '' : ` (was ${before} B)`;
    return {
      part: 'size',
      figure,
      bytes,
      ours: `${bytes} B${change}`,
      ...(peers ? Object.fromEntries(PEERS.map((p) => [p, `${sizes[p]} B`])) : {}),
      // `reliable`'s cost is reported, with no target of its own.
      target: target === undefined ? 'reported' : `≤ ${target} B`,
      met: target === undefined ? undefined : bytes <= target,
    };
  };
  return [
    row(
      'Size, gzip: CDN entry, what every page loads (peers: minified library)',
      sizes.entry,
      9 * 1024,
      true,
    ),
    row('Size, gzip: the sharing chunk, loaded when an element first shares', sizes.sharing, 1.5 * 1024),
    row('Size, gzip: CDN entry with sharing', sizes['entry with sharing'], 10.5 * 1024),
    row('Size, gzip: the reliable chunk, loaded when an element is first reliable', sizes.reliable),
    row('Size, gzip: CDN entry with reliable', sizes['entry with reliable']),
    row('Size, gzip: engine alone, minified', sizes.engine, 2.5 * 1024),
    {
      part: 'size',
      figure: 'Size, gzip: ws-connection/server.js, minified (Node only); in the CDN files?',
      ours: `${sizes.server} B; ${sizes.serverInBundle ? 'yes' : 'no'}`,
      target: 'not in the CDN files',
      met: !sizes.serverInBundle,
    },
  ];
}

/** ms from blackholing the link to the library giving its socket up (null: not within the limit). */
async function detection(page, server, name, runs) {
  const results = [];
  const heartbeat = name === 'element' || name === 'engine' || name === 'websocket-heartbeat-js';
  for (let run = 0; run < runs; run++) {
    await page.evaluate((n, u, o) => window.bench.arm(n, u, o), name, server.proxyUrl, {
      heartbeat: HEARTBEAT,
      timeout: TIMEOUT,
    });
    server.proxy.blackhole();
    const holedAt = Date.now();
    const gaveUp = await page.evaluate(
      (limit) => window.bench.givenUp(limit),
      heartbeat ? 5000 : NO_HEARTBEAT_LIMIT,
    );
    results.push(gaveUp === null ? null : gaveUp - holedAt);
    await page.evaluate(() => window.bench.release());
    server.proxy.heal();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return median(results);
}

/** ms from the server being back after a restart to the library open again. */
async function recovery(page, server, name, runs) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    await page.evaluate((n, u) => window.bench.arm(n, u, {}), name, server.url);
    const reopened = page.evaluate(() => window.bench.reopened(20_000));
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.revive();
    const upAt = Date.now();
    const at = await reopened;
    results.push(at === null ? null : Math.max(0, at - upAt));
    await page.evaluate(() => window.bench.release());
  }
  return median(results);
}

/** ms from `online` to the library's next connection attempt, while it waits to retry. */
async function onlineReaction(page, server, name) {
  await page.evaluate((n, u) => window.bench.arm(n, u, {}), name, server.url);
  await server.kill();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ms = await page.evaluate(() => window.bench.onlineToAttempt(5000));
  await page.evaluate(() => window.bench.release());
  await server.revive();
  return ms;
}

async function churn(page, server, cdp) {
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  await page.evaluate((u) => window.bench.churn(u, 20), server.url);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const openBefore = server.open;
  const before = await heap();
  const result = await page.evaluate((u) => window.bench.churn(u, 1000), server.url);
  const after = await heap();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    openLeft: server.open - openBefore,
    timersLeft: result.pendingTimers,
    heapGrowthBytes: after - before,
  };
}

function table(results) {
  const columns = ['ours', ...PEERS];
  const fmt = (value, unit = '') => {
    if (value === null || value === undefined) return '–';
    if (typeof value === 'string') return value;
    return `${Number.isInteger(value) ? value : value.toFixed(unit === '' ? 3 : 0)}${unit}`;
  };
  const rows = results.rows.map((row) => ({
    figure: row.figure,
    ...Object.fromEntries(columns.map((c) => [c, fmt(row[c], row.unit)])),
    target: row.target,
    met: row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  }));
  const headers = ['figure', ...columns, 'target', 'met'];
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(headers.map((h) => r[h]))),
  ].join('\n');
}

async function main() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  const {modules, sizes} = await buildPeers();
  const server = await startBenchServer(modules);
  const browser = await puppeteer.launch({
    executablePath: chromium.executable,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...ON_TIME_TIMER_FLAGS],
  });
  const results = {date: new Date().toISOString(), runs: RUNS, messages: MESSAGES, rows: []};
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.goto(server.pageUrl);
    await page.waitForFunction(() => window.benchReady === true);
    const cdp = await page.createCDPSession();

    const inbound = await throughput(page, server, 'inbound');
    const outbound = await throughput(page, server, 'outbound');
    results.throughput = {inbound, outbound};
    for (const [kind, data] of [
      ['Inbound', inbound],
      ['Outbound', outbound],
    ]) {
      results.rows.push(
        {
          figure: `${kind} ${MESSAGES} msgs: raw/element, median ratio (range)`,
          ours: `${data.ratio.element.toFixed(3)} (${data.ratioRange.element.map((r) => r.toFixed(2)).join('–')})`,
          target: '≥ 0.95',
          met: data.ratio.element >= 0.95,
        },
        {
          figure: `${kind} ${MESSAGES} msgs: raw/engine, median ratio (range)`,
          ours: `${data.ratio.engine.toFixed(3)} (${data.ratioRange.engine.map((r) => r.toFixed(2)).join('–')})`,
          target: '≥ 0.95',
          met: data.ratio.engine >= 0.95,
        },
        {
          figure: `${kind}: raw WebSocket, median (range)`,
          ours: `${Math.round(data.medianMs.raw)} ms (${data.rawRange.map(Math.round).join('–')} ms)`,
          target: '',
        },
      );
    }

    log('reliable against plain');
    const reliableRun = await reliableFigures(page, server);
    results.reliable = reliableRun.raw;
    results.rows.push(...reliableRun.rows.map((row) => ({part: 'reliable', ...row})));

    // The library's own share of a received message, apart from the network and its noise.
    const rawMicros = (inbound.medianMs.raw * 1000) / MESSAGES;
    const own = {};
    for (const name of ['element', 'engine']) {
      own[name] = await page.evaluate((n, c, r) => window.bench.ownCost(n, c, r), name, MESSAGES, 5);
    }
    results.ownCost = {...own, rawMicros};
    results.rows.push({
      figure: 'Per message received, own cost without the network: element (engine)',
      ours: `${own.element.toFixed(2)} µs (${own.engine.toFixed(2)} µs)`,
      target: `≤ ${(rawMicros * 0.05).toFixed(2)} µs (5 % of raw's ${rawMicros.toFixed(1)} µs)`,
      met: own.element <= rawMicros * 0.05,
    });

    log('churn');
    const churned = await churn(page, server, cdp);
    results.rows.push(
      {
        figure: '1000 connect/close: connections left open',
        ours: churned.openLeft,
        target: '0',
        met: churned.openLeft === 0,
      },
      {
        figure: '1000 connect/close: timers left pending',
        ours: churned.timersLeft,
        target: '0',
        met: churned.timersLeft === 0,
      },
      {
        figure: '1000 connect/close: heap growth after GC',
        ours: Math.round(churned.heapGrowthBytes / 1024),
        unit: ' KB',
        target: '< 1024 KB',
        met: churned.heapGrowthBytes < 1024 * 1024,
      },
    );

    log('dead-connection detection');
    const detect = {element: await detection(page, server, 'element', 3)};
    for (const peer of PEERS) {
      detect[peer] = await detection(page, server, peer, 1);
    }
    const noDetect = `not in ${NO_HEARTBEAT_LIMIT / 1000} s`;
    results.rows.push({
      figure: `Half-open detected (heartbeat ${HEARTBEAT} ms, timeout ${TIMEOUT} ms)`,
      ours: detect.element,
      ...Object.fromEntries(PEERS.map((p) => [p, detect[p] ?? noDetect])),
      unit: ' ms',
      target: `≤ ${HEARTBEAT + TIMEOUT + 100} ms`,
      met: detect.element !== null && detect.element <= HEARTBEAT + TIMEOUT + 100,
    });

    log('recovery');
    const recover = {element: await recovery(page, server, 'element', 3)};
    for (const peer of PEERS) recover[peer] = await recovery(page, server, peer, 1);
    results.rows.push({
      figure: 'Server restart → open again (after it is back)',
      ours: recover.element,
      ...Object.fromEntries(PEERS.map((p) => [p, recover[p] ?? 'not in 20 s'])),
      unit: ' ms',
      target: '',
    });
    const online = {element: await onlineReaction(page, server, 'element')};
    for (const peer of PEERS) online[peer] = await onlineReaction(page, server, peer);
    results.rows.push({
      figure: '`online` → first attempt',
      ours: online.element,
      ...Object.fromEntries(PEERS.map((p) => [p, online[p] ?? 'none in 5 s'])),
      unit: ' ms',
      target: '',
    });
  } finally {
    await browser.close();
    await server.stop();
  }

  log('sharing, in real tabs');
  const sharing = await shareFigures({executablePath: chromium.executable, peers: PEERS, log});
  results.rows.push(...sharing.rows.map((row) => ({part: 'sharing', ...row})));
  results.sharing = sharing.raw;

  const reliableServer = await reliableServerFigures({log});
  results.rows.push(...reliableServer.rows.map((row) => ({part: 'reliable-server', ...row})));
  results.reliableServer = reliableServer.raw;

  results.rows.push(...sizeRows(sizes, previousSizes()));

  log('reconnect storm (1000 engines in Node)');
  const jittered = await storm({fixed: false});
  const fixedDelay = await storm({fixed: true});
  results.rows.push(
    {
      figure: 'Storm, 1000 clients: busiest 100 ms window (fixed delay, no jitter)',
      ours: `${(jittered.busiestShare * 100).toFixed(1)} % (${(fixedDelay.busiestShare * 100).toFixed(1)} %)`,
      target: '≤ 12 %',
      met: jittered.busiestShare <= 0.12,
    },
    {
      figure: 'Storm, 1000 clients: all back after (fixed delay, no jitter)',
      ours: `${jittered.allBackMs} ms (${fixedDelay.allBackMs} ms)`,
      target: '',
    },
  );
  results.storm = {jittered, fixedDelay};
  results.durationMs = Date.now() - started;

  write(results);
  writeFileSync('bench/results/storm.svg', stormChart(jittered, fixedDelay));
  log(`wrote bench/results/results.{json,md} and storm.svg in ${Math.round(results.durationMs / 1000)} s`);
}

/** Writes `results` to bench/results/ as JSON and markdown, and prints the table. */
function write(results) {
  const partly = [
    results.sharingRun
      ? ` The sharing figures (rows beginning "Shared") are from a later run of the sharing part alone (\`BENCH_ONLY=sharing\`), ${results.sharingRun.date}; it took ${Math.round(results.sharingRun.durationMs / 1000)} s.`
      : '',
    results.reliableServerRun
      ? ` The reliable server figures (rows beginning "Reliable," with a comma) are from a later run of that part alone (\`BENCH_ONLY=reliable-server\`), ${results.reliableServerRun.date}; it took ${Math.round(results.reliableServerRun.durationMs / 1000)} s.`
      : '',
    results.sizeRun
      ? ` The size figures (rows beginning "Size") are from a later run of that part alone (\`BENCH_ONLY=size\`), ${results.sizeRun.date}.`
      : '',
    results.reliableRun
      ? ` The element's reliable throughput figures (rows beginning "Reliable:") are from a later run of that part alone (\`BENCH_ONLY=reliable\`), ${results.reliableRun.date}; it took ${Math.round(results.reliableRun.durationMs / 1000)} s.`
      : '',
  ].join('');
  const markdown = `# Benchmark results\n\n${results.date}, headless Chromium, ${results.runs} rounds, ${results.messages} messages per throughput run; took ${Math.round(results.durationMs / 1000)} s.${partly} How each figure is measured: bench/README.md.\n\n${table(results)}\n\n![Reconnect storm](storm.svg)\n`;
  mkdirSync('bench/results', {recursive: true});
  writeFileSync('bench/results/results.json', `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync('bench/results/results.md', markdown);
  console.log(`\n${table(results)}\n`);
}

/**
 * Puts `rows` in place of `part`'s rows of the last run (`matches` picks them),
 * where those were, or before the first row `before` picks when there were none.
 */
function replaceRows(results, part, rows, {matches = (row) => row.part === part, before} = {}) {
  const at = results.rows.findIndex(matches);
  const others = results.rows.filter((row) => !matches(row));
  const found = before ? others.findIndex(before) : at;
  const place = found === -1 ? others.length : found;
  results.rows = [...others.slice(0, place), ...rows.map((row) => ({part, ...row})), ...others.slice(place)];
}

/**
 * Writes one part's figures (`rows`, and `raw` under `key`) in place of
 * those of the last run in bench/results/, with the date of this run and,
 * given `started`, how long it took.
 */
function savePart({key, part, rows, raw, started, placement}) {
  const results = JSON.parse(readFileSync('bench/results/results.json', 'utf8'));
  replaceRows(results, part, rows, placement);
  if (raw !== undefined) results[key] = raw;
  results[`${key}Run`] = {
    date: new Date().toISOString(),
    ...(started === undefined ? {} : {durationMs: Date.now() - started}),
  };
  write(results);
  log(`wrote the ${part} figures to bench/results/results.{json,md}`);
}

/** The sharing figures alone, in place of those of the last run in bench/results/. */
async function sharingOnly() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  readFileSync('bench/results/results.json'); // there is a last run to put them in
  log('sharing, in real tabs');
  const {rows, raw} = await shareFigures({executablePath: chromium.executable, peers: PEERS, log});
  savePart({
    key: 'sharing',
    part: 'sharing',
    rows,
    raw,
    started,
    placement: {
      matches: (row) => row.part === 'sharing' || row.figure.startsWith('Shared'),
    },
  });
}

/** The reliable server figures alone, in place of those of the last run in bench/results/. */
async function reliableServerOnly() {
  const started = Date.now();
  readFileSync('bench/results/results.json');
  const {rows, raw} = await reliableServerFigures({log});
  savePart({
    key: 'reliableServer',
    part: 'reliable-server',
    rows,
    raw,
    started,
    placement: {
      before: (row) => row.figure.startsWith('Size'),
    },
  });
}

/** The element's reliable throughput figures alone, in place of those of the last run in bench/results/. */
async function reliableOnly() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  readFileSync('bench/results/results.json');
  const server = await startBenchServer((await buildPeers()).modules);
  const browser = await puppeteer.launch({
    executablePath: chromium.executable,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...ON_TIME_TIMER_FLAGS],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.goto(server.pageUrl);
    await page.waitForFunction(() => window.benchReady === true);
    log('reliable against plain');
    const {rows, raw} = await reliableFigures(page, server);
    savePart({
      key: 'reliable',
      part: 'reliable',
      rows,
      raw,
      started,
      placement: {
        before: (row) => row.part === 'reliable-server' || row.figure.startsWith('Reliable'),
      },
    });
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** The size rows alone, in place of those of the last run in bench/results/ (after `npm run build`). */
async function sizeOnly() {
  const {sizes} = await buildPeers();
  savePart({
    key: 'size',
    part: 'size',
    rows: sizeRows(sizes, previousSizes()),
    placement: {
      matches: (row) => row.part === 'size' || row.figure.startsWith('Size'),
    },
  });
}

const parts = {
  sharing: sharingOnly,
  'reliable-server': reliableServerOnly,
  reliable: reliableOnly,
  size: sizeOnly,
};
if (ONLY !== undefined && !parts[ONLY]) {
  throw new Error(`BENCH_ONLY=${ONLY}: choose one of ${Object.keys(parts).join(', ')}`);
}
(ONLY ? parts[ONLY]() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
