// A Redis for the tests: Debian's redis-server in the foreground on a free
// loopback port, with nothing written to disk (no snapshot, no append-only
// file) and its working directory in a temp dir removed when it stops.
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {freePort, waitForPort} from '../../scripts/ports.mjs';

/** Where redis-server is: REDIS_SERVER_PATH, else Debian's path, else on PATH; undefined when none. */
export function findRedisServer() {
  if (process.env.REDIS_SERVER_PATH) return process.env.REDIS_SERVER_PATH;
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server';
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], {encoding: 'utf8'}).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Starts redis-server; resolves to {port, stop()} once it accepts connections. */
export async function startRedis({executable = findRedisServer()} = {}) {
  if (!executable)
    throw new Error('redis-server is not installed: run the tests with npm test, which installs it');
  const dir = mkdtempSync(join(tmpdir(), 'ws-connection-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning');
  const child = spawn(executable, args, {stdio: ['ignore', 'ignore', 'pipe']});
  let errors = '';
  child.stderr.on('data', (chunk) => (errors += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, {recursive: true, force: true});
  };
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => {
        throw new Error(`redis-server exited with ${code}: ${errors.trim()}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {port, stop};
}

/**
 * The tests' Redis: the one the test command started (REDIS_PORT), or one
 * started here for a run of `node --test` by hand. `stop()` stops only the latter.
 */
export async function testRedis() {
  if (process.env.REDIS_PORT) return {port: Number(process.env.REDIS_PORT), stop: async () => {}};
  return startRedis();
}
