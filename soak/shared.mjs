// The soak's shared mode (`--shared`): real tabs of one Chromium context
// sharing one socket (test/support/tabs.mjs), every element sending a
// numbered message every 100 ms, under random faults of the pages — the
// holding tab closed, reloaded, sent into the back/forward cache and back,
// frozen or hung; a follower closed or reloaded — mixed with the server
// closing the socket or restarting. A closed tab is replaced by a fresh one.
// Checked:
//   - at most one socket open across all tabs at any moment (a hung tab's
//     excepted, until it runs again and gives it up);
//   - every message accepted by an element of a page still open at the end
//     arrives, and each element's messages arrive in its order (repeats
//     after a handover are counted, not faults); as in the element's own
//     soak, one written just as the server cut the connection may die with
//     it, and is counted apart;
//   - every element open again within RECOVERY_BOUND after each fault, and
//     those of the other tabs while the holder hangs;
//   - no uncaught error in any page.
import {allOpen, deliveries, holder, sleep, startTabs} from '../test/support/tabs.mjs';

const TABS = 4;
const ELEMENTS = 2;
const KEY = 'soak';
const SETTINGS = {
  'heartbeat-interval': '500',
  timeout: '1000',
  'reconnect-delay': '100',
  'max-reconnect-delay': '2000',
};
/** A hung holder is replaced within timeout + probe, a restarted server waited for up to max-reconnect-delay. */
const RECOVERY_BOUND = 1000 + 2000 + 1500;
/** A hung tab's socket may outlive its hang by this much: it gives it up once its script runs. */
const WAKE = 500;

/** Each fault, applied to the tabs as they are; each resolves once it is over. */
function faults(rig, tabs, hangs, cuts, random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const between = ([low, high]) => Math.round(low + random() * (high - low));
  const follower = async () => {
    const leading = await holder(tabs);
    return pick(tabs.filter((tab) => tab !== leading));
  };
  const replace = async (tab) => {
    await tab.close();
    tabs[tabs.indexOf(tab)] = await open(rig);
  };
  return {
    'close holder': async () => replace(await holder(tabs)),
    'close follower': async () => replace(await follower()),
    'reload holder': async () => reload(await holder(tabs)),
    'reload follower': async () => reload(await follower()),
    'back/forward cache': async () => {
      const tab = await holder(tabs);
      await tab.page.goto('about:blank');
      await sleep(between([200, 2000]));
      await tab.page.goBack();
    },
    'freeze holder': async () => {
      const tab = await holder(tabs);
      await tab.freeze();
      await sleep(between([200, 3000]));
      await tab.freeze(false);
    },
    'hang holder': async () => {
      const tab = await holder(tabs);
      const hang = {tab: tab.name, from: Date.now(), to: Infinity};
      hangs.push(hang);
      await tab.stall();
      const others = tabs.filter((other) => other !== tab);
      await allOpen(others, {timeout: RECOVERY_BOUND * 3}).catch(() => {});
      hang.replacedMs = Date.now() - hang.from;
      await sleep(between([500, 2000]));
      await tab.resume();
      hang.to = Date.now();
    },
    'server closes': async () => {
      cuts.push(Date.now());
      await rig.server.closeClients({code: pick([1001, 1011, 1012, 4000])});
    },
    'server restarts': async () => {
      cuts.push(Date.now());
      await rig.server.kill();
      await sleep(between([300, 2000]));
      await rig.server.revive();
    },
  };
}

const send = (tab) => tab.call('sendEvery', 100);

async function reload(tab) {
  await tab.reload();
  await send(tab);
}

async function open(rig) {
  const tab = await rig.open({key: KEY, elements: ELEMENTS, attributes: SETTINGS});
  await send(tab);
  return tab;
}

/** Pairs of sockets of different tabs open at once, leaving out a hung tab's while it hung. */
export function overlaps(sockets, hangs) {
  const found = [];
  const hung = (socket, at) =>
    hangs.some((hang) => hang.tab === socket.tab && hang.from <= at && at <= hang.to + WAKE);
  for (let i = 0; i < sockets.length; i++) {
    for (let j = i + 1; j < sockets.length; j++) {
      const [a, b] = [sockets[i], sockets[j]];
      if (a.tab === b.tab) continue;
      const from = Math.max(a.opened, b.opened);
      const to = Math.min(a.ended ?? Infinity, b.ended ?? Infinity);
      if (from >= to || hung(a, from) || hung(b, from)) continue;
      found.push({tabs: [a.tab, b.tab], at: new Date(from).toISOString(), ms: to - from});
    }
  }
  return found;
}

/** Runs the shared soak for `seconds`; resolves to its report, with `broken` naming each invariant that did not hold. */
export async function sharedSoak({executablePath, seconds, random, only, log}) {
  const started = Date.now();
  const rig = await startTabs({executablePath});
  const hangs = [];
  /** When the server dropped every connection: messages written just then may die with it. */
  const cuts = [];
  const closed = [];
  const report = {tabs: TABS, elements: ELEMENTS, faults: {}, recoveries: []};
  try {
    const tabs = [];
    for (let i = 0; i < TABS; i++) tabs.push(await open(rig));
    await allOpen(tabs);
    const kinds = faults(rig, tabs, hangs, cuts, random);
    if (only) for (const name of Object.keys(kinds)) if (!only.includes(name)) delete kinds[name];
    const names = Object.keys(kinds);
    const deadline = started + seconds * 1000;
    while (Date.now() < deadline) {
      const name = names[Math.floor(random() * names.length)];
      const before = [...tabs];
      await kinds[name]();
      closed.push(...before.filter((tab) => !tabs.includes(tab)));
      report.faults[name] = (report.faults[name] ?? 0) + 1;
      const from = Date.now();
      let ms = null;
      try {
        await allOpen(tabs, {timeout: RECOVERY_BOUND * 3});
        ms = Date.now() - from;
      } catch {
        // Counted below.
      }
      report.recoveries.push({fault: name, ms});
      if (ms === null || ms > RECOVERY_BOUND) log(`"${name}": back to open after ${ms ?? 'never'} ms`);
      await sleep(500 + random() * 1000);
    }
    for (const tab of tabs) await tab.call('stopSending');
    await allOpen(tabs);
    await sleep(1000);
    const sends = (await Promise.all(tabs.map((tab) => tab.call('sends')))).flat();
    const sockets = [...closed, ...tabs].map((tab) => tab.sockets());
    report.overlaps = overlaps((await Promise.all(sockets)).flat(), hangs);
    Object.assign(report, deliveries(rig.server.received, sends, cuts));
    report.sockets = rig.server.accepted;
    report.hangs = hangs;
    report.pageErrors = [...rig.pageErrors];
  } finally {
    await rig.stop();
  }
  report.faultsInjected = report.recoveries.length;
  report.slowestRecoveryMs = Math.max(...report.recoveries.map((r) => r.ms ?? Infinity));
  report.broken = {
    'two sockets open at once across tabs': report.overlaps.length,
    'accepted messages lost': report.lost,
    'messages out of an element’s order': report.outOfOrder,
    [`recoveries slower than ${RECOVERY_BOUND} ms`]: report.recoveries.filter(
      (r) => r.ms === null || r.ms > RECOVERY_BOUND,
    ).length,
    [`hung holders not replaced within ${RECOVERY_BOUND} ms`]: report.hangs.filter(
      (hang) => !(hang.replacedMs <= RECOVERY_BOUND),
    ).length,
    'uncaught page errors': report.pageErrors.length,
  };
  report.recoveryBound = RECOVERY_BOUND;
  log(
    `faults: ${Object.entries(report.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  log(
    `messages: ${report.accepted} accepted by the pages open at the end; ${report.lost} lost, ` +
      `${report.lostInFlight} lost in flight on a connection the server cut, ` +
      `${report.duplicates} repeated after a handover, ${report.outOfOrder} out of order; ` +
      `${report.sockets} connections; slowest recovery ${report.slowestRecoveryMs} ms`,
  );
  return report;
}
