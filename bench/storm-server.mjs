// The storm's server, in its own process so that its work does not delay the
// clients' timers: listens, is killed and revived on command (over IPC).
import {WebSocketServer} from 'ws';

let wss;
let port = 0;

async function listen() {
  wss = new WebSocketServer({port, host: '127.0.0.1', backlog: 4096});
  await new Promise((resolve, reject) => wss.once('listening', resolve).once('error', reject));
  port = wss.address().port;
}

const commands = {
  async listen() {
    await listen();
    return port;
  },
  async kill() {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  },
  revive: listen,
  open: () => wss.clients.size,
  async stop() {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  },
};

process.on('message', async ({id, command}) => {
  const result = await commands[command]();
  process.send({id, result: result ?? true}, () => command === 'stop' && process.disconnect());
});
