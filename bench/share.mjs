// The sharing figures of bench/README.md, measured with real tabs of one
// Chromium browser context (test/support/tabs.mjs) against the rig server,
// which counts connections and records what it receives. Each tab holds
// three `<ws-connection shared>` elements with a 500 ms heartbeat and a
// 1000 ms timeout. The figures of harder lives (late timers, outages,
// joiners, a paused holder) are in bench/share-cases.mjs.
import {allOpen, deliveries, holder, sleep, startTabs, until} from '../test/support/tabs.mjs';
import {shareCaseFigures} from './share-cases.mjs';

const TABS = 10;
const ELEMENTS = 3;
const HANDOVERS = 20;
const STALLS = 5;
const TIMEOUT = 1000;
const LATENCY_MESSAGES = 300;
const THROUGHPUT_MESSAGES = 20_000;

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};

/** Opens `count` tabs on `key` and waits until every element is open. */
async function openTabs(rig, count, key) {
  const tabs = [];
  for (let i = 0; i < count; i++) tabs.push(await rig.open({key, elements: ELEMENTS}));
  await allOpen(tabs, {timeout: 20_000});
  return tabs;
}

async function closeAll(rig, tabs) {
  for (const tab of tabs) if (!tab.closed) await tab.close();
  await until(() => rig.server.open === 0, {message: 'every socket to close'});
  rig.server.takeReceived();
}

/** Server connections for 10 tabs of 3 elements, shared and not. */
async function connections(rig) {
  const shared = await openTabs(rig, TABS, 'count');
  await sleep(500);
  const sharedOpen = rig.server.open;
  await closeAll(rig, shared);
  const unshared = await openTabs(rig, TABS, null);
  await sleep(500);
  const unsharedOpen = rig.server.open;
  await closeAll(rig, unshared);
  return {shared: sharedOpen, unshared: unsharedOpen};
}

/** ms from the new socket's arrival at the server back to `since`, after the connection count went up. */
async function nextConnection(rig, before, since) {
  await until(() => rig.server.connections.length > before, {message: 'a new connection', timeout: 15_000});
  return rig.server.connections[before].at - since;
}

/**
 * 20 times, the holding tab is closed while every tab sends one message per
 * element every 50 ms, and a fresh tab takes its place in line: ms from the
 * close to the new socket reaching the server, and what the tabs open at the
 * end had accepted against what arrived.
 */
async function handovers(rig) {
  const tabs = await openTabs(rig, TABS, 'handover');
  for (const tab of tabs) await tab.call('sendEvery', 50);
  const times = [];
  for (let i = 0; i < HANDOVERS; i++) {
    await sleep(300);
    const leading = await holder(tabs);
    const before = rig.server.connections.length;
    // From the page's own close: the rig first asks it for its records, which takes a while
    // with ten tabs sending and is none of the handover's time.
    await leading.close();
    times.push(await nextConnection(rig, before, leading.closingAt));
    const fresh = await rig.open({key: 'handover', elements: ELEMENTS});
    await fresh.call('sendEvery', 50);
    tabs.push(fresh);
  }
  const open = tabs.filter((tab) => !tab.closed);
  await allOpen(open);
  for (const tab of open) await tab.call('stopSending');
  await sleep(1000);
  const sends = (await Promise.all(open.map((tab) => tab.call('sends')))).flat();
  const delivered = deliveries(rig.server.received, sends);
  await closeAll(rig, tabs);
  return {times, delivered};
}

/**
 * The holder frozen as Chromium freezes a background tab (it hears `freeze`
 * and hands over), and hung in the debugger (it hears nothing; the others
 * take the lock after `timeout`): ms from either to the new socket.
 */
async function stopped(rig, how) {
  const tabs = await openTabs(rig, 3, how);
  const times = [];
  for (let i = 0; i < STALLS; i++) {
    const leading = await holder(tabs);
    const before = rig.server.connections.length;
    let at = Date.now();
    if (how === 'frozen') await leading.freeze();
    else {
      await leading.stall();
      // Hung from the moment the debugger paused it, at its next statement: until then it ran on.
      at = Date.now();
    }
    times.push(await nextConnection(rig, before, at));
    await holder(tabs.filter((tab) => tab !== leading));
    if (how === 'frozen') await leading.freeze(false);
    else await leading.resume();
    await allOpen(tabs);
    await until(() => rig.server.open === 1, {message: 'the stopped holder’s socket to close'});
  }
  await closeAll(rig, tabs);
  return times;
}

/**
 * Messages the server sends one every 5 ms: for each, ms from its arrival
 * at the holding tab's element to its arrival at each follower's.
 */
async function latency(rig) {
  const tabs = await openTabs(rig, TABS, 'latency');
  const leading = await holder(tabs);
  const names = [];
  for (let i = 0; i < LATENCY_MESSAGES; i++) {
    rig.server.push({count: 1, prefix: `m${i}-`});
    names.push(`m${i}-0`);
    await sleep(5);
  }
  await sleep(500);
  const at = await leading.call('arrivals', names);
  const added = [];
  for (const tab of tabs.filter((t) => t !== leading)) {
    const there = await tab.call('arrivals', names);
    there.forEach((time, i) => time !== null && at[i] !== null && added.push(time - at[i]));
  }
  await closeAll(rig, tabs);
  return {p50: quantile(added, 0.5), p99: quantile(added, 0.99), samples: added.length};
}

/**
 * 20,000 messages as fast as the server sends them, to a holding tab and one
 * following tab: the holder's time from its first arrival to its last,
 * divided by the follower's time from the holder's first to its own last.
 */
async function throughput(rig) {
  const tabs = await openTabs(rig, 2, 'throughput');
  const leading = await holder(tabs);
  const follower = tabs.find((tab) => tab !== leading);
  rig.server.push({count: THROUGHPUT_MESSAGES, prefix: 'm'});
  const done = (tab) => tab.call('batch').then(({count}) => count === THROUGHPUT_MESSAGES);
  await until(async () => (await done(leading)) && (await done(follower)), {
    timeout: 60_000,
    message: 'every message at both tabs',
  });
  const held = await leading.call('batch');
  const followed = await follower.call('batch');
  await closeAll(rig, tabs);
  return {
    holderMs: held.last - held.first,
    followerMs: followed.last - held.first,
    ratio: (held.last - held.first) / (followed.last - held.first),
  };
}

/** Every sharing figure, as rows of the bench table; `peers` get N connections, as they cannot share. */
export async function shareFigures({executablePath, peers, log}) {
  const rig = await startTabs({executablePath});
  const cannot = Object.fromEntries(peers.map((peer) => [peer, 'cannot share']));
  try {
    log('sharing: connections');
    const counted = await connections(rig);
    log('sharing: handovers');
    const handed = await handovers(rig);
    log('sharing: a frozen and a hung holder');
    const frozen = await stopped(rig, 'frozen');
    const hung = await stopped(rig, 'hung');
    log('sharing: latency and throughput to a follower');
    const added = await latency(rig);
    const rate = await throughput(rig);
    const cases = await shareCaseFigures(rig, {cannot, log});
    const p95 = quantile(handed.times, 0.95);
    const {lost, duplicates, outOfOrder, accepted} = handed.delivered;
    const ms = (value) => `${Math.round(value)} ms`;
    return {
      raw: {counted, handed, frozen, hung, added, rate, ...cases.raw, pageErrors: rig.pageErrors},
      rows: [
        {
          figure: `Shared, ${TABS} tabs × ${ELEMENTS} elements: server connections (unshared)`,
          ours: `${counted.shared} (${counted.unshared})`,
          ...Object.fromEntries(peers.map((peer) => [peer, String(TABS * ELEMENTS)])),
          target: `1 (unshared ${TABS * ELEMENTS})`,
          met: counted.shared === 1 && counted.unshared === TABS * ELEMENTS,
        },
        {
          figure: `Shared: holder tab closed → new socket, p95 of ${HANDOVERS} (median)`,
          ours: `${ms(p95)} (${ms(quantile(handed.times, 0.5))})`,
          ...cannot,
          target: '≤ 500 ms',
          met: p95 <= 500,
        },
        {
          figure: `Shared: holder frozen → new socket, slowest of ${STALLS} (median)`,
          ours: `${ms(Math.max(...frozen))} (${ms(quantile(frozen, 0.5))})`,
          ...cannot,
          target: `≤ ${TIMEOUT + 500} ms (timeout + 500)`,
          met: Math.max(...frozen) <= TIMEOUT + 500,
        },
        {
          figure: `Shared: holder hung in the debugger → new socket, slowest of ${STALLS} (median)`,
          ours: `${ms(Math.max(...hung))} (${ms(quantile(hung, 0.5))})`,
          ...cannot,
          target: `≤ ${TIMEOUT + 500} ms (timeout + 500)`,
          met: Math.max(...hung) <= TIMEOUT + 500,
        },
        {
          figure: `Shared: ${TABS} tabs sending every 50 ms through ${HANDOVERS} handovers: lost / duplicates / out of order (of accepted)`,
          ours: `${lost} / ${duplicates} / ${outOfOrder} (of ${accepted})`,
          ...cannot,
          target: '0 lost, 0 out of order',
          met: lost === 0 && outOfOrder === 0,
        },
        {
          figure: `Shared: added latency to a follower tab, p50 / p99 (${added.samples} arrivals)`,
          ours: `${added.p50.toFixed(2)} / ${added.p99.toFixed(2)} ms`,
          ...cannot,
          target: '≤ 2 / ≤ 10 ms',
          met: added.p50 <= 2 && added.p99 <= 10,
        },
        {
          figure: `Shared: inbound ${THROUGHPUT_MESSAGES} msgs, follower vs holder (holder, follower)`,
          ours: `${rate.ratio.toFixed(2)} (${ms(rate.holderMs)}, ${ms(rate.followerMs)})`,
          ...cannot,
          target: '≥ 0.5',
          met: rate.ratio >= 0.5,
        },
        ...cases.rows,
      ],
    };
  } finally {
    await rig.stop();
  }
}
