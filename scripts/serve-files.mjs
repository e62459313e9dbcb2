// Serves the project's own files to a browser, for the demo, the benchmarks
// and the soak: only from the directories named, never outside them.
import {createReadStream, existsSync, statSync} from 'node:fs';
import {extname, join, normalize} from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** A request handler for the files under `dirs` of `root`; `/` is `index`, anything else a 404. */
export function serveFiles({root, dirs, index}) {
  return (request, response) => {
    const {pathname} = new URL(request.url, 'http://localhost');
    let path;
    try {
      path = normalize(join(root, decodeURIComponent(pathname === '/' ? index : pathname)));
    } catch {
      response.writeHead(400, {'content-type': 'text/plain'}).end('bad path');
      return;
    }
    const allowed = dirs.some((dir) => path.startsWith(join(root, dir) + '/'));
    if (!allowed || !existsSync(path) || !statSync(path).isFile()) {
      response.writeHead(404, {'content-type': 'text/plain'}).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': types[extname(path)] ?? 'application/octet-stream',
      // Fetched fresh every time, and still allowed into the back/forward cache (no-store is not).
      'cache-control': 'no-cache',
    });
    createReadStream(path).pipe(response);
  };
}
