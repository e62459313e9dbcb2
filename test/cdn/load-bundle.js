// Loads the CDN bundle as a page would from where `?from=` says: this
// server's /dist/, or the paths jsDelivr and unpkg serve the package at
// (the test runner maps them to /dist/). The sharing chunk must come from
// beside the entry, wherever that is.
const PATHS = {
  dist: '/dist/',
  jsdelivr: '/npm/ws-connection@0.1.0/dist/',
  unpkg: '/ws-connection@0.1.0/dist/',
  'chunk-missing': '/chunk-missing/dist/',
};
const from = new URLSearchParams(location.search).get('from') ?? 'dist';
const script = document.createElement('script');
script.type = 'module';
script.src = `${PATHS[from]}ws-connection.bundled.js`;
document.head.append(script);
