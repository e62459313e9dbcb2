// Runs the browser tests in one engine, chosen by WTR_BROWSER (scripts/test.mjs
// sets it, with the paths it found); alone, it runs Chromium at its usual path.
import {readFileSync, writeFileSync} from 'node:fs';
import {relative} from 'node:path';
import rollupReplace from '@rollup/plugin-replace';
import {esbuildPlugin} from '@web/dev-server-esbuild';
import {fromRollup} from '@web/dev-server-rollup';
import {defaultReporter, summaryReporter} from '@web/test-runner';
import {chromeLauncher} from '@web/test-runner-chrome';
import {puppeteerLauncher} from '@web/test-runner-puppeteer';
import {webdriverLauncher} from '@web/test-runner-webdriver';
import {CHROMIUM_FLAGS, ON_TIME_TIMER_FLAGS} from './scripts/chromium-flags.mjs';
import {frameworkCompilersPlugin} from './test/support/framework-compilers-plugin.mjs';
import {reactEsmPlugin} from './test/support/react-esm-plugin.mjs';
import {wsRigPlugin} from './test/support/rig-plugin.mjs';

const engine = process.env.WTR_BROWSER ?? 'chromium';

// Tests measure heartbeats; a test page in a background tab must keep its timers.
const chromiumFlags = [...CHROMIUM_FLAGS, ...ON_TIME_TIMER_FLAGS];

function launcher() {
  if (engine === 'chromium') {
    return chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: chromiumFlags,
      },
    });
  }
  if (engine === 'firefox') {
    return puppeteerLauncher({
      launchOptions: {
        browser: 'firefox',
        executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
        headless: true,
        // As for Chromium: a test page in a background tab must keep its timers.
        extraPrefsFirefox: {
          'dom.min_background_timeout_value': 0,
          'dom.min_background_timeout_value_without_budget_throttling': 0,
          'dom.timeout.enable_budget_timer_throttling': false,
        },
      },
    });
  }
  if (engine === 'webkit') {
    return webdriverLauncher({
      automationProtocol: 'webdriver',
      hostname: '127.0.0.1',
      port: Number(process.env.WEBKIT_DRIVER_PORT),
      capabilities: {
        'webkitgtk:browserOptions': {
          binary: process.env.WEBKIT_BROWSER_PATH,
          args: ['--automation'],
        },
      },
    });
  }
  throw new Error(`unknown WTR_BROWSER ${engine}`);
}

/**
 * Resolves `ws-connection` and `ws-connection/…` (as the examples import
 * them) through the package's own `exports` map to the built files, which
 * is what a user's bundler or CDN would give them.
 */
function packageSelfReference() {
  const {name, exports} = JSON.parse(readFileSync('package.json', 'utf8'));
  return {
    name: 'package-self-reference',
    resolveImport({source}) {
      if (source !== name && !source.startsWith(`${name}/`)) return undefined;
      const entry = exports[source === name ? '.' : `.${source.slice(name.length)}`];
      if (!entry) throw new Error(`${source} is not exported by package.json`);
      return `/${(entry.default ?? entry).replace(/^\.\//, '')}`;
    },
  };
}

/**
 * Serves /dist/ also at the paths jsDelivr and unpkg serve the package at
 * (`/npm/ws-connection@1.2.3/dist/…`, `/ws-connection@1.2.3/dist/…`), so
 * that the CDN test loads the bundle, and its chunk beside it, from there;
 * and at `/chunk-missing/dist/`, without the chunk. Like a CDN, it lets any
 * origin load them.
 */
function cdnPaths(context, next) {
  // A CDN that fails to serve the chunk, for the test of what a page gets then.
  if (context.url === '/chunk-missing/dist/ws-connection.sharing.js') {
    context.status = 404;
    return undefined;
  }
  const missing = /^\/chunk-missing\/dist\/(.*)$/.exec(context.url);
  if (missing) context.url = `/dist/${missing[1]}`;
  const match = /^\/(?:npm\/)?ws-connection@[^/]+\/dist\/(.*)$/.exec(context.url);
  if (match) context.url = `/dist/${match[1]}`;
  // As a CDN does, so that a sandboxed frame (an opaque origin) may load the modules.
  if (context.url.startsWith('/dist/')) context.set('Access-Control-Allow-Origin', '*');
  return next();
}

// Vue's ES module build expects a bundler to replace process.env.NODE_ENV.
const replace = fromRollup(rollupReplace);

/**
 * Writes pass/fail/skip counts where scripts/test.mjs can add them up, and
 * each test's outcome, from which docs/RELIABILITY.md is generated.
 */
function countingReporter(file) {
  const tally = (suite, counts, tests, testFile, path) => {
    for (const test of suite.tests) {
      if (test.skipped) counts.skipped++;
      else if (test.passed) counts.passed++;
      else counts.failed++;
      const outcome = test.skipped ? 'skipped' : test.passed ? 'passed' : 'failed';
      tests.push({
        file: testFile,
        path,
        name: test.name,
        outcome,
        ms: test.duration,
        error: test.error?.message,
      });
    }
    for (const child of suite.suites) tally(child, counts, tests, testFile, [...path, child.name]);
    return counts;
  };
  return {
    onTestRunFinished({sessions}) {
      const counts = {passed: 0, failed: 0, skipped: 0, fileErrors: 0};
      const tests = [];
      for (const session of sessions) {
        const testFile = relative(process.cwd(), session.testFile);
        if (session.testResults) tally(session.testResults, counts, tests, testFile, []);
        if (!session.passed && session.errors?.length) counts.fileErrors++;
      }
      if (file) writeFileSync(file, JSON.stringify({...counts, tests}));
    },
  };
}

export default {
  files: ['test/**/*.test.ts', '!test/**/*.node.test.*'],
  // As browser bundlers do: Svelte's and Solid's entries for the browser, not their server ones.
  nodeResolve: {exportConditions: ['development', 'browser']},
  rootDir: '.',
  middleware: [cdnPaths],
  mimeTypes: {'**/*.svelte': 'js', '**/*.vue': 'js'},
  plugins: [
    packageSelfReference(),
    reactEsmPlugin(),
    frameworkCompilersPlugin(),
    replace({
      include: ['**/node_modules/vue/**', '**/node_modules/@vue/**'],
      preventAssignment: true,
      'process.env.NODE_ENV': JSON.stringify('development'),
    }),
    esbuildPlugin({ts: true, tsx: true, jsx: true, target: 'es2022', tsconfig: 'tsconfig.json'}),
    wsRigPlugin(),
  ],
  browsers: [launcher()],
  filterBrowserLogs: ({args}) => !String(args[0]).startsWith('Lit is in dev mode'),
  // WebKitWebDriver drives one session at a time. Firefox lets only one
  // WebSocket per host be connecting at a time (RFC 6455 §4.1), so one
  // test's deliberately stuck handshake would hold up another file's
  // connects to 127.0.0.1. Chromium gets a core per file: heartbeat timing is measured.
  concurrency: engine === 'chromium' ? 2 : 1,
  concurrentBrowsers: 1,
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  testsFinishTimeout: 300_000,
  testFramework: {config: {timeout: 20_000, retries: 0}},
  reporters: [
    defaultReporter(),
    summaryReporter({flatten: false}),
    countingReporter(process.env.WTR_RESULTS),
  ],
};
