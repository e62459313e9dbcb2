// `npm run soak`: one element in headless Chromium under random faults from a
// seeded generator, for a chosen time (SOAK_SECONDS or --seconds, default
// 600), used as applications use it (moved in one task, methods called from
// inside its own events, messages sent from its open event), with its
// invariants checked all along:
//   - never two sockets connecting or open, and the state agreeing with the socket;
//   - a move changes nothing: state, retry time and socket stay as they were;
//   - every message the server gets, it gets once, and in order on each connection;
//   - every message that waited in the queue is delivered;
//   - no timeout while only the page was frozen or hidden and the server was fine;
//   - back to open within timeout + max-reconnect-delay (+ slack) after each fault heals.
// Prints the figures, writes them to test-results/soak.json, and exits 1 if
// an invariant broke. SOAK_SEED or --seed replays a run; SOAK_FAULTS or
// --faults (a comma-separated list) narrows the faults. With --shared (or
// SOAK_SHARED=1), it soaks several tabs sharing one socket instead
// (soak/shared.mjs), and writes test-results/soak-shared.json. With
// --reliable (or SOAK_RELIABLE=1), the element is `reliable` against the
// server half's `reliable()` (its store kept across the server's restarts,
// as Redis keeps it), which echoes every message; then every message must
// arrive exactly once and in order across every connection, and so must
// every echo at the page: nothing lost in flight, no session lost. It writes
// test-results/soak-reliable.json.
/* global window -- page.evaluate callbacks run in the page */
import {mkdirSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {parseArgs} from 'node:util';
import puppeteer from 'puppeteer-core';
import {ensureBrowsers} from '../scripts/browsers.mjs';
import {CHROMIUM_FLAGS} from '../scripts/chromium-flags.mjs';
import {serveFiles} from '../scripts/serve-files.mjs';
import {MemoryStore} from '../dist/server/index.js';
import {ReliableRigServer, RigServer} from '../test/support/rig-server.mjs';
import {sharedSoak} from './shared.mjs';

const {values: args} = parseArgs({
  options: {
    seconds: {type: 'string'},
    seed: {type: 'string'},
    faults: {type: 'string'},
    shared: {type: 'boolean'},
    reliable: {type: 'boolean'},
  },
});
const RELIABLE = args.reliable || process.env.SOAK_RELIABLE === '1';
const SECONDS = Number(args.seconds ?? process.env.SOAK_SECONDS ?? 600);
const SEED = Number(args.seed ?? process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SETTINGS = {
  'heartbeat-interval': '500',
  timeout: '1000',
  'reconnect-delay': '100',
  'max-reconnect-delay': '2000',
};
/** After a fault heals, back to open within this. */
const RECOVERY_BOUND = 1000 + 2000 + 1500;
/** Open this long after recovering before the next fault, so what was flushed has arrived. */
const CALM = [1000, 2000];

/** mulberry32: a small, good, seedable generator. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(SEED);
const between = ([low, high]) => Math.round(low + random() * (high - low));
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => console.log(`[soak] ${line}`);

/**
 * Each fault: what it does, and what undoes it after a hold (none for the
 * instantaneous ones). `pageOnly` faults leave the network and server fine.
 */
function faults(server, page, cdp) {
  const hold = [300, 3000];
  return {
    // The reliable server's heartbeat cannot be muted; a blackhole silences the link all the same.
    ...(RELIABLE
      ? {}
      : {
          mute: {
            hold,
            apply: () => server.set({pong: false, echo: false}),
            heal: () => server.set({pong: true, echo: true}),
          },
        }),
    blackhole: {hold, apply: () => server.proxy.blackhole(), heal: () => server.proxy.heal()},
    kill: {hold, apply: () => server.kill(), heal: () => server.revive()},
    drop: {apply: () => server.terminateClients()},
    close: {
      apply: () =>
        server.closeClients({code: pick([1001, 1011, 1012, 1013, 4000, 4999]), reason: 'soak ✓'.repeat(10)}),
    },
    garbage: {apply: () => server.proxy.inject(Buffer.from([0xff, 0xff, 0xff, 0xff]))},
    offline: {
      hold,
      apply: () => cdp.send('Network.emulateNetworkConditions', offline(true)),
      heal: () => cdp.send('Network.emulateNetworkConditions', offline(false)),
    },
    hidden: {
      hold,
      pageOnly: true,
      apply: () => page.evaluate(() => window.soak.setVisibility(false)),
      heal: () => page.evaluate(() => window.soak.setVisibility(true)),
    },
    freeze: {
      hold,
      pageOnly: true,
      apply: () => cdp.send('Page.setWebLifecycleState', {state: 'frozen'}),
      heal: () => cdp.send('Page.setWebLifecycleState', {state: 'active'}),
    },
    // What applications do, with the network and server fine.
    move: {pageOnly: true, apply: () => page.evaluate(() => window.soak.move())},
    reenter: {
      pageOnly: true,
      apply: () =>
        page.evaluate(
          (action) => window.soak.reenter(action),
          pick(['reconnect', 'connect', 'send', 'move']),
        ),
    },
  };
}

const offline = (on) => ({offline: on, latency: 0, downloadThroughput: -1, uploadThroughput: -1});

function serve() {
  const http = createServer(
    serveFiles({root: process.cwd(), dirs: ['soak', 'dist'], index: 'soak/page.html'}),
  );
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(http)));
}

/** What the server received, checked against what the page sent. */
function deliveries(server, sent) {
  if (RELIABLE) return reliableDeliveries(server, sent);
  const seen = new Map();
  const lastOn = new Map();
  let outOfOrder = 0;
  server.received.forEach((message, i) => {
    if (typeof message !== 'string' || !message.startsWith('s:')) return;
    const seq = Number(message.slice(2));
    const connection = server.receivedOn[i];
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    if (seq <= (lastOn.get(connection) ?? 0)) outOfOrder++;
    lastOn.set(connection, seq);
  });
  return {
    received: seen.size,
    duplicates: [...seen.values()].filter((count) => count > 1).length,
    outOfOrder,
    lostQueued: sent.queued.filter((seq) => !seen.has(seq)).length,
    lostInFlight: sent.accepted.filter((seq) => !seen.has(seq)).length,
  };
}

/**
 * With `reliable`: the messages the sessions received, one session all
 * along, each once and in order across connections; and the echoes the
 * page received, the same.
 */
function reliableDeliveries(server, sent) {
  const numbers = server.received.map(({data}) => data).filter((data) => data.startsWith('s:'));
  const seqs = numbers.map((data) => Number(data.slice(2)));
  const seen = new Set(seqs);
  const inOrder = (list) => list.filter((seq, i) => i > 0 && seq <= list[i - 1]).length;
  const expected = [...sent.accepted, ...sent.queued];
  return {
    received: seen.size,
    duplicates: seqs.length - seen.size,
    outOfOrder: inOrder(seqs),
    lostQueued: sent.queued.filter((seq) => !seen.has(seq)).length,
    lostInFlight: sent.accepted.filter((seq) => !seen.has(seq)).length,
    sessions: new Set(server.received.map(({session}) => session)).size,
    echoes: {
      received: sent.echoes.length,
      missing: expected.filter((seq) => seen.has(seq) && !sent.echoes.includes(seq)).length,
      duplicates: sent.echoes.length - new Set(sent.echoes).size,
      outOfOrder: inOrder(sent.echoes),
    },
  };
}

async function main() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  const server = RELIABLE ? new ReliableRigServer({store: new MemoryStore()}) : new RigServer();
  await server.start();
  const http = await serve();
  const browser = await puppeteer.launch({
    executablePath: chromium.executable,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  const pageErrors = [];
  const report = {
    seed: SEED,
    seconds: SECONDS,
    faults: {},
    recoveries: [],
    falseTimeouts: 0,
    recoveryBound: RECOVERY_BOUND,
  };
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    await page.goto(`http://127.0.0.1:${http.address().port}/`);
    await page.waitForFunction(() => window.soakReady === true);
    await page.evaluate(
      (url, settings) => window.soak.start(url, settings),
      `ws://127.0.0.1:${server.proxy.port}`,
      RELIABLE ? {...SETTINGS, reliable: ''} : SETTINGS,
    );
    const isOpen = () => page.evaluate(() => window.soak.state() === 'open');
    const waitOpen = async (limit) => {
      const from = Date.now();
      while (!(await isOpen())) {
        if (Date.now() - from > limit) return null;
        await sleep(20);
      }
      return Date.now() - from;
    };
    if ((await waitOpen(10_000)) === null) throw new Error('the element never opened');
    log(`seed ${SEED}, ${SECONDS} s${RELIABLE ? ', reliable' : ''}`);

    const kinds = faults(server, page, cdp);
    // --faults mute,kill (or SOAK_FAULTS) keeps only those kinds.
    const only = (args.faults ?? process.env.SOAK_FAULTS)?.split(',');
    if (only) for (const name of Object.keys(kinds)) if (!only.includes(name)) delete kinds[name];
    const deadline = started + SECONDS * 1000;
    while (Date.now() < deadline) {
      const name = pick(Object.keys(kinds));
      const fault = kinds[name];
      const timeoutsBefore = await timeouts(page);
      await fault.apply();
      if (fault.hold) {
        // Half the time, a move in the middle of the fault: reconnecting, offline, hidden, connecting.
        const held = between(fault.hold);
        if (random() < 0.5 && name !== 'freeze') {
          await sleep(held / 2);
          await page.evaluate(() => window.soak.move());
          await sleep(held / 2);
        } else {
          await sleep(held);
        }
        await fault.heal();
      }
      report.faults[name] = (report.faults[name] ?? 0) + 1;
      const recovery = await waitOpen(RECOVERY_BOUND * 3);
      report.recoveries.push({fault: name, ms: recovery});
      await sleep(between(CALM));
      if (fault.pageOnly && (await timeouts(page)) > timeoutsBefore) {
        report.falseTimeouts++;
        log(`a timeout during "${name}", with the server fine`);
      }
      if (recovery === null || recovery > RECOVERY_BOUND)
        log(`"${name}": back to open after ${recovery ?? 'never'} ms`);
    }

    await page.evaluate(() => window.soak.stopSending());
    await sleep(1000);
    const sent = await page.evaluate(() => window.soak.finish());
    Object.assign(report, {
      messages: {
        sent: sent.sent,
        accepted: sent.accepted.length,
        queued: sent.queued.length,
        refused: sent.refused,
      },
      ...deliveries(server, sent),
      errors: sent.errors,
      duplicateSockets: sent.duplicateSockets,
      moves: sent.moves,
      movesThatChanged: sent.movesThatChanged.length,
      movesThatChangedExamples: sent.movesThatChanged.slice(0, 5),
      reentries: sent.reentries,
      inconsistencies: sent.inconsistencies.length,
      inconsistencyExamples: sent.inconsistencies.slice(0, 5),
      stateChanges: sent.states.length,
      stateLog: sent.states,
    });
  } finally {
    await browser.close();
    await server.stop();
    await new Promise((resolve) => http.close(resolve));
  }

  const slowest = Math.max(...report.recoveries.map((r) => r.ms ?? Infinity));
  report.slowestRecoveryMs = slowest;
  report.faultsInjected = report.recoveries.length;
  report.pageErrors = pageErrors;
  const broken = {
    'two sockets at once': report.duplicateSockets,
    'state disagreeing with the socket': report.inconsistencies,
    'moves that changed something': report.movesThatChanged,
    'messages received twice': report.duplicates,
    'messages out of order on a connection': report.outOfOrder,
    'queued messages lost': report.lostQueued,
    'timeouts with only the page frozen or hidden': report.falseTimeouts,
    [`recoveries slower than ${RECOVERY_BOUND} ms`]: report.recoveries.filter(
      (r) => r.ms === null || r.ms > RECOVERY_BOUND,
    ).length,
    'uncaught page errors': pageErrors.length,
    ...(RELIABLE && {
      'messages lost in flight': report.lostInFlight,
      'sessions (one expected)': report.sessions === 1 ? 0 : report.sessions,
      'sessions lost': report.errors['session-lost'] ?? 0,
      'echoes missing': report.echoes.missing,
      'echoes received twice': report.echoes.duplicates,
      'echoes out of order': report.echoes.outOfOrder,
    }),
  };
  report.violations = Object.fromEntries(Object.entries(broken).filter(([, count]) => count > 0));
  report.passed = Object.keys(report.violations).length === 0;
  report.durationMs = Date.now() - started;
  mkdirSync('test-results', {recursive: true});
  const file = RELIABLE ? 'test-results/soak-reliable.json' : 'test-results/soak.json';
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  log(
    `faults injected: ${report.faultsInjected} (${Object.entries(report.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
  log(
    `messages: ${report.messages.sent} sent, ${report.messages.queued} through the queue, ${report.received} received; ` +
      `${report.lostQueued} queued lost, ${report.lostInFlight} lost in flight on a failing connection, ${report.duplicates} duplicates`,
  );
  if (RELIABLE) {
    log(
      `reliable: ${report.sessions} session; echoes ${report.echoes.received} received, ${report.echoes.missing} missing, ` +
        `${report.echoes.duplicates} twice, ${report.echoes.outOfOrder} out of order; sessions lost ${report.errors['session-lost'] ?? 0}`,
    );
  }
  log(
    `duplicate sockets seen: ${report.duplicateSockets}; slowest recovery ${slowest} ms (bound ${RECOVERY_BOUND})`,
  );
  log(
    `moves: ${report.moves}, ${report.movesThatChanged} changed something; calls from inside events: ${Object.entries(
      report.reentries,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  for (const [what, count] of Object.entries(report.violations))
    console.error(`[soak] BROKEN: ${what}: ${count}`);
  log(report.passed ? 'all invariants held' : `replay with --seed ${SEED}`);
  process.exitCode = report.passed ? 0 : 1;
}

/** How many heartbeat or connect timeouts the element has reported. */
async function timeouts(page) {
  const errors = await page.evaluate(() => window.soak.errors());
  return (errors['heartbeat-timeout'] ?? 0) + (errors['connect-timeout'] ?? 0);
}

/** The shared mode: several tabs, one socket (soak/shared.mjs). */
async function mainShared() {
  const started = Date.now();
  const {chromium} = ensureBrowsers(['chromium']);
  log(`shared, seed ${SEED}, ${SECONDS} s`);
  const report = await sharedSoak({
    executablePath: chromium.executable,
    seconds: SECONDS,
    random,
    only: (args.faults ?? process.env.SOAK_FAULTS)?.split(','),
    log,
  });
  report.seed = SEED;
  report.seconds = SECONDS;
  report.violations = Object.fromEntries(Object.entries(report.broken).filter(([, count]) => count > 0));
  delete report.broken;
  report.passed = Object.keys(report.violations).length === 0;
  report.durationMs = Date.now() - started;
  mkdirSync('test-results', {recursive: true});
  writeFileSync('test-results/soak-shared.json', `${JSON.stringify(report, null, 2)}\n`);
  for (const [what, count] of Object.entries(report.violations))
    console.error(`[soak] BROKEN: ${what}: ${count}`);
  log(report.passed ? 'all invariants held' : `replay with --shared --seed ${SEED}`);
  process.exitCode = report.passed ? 0 : 1;
}

(args.shared || process.env.SOAK_SHARED === '1' ? mainShared : main)().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
