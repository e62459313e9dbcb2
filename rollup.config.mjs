// The CDN build: the compiled CDN entry (which defines the tag and exports
// the element and the engine), minified, in one file a page loads; and
// beside it two chunks the entry imports (relative to its own url) on first
// use: sharing's code when an element first shares, and the delivery
// protocol's when one is first reliable.
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

/** The chunks loaded on first use, named by what they bring rather than by their entry module. */
const DYNAMIC_CHUNKS = {registry: 'sharing', reliable: 'reliable'};

export default {
  input: 'dist/cdn.js',
  // The sharing chunk imports the engine's parts from the entry itself, not from a third file.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    entryFileNames: 'ws-connection.bundled.js',
    // Stable names, so that a CDN's cache and a page's CSP know them.
    chunkFileNames: (chunk) =>
      chunk.isDynamicEntry
        ? `ws-connection.${DYNAMIC_CHUNKS[chunk.name] ?? chunk.name}.js`
        : 'ws-connection.[name].js',
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
      format: {comments: false},
    }),
  ],
};
