// The CDN build: the compiled CDN entry (which defines the tag and exports
// the element and the engine) with Lit inside, minified, in one file a page
// loads; and sharing's code in a chunk beside it, which the entry imports
// (relative to its own url) only when an element first shares.
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
  // The sharing chunk imports the engine's parts from the entry itself, not from a third file.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    entryFileNames: 'ws-connection.bundled.js',
    // Stable names, so that a CDN's cache and a page's CSP know them.
    chunkFileNames: (chunk) =>
      chunk.isDynamicEntry ? 'ws-connection.sharing.js' : 'ws-connection.[name].js',
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
