// `reliable` before the delivery protocol's code has loaded (it loads on
// first use): what is sent and requested meanwhile waits, in order, and a
// request never hangs on the load. Its own file, so that the code is not
// loaded already when the test starts.
import {expect} from '@open-wc/testing';
import {RequestError, WsClient} from '../../src/client/index.js';
import {loadedLink, loadLink} from '../../src/client/reliable-loader.js';
import {SUBPROTOCOL} from '../../src/protocol/index.js';
import {fakeWorld} from '../support/fake-environment.js';

const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: RequestError) => error.kind,
  );

describe('WsClient reliable while its code loads', () => {
  it('holds messages and requests in order, times them out, and fails them on close() or reliable off', async () => {
    expect(loadedLink(), 'not loaded yet').to.equal(undefined);
    const world = fakeWorld();
    const make = () => new WsClient({url: 'wss://server.example/ws', reliable: true}, world.environment);
    const turnedOff = make();
    const offRequest = kindOf(turnedOff.request('a'));
    turnedOff.configure({reliable: false});
    const closed = make();
    const closedRequest = kindOf(closed.request('b'));
    closed.close();
    const timedOut = make();
    const timedOutRequest = kindOf(timedOut.request('c', {timeout: 50}));
    world.clock.advance(50);
    const waiting = make();
    waiting.send('first');
    const answered = waiting.request('d', {timeout: 10_000});
    waiting.send('last');
    expect(waiting.queued).to.equal(3);
    waiting.connect();
    expect(world.sockets.all, 'no socket before the code is here').to.have.length(0);
    expect(await offRequest).to.equal('closed');
    expect(await closedRequest).to.equal('closed');
    expect(await timedOutRequest).to.equal('request-timeout');
    await loadLink();
    await new Promise((resolve) => setTimeout(resolve));
    const socket = world.sockets.last;
    expect(socket.protocols).to.deep.equal([SUBPROTOCOL]);
    socket.open(SUBPROTOCOL);
    socket.receive(
      JSON.stringify({type: 'session', session: 's', token: 't', resumeWindow: 1000, maxFrame: 1 << 20}),
    );
    expect(socket.sent.slice(1)).to.deep.equal(['m1:first', 'q2:1:d', 'm3:last']);
    socket.receive('r1:1:answer');
    expect(await answered).to.equal('answer');
    waiting.close();
    expect(RequestError).to.be.a('function');
  });
});
