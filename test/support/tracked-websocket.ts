// The page's real WebSocket, with every socket made kept for the test to
// inspect, and a count of the times one was made while another was still
// connecting or open.
/** Real browser sockets, counted: creating one while another is connecting or open is a failure. */
export function trackedWebSocket() {
  const sockets: WebSocket[] = [];
  let violations = 0;
  class TrackedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (sockets.some((socket) => socket.readyState <= WebSocket.OPEN)) violations++;
      sockets.push(this);
    }
  }
  return {
    TrackedWebSocket,
    sockets,
    get violations() {
      return violations;
    },
  };
}
