// Real tabs of one Chromium browser context sharing one socket, for the tab
// tests, the benchmarks and the soak: a rig server (which counts connections
// and records what it receives), the tab page (test/share/tab.html) served
// beside the built package, and what a driver needs to open, watch and
// check the tabs.
/* global window -- page.evaluate callbacks run in the page */
import {createServer} from 'node:http';
import puppeteer from 'puppeteer-core';
import {CHROMIUM_FLAGS} from '../../scripts/chromium-flags.mjs';
import {serveFiles} from '../../scripts/serve-files.mjs';
import {RigServer} from './rig-server.mjs';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An init script for a tab whose timers run late, as Chromium's are in a
 * background tab: while `window.__throttle` is a period in ms (1000 hidden,
 * one minute after five minutes hidden), every setTimeout and setInterval
 * callback runs at the next multiple of it on `performance.now()`, never
 * before its time. Setting it re-times the timers already waiting, as a tab
 * going to the background or coming back does; 0 runs them on time.
 * Channel messages, socket events and other tasks are not delayed, as in
 * Chromium.
 */
export function throttledTimers() {
  const nativeSet = window.setTimeout.bind(window);
  const nativeClear = window.clearTimeout.bind(window);
  const nativeInterval = window.setInterval.bind(window);
  /** id → {run, due, every, handle}: ids of our own, apart from the page's, so that a timer can be re-timed. */
  const timers = new Map();
  let nextId = 2 ** 30;
  let period = 0;
  const arm = (id, timer) => {
    nativeClear(timer.handle);
    const at = period > 0 ? Math.ceil(timer.due / period) * period : timer.due;
    timer.handle = nativeSet(() => fire(id), Math.max(0, at - performance.now()));
  };
  const fire = (id) => {
    const timer = timers.get(id);
    if (!timer) return;
    if (timer.every === undefined) timers.delete(id);
    else {
      timer.due = performance.now() + timer.every;
      arm(id, timer);
    }
    timer.run();
  };
  const add = (callback, ms, args, every) => {
    // A string to evaluate is left to the page's own timers, on time.
    if (typeof callback !== 'function') return (every ? nativeInterval : nativeSet)(callback, ms, ...args);
    const delay = Math.max(0, Number(ms) || 0);
    const run = () => callback(...args);
    const id = nextId++;
    const timer = {run, due: performance.now() + delay, every: every ? Math.max(4, delay) : undefined};
    timers.set(id, timer);
    arm(id, timer);
    return id;
  };
  const clear = (id) => {
    const timer = timers.get(id);
    if (!timer) return nativeClear(id);
    nativeClear(timer.handle);
    timers.delete(id);
  };
  window.setTimeout = (callback, ms, ...args) => add(callback, ms, args, false);
  window.setInterval = (callback, ms, ...args) => add(callback, ms, args, true);
  window.clearTimeout = clear;
  window.clearInterval = clear;
  Object.defineProperty(window, '__throttle', {
    get: () => period,
    set: (ms) => {
      period = Math.max(0, Number(ms) || 0);
      for (const [id, timer] of timers) arm(id, timer);
    },
  });
}

/** Polls `check` every 10 ms until it returns something truthy; throws after `timeout`. */
export async function until(check, {timeout = 10_000, message = 'the condition'} = {}) {
  const from = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - from > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await sleep(10);
  }
}

/**
 * Starts the rig server, the page server and Chromium. `flags` are added to
 * the project's; `server` gets the rig server's own settings.
 */
export async function startTabs({executablePath, flags = []} = {}) {
  const server = new RigServer();
  await server.start();
  server.set({echo: false});
  const files = serveFiles({root: process.cwd(), dirs: ['test/share', 'dist'], index: ''});
  /** The last word of each load that left (`Tab.leave`), by its mark: the latest it sent. */
  const lastWords = new Map();
  const http = createServer((request, response) => {
    const {pathname, searchParams} = new URL(request.url, 'http://localhost');
    if (request.method === 'POST' && pathname === '/last-word') {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const word = JSON.parse(body);
        const load = searchParams.get('load');
        if (!(lastWords.get(load)?.at > word.at)) lastWords.set(load, word);
        response.writeHead(204).end();
      });
    } else if (pathname === '/slow') {
      // A page that commits at once and finishes loading only after `ms`.
      response.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
      response.write('<!doctype html><title>slow</title>');
      setTimeout(() => response.end('<p>loaded</p>'), Number(searchParams.get('ms') ?? 1000));
    } else {
      files(request, response);
    }
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${http.address().port}`;
  const browser = await puppeteer.launch({
    executablePath: executablePath ?? process.env.CHROME_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...flags],
  });
  const context = await browser.createBrowserContext();
  const pageErrors = [];
  let opened = 0;
  /** Every tab `open` made, for `closeTabs`. */
  const made = [];

  return {
    server,
    origin,
    browser,
    context,
    pageErrors,
    /** The socket url; through the blackhole proxy with `proxy`. */
    url: ({proxy = false} = {}) => `ws://127.0.0.1:${proxy ? server.proxy.port : server.port}/`,
    /**
     * Opens a tab with `elements` shared elements connected to `url` (the
     * server's, by default), and resolves once they are on the page. With
     * `late`, its timers can be made to run late (`tab.throttle(ms)`); with
     * `openMessages`, each element has one of its own (`o:<name>`). `init`,
     * a script, runs in every document of the tab before the page's own.
     */
    async open({
      url,
      key = '',
      elements = 3,
      attributes = {},
      late = false,
      openMessages = false,
      init,
    } = {}) {
      const name = `t${++opened}`;
      const page = await context.newPage();
      if (init) await page.evaluateOnNewDocument(init);
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
      if (late) await page.evaluateOnNewDocument(throttledTimers);
      const tab = new Tab(
        name,
        page,
        {url: url ?? `ws://127.0.0.1:${server.port}/`, key, elements, attributes, openMessages},
        lastWords,
      );
      made.push(tab);
      await tab.load(`${origin}/test/share/tab.html?tab=${name}`);
      return tab;
    },
    /**
     * Closes every tab `open` made that is still open, waits for the last
     * socket to close, and forgets what the server received: a suite's
     * `afterEach`, whatever the test left.
     */
    async closeTabs() {
      for (const tab of made.splice(0)) if (!tab.closed) await tab.close();
      await until(() => server.open === 0, {message: 'the last socket to close'});
      server.takeReceived();
    },
    async stop() {
      await browser.close();
      await server.stop();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/**
 * An init script (`open({init})`) for a tab whose timers run late from its
 * first script on, each waiting for the next multiple of `period` ms: the
 * same timers as `throttledTimers`, at that period from the start.
 */
export function lateTimers(period = 5000) {
  return `(${throttledTimers})(); window.__throttle = ${Number(period)};`;
}

/** One tab and what a driver asks of it. */
export class Tab {
  closed = false;
  /** The sockets of the tab's earlier loads, each ended at the latest when its load went. */
  history = [];
  /** The element logs of the tab's earlier loads (see `logs()`), each removed at the latest when its load went. */
  pastLogs = [];
  /** The period its timers are aligned to (0: on time); a fresh load starts on time. */
  throttled = 0;
  #cdp;
  #options;
  /** This load's records when it navigated away, when it was gone and its mark, until it is known whether it comes back. */
  #left;
  /** The rig's last word of each load that left, by its mark. */
  #lastWords;

  constructor(name, page, options, lastWords = new Map()) {
    this.name = name;
    this.page = page;
    this.#options = options;
    this.#lastWords = lastWords;
  }

  /** Loads the tab page at `url` and starts its elements. */
  async load(url) {
    await this.page.goto(url);
    await this.page.waitForFunction(() => window.tabReady === true);
    this.throttled = 0;
    await this.call('start', this.#options);
  }
  /** Reloads the page, which starts afresh: new elements, under names of their own. */
  async reload() {
    await this.#keepSockets();
    await this.load(this.page.url());
  }
  /** This load's sockets and the earlier loads', each `{tab, opened, ended, stoleAt}` (epoch ms; ended undefined while open). */
  async sockets() {
    if (this.closed) return this.history;
    const now = await this.call('sockets');
    return [...this.history, ...now.map((socket) => ({tab: this.name, ...socket}))];
  }
  /** Navigates to `url`, away from the tab page, which may go into the back/forward cache. */
  async leave(url) {
    const records = await this.#records();
    // A load that does not come back cannot be asked later: what its sockets and elements did
    // as it went, and when, it tells the rig (see `tellOnLeave` in test/share/tab.js).
    const load = await this.call('tellOnLeave');
    await this.page.goto(url);
    this.#left = {...records, at: Date.now(), load};
  }
  /**
   * Goes back to the tab page; resolves to true when it came back from the
   * back/forward cache, as it was. Loaded afresh instead, it starts its
   * elements again, and its earlier load's records are kept.
   */
  async back() {
    const left = this.#left;
    this.#left = undefined;
    await this.page.goBack();
    await this.page.waitForFunction(() => window.tabReady === true);
    // Sent as it left, long before: it has arrived, if it ever will.
    const saved = left && this.#lastWords.get(left.load);
    this.#lastWords.delete(left?.load);
    if (await this.page.evaluate(() => window.tab.logs().length > 0)) {
      this.throttled = await this.page.evaluate(() => window.__throttle ?? 0);
      return true;
    }
    // Its own record of its last moment, or failing that, what it said before it left.
    if (saved) this.#keep(saved, saved.at);
    else if (left) this.#keep(left, left.at);
    this.throttled = 0;
    await this.call('start', this.#options);
    return false;
  }
  /** The element logs of this load and the earlier ones': each element's stay, states, errors and messages. */
  async logs() {
    if (this.closed) return this.pastLogs;
    return [...this.pastLogs, ...(await this.call('logs'))];
  }
  async #keepSockets() {
    this.#keep(await this.#records(), Date.now());
  }
  async #records() {
    const [sockets, logs] = await Promise.all([this.call('sockets'), this.call('logs')]);
    return {sockets, logs};
  }
  /** Keeps a load's records, with what was still open or on the page ended at `at`. */
  #keep({sockets, logs}, at) {
    for (const socket of sockets) {
      this.history.push({...socket, tab: this.name, ended: socket.ended ?? at});
    }
    for (const log of logs) this.pastLogs.push({...log, removedAt: log.removedAt ?? at});
  }
  /** Aligns the page's timers to multiples of `ms`, as a background tab's are (0: back on time); needs `late`. */
  async throttle(ms) {
    await this.page.evaluate((period) => (window.__throttle = period), ms);
    this.throttled = ms;
  }

  /** Calls `window.tab[method](...args)` in the page. */
  call(method, ...args) {
    return this.page.evaluate((m, a) => window.tab[m](...a), method, args);
  }
  leader() {
    return this.call('leader');
  }
  state() {
    return this.call('state');
  }
  async cdp() {
    this.#cdp ??= await this.page.createCDPSession();
    return this.#cdp;
  }
  /** Freezes the page as Chromium does a background tab (`freeze` fires), or wakes it. */
  async freeze(frozen = true) {
    const cdp = await this.cdp();
    await cdp.send('Page.setWebLifecycleState', {state: frozen ? 'frozen' : 'active'});
  }
  /**
   * Stops the page's script in the debugger, as a hung page is: no event,
   * no timer, nothing runs until `resume()`.
   */
  async stall() {
    const cdp = await this.cdp();
    await cdp.send('Debugger.enable');
    const paused = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
    await cdp.send('Debugger.pause');
    // It pauses at the next statement: the holder's beat or the page's sends come within a second.
    await paused;
  }
  async resume() {
    const cdp = await this.cdp();
    await cdp.send('Debugger.resume');
    await cdp.send('Debugger.disable');
  }
  async close() {
    if (this.closed) return;
    // A page that is frozen or hung cannot answer; it is closed all the same.
    await Promise.race([this.#keepSockets(), sleep(1000)]).catch(() => {});
    this.closed = true;
    /** When the page itself began to close, after the records were kept. */
    this.closingAt = Date.now();
    await this.page.close();
  }
}

/** The tab that holds the socket, once exactly one of `tabs` does. */
export async function holder(tabs, {timeout = 10_000} = {}) {
  return until(
    async () => {
      const open = tabs.filter((tab) => !tab.closed);
      const leading = await Promise.all(open.map((tab) => tab.leader()));
      const holders = open.filter((_, i) => leading[i]);
      return holders.length === 1 ? holders[0] : undefined;
    },
    {timeout, message: 'exactly one tab to hold the socket'},
  );
}

/** Resolves once every element of every open tab is open. */
export function allOpen(tabs, {timeout = 10_000} = {}) {
  return until(
    async () => {
      const states = await Promise.all(tabs.filter((tab) => !tab.closed).map((tab) => tab.call('states')));
      return states.flat().every((state) => state === 'open');
    },
    {timeout, message: 'every element of every tab open'},
  );
}

/** How near a server cut a lost message must have been accepted to count as in flight. */
const IN_FLIGHT = 250;

/**
 * Checks what the server received (`s:<element>:<n>`) against what each
 * element had accepted: `lost` counts accepted messages that never arrived,
 * `outOfOrder` first arrivals that came after a higher number of the same
 * element, `duplicates` arrivals after the first. `sends` lists the elements
 * whose losses count (those of tabs still open). A message accepted within
 * IN_FLIGHT ms of one of `cuts` (when the server dropped its connections)
 * counts as `lostInFlight` instead: written to a socket that died before
 * the server read it, which no client can know, shared or not.
 */
export function deliveries(received, sends, cuts = []) {
  const seen = new Map();
  const highest = new Map();
  let duplicates = 0;
  let outOfOrder = 0;
  for (const message of received) {
    if (typeof message !== 'string' || !message.startsWith('s:')) continue;
    const at = message.lastIndexOf(':');
    const name = message.slice(2, at);
    const n = Number(message.slice(at + 1));
    const numbers = seen.get(name) ?? new Set();
    seen.set(name, numbers);
    if (numbers.has(n)) {
      duplicates++;
      continue;
    }
    numbers.add(n);
    if (n < (highest.get(name) ?? 0)) outOfOrder++;
    highest.set(name, Math.max(n, highest.get(name) ?? 0));
  }
  let accepted = 0;
  let lost = 0;
  let lostInFlight = 0;
  const lostExamples = [];
  for (const {name, accepted: numbers, acceptedAt = []} of sends) {
    accepted += numbers.length;
    numbers.forEach((n, i) => {
      if (seen.get(name)?.has(n)) return;
      const at = acceptedAt[i];
      if (cuts.some((cut) => Math.abs(at - cut) <= IN_FLIGHT)) {
        lostInFlight++;
        return;
      }
      lost++;
      if (lostExamples.length < 5) lostExamples.push(`${name}:${n}`);
    });
  }
  return {accepted, lost, lostInFlight, lostExamples, duplicates, outOfOrder};
}
