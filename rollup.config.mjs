// The single-file CDN build: the compiled CDN entry (which defines the tag
// and exports the element and the engine) with Lit inside, minified.
import {nodeResolve} from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

/** The bundle exports what the CDN entry does, so its types are the entry's. */
function bundleTypes() {
  return {
    name: 'bundle-types',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'ws-connection.bundled.d.ts',
        source: "export * from './cdn.js';\n",
      });
    },
  };
}

export default {
  input: 'dist/cdn.js',
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
