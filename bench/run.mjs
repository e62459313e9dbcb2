// `npm run bench`: every figure of bench/README.md, measured in one run, ours
// next to raw WebSocket and the peers; prints the table and writes it to
// bench/results/ as JSON and markdown, with the storm chart beside them.
// `BENCH_ONLY=sharing` measures the sharing figures alone and puts them in
// place of those of the last run in bench/results/, saying so;
// `BENCH_ONLY=reliable-server` does the same for the server half's figures of
// `reliable` (Node clients, no browser).
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

  results.rows.push(
    {
      figure: 'Size, gzip: CDN entry, what every page loads (peers: minified library)',
      ours: sizes.bundle,
      ...Object.fromEntries(PEERS.map((p) => [p, sizes[p]])),
      unit: ' B',
      target: '≤ 9216 B',
      met: sizes.bundle <= 9 * 1024,
    },
    {
      figure: 'Size, gzip: the sharing chunk, loaded when an element first shares',
      ours: sizes.sharing,
      unit: ' B',
      target: '≤ 1536 B (the difference of the two targets)',
      met: sizes.sharing <= 1.5 * 1024,
    },
    {
      figure: 'Size, gzip: CDN entry with sharing',
      ours: sizes.bundle + sizes.sharing,
      unit: ' B',
      target: '≤ 10752 B',
      met: sizes.bundle + sizes.sharing <= 10.5 * 1024,
    },
    {
      figure: 'Size, gzip: engine alone, minified',
      ours: sizes.engine,
      unit: ' B',
      target: '≤ 2560 B',
      met: sizes.engine <= 2.5 * 1024,
    },
    {
      figure: 'Size, gzip: ws-connection/server.js, minified (Node only); in the CDN files?',
      ours: `${sizes.server} B; ${sizes.serverInBundle ? 'yes' : 'no'}`,
      target: 'not in the CDN files',
      met: !sizes.serverInBundle,
    },
  );

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
      ? ` The reliable server figures (rows beginning "Reliable") are from a later run of that part alone (\`BENCH_ONLY=reliable-server\`), ${results.reliableServerRun.date}; it took ${Math.round(results.reliableServerRun.durationMs / 1000)} s.`
      : '',
  ].join('');
  const markdown = `# Benchmark results\n\n${results.date}, headless Chromium, ${results.runs} rounds, ${results.messages} messages per throughput run; took ${Math.round(results.durationMs / 1000)} s.${partly} How each figure is measured: bench/README.md.\n\n${table(results)}\n\n![Reconnect storm](storm.svg)\n`;
  mkdirSync('bench/results', {recursive: true});
  writeFileSync('bench/results/results.json', `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync('bench/results/results.md', markdown);
  console.log(`\n${table(results)}\n`);
}

/** The sharing figures alone, in place of those of the last run in bench/results/. */
async function sharingOnly() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  const results = JSON.parse(readFileSync('bench/results/results.json', 'utf8'));
  log('sharing, in real tabs');
  const sharing = await shareFigures({executablePath: chromium.executable, peers: PEERS, log});
  const isSharing = (row) => row.part === 'sharing' || row.figure.startsWith('Shared');
  const at = results.rows.findIndex(isSharing);
  const others = results.rows.filter((row) => !isSharing(row));
  const rows = sharing.rows.map((row) => ({part: 'sharing', ...row}));
  const place = at === -1 ? others.length : at;
  results.rows = [...others.slice(0, place), ...rows, ...others.slice(place)];
  results.sharing = sharing.raw;
  results.sharingRun = {date: new Date().toISOString(), durationMs: Date.now() - started};
  write(results);
  log('wrote the sharing figures to bench/results/results.{json,md}');
}

/** The reliable server figures alone, in place of those of the last run in bench/results/. */
async function reliableServerOnly() {
  const started = Date.now();
  const results = JSON.parse(readFileSync('bench/results/results.json', 'utf8'));
  const figures = await reliableServerFigures({log});
  const others = results.rows.filter((row) => row.part !== 'reliable-server');
  const at = others.findIndex((row) => row.figure.startsWith('Size'));
  const rows = figures.rows.map((row) => ({part: 'reliable-server', ...row}));
  const place = at === -1 ? others.length : at;
  results.rows = [...others.slice(0, place), ...rows, ...others.slice(place)];
  results.reliableServer = figures.raw;
  results.reliableServerRun = {date: new Date().toISOString(), durationMs: Date.now() - started};
  write(results);
  log('wrote the reliable server figures to bench/results/results.{json,md}');
}

const parts = {sharing: sharingOnly, 'reliable-server': reliableServerOnly};
if (ONLY !== undefined && !parts[ONLY]) {
  throw new Error(`BENCH_ONLY=${ONLY}: choose one of ${Object.keys(parts).join(', ')}`);
}
(ONLY ? parts[ONLY]() : main()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
