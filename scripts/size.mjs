// Prints the gzip size of the CDN bundle, the figure a page pays for.
import {readFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';

const file = 'dist/ws-connection.bundled.js';
const source = readFileSync(file);
const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;
console.log(`${file}: ${kb(source.length)} minified, ${kb(gzipSync(source, {level: 9}).length)} gzip`);
