// The test-runner plugin that owns every rig server (and examples/server
// where a test asks for it) and carries out the commands browser tests send
// through `executeServerCommand('ws-rig', …)`.
import {ReliableRigServer, RigServer} from './rig-server.mjs';

const operations = {
  status: (rig) => rig.status(),
  set: (rig, args) => rig.set(args),
  push: (rig, args) => rig.push(args),
  send: (rig, args) => rig.send(args),
  closeClients: (rig, args) => rig.closeClients(args),
  terminateClients: (rig) => rig.terminateClients(),
  kill: (rig) => rig.kill(),
  revive: (rig) => rig.revive(),
  restart: (rig, args) => rig.restart(args),
  blackhole: (rig) => rig.proxy.blackhole(),
  heal: (rig) => rig.proxy.heal(),
  inject: (rig, {bytes}) => rig.proxy.inject(Buffer.from(bytes)),
  received: (rig) => rig.received,
  connections: (rig) => rig.connections,
  takeReceived: (rig) => rig.takeReceived(),
  startNginx: async (rig) => `ws://127.0.0.1:${await rig.startNginx()}`,
};

export function wsRigPlugin() {
  const rigs = new Map();
  let nextId = 1;

  async function stop(id) {
    const rig = rigs.get(id);
    rigs.delete(id);
    await rig?.server.stop();
  }

  return {
    name: 'ws-rig',

    async executeCommand({command, payload, session}) {
      if (command !== 'ws-rig') return undefined;
      const {op, id, ...args} = payload ?? {};
      if (op === 'start' || op === 'startReliable') {
        const server = op === 'start' ? new RigServer() : new ReliableRigServer(args);
        await server.start();
        const rigId = nextId++;
        rigs.set(rigId, {server, session: session.id});
        return {
          id: rigId,
          port: server.port,
          url: `ws://127.0.0.1:${server.port}`,
          proxyPort: server.proxy.port,
          proxyUrl: `ws://127.0.0.1:${server.proxy.port}`,
        };
      }
      if (op === 'startExample') {
        // examples/server, the complete Node server of the README, as a user runs it.
        const {startServer} = await import('../../examples/server/server.mjs');
        const server = await startServer({port: 0, ...args});
        const rigId = nextId++;
        rigs.set(rigId, {server, session: session.id});
        return {id: rigId, url: server.url};
      }
      if (op === 'dropExample') {
        const clients = [...(rigs.get(id)?.server.wss.clients ?? [])];
        for (const ws of clients) ws.terminate();
        return clients.length;
      }
      if (op === 'stop') {
        await stop(id);
        return true;
      }
      if (op === 'stopSession') {
        const owned = [...rigs].filter(([, rig]) => rig.session === session.id);
        await Promise.all(owned.map(([rigId]) => stop(rigId)));
        return owned.length;
      }
      const rig = rigs.get(id);
      if (!rig) throw new Error(`ws-rig: no server ${id}`);
      const operation = operations[op];
      if (!operation) throw new Error(`ws-rig: unknown operation ${op}`);
      return (await operation(rig.server, args)) ?? true;
    },

    async serverStop() {
      await Promise.all([...rigs.keys()].map(stop));
    },
  };
}
