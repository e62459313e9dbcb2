// The test command's browser finder: found, installed, or explained.
import assert from 'node:assert/strict';
import {afterEach, describe, it} from 'node:test';
import {ensureBrowsers} from '../../scripts/browsers.mjs';

describe('ensureBrowsers', () => {
  const saved = {...process.env};
  afterEach(() => {
    for (const name of ['CHROME_PATH', 'FIREFOX_PATH', 'NGINX_PATH']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('takes a path from the environment over the usual places', () => {
    process.env.CHROME_PATH = process.execPath;
    const paths = ensureBrowsers(['chromium'], {canInstall: () => false});
    assert.equal(paths.chromium.executable, process.execPath);
  });

  it('names what is missing and how to get it when it may not install', () => {
    process.env.CHROME_PATH = '/nonexistent/chromium';
    const installed = [];
    assert.throws(
      () => ensureBrowsers(['chromium'], {canInstall: () => false, install: (p) => installed.push(p)}),
      (error) =>
        error.message.includes('CHROME_PATH=/nonexistent/chromium') &&
        error.message.includes('apt-get install chromium'),
    );
    assert.deepEqual(installed, []);
  });

  it('finds nginx the same way, and names its package when it is missing', () => {
    process.env.NGINX_PATH = '/nonexistent/nginx';
    assert.throws(
      () => ensureBrowsers(['nginx'], {canInstall: () => false}),
      (error) =>
        error.message.includes('NGINX_PATH=/nonexistent/nginx') && error.message.includes('nginx-light'),
    );
    process.env.NGINX_PATH = process.execPath;
    assert.equal(ensureBrowsers(['nginx'], {canInstall: () => false}).nginx.executable, process.execPath);
  });

  it("installs the engine's packages where it may, and fails if that did not help", () => {
    process.env.FIREFOX_PATH = '/nonexistent/firefox';
    const installed = [];
    assert.throws(
      () => ensureBrowsers(['firefox'], {canInstall: () => true, install: (p) => installed.push(p)}),
      /firefox: cannot find/,
    );
    assert.deepEqual(installed, [['firefox-esr']]);
  });

  it('refuses an unknown engine by name', () => {
    assert.throws(
      () => ensureBrowsers(['netscape'], {canInstall: () => false}),
      /unknown browser "netscape"/,
    );
  });
});
