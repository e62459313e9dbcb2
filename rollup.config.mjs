// The single-file CDN build: the compiled package entry (which defines the
// tag) with Lit inside, minified.
import {nodeResolve} from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

/** The bundle exports what the package entry does, so its types are the entry's. */
function bundleTypes() {
  return {
    name: 'bundle-types',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'ws-connection.bundled.d.ts',
        source: "export * from './index.js';\n",
      });
    },
  };
}

export default {
  input: 'dist/index.js',
  output: {
    file: 'dist/ws-connection.bundled.js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    bundleTypes(),
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
