// A real reverse proxy for the rig: nginx, in the foreground with its own
// configuration and temp directory, passing WebSockets through to a rig
// server with short idle timeouts, as many production proxies are set up.
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {freePort, waitForPort} from '../../scripts/ports.mjs';

/**
 * Starts nginx in front of `upstreamPort` (or of `upstreamPorts`, round-robin,
 * no sticky sessions), closing a connection that has been idle (nothing read,
 * or nothing written) for `idleTimeout`.
 */
export async function startNginx({
  upstreamPort,
  upstreamPorts = [upstreamPort],
  idleTimeout = '2s',
  executable = process.env.NGINX_PATH,
}) {
  if (!executable) throw new Error('NGINX_PATH is not set: run the tests with npm test, which finds nginx');
  const dir = mkdtempSync(join(tmpdir(), 'ws-connection-nginx-'));
  const port = await freePort();
  const config = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
${upstreamPorts.map((port) => `    server 127.0.0.1:${port};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout ${idleTimeout};
      proxy_send_timeout ${idleTimeout};
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), config);
  const child = spawn(executable, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk) => (errors += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then((code) => {
        throw new Error(`nginx exited with ${code}: ${errors.trim()}`);
      }),
    ]);
  } catch (error) {
    child.kill();
    rmSync(dir, {recursive: true, force: true});
    throw error;
  }
  return {
    port,
    async stop() {
      child.kill();
      await exited;
      rmSync(dir, {recursive: true, force: true});
    },
  };
}
