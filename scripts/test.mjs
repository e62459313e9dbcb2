// The test command: runs the engine's Node tests, then finds (or installs)
// the browsers, starts what WebKit needs, and runs the browser suite once per
// engine. BROWSERS=chromium,firefox picks a subset; other arguments go to the
// browser test runner (e.g. --files), and then the Node tests are left out.
import {spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ensureBrowsers} from './browsers.mjs';
import {startRedis} from '../test/support/redis.mjs';
import {freePort, waitForPort} from './ports.mjs';

const requested = (process.env.BROWSERS ?? 'chromium,firefox,webkit').split(/[\s,]+/).filter(Boolean);
const extraArgs = process.argv.slice(2);

/** Starts a helper process we own; returns it, already watched for early exit. */
function startHelper(name, command, args, options = {}) {
  const child = spawn(command, args, {stdio: ['ignore', 'ignore', 'pipe'], ...options});
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  child.describe = () => `${name} (${command}) ${stderr.trim().split('\n').slice(-5).join('\n')}`;
  return child;
}

async function stopHelper(child) {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

/** Xvfb on a free display, and WebKitWebDriver on a free port drawing there. */
async function startWebKit(paths) {
  const xvfb = startHelper(
    'Xvfb',
    paths.xvfb,
    ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const display = await new Promise((resolve, reject) => {
    let out = '';
    xvfb.stdio[3].on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.exited.then(() => reject(new Error(`Xvfb exited before it opened a display: ${xvfb.describe()}`)));
  });
  const port = await freePort();
  const driver = startHelper('WebKitWebDriver', paths.driver, [`--port=${port}`, '--host=127.0.0.1'], {
    env: {...process.env, DISPLAY: display},
  });
  await Promise.race([
    waitForPort(port),
    driver.exited.then(() => {
      throw new Error(`WebKitWebDriver exited at start: ${driver.describe()}`);
    }),
  ]);
  return {
    env: {WEBKIT_DRIVER_PORT: String(port), WEBKIT_BROWSER_PATH: paths.browser, DISPLAY: display},
    stop: () => Promise.all([stopHelper(driver), stopHelper(xvfb)]),
  };
}

function runTestRunner(engine, env, resultsFile) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['node_modules/@web/test-runner/dist/bin.js', '--config', 'web-test-runner.config.mjs', ...extraArgs],
      {stdio: 'inherit', env: {...process.env, ...env, WTR_BROWSER: engine, WTR_RESULTS: resultsFile}},
    );
    child.once('exit', (code, signal) => resolve(signal ? 1 : code));
  });
}

/** Node's own test runner over test/node: spec output for people, TAP in a file for the counts. */
function runNodeTests(tapFile, env) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tapFile}`,
        'test/node/',
      ],
      {stdio: 'inherit', env: {...process.env, ...env}},
    );
    child.once('exit', (code, signal) => resolve(signal ? 1 : code));
  });
}

function readTapCounts(file) {
  try {
    const tap = readFileSync(file, 'utf8');
    const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? NaN);
    const counts = {
      passed: count('pass'),
      failed: count('fail') + count('cancelled'),
      skipped: count('skipped'),
    };
    return Object.values(counts).some(Number.isNaN) ? undefined : counts;
  } catch {
    return undefined;
  }
}

function readCounts(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function main() {
  const runNode = extraArgs.length === 0;
  // The Node suite drives the demo in Chromium, whichever engines were asked for,
  // runs servers behind nginx, sharing a Redis, and the Python reference server.
  // Browser tests also run behind nginx.
  const paths = ensureBrowsers([
    ...new Set([
      ...(runNode ? ['chromium', 'nginx', 'redis', 'python-websockets'] : []),
      ...requested,
      ...(requested.length ? ['nginx', 'redis'] : []),
    ]),
  ]);
  const work = mkdtempSync(join(tmpdir(), 'ws-connection-test-'));
  const totals = {passed: 0, failed: 0, skipped: 0};
  const failures = [];
  const outcomes = {};
  // One Redis for the whole run, on a free port, nothing kept on disk.
  const redis = paths.redis && (await startRedis({executable: paths.redis.executable}));
  const shared = redis ? {NGINX_PATH: paths.nginx.executable, REDIS_PORT: String(redis.port)} : {};
  const tally = (name, counts, code) => {
    if (!counts) {
      failures.push(`${name}: the test runner reported no results (exit ${code})`);
      return;
    }
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    totals.skipped += counts.skipped;
    console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    if (code !== 0) failures.push(`${name}: the test runner exited with ${code}`);
    if (counts.passed === 0) failures.push(`${name}: no test passed`);
  };
  try {
    if (runNode) {
      console.log('\n=== node ===');
      const tapFile = join(work, 'node.tap');
      const code = await runNodeTests(tapFile, {
        ...shared,
        CHROME_PATH: paths.chromium.executable,
        PYTHON: paths['python-websockets'].python,
      });
      tally('node', readTapCounts(tapFile), code);
    }
    const setUp = {
      chromium: async () => ({env: {CHROME_PATH: paths.chromium.executable}, stop: async () => {}}),
      firefox: async () => ({env: {FIREFOX_PATH: paths.firefox.executable}, stop: async () => {}}),
      webkit: () => startWebKit(paths.webkit),
    };
    for (const engine of requested) {
      console.log(`\n=== ${engine} ===`);
      const setup = await setUp[engine]();
      const resultsFile = join(work, `${engine}.json`);
      let code;
      try {
        code = await runTestRunner(engine, {...setup.env, ...shared}, resultsFile);
      } finally {
        await setup.stop();
      }
      const counts = readCounts(resultsFile);
      tally(engine, counts, code);
      if (counts) outcomes[engine] = counts.tests;
    }
  } finally {
    await redis?.stop();
    rmSync(work, {recursive: true, force: true});
  }
  if (runNode) {
    // Each test's outcome per engine, for scripts/reliability.mjs.
    mkdirSync('test-results', {recursive: true});
    const record = {date: new Date().toISOString(), engines: outcomes};
    writeFileSync('test-results/tests.json', `${JSON.stringify(record, null, 2)}\n`);
  }
  for (const failure of failures) console.error(`FAILED ${failure}`);
  console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exitCode = failures.length || totals.failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exitCode = 1;
});
