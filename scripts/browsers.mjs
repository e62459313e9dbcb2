// Finds the three browser engines the tests run in, and the reverse proxy
// they are tested behind, installing Debian's packages where one is missing
// and we are allowed to; otherwise says exactly what is missing and how to
// get it.
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';

/** Each engine: the env variables that override its paths, where to look, and its Debian packages. */
export const engines = {
  chromium: {
    paths: {
      executable: {
        env: 'CHROME_PATH',
        candidates: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'],
      },
    },
    packages: ['chromium'],
  },
  firefox: {
    paths: {
      executable: {env: 'FIREFOX_PATH', candidates: ['/usr/bin/firefox-esr', '/usr/bin/firefox']},
    },
    packages: ['firefox-esr'],
  },
  webkit: {
    paths: {
      driver: {env: 'WEBKIT_DRIVER_PATH', candidates: ['/usr/bin/WebKitWebDriver']},
      browser: {
        env: 'WEBKIT_BROWSER_PATH',
        candidates: [
          '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
          '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
        ],
      },
      xvfb: {env: 'XVFB_PATH', candidates: ['/usr/bin/Xvfb']},
    },
    packages: ['webkit2gtk-driver', 'xvfb'],
  },
};

/**
 * What the tests need besides browsers: nginx, to test behind a real reverse
 * proxy; redis-server, for the server half's Redis store; Python with
 * websockets, for the protocol's reference server in Python.
 */
export const tools = {
  nginx: {
    paths: {executable: {env: 'NGINX_PATH', candidates: ['/usr/sbin/nginx', '/usr/bin/nginx']}},
    packages: ['nginx-light'],
  },
  redis: {
    paths: {executable: {env: 'REDIS_SERVER_PATH', candidates: ['/usr/bin/redis-server']}},
    packages: ['redis-server'],
  },
  'python-websockets': {
    paths: {
      python: {env: 'PYTHON', candidates: ['/usr/bin/python3']},
      websockets: {
        env: 'PYTHON_WEBSOCKETS_PATH',
        candidates: ['/usr/lib/python3/dist-packages/websockets/__init__.py'],
      },
    },
    packages: ['python3-websockets'],
  },
};

function locate({env, candidates}) {
  if (process.env[env]) return existsSync(process.env[env]) ? process.env[env] : undefined;
  return candidates.find((path) => existsSync(path));
}

function locateAll(engine) {
  const found = {};
  const missing = [];
  for (const [name, spec] of Object.entries(engine.paths)) {
    found[name] = locate(spec);
    if (!found[name]) missing.push(process.env[spec.env] ? `${spec.env}=${process.env[spec.env]}` : name);
  }
  return {found, missing};
}

function canInstallWithApt() {
  if (process.getuid?.() !== 0) return false;
  if (!existsSync('/usr/bin/apt-get')) return false;
  try {
    return /^ID(_LIKE)?=.*debian/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

let aptUpdated = false;
function aptInstall(packages) {
  const options = {stdio: 'inherit', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}};
  if (!aptUpdated) {
    execFileSync('apt-get', ['update'], options);
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], options);
}

/** Returns the paths of each requested engine or tool, installing what is missing where possible. */
export function ensureBrowsers(names, {install = aptInstall, canInstall = canInstallWithApt} = {}) {
  const result = {};
  const problems = [];
  for (const name of names) {
    const engine = engines[name] ?? tools[name];
    if (!engine) {
      problems.push(`unknown browser "${name}" (choose from ${Object.keys(engines).join(', ')})`);
      continue;
    }
    let {found, missing} = locateAll(engine);
    if (missing.length && canInstall()) {
      console.log(`[browsers] ${name}: installing ${engine.packages.join(' ')} from Debian's packages`);
      install(engine.packages);
      ({found, missing} = locateAll(engine));
    }
    if (missing.length) {
      const envs = Object.values(engine.paths).map((spec) => spec.env);
      problems.push(
        `${name}: cannot find ${missing.join(', ')}. Install the Debian packages ` +
          `"${engine.packages.join(' ')}" (apt-get install ${engine.packages.join(' ')}), ` +
          `or point ${envs.join(' / ')} at your own build.`,
      );
      continue;
    }
    result[name] = found;
  }
  if (problems.length) {
    throw new Error(`Some of what the tests need is missing:\n  ${problems.join('\n  ')}`);
  }
  return result;
}
