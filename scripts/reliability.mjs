// `npm run reliability`: writes docs/RELIABILITY.md from the last full
// `npm test` (test-results/tests.json) and the last `npm run soak`
// (test-results/soak.json) and `npm run soak -- --shared`
// (test-results/soak-shared.json): the fault, input and security matrix
// with each engine's outcome, and the soaks' figures.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';

const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The matrix's sections: which tests each takes. */
const SECTIONS = [
  {title: 'Faults', take: (test) => test.file === 'test/faults.test.ts'},
  {
    title: 'Behind a real reverse proxy (nginx, 2 s idle timeouts)',
    take: (test) => test.file === 'test/nginx.test.ts',
  },
  {
    title: 'Page lifecycle',
    take: (test) =>
      test.file === 'test/lifecycle.test.ts' ||
      (test.file === 'test/client/ws-client.real.test.ts' && test.path.includes('page lifecycle')),
  },
  {
    title: 'The engine against the real server',
    take: (test) =>
      test.file === 'test/client/ws-client.real.test.ts' && !test.path.includes('page lifecycle'),
  },
  {title: 'Bad input', take: (test) => test.file === 'test/bad-input.test.ts'},
  {
    title: 'Listeners that call methods from inside events',
    take: (test) => test.file === 'test/reentrancy.test.ts',
  },
  {
    title: 'Moves, and frameworks that reorder',
    take: (test) =>
      test.file === 'test/moves.test.ts' ||
      (test.file === 'test/controller.test.ts' &&
        (test.path.some((name) => name.startsWith('its host moved')) ||
          test.name.includes('never inserted'))),
  },
  {
    title: 'Properties as pages and frameworks set them',
    take: (test) => test.file === 'test/properties.test.ts',
  },
  {
    title: 'One socket shared across tabs (same-origin frames stand in for tabs)',
    take: (test) => /^test\/share\/tabs[\w-]*\.test\.ts$/.test(test.file),
  },
  {
    title: 'One socket shared within a page',
    take: (test) =>
      test.file === 'test/share/page.test.ts' ||
      (test.file === 'test/controller.test.ts' && test.name.startsWith('with shared')),
  },
  {
    title: 'Delivery you can count on (reliable, against the server half)',
    take: (test) => test.file === 'test/reliable.test.ts',
  },
  {
    title: 'Against the example server (keepAlive), and a server that never answers heartbeats',
    take: (test) => test.file === 'test/server.test.ts',
  },
  {
    title: 'Security',
    take: (test) =>
      /markup|query string|Content-Security-Policy|CSP/i.test(test.name) &&
      !['test/faults.test.ts', 'test/bad-input.test.ts'].includes(test.file),
  },
];

const read = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

/** "fault: expected" names split in two; other names are the expectation whole. */
function split(test) {
  const subject = [...test.path.slice(1), test.name].join(' › ');
  const colon = test.name.indexOf(': ');
  if (colon === -1) return {subject: test.path.slice(1).join(' › ') || '', expected: test.name};
  return {
    subject: [...test.path.slice(1), test.name.slice(0, colon)].join(' › ') || subject,
    expected: test.name.slice(colon + 2),
  };
}

function observed(test) {
  if (!test) return 'not run';
  if (test.outcome === 'passed') return `held (${Math.round(test.ms ?? 0)} ms)`;
  if (test.outcome === 'skipped') return 'SKIPPED';
  return `FAILED: ${test.error ?? ''}`;
}

function matrix(results) {
  const lines = [];
  const key = (test) => `${test.file}\u0000${test.path.join('\u0000')}\u0000${test.name}`;
  const byEngine = Object.fromEntries(
    ENGINES.map((engine) => [
      engine,
      new Map((results.engines[engine] ?? []).map((test) => [key(test), test])),
    ]),
  );
  const all = new Map();
  for (const engine of ENGINES) for (const test of results.engines[engine] ?? []) all.set(key(test), test);
  for (const section of SECTIONS) {
    const tests = [...all.values()].filter(section.take);
    if (!tests.length) continue;
    lines.push(`### ${section.title}`, '');
    lines.push(
      `| fault or input | expected | ${ENGINES.join(' | ')} |`,
      `|---|---|${ENGINES.map(() => '---').join('|')}|`,
    );
    for (const test of tests) {
      const {subject, expected} = split(test);
      const outcomes = ENGINES.map((engine) => observed(byEngine[engine].get(key(test))));
      lines.push(`| ${cell(subject)} | ${cell(expected)} | ${outcomes.map(cell).join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

const verdict = (soak) =>
  soak.passed ? 'every invariant held' : `BROKEN: ${Object.keys(soak.violations).join('; ')}`;

/** A soak's figures as a two-column table. */
function table(rows) {
  return [
    '| figure | value |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${cell(name)} | ${cell(value)} |`),
  ].join('\n');
}

function soakSection(soak) {
  if (!soak) return 'No soak run recorded: run `npm run soak`, then this script.\n';
  const faults = Object.entries(soak.faults)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  const rows = [
    [
      'duration',
      `${Math.round(soak.durationMs / 1000)} s (seed ${soak.seed}: \`npm run soak -- --seed ${soak.seed}\`)`,
    ],
    ['faults injected', `${soak.faultsInjected} (${faults})`],
    ['messages sent', soak.messages.sent],
    ['of which waited in the queue', soak.messages.queued],
    ['refused (queue full)', soak.messages.refused],
    ['received by the server', soak.received],
    ['queued and lost', soak.lostQueued],
    ['lost in flight on a failing connection', soak.lostInFlight],
    ['received twice', soak.duplicates],
    ['out of order on a connection', soak.outOfOrder],
    ['duplicate sockets seen', soak.duplicateSockets],
    ['state disagreeing with the socket (sampled every 50 ms)', soak.inconsistencies],
    ['timeouts with only the page frozen, hidden or used', soak.falseTimeouts],
    ['moves (alone and in the middle of faults)', soak.moves],
    ['moves that changed the state, the retry time or the socket', soak.movesThatChanged],
    [
      'methods called from inside the element’s own event',
      Object.entries(soak.reentries ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none',
    ],
    [
      'slowest return to open after a fault healed',
      `${soak.slowestRecoveryMs} ms (bound ${soak.recoveryBound} ms)`,
    ],
    ['uncaught page errors', soak.pageErrors.length],
    [
      'errors reported (ws-error kinds)',
      Object.entries(soak.errors)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none',
    ],
    ['verdict', verdict(soak)],
  ];
  return table(rows);
}

function sharedSoakSection(soak) {
  if (!soak) return 'No shared soak run recorded: run `npm run soak -- --shared`, then this script.\n';
  const list = (entries) => entries.map(([name, count]) => `${name} ${count}`).join(', ');
  const replaced = soak.hangs.map((hang) => hang.replacedMs);
  const rows = [
    [
      'duration',
      `${Math.round(soak.durationMs / 1000)} s (seed ${soak.seed}: \`npm run soak -- --shared --seed ${soak.seed}\`)`,
    ],
    ['tabs, elements per tab', `${soak.tabs}, ${soak.elements}`],
    ['faults injected', `${soak.faultsInjected} (${list(Object.entries(soak.faults))})`],
    ['connections the server accepted', soak.sockets],
    ['two sockets open at once across tabs (a hung tab’s excepted)', soak.overlaps.length],
    [
      'two sockets open for at most 500 ms just after a tab took the lock from a holder that did not answer',
      soak.overlapsAfterSteal?.length ?? 'not counted',
    ],
    ['messages accepted by the elements of the tabs open at the end', soak.accepted],
    ['of those, lost', soak.lost],
    ['of those, lost in flight on a connection the server cut', soak.lostInFlight ?? 0],
    ['repeated after a handover (at least once)', soak.duplicates],
    ['out of an element’s order', soak.outOfOrder],
    [
      'slowest return of every element to open after a fault',
      `${soak.slowestRecoveryMs} ms (bound ${soak.recoveryBound} ms)`,
    ],
    [
      'hung holder: the other tabs open again after',
      replaced.length ? `${Math.min(...replaced)}–${Math.max(...replaced)} ms` : 'no hang drawn',
    ],
    ['uncaught page errors', soak.pageErrors.length],
    ['verdict', verdict(soak)],
  ];
  return table(rows);
}

function reliableSoakSection(soak) {
  if (!soak) return 'No reliable soak run recorded: run `npm run soak -- --reliable`, then this script.\n';
  const rows = [
    [
      'duration',
      `${Math.round(soak.durationMs / 1000)} s (seed ${soak.seed}: \`npm run soak -- --reliable --seed ${soak.seed}\`)`,
    ],
    [
      'faults injected',
      `${soak.faultsInjected} (${Object.entries(soak.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    ],
    ['messages sent', soak.messages.sent],
    ['received by the server application', soak.received],
    ['lost (queued, or in flight on a failing connection)', soak.lostQueued + soak.lostInFlight],
    ['received twice', soak.duplicates],
    ['out of order, across connections', soak.outOfOrder],
    ['sessions (one for the whole run)', soak.sessions],
    ['echoes received by the page', soak.echoes.received],
    [
      'echoes missing, twice, out of order',
      `${soak.echoes.missing}, ${soak.echoes.duplicates}, ${soak.echoes.outOfOrder}`,
    ],
    ['duplicate sockets seen', soak.duplicateSockets],
    [
      'slowest return to open after a fault healed',
      `${soak.slowestRecoveryMs} ms (bound ${soak.recoveryBound} ms)`,
    ],
    ['uncaught page errors', soak.pageErrors.length],
    ['verdict', verdict(soak)],
  ];
  return table(rows);
}

const results = read('test-results/tests.json');
if (!results) {
  console.error('No test results: run the full `npm test` first (it writes test-results/tests.json).');
  process.exit(1);
}
const soak = read('test-results/soak.json');
const sharedSoak = read('test-results/soak-shared.json');
const reliableSoak = read('test-results/soak-reliable.json');
const missing = ENGINES.filter((engine) => !results.engines[engine]);

const document = `# Reliability

What \`<ws-connection>\` does when networks, servers, pages and callers
misbehave, as observed by the test suite in Chromium, Firefox and WebKit
against a real WebSocket server (the \`ws\` package), a TCP proxy that can
blackhole a link, and nginx. Generated by \`npm run reliability\` from the
full test run of ${results.date}${soak ? ` and the soak of ${Math.round(soak.durationMs / 60000)} minutes` : ''}; do not edit by hand.
${missing.length ? `\n**Not run in ${missing.join(', ')}.**\n` : ''}
"held" means every check of the test passed: the outcome in "expected", no
uncaught exception, and (where the test counts sockets) never two sockets
connecting or open. The figure in brackets is the test's duration.

## Matrix

${matrix(results)}
## What the engines do differently

- **WebKit** fails the connection on close codes 1012 (Service Restart) and
  1013 (Try Again Later), registered after RFC 6455, and reports 1006 without
  the reason; the element acts on the code the browser reports, so a custom
  stop list naming 1012 or 1013 does not stop it there. Every other code in
  the matrix arrives as sent, in every engine.
- **Firefox** keeps one WebSocket per host connecting at a time and holds
  back reconnects to a host that just failed (RFC 6455 §4.1, §7.2.3). A
  connect \`timeout\` shorter than that hold abandons held attempts: after an
  outage, Firefox may take a few seconds longer to reconnect with a short
  \`timeout\`. It may also hold a connection that received garbage until the
  heartbeat gives it up, where Chromium and WebKit fail it at once.
- **Chromium** closes a page's WebSockets (1006) when the page is frozen; the
  element reconnects when it resumes, and reports no timeout.

Offline and online are tested in the matrix with the events the browser
fires, in all three engines; the browser's own network emulation (Chromium's
offline mode) would also cut the test runner's connection to the page, so it
is exercised in the soak below, which drives the page directly.

## Soak

One element in headless Chromium under random faults from a seeded generator
(\`npm run soak\`, soak/run.mjs), sending a numbered message every 20 ms
whatever its state, and one more from inside every open event. The faults:
server muted (no pongs, no echo), half-open link (blackhole), server killed
and revived, every connection dropped, closes with 1001, 1011, 1012, 1013,
4000 or 4999 and a long UTF-8 reason, garbage bytes, Chromium's offline
mode, the page hidden, and the page frozen; each held for 0.3–3 s, then
healed, then 1–2 s of calm once open again. Between them, and in the middle
of half the held ones, what applications do: the element moved in one task,
and reconnect(), connect(), send() or a move called from inside the
connecting event of a reconnect. Messages handed to a connection that then fails can be lost in
flight (WebSocket has no acknowledgements); those that waited in the queue
must not be.

${soakSection(soak)}

## Shared soak

Real tabs of one headless Chromium context sharing one socket
(\`npm run soak -- --shared\`, soak/shared.mjs), each element sending a
numbered message every 100 ms and holding a subscription of its own. The
faults: the holding tab closed, reloaded, sent into the back/forward cache
and back, frozen, or hung in the debugger for 1.5–4 s; a following tab
closed or reloaded; a tab's timers run late as a background tab's (aligned
to 1 s or 5 s); junk posted on the tabs' channels, old and new; elements
added and removed, with the server up or down; a stop code while one or two
followers are paused in the debugger; the server closing every connection
(1001, 1011, 1012 or 4000) or restarting. A closed tab is replaced by a fresh
one. The same cases with fixed timing are tests in the Node suite
(test/node/share-tabs.node.test.mjs, test/node/share-background.node.test.mjs;
and in a deterministic world of many tabs, test/node/share-world.node.test.mjs
and seeded random histories in test/node/share-random.node.test.mjs), and,
with frames standing in for tabs, in the matrix above in all three engines.

${sharedSoakSection(sharedSoak)}

## Reliable soak

The same element, faults and calls from inside its events as the first
soak, with \`reliable\` against the server half's \`reliable()\`
(\`npm run soak -- --reliable\`), whose store outlives the server's
restarts as Redis would, and which echoes every message back. No muted
server here: its heartbeat belongs to \`reliable()\`; the blackhole silences
the link instead. Here nothing may be lost in flight: every message reaches
the server application once and in order across every connection, every
echo reaches the page once and in order, and the session carries on
through all of it.

${reliableSoakSection(reliableSoak)}
`;

mkdirSync('docs', {recursive: true});
writeFileSync('docs/RELIABILITY.md', document);
console.log(`wrote docs/RELIABILITY.md${missing.length ? ` (not run in ${missing.join(', ')})` : ''}`);
