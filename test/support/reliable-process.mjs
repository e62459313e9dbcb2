// A server process for the tests: a ws WebSocketServer with reliable(), its
// sessions in Redis (STORE=redis, REDIS_PORT) or in memory (STORE=memory),
// on PORT (0 for any). It tells its parent, over the IPC channel, what its
// application hears (sessions, messages, requests, close, moved), answers
// each request with "re:" and the request, and sends a session's message
// when the parent asks ({type: 'send', session, data}).
import {createClient} from 'redis';
import {WebSocketServer} from 'ws';
import {MemoryStore, RedisStore, reliable} from '../../dist/server/index.js';

const tell = (message) => process.send({pid: process.pid, ...message});
let store = new MemoryStore();
if (process.env.STORE === 'redis') {
  const client = await createClient({
    socket: {host: '127.0.0.1', port: Number(process.env.REDIS_PORT)},
  }).connect();
  store = new RedisStore(client, {prefix: process.env.REDIS_PREFIX ?? 'ws-connection-test:'});
}
const wss = new WebSocketServer({port: Number(process.env.PORT ?? 0), host: '127.0.0.1'});
await new Promise((resolve) => wss.once('listening', resolve));
const server = reliable(wss, {
  resumeWindow: Number(process.env.RESUME_WINDOW ?? 60_000),
  timeout: 2000,
  interval: 1000,
  store,
});
server.on('error', (error) => tell({type: 'error', message: String(error?.message ?? error)}));
server.on('session', (session) => {
  const id = session.id;
  tell({type: 'session', session: id});
  session.on('message', (data) => tell({type: 'message', session: id, data: String(data)}));
  session.on('request', (data, reply) => {
    tell({type: 'request', session: id, data: String(data)});
    reply(`re:${data}`);
  });
  session.on('close', () => tell({type: 'close', session: id}));
  session.on('moved', (unsent) => tell({type: 'moved', session: id, unsent: unsent.map(String)}));
});
process.on('message', (message) => {
  if (message.type !== 'send') return;
  const session = server.sessions.get(message.session);
  tell({
    type: 'sent',
    session: message.session,
    data: message.data,
    ok: session?.send(message.data) ?? false,
  });
});
tell({type: 'listening', port: wss.address().port});
