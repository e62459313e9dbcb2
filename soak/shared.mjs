// The soak's shared mode (`--shared`): real tabs of one Chromium context
// sharing one socket (test/support/tabs.mjs), every element sending a
// numbered message every 100 ms and holding a subscription of its own
// (`o:<element>` in its `openMessages`), under random faults of the pages —
// the holding tab closed, reloaded, sent into the back/forward cache and
// back, frozen or hung; a follower closed or reloaded; a tab's timers made
// to run late as a background tab's are, or back on time; junk posted on
// the key's channels; elements added and removed, while the server is down
// or up — mixed with the server closing the socket or restarting, and with
// a stop code while a follower is paused in the debugger. A closed tab is
// replaced by a fresh one; after a stop code the tabs start again (reloaded,
// `connect()`, or fresh elements).
// Checked:
//   - at most one socket open across all tabs at any moment (a hung tab's
//     excepted, until it runs again and gives it up; so too, for WAKE, the
//     socket of a holder that did not answer as another tab took its lock);
//   - every message accepted by an element still on a page open at the end
//     arrives, and each element's messages arrive in its order (repeats
//     after a handover are counted, not faults); as in the element's own
//     soak, one written just as the server cut the connection may die with
//     it, and is counted apart;
//   - every element open again within RECOVERY_BOUND after each fault (plus
//     the alignment of late timers: see `slack`), and those of the other
//     tabs while the holder hangs;
//   - on every connection, each element's subscription before anything it
//     sent there, and on every connection opened while it was on its page;
//   - junk on the channel, late timers and elements coming and going never
//     open a connection or change the state of an element already there; no
//     element ever receives a message (the server sends none), an error
//     naming the junk, or a `closed` outside a stop code;
//   - after a stop code, every element of every tab closed, the paused one's
//     too once it runs again, and staying closed, with no connection opened;
//   - no uncaught error in any page.
import {junkFamilies} from '../test/support/junk.mjs';
import {allOpen, deliveries, holder, sleep, startTabs, until} from '../test/support/tabs.mjs';

const TABS = 4;
const ELEMENTS = 2;
/** Elements come and go, between one and this many per tab. */
const MOST_ELEMENTS = 4;
/** `shared="soak"`: the key is `name soak`. */
const KEY = 'soak';
const CHANNELS = [`ws-connection.share.v2 name ${KEY}`, `ws-connection name ${KEY}`];
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
/** A tab that took the lock from a silent holder opens within this of taking it (its settle and a query). */
const STEAL_OPENS = 1000;
/** Background tabs' wake-ups: once a second, and once every 5 s as a stand-in for the minute. */
const PERIODS = [1000, 5000];
/** After a stop code, every element is closed within this (plus late timers) of its tab running. */
const STOP_BOUND = 3000;
/** After junk, every element is heard from again within this (plus its tab's late timers). */
const PROGRESS_BOUND = 3000;

/** Faults run only when --faults names them: they show a known limit, not a regression. */
const OPT_IN = ['forged holder message'];

/** The elements and tabs as the faults leave them, and what they record for the checks. */
function faults(world) {
  const {rig, tabs, hangs, cuts, stops, random} = world;
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
  /** Adds or removes an element in `count` random tabs, keeping between one and MOST_ELEMENTS in each. */
  const comeAndGo = async (count) => {
    for (let i = 0; i < count; i++) {
      const tab = pick(tabs);
      const present = (await tab.call('states')).length;
      if (present < MOST_ELEMENTS && (present <= 1 || random() < 0.5)) await tab.call('add', 1);
      else await tab.call('remove', Math.floor(random() * present));
      await sleep(between([50, 800]));
    }
  };
  return {
    'close holder': async () => replace(await holder(tabs)),
    'close follower': async () => replace(await follower()),
    'reload holder': async () => reload(await holder(tabs)),
    'reload follower': async () => reload(await follower()),
    'back/forward cache': async () => {
      const tab = await holder(tabs);
      await tab.leave('about:blank');
      await sleep(between([200, 2000]));
      // Restored, it runs on as it was; loaded afresh, it starts again.
      if (await tab.back()) return;
      world.log(`back/forward cache: ${tab.name} loaded afresh`);
      await send(tab);
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
      const others = tabs.filter((other) => other !== tab);
      // The first follower to take over is the one whose timers run least late.
      hang.bound = RECOVERY_BOUND + 4 * Math.min(...others.map((other) => other.throttled));
      await tab.stall();
      await allOpen(others, {timeout: hang.bound * 3}).catch(() => {});
      hang.replacedMs = Date.now() - hang.from;
      await sleep(between([500, 2000]));
      await tab.resume();
      hang.to = Date.now();
      return {late: 4};
    },
    'server closes': async () => {
      cuts.push(Date.now());
      await rig.server.closeClients({code: pick([1001, 1011, 1012, 4000])});
      return {reconnects: true};
    },
    'server restarts': async () => {
      cuts.push(Date.now());
      await rig.server.kill();
      await sleep(between([300, 2000]));
      await rig.server.revive();
      return {reconnects: true};
    },
    // A background tab, the holder half the time: its timers run late, or on time again.
    throttle: async () => {
      const tab = random() < 0.5 ? await holder(tabs) : pick(tabs);
      const period = pick([0, ...PERIODS].filter((ms) => ms !== tab.throttled));
      await tab.throttle(period);
      world.log(`throttle ${tab.name} to ${period} ms`);
      return {quiet: true};
    },
    junk: async () => {
      const tab = pick(tabs);
      await tab.page.evaluate(`(${postJunk})(${JSON.stringify(CHANNELS)}, ${junkFamilies})`);
      // Nothing stalls: every element is heard from again, with a message sent after the junk.
      const after = new Map();
      for (const other of tabs) {
        for (const {name, sent, removed} of await other.call('sends')) {
          if (!removed) after.set(name, {sent, tab: other});
        }
      }
      const from = Date.now();
      const bound = PROGRESS_BOUND + Math.max(...tabs.map((other) => other.throttled));
      const stalled = await until(
        () => [...after].every(([name, {sent}]) => (world.heard.get(name) ?? 0) > sent) || null,
        {timeout: bound},
      ).then(
        () => [],
        () =>
          [...after].filter(([name, {sent}]) => !((world.heard.get(name) ?? 0) > sent)).map(([name]) => name),
      );
      world.progress.push({from, ms: Date.now() - from, bound, stalled});
      return {quiet: true};
    },
    'join and leave': async () => {
      await comeAndGo(between([1, 4]));
      return {quiet: true};
    },
    'joins in an outage': async () => {
      const outage = {from: Date.now(), changes: between([2, 6])};
      cuts.push(outage.from);
      // Down as a crash is, or after saying it restarts.
      if (random() < 0.5) await rig.server.closeClients({code: 1012});
      await rig.server.kill();
      await comeAndGo(outage.changes);
      await sleep(between([0, 1500]));
      outage.to = Date.now();
      world.outages.push(outage);
      await rig.server.revive();
    },
    // Only when named (--faults): a well-formed holder's message that no holder sent, which the wire cannot tell apart.
    'forged holder message': async () => {
      await pick(tabs).page.evaluate((name) => {
        const channel = new BroadcastChannel(name);
        const snap = {state: 'closed', attempt: 0, timeout: 1000};
        const change = {state: 'closed', previousState: 'open', attempt: 0, code: 1008, reason: 'forged'};
        const final = {code: 1008, reason: 'forged', attempt: 0};
        channel.postMessage({k: 'state', term: Date.now(), from: 'forged', snap, finals: 1, final, change});
        channel.close();
      }, CHANNELS[0]);
      return {quiet: true};
    },
    'stop code with a follower paused': async () => {
      const leading = await holder(tabs);
      const followers = tabs.filter((tab) => tab !== leading);
      const paused = random() < 0.3 ? followers.slice(0, 2) : [pick(followers)];
      for (const tab of paused) await tab.stall();
      const stop = {from: Date.now(), to: Infinity, paused: paused.map((tab) => tab.name)};
      stops.push(stop);
      cuts.push(stop.from);
      const acceptedBefore = rig.server.accepted;
      await rig.server.closeClients({code: 1008, reason: 'soak stop'});
      const running = tabs.filter((tab) => !paused.includes(tab));
      const late = (some) => Math.max(...some.map((tab) => tab.throttled));
      stop.runningClosedMs = await allClosed(running, STOP_BOUND + late(running));
      await sleep(between([300, 2000]));
      for (const tab of paused) await tab.resume();
      const resumed = Date.now();
      cuts.push(resumed);
      stop.pausedClosedMs = await allClosed(paused, STOP_BOUND + late(paused));
      await sleep(between([1000, 3000]));
      stop.stillClosed = (await Promise.all(tabs.map((tab) => tab.call('states'))))
        .flat()
        .every((state) => state === 'closed');
      stop.connections = rig.server.accepted - acceptedBefore;
      stop.to = Date.now();
      if (stop.pausedClosedMs === null) {
        // For the reader: what the paused tabs' elements went through, from the stop on, and
        // how late each tab's timers ran.
        stop.resumedAt = resumed;
        stop.throttled = Object.fromEntries(tabs.map((tab) => [tab.name, tab.throttled]));
        stop.pausedStates = (await Promise.all(paused.map((tab) => tab.call('logs'))))
          .flat()
          .map(({name, states}) => ({name, states: states.filter(([at]) => at >= stop.from)}));
      }
      stop.restart = pick(['reload', 'connect', 'fresh elements']);
      world.log(
        `stop code with ${stop.paused.join(', ')} paused: closed after ${stop.runningClosedMs ?? 'never'} ms, ` +
          `the paused ${stop.pausedClosedMs ?? 'never'} ms after they ran; again by ${stop.restart}`,
      );
      for (const tab of tabs) {
        if (stop.restart === 'reload') await reload(tab);
        else if (stop.restart === 'connect') await tab.call('connectAll');
        else {
          const present = (await tab.call('states')).length;
          await tab.call('add', ELEMENTS);
          for (let i = 0; i < present; i++) await tab.call('remove', 0);
        }
      }
    },
  };
}

const iso = (at) => (at === undefined ? undefined : new Date(at).toISOString());

/** ms until every element of `tabs` is closed, or null after `bound`. */
async function allClosed(tabs, bound) {
  const from = Date.now();
  try {
    await until(
      async () =>
        (await Promise.all(tabs.map((tab) => tab.call('states')))).flat().every((s) => s === 'closed'),
      {timeout: bound},
    );
    return Date.now() - from;
  } catch {
    return null;
  }
}

/**
 * Runs in a page: posts on each of `names` every family of junkFamilies
 * (test/support/junk.mjs, whose source comes in as `families`), those valid
 * but for one field in the names of the holder and a following tab, as the
 * page hears them on the first channel within a second and a half. None may
 * reach an element; `junk` in every text tells it if one does.
 */
async function postJunk(names, families) {
  const heard = {};
  const sniffer = new BroadcastChannel(names[0]);
  sniffer.onmessage = ({data}) => {
    if (data?.k === 'beat') Object.assign(heard, {holder: data.from, term: data.term});
    if (data?.k === 'ack') heard.follower = data.to;
  };
  const until = Date.now() + 1500;
  while (!(heard.holder && heard.follower) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  sniffer.close();
  const messages = Object.values(families(Date.now(), heard)).flat();
  for (const name of names) {
    const channel = new BroadcastChannel(name);
    for (const message of messages) channel.postMessage(message);
    channel.close();
  }
  return messages.length;
}

const send = (tab) => tab.call('sendEvery', 100);

async function reload(tab) {
  await tab.reload();
  await send(tab);
}

async function open(rig) {
  const tab = await rig.open({
    key: KEY,
    elements: ELEMENTS,
    attributes: SETTINGS,
    late: true,
    openMessages: true,
  });
  await send(tab);
  return tab;
}

/**
 * Pairs of sockets of different tabs open at once (`broken`), leaving out a
 * hung tab's while it hung, and (in `afterSteal`) the moment after a tab took the lock
 * from a holder that did not answer: that holder stopped running, as far as
 * the others could tell (a busy machine's page, too), and gives its socket
 * up once it learns of it, within WAKE.
 */
export function overlaps(sockets, hangs) {
  const broken = [];
  const afterSteal = [];
  const hung = (socket, at) =>
    hangs.some((hang) => hang.tab === socket.tab && hang.from <= at && at <= hang.to + WAKE);
  for (let i = 0; i < sockets.length; i++) {
    for (let j = i + 1; j < sockets.length; j++) {
      const [a, b] = [sockets[i], sockets[j]];
      if (a.tab === b.tab) continue;
      const from = Math.max(a.opened, b.opened);
      const to = Math.min(a.ended ?? Infinity, b.ended ?? Infinity);
      if (from >= to || hung(a, from) || hung(b, from)) continue;
      const overlap = {tabs: [a.tab, b.tab], at: new Date(from).toISOString(), ms: to - from};
      const later = a.opened > b.opened ? a : b;
      const stole = later.stoleAt !== undefined && later.opened - later.stoleAt < STEAL_OPENS;
      (stole && to - from <= WAKE ? afterSteal : broken).push(overlap);
    }
  }
  return {broken, afterSteal};
}

/** How long an element must have been on its page before a connection opened, for its subscription to be due there. */
const JOINED = 200;
/** A connection that carried messages for this long after it opened had time to carry every subscription. */
const SETTLED = 1000;

/**
 * Each element's subscription (`o:<name>`) against what the server got on
 * each connection: `early` counts elements that sent something (`s:<name>:n`)
 * on a connection before their subscription; `missing`, connections that
 * never carried the subscription of an element that was on its page when
 * they opened and for SETTLED after (and that carried messages that long);
 * `repeated`, subscriptions sent twice on one connection.
 */
export function subscriptions({received, receivedOn, connections}, receivedAt, logs) {
  const byConnection = new Map();
  received.forEach((message, i) => {
    if (typeof message !== 'string') return;
    const list = byConnection.get(receivedOn[i]) ?? [];
    byConnection.set(receivedOn[i], list);
    list.push(i);
  });
  const result = {connections: byConnection.size, early: 0, missing: 0, repeated: 0, examples: []};
  const example = (what) => result.examples.length < 10 && result.examples.push(what);
  for (const [connection, indices] of byConnection) {
    const opened = connections[connection - 1].at;
    const lastAt = receivedAt[indices.at(-1)];
    const subscribed = new Set();
    const early = new Set();
    for (const i of indices) {
      const message = received[i];
      if (message.startsWith('o:')) {
        const name = message.slice(2);
        if (subscribed.has(name)) result.repeated++;
        subscribed.add(name);
      } else if (message.startsWith('s:')) {
        const name = message.slice(2, message.lastIndexOf(':'));
        if (subscribed.has(name) || early.has(name)) continue;
        early.add(name);
        result.early++;
        example(`connection ${connection}: ${message} before o:${name}`);
      }
    }
    if (lastAt - opened < SETTLED) continue;
    for (const {name, insertedAt, removedAt = Infinity, states} of logs) {
      if (insertedAt > opened - JOINED || removedAt < opened + SETTLED || subscribed.has(name)) continue;
      // Closed (by a stop code, until it starts again), it takes no part in the socket.
      if (states.findLast(([at]) => at <= opened)?.[1] === 'closed') continue;
      result.missing++;
      example(`connection ${connection} (opened ${new Date(opened).toISOString()}): no o:${name}`);
    }
  }
  return result;
}

/**
 * What the element logs show against the faults' windows: a `closed`
 * outside a stop code's; in a quiet fault's window, a state change or an
 * error of an element that was there before it; after a stop code, an
 * element that was not closed, or did not stay so; any message, as the
 * server sends none; an error naming the junk.
 */
export function stateChecks(logs, {stops, quiet}) {
  const within = (at, {from, to}) => from <= at && at <= to;
  const result = {
    closedOutsideStops: 0,
    quietChanges: 0,
    notClosedAtStop: 0,
    reopenedAfterStop: 0,
    messages: 0,
    junkErrors: 0,
    examples: [],
  };
  const example = (what) => result.examples.length < 10 && result.examples.push(what);
  for (const log of logs) {
    const removedAt = log.removedAt ?? Infinity;
    result.messages += log.messages;
    if (log.messages) example(`${log.name} received ${log.messageExamples.join(', ')}`);
    for (const [at, state, code] of log.states) {
      if (state === 'closed' && !stops.some((stop) => within(at, stop))) {
        result.closedOutsideStops++;
        example(`${log.name} closed (${code}) at ${new Date(at).toISOString()}`);
      }
    }
    for (const [, kind, message] of log.errors) {
      if (message.includes('junk')) {
        result.junkErrors++;
        example(`${log.name}: ${kind} ${message}`);
      }
    }
    for (const window of quiet) {
      if (log.insertedAt >= window.from) continue;
      const changes = [...log.states, ...log.errors].filter(([at]) => within(at, window));
      result.quietChanges += changes.length;
      if (changes.length) example(`${log.name} during ${window.fault}: ${JSON.stringify(changes)}`);
    }
    for (const stop of stops) {
      if (log.insertedAt >= stop.from || removedAt <= stop.to) continue;
      const during = log.states.filter(([at]) => within(at, stop));
      const first = during.findIndex(([, state]) => state === 'closed');
      if (first === -1) {
        result.notClosedAtStop++;
        example(`${log.name} not closed after the stop code of ${new Date(stop.from).toISOString()}`);
      } else if (first < during.length - 1) {
        result.reopenedAfterStop++;
        example(`${log.name} after the stop code: ${JSON.stringify(during.slice(first))}`);
      }
    }
  }
  return result;
}

/** Runs the shared soak for `seconds`; resolves to its report, with `broken` naming each invariant that did not hold. */
export async function sharedSoak({executablePath, seconds, random, only, log}) {
  const started = Date.now();
  const rig = await startTabs({executablePath});
  // When the server got each message, to tell what came on a connection after it settled.
  const receivedAt = [];
  const {received} = rig.server;
  received.push = (...items) => {
    for (let i = 0; i < items.length; i++) receivedAt.push(Date.now());
    return Array.prototype.push.apply(received, items);
  };
  /** The highest number the server got from each element, kept up as it arrives. */
  const heard = new Map();
  let scanned = 0;
  const hearing = setInterval(() => {
    for (let i = scanned; i < received.length; i++) {
      const message = received[i];
      if (typeof message !== 'string' || !message.startsWith('s:')) continue;
      const at = message.lastIndexOf(':');
      const name = message.slice(2, at);
      heard.set(name, Math.max(heard.get(name) ?? 0, Number(message.slice(at + 1))));
    }
    scanned = received.length;
  }, 20);
  const tabs = [];
  const world = {
    rig,
    tabs,
    random,
    log,
    heard,
    hangs: [],
    /** When the server dropped every connection, or a tab ran again after a stop code: messages written just then may die with it. */
    cuts: [],
    stops: [],
    outages: [],
    quiet: [],
    progress: [],
  };
  const closed = [];
  // For the reader of a broken run: when each fault came, and each socket's life.
  const report = {
    tabs: TABS,
    elements: ELEMENTS,
    faults: {},
    recoveries: [],
    timeline: {faults: [], sockets: []},
  };
  try {
    for (let i = 0; i < TABS; i++) tabs.push(await open(rig));
    await allOpen(tabs);
    // Some tabs start in the background.
    for (const tab of tabs) {
      if (random() < 0.5) await tab.throttle(PERIODS[Math.floor(random() * PERIODS.length)]);
    }
    log(`timers aligned to ${tabs.map((tab) => `${tab.name} ${tab.throttled} ms`).join(', ')}`);
    const kinds = faults(world);
    for (const name of Object.keys(kinds)) {
      if (only ? !only.includes(name) : OPT_IN.includes(name)) delete kinds[name];
    }
    const names = Object.keys(kinds);
    const deadline = started + seconds * 1000;
    while (Date.now() < deadline) {
      const name = names[Math.floor(random() * names.length)];
      const before = [...tabs];
      const from = Date.now();
      const acceptedBefore = rig.server.accepted;
      const lateBefore = Math.max(...tabs.map((tab) => tab.throttled));
      const {late = 1, quiet = false, reconnects = false} = (await kinds[name]()) ?? {};
      closed.push(...before.filter((tab) => !tabs.includes(tab)));
      report.faults[name] = (report.faults[name] ?? 0) + 1;
      // Late timers: the holder's next attempt (or, for a hang, each step of a follower's watch) waits for a wake-up.
      const bound = RECOVERY_BOUND + late * Math.max(lateBefore, ...tabs.map((tab) => tab.throttled));
      const healed = Date.now();
      let ms = null;
      try {
        // Open again means on a new connection: the tabs may not have heard of the cut yet.
        if (reconnects) {
          await until(() => rig.server.accepted > acceptedBefore, {
            timeout: bound * 3,
            message: 'a new connection',
          });
        }
        await allOpen(tabs, {timeout: bound * 3});
        ms = Date.now() - healed;
      } catch {
        // Counted below.
      }
      report.recoveries.push({fault: name, ms, bound});
      report.timeline.faults.push({
        fault: name,
        from: iso(from),
        healed: iso(healed),
        tabs: tabs.map((tab) => tab.name),
      });
      if (ms === null || ms > bound)
        log(`"${name}": back to open after ${ms ?? 'never'} ms (bound ${bound})`);
      await sleep(500 + random() * 1000);
      if (quiet) {
        const window = {fault: name, from, to: Date.now(), connections: rig.server.accepted - acceptedBefore};
        world.quiet.push(window);
        if (window.connections) log(`"${name}": ${window.connections} connections opened`);
      }
    }
    for (const tab of tabs) await tab.call('stopSending');
    await allOpen(tabs);
    await sleep(1000);
    const sends = (await Promise.all(tabs.map((tab) => tab.call('sends')))).flat();
    const sockets = (await Promise.all([...closed, ...tabs].map((tab) => tab.sockets()))).flat();
    const together = overlaps(sockets, world.hangs);
    report.overlaps = together.broken;
    report.overlapsAfterSteal = together.afterSteal;
    if (report.overlapsAfterSteal.length) {
      log(`two sockets open just after a steal, within ${WAKE} ms: ${report.overlapsAfterSteal.length}`);
    }
    report.timeline.sockets = sockets.map(({tab, opened, ended, stoleAt}) => ({
      tab,
      opened: iso(opened),
      ended: iso(ended),
      ...(stoleAt === undefined ? {} : {stoleAt: iso(stoleAt)}),
    }));
    // Joining takes the retry schedule as it is: attempts in an outage, against its length, for the record.
    report.outages = world.outages.map(({from, to, changes}) => ({
      ms: to - from,
      changes,
      attempts: sockets.filter(({opened}) => from <= opened && opened <= to).length,
    }));
    Object.assign(
      report,
      deliveries(
        received,
        sends.filter(({removed}) => !removed),
        world.cuts,
      ),
    );
    const left = deliveries(
      received,
      sends.filter(({removed}) => removed),
      world.cuts,
    );
    report.leavers = {accepted: left.accepted, lost: left.lost};
    const logs = (await Promise.all([...closed, ...tabs].map((tab) => tab.logs()))).flat();
    report.subscriptions = subscriptions(rig.server, receivedAt, logs);
    report.states = stateChecks(logs, world);
    report.sockets = rig.server.accepted;
    // A well-formed join from a tab not taking part is written until the holder finds the tab gone: counted, not a fault.
    report.junkWritten = received.filter(
      (message) => typeof message === 'string' && message.includes('junk'),
    ).length;
    report.hangs = world.hangs;
    report.stops = world.stops;
    report.quiet = world.quiet;
    report.progress = world.progress;
    report.pageErrors = [...rig.pageErrors];
    // Lifecycle events of the tabs open at the end that no fault of theirs caused: a page the browser froze.
    const lifecycles = await Promise.all(tabs.map((tab) => tab.call('lifecycle')));
    report.lifecycle = tabs.map((tab, i) => ({tab: tab.name, events: lifecycles[i].events}));
  } finally {
    clearInterval(hearing);
    await rig.stop();
  }
  report.faultsInjected = report.recoveries.length;
  report.slowestRecoveryMs = Math.max(...report.recoveries.map((r) => r.ms ?? Infinity));
  const {subscriptions: subs, states} = report;
  report.broken = {
    'two sockets open at once across tabs': report.overlaps.length,
    'accepted messages lost': report.lost,
    'messages out of an element’s order': report.outOfOrder,
    'recoveries slower than their bound': report.recoveries.filter((r) => r.ms === null || r.ms > r.bound)
      .length,
    'hung holders not replaced within their bound': report.hangs.filter(
      (hang) => !(hang.replacedMs <= hang.bound),
    ).length,
    'messages sent on a connection before the element’s subscription': subs.early,
    'subscriptions missing from a connection opened while their element was there': subs.missing,
    'connections opened by junk, late timers or elements coming and going': report.quiet.reduce(
      (sum, window) => sum + window.connections,
      0,
    ),
    'state changes or errors of elements already there during junk, late timers or joins':
      states.quietChanges,
    'elements heard from no more after junk': report.progress.reduce((sum, p) => sum + p.stalled.length, 0),
    'messages no server sent': states.messages,
    'errors naming the junk': states.junkErrors,
    'closed outside a stop code': states.closedOutsideStops,
    'elements not closed after a stop code, or opened again':
      states.notClosedAtStop + states.reopenedAfterStop,
    'stop codes not closing every tab within their bound': report.stops.filter(
      (stop) => stop.runningClosedMs === null || stop.pausedClosedMs === null || !stop.stillClosed,
    ).length,
    'connections opened after a stop code': report.stops.reduce((sum, stop) => sum + stop.connections, 0),
    'uncaught page errors': report.pageErrors.length,
  };
  report.recoveryBound = RECOVERY_BOUND;
  log(
    `faults: ${Object.entries(report.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  log(
    `messages: ${report.accepted} accepted by the elements on the pages open at the end; ${report.lost} lost, ` +
      `${report.lostInFlight} lost in flight on a connection the server cut, ` +
      `${report.duplicates} repeated after a handover, ${report.outOfOrder} out of order; ` +
      `${report.sockets} connections; slowest recovery ${report.slowestRecoveryMs} ms`,
  );
  log(
    `subscriptions: ${subs.connections} connections with messages; ${subs.early} elements sending before theirs, ` +
      `${subs.missing} missing, ${subs.repeated} repeated on one connection; ` +
      `${report.leavers.accepted} accepted by elements that left, ${report.leavers.lost} of them not arrived; ` +
      `${report.junkWritten} junk subscriptions written`,
  );
  if (report.outages.length) {
    const outages = report.outages.map(
      ({ms, changes, attempts}) => `${attempts} in ${ms} ms (${changes} changes)`,
    );
    log(`attempts in outages with elements coming and going: ${outages.join(', ')}`);
  }
  for (const example of [...subs.examples, ...states.examples]) log(`  ${example}`);
  return report;
}
