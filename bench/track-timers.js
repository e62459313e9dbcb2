// Keeps the set of pending timers and intervals of this page, and a log of
// when sockets are created and given up (closed by the page), for the
// benchmarks to read.
(() => {
  const pending = new Set();
  const {setTimeout, clearTimeout, setInterval, clearInterval, WebSocket} = window;
  window.setTimeout = function (callback, ms, ...args) {
    const id = setTimeout.call(
      window,
      (...a) => {
        pending.delete(id);
        if (typeof callback === 'function') callback(...a);
      },
      ms,
      ...args,
    );
    pending.add(id);
    return id;
  };
  window.clearTimeout = (id) => {
    pending.delete(id);
    clearTimeout.call(window, id);
  };
  window.setInterval = function (...args) {
    const id = setInterval.apply(window, args);
    pending.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    pending.delete(id);
    clearInterval.call(window, id);
  };
  window.pendingTimers = () => pending.size;

  const sockets = (window.socketLog = {created: [], closedByPage: []});
  window.WebSocket = class extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.created.push(Date.now());
    }
    close(...args) {
      sockets.closedByPage.push(Date.now());
      return super.close(...args);
    }
  };
})();
