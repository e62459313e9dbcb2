// The single-file CDN build: the compiled package entry (which defines the
// tag) with Lit inside, minified.
import {nodeResolve} from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

export default {
  input: 'dist/index.js',
  output: {
    file: 'dist/ws-connection.bundled.js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    nodeResolve(),
    terser({
      ecma: 2022,
      module: true,
      compress: {passes: 2},
      // Lit's private members start with `_$`; mangling them makes the bundle smaller.
      mangle: {properties: {regex: /^__/}},
      format: {comments: false},
    }),
  ],
};
