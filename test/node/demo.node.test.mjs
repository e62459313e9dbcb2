// The demo as a newcomer meets it after `npm start`: its server, its page in
// headless Chromium, and each fault button doing what it says. Leaves a
// screenshot behind (DEMO_SCREENSHOT, or the system's temp directory).
/* global document -- the callbacks given to page.waitForFunction run in the page */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import puppeteer from 'puppeteer-core';
import {CHROMIUM_FLAGS} from '../../scripts/chromium-flags.mjs';

const port = 18_000 + Math.floor(Math.random() * 2000);
const origin = `http://127.0.0.1:${port}`;

describe('the demo (npm start)', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = spawn(process.execPath, ['demo/server.mjs'], {
      env: {...process.env, PORT: String(port)},
      stdio: 'pipe',
    });
    await new Promise((resolve, reject) => {
      server.stdout.on('data', (chunk) => String(chunk).includes(origin) && resolve());
      server.once('exit', (code) => reject(new Error(`the demo server exited with ${code}`)));
    });
    browser = await puppeteer.launch({
      executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    page = await browser.newPage();
    await page.setViewport({width: 1200, height: 800});
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  const stateIs = (state, timeout = 15_000) =>
    page.waitForSelector(`ws-connection[state="${state}"]`, {timeout}).then(() => state);
  const press = (control) => page.click(`[data-control="${control}"]`);
  const logText = () => page.$eval('#log', (log) => log.textContent);

  it('prints its URL and connects to its own server', async () => {
    await page.goto(origin);
    await stateIs('open');
    const status = await page.$eval(
      'ws-connection',
      (el) => el.shadowRoot.querySelector('[part=status]').textContent,
    );
    assert.match(status, /Connected/);
  });

  it('chats: a sent line comes back from the server to the list', async () => {
    await page.type('#chat-input', 'hello from the test');
    await page.click('#chat-form button');
    await page.waitForFunction(() =>
      document.querySelector('#messages').textContent.includes('hello from the test'),
    );
  });

  it('notices a server that stops answering pings, and recovers when it answers again', async () => {
    await press('mute');
    await stateIs('reconnecting');
    assert.match(await logText(), /heartbeat-timeout/);
    await press('unmute');
    await stateIs('open');
  });

  it('reconnects after every connection is dropped', async () => {
    await press('drop');
    await page.waitForFunction(() => document.querySelector('ws-connection').state !== 'open');
    await stateIs('open');
  });

  it('notices a blackholed link, and reconnects after heal', async () => {
    await press('blackhole');
    await stateIs('reconnecting');
    await press('heal');
    await stateIs('open');
  });

  it('comes back after a restart', async () => {
    await press('restart');
    await stateIs('reconnecting');
    // The faults above came too fast for any connection to count as stable,
    // so the retry window has grown: it may be up to max-reconnect-delay (30 s).
    await stateIs('open', 45_000);
    const path = process.env.DEMO_SCREENSHOT ?? join(tmpdir(), 'ws-connection-demo.png');
    await page.screenshot({path});
    console.log(`demo screenshot: ${path}`);
  });

  it('shares one connection between two tabs opened with ?shared, and says which holds it', async () => {
    await page.goto('about:blank');
    const tabs = [await browser.newPage(), await browser.newPage()];
    for (const tab of tabs) {
      await tab.goto(`${origin}/?shared`);
      await tab.waitForSelector('ws-connection[state="open"]', {timeout: 15_000});
    }
    // The words follow `leader` within half a second.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const said = await Promise.all(tabs.map((tab) => tab.$eval('#holder', (p) => p.textContent)));
    assert.deepEqual([...said].sort(), [
      'Another tab holds the shared connection; this tab relays through it.',
      'This tab holds the shared connection.',
    ]);
    const response = await fetch(`${origin}/control/unmute`, {method: 'POST'});
    assert.equal((await response.json()).clients, 1);
    const follower =
      tabs[said.indexOf('Another tab holds the shared connection; this tab relays through it.')];
    const status = await follower.$eval(
      'ws-connection',
      (el) => el.shadowRoot.querySelector('[part=status]').textContent,
    );
    assert.match(status, /via another tab/);
    for (const tab of tabs) await tab.close();
  });
});
