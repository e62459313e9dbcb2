// Browsers come from the system's packages (see scripts/browsers.mjs); puppeteer
// must not try to download its own, which fails on closed networks.
module.exports = {skipDownload: true};
