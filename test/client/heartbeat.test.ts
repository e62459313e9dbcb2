// The heartbeat rule alone, under a fake clock: when pings go out, what
// answers them, and when silence means death, on time and with late timers.
import {expect} from '@open-wc/testing';
import {Heartbeat, LATE_TIMER_SLACK} from '../../src/client/heartbeat.js';
import {FakeClock} from '../support/fake-environment.js';

function beating(settings = {interval: 1000, timeout: 500}) {
  const clock = new FakeClock();
  const record = {pings: 0, deaths: 0, diedAt: NaN, refuse: false, log: [] as string[]};
  const heartbeat = new Heartbeat(
    {now: () => clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout},
    {
      ping: () => {
        record.pings++;
        return !record.refuse;
      },
      dead: () => {
        record.deaths++;
        record.diedAt = clock.now;
      },
      log: (line) => record.log.push(line),
    },
  );
  heartbeat.start(settings);
  return {clock, heartbeat, record};
}

describe('Heartbeat', () => {
  it('pings after interval of silence, not before', () => {
    const {clock, record} = beating();
    clock.advance(999);
    expect(record.pings).to.equal(0);
    clock.advance(1);
    expect(record.pings).to.equal(1);
  });

  it('pings when only one direction is silent, and not when both are busy', () => {
    const quiet = beating();
    for (let i = 0; i < 4; i++) {
      quiet.clock.advance(250);
      quiet.heartbeat.received(false);
    }
    expect(quiet.record.pings, 'nothing sent for 1000 ms').to.equal(1);

    const busy = beating();
    for (let i = 0; i < 20; i++) {
      busy.clock.advance(400);
      busy.heartbeat.sent();
      busy.heartbeat.received(false);
    }
    expect(busy.record.pings).to.equal(0);
  });

  it('measures the round trip from the pong to its ping only', () => {
    const {clock, heartbeat} = beating();
    clock.advance(1000);
    clock.advance(42);
    expect(heartbeat.received(false), 'any message answers, but is no pong').to.equal(undefined);
    expect(heartbeat.received(true), 'the probe was answered; the ping still waits for its pong').to.equal(
      42,
    );
    expect(heartbeat.received(true), 'an unasked pong measures nothing').to.equal(undefined);
  });

  it('declares death at interval + timeout without a reply, once', () => {
    const {clock, record} = beating();
    clock.advance(1499);
    expect(record.deaths).to.equal(0);
    clock.advance(1);
    expect(record.deaths).to.equal(1);
    clock.advance(60_000);
    expect(record.deaths).to.equal(1);
    expect(clock.pending, 'no timer left after the verdict').to.equal(0);
  });

  it('takes anything received as the reply', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1300);
    heartbeat.received(false);
    clock.advance(1000);
    expect(record.deaths).to.equal(0);
  });

  it('re-probes once when the deadline timer fires late, instead of deciding', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1000);
    clock.sleep(60_000);
    expect(record.deaths).to.equal(0);
    expect(record.pings).to.equal(2);
    heartbeat.received(true);
    clock.advance(600);
    expect(record.deaths).to.equal(0);
  });

  it('declares death when the re-probe goes unanswered until its deadline, on time', () => {
    const {clock, record} = beating();
    clock.advance(1000);
    clock.sleep(60_000);
    clock.advance(499);
    expect(record.deaths).to.equal(0);
    clock.advance(1);
    expect(record.deaths).to.equal(1);
  });

  it('declares death when the re-probe goes unanswered and its deadline fires late too', () => {
    // A background tab whose timers run once a minute, against a silent link.
    const {clock, record} = beating();
    let periods = 0;
    while (record.deaths === 0 && periods < 20) {
      clock.sleep(60_000);
      periods++;
    }
    expect(record.deaths, 'dead within 20 late timers').to.equal(1);
    expect(periods, 'within a few timer periods').to.be.at.most(4);
  });

  it('earns a new re-probe after any reply', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1000);
    clock.sleep(60_000);
    heartbeat.received(true);
    clock.advance(1000);
    clock.sleep(60_000);
    expect(record.deaths, 'the second late deadline re-probes too').to.equal(0);
    clock.advance(500);
    expect(record.deaths).to.equal(1);
  });

  it('gives a reply as long again as a slightly late deadline timer was late, then decides', () => {
    const answered = beating();
    answered.clock.advance(1000);
    answered.clock.sleep(800);
    expect(answered.record.deaths).to.equal(0);
    answered.heartbeat.received(true);
    answered.clock.advance(300);
    expect(answered.record.deaths).to.equal(0);

    const silent = beating();
    silent.clock.advance(1000);
    silent.clock.sleep(800);
    silent.clock.advance(299);
    expect(silent.record.deaths).to.equal(0);
    silent.clock.advance(1);
    expect(silent.record.deaths).to.equal(1);
  });

  it('never waits more than the slack for that verdict', () => {
    const {clock, record} = beating();
    clock.advance(1000);
    clock.sleep(60_000);
    clock.sleep(60_000);
    expect(record.deaths).to.equal(0);
    clock.advance(LATE_TIMER_SLACK);
    expect(record.deaths).to.equal(1);
  });

  it('still keeps a deadline when the socket refuses the ping, instead of pinging in a loop', () => {
    const {clock, record} = beating();
    record.refuse = true;
    clock.advance(1000);
    clock.advance(499);
    expect(record.pings).to.equal(1);
    clock.advance(1);
    expect(record.deaths).to.equal(1);
  });

  it('pings every interval even when the timeout is longer', () => {
    const {clock, heartbeat, record} = beating({interval: 500, timeout: 10_000});
    for (let ping = 1; ping <= 5; ping++) {
      clock.advance(500);
      expect(record.pings, `ping ${ping}`).to.equal(ping);
      clock.advance(5);
      heartbeat.received(true);
    }
  });

  it('probes on request, and not when off', () => {
    const on = beating();
    on.heartbeat.probe();
    expect(on.record.pings).to.equal(1);
    on.clock.advance(500);
    expect(on.record.deaths).to.equal(1);

    const off = beating({interval: 0, timeout: 500});
    off.heartbeat.probe();
    off.clock.advance(60_000);
    expect(off.record.pings).to.equal(0);
    expect(off.clock.pending).to.equal(0);
  });

  it('keeps the deadline of an unanswered ping when a probe comes meanwhile, and its send time', () => {
    const silent = beating();
    silent.clock.advance(1000);
    silent.clock.advance(400);
    silent.heartbeat.probe();
    expect(silent.record.pings, 'the probe still asks').to.equal(2);
    silent.clock.advance(99);
    expect(silent.record.deaths).to.equal(0);
    silent.clock.advance(1);
    expect(silent.record.deaths, 'dead at the first ping deadline').to.equal(1);

    // Replies come in order: the first pong answers the first ping.
    const answered = beating();
    answered.clock.advance(1000);
    answered.clock.advance(400);
    answered.heartbeat.probe();
    answered.clock.advance(50);
    expect(answered.heartbeat.received(true)).to.equal(450);
  });

  it('declares a half-open link dead within interval + timeout though probes come every 300 ms', () => {
    // A flapping network or a page switched to and fro: online or visible, again and again.
    const {clock, heartbeat, record} = beating();
    while (record.deaths === 0 && clock.now < 10_000) {
      clock.advance(300);
      heartbeat.probe();
    }
    expect(record.deaths).to.equal(1);
    expect(record.diedAt, 'the first probe deadline').to.equal(800);
  });

  it('keeps the re-probe of a late deadline to its own deadline when probes come meanwhile', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1000);
    clock.sleep(60_000);
    expect(record.pings, 'the late deadline re-probed').to.equal(2);
    clock.advance(300);
    heartbeat.probe();
    clock.advance(199);
    expect(record.deaths).to.equal(0);
    clock.advance(1);
    expect(record.diedAt, 'the re-probe deadline').to.equal(61_500);
  });

  it('does not put off the verdict on a slightly late deadline when a probe comes meanwhile', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1000);
    clock.sleep(800);
    clock.advance(100);
    heartbeat.probe();
    clock.advance(199);
    expect(record.deaths).to.equal(0);
    clock.advance(1);
    expect(record.diedAt, 'as long again as the timer was late').to.equal(2100);
  });

  it('keeps its timers when given the same settings again (a host re-rendering)', () => {
    const {clock, heartbeat, record} = beating();
    clock.advance(1000);
    clock.sleep(800);
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      heartbeat.configure({interval: 1000, timeout: 500});
    }
    expect(record.deaths, 'the verdict came when it was due').to.equal(1);
  });

  it('applies new settings while running, and stops leaving no timer', () => {
    const {clock, heartbeat, record} = beating();
    heartbeat.configure({interval: 200, timeout: 500});
    clock.advance(200);
    expect(record.pings).to.equal(1);
    heartbeat.stop();
    expect(clock.pending).to.equal(0);
    clock.advance(60_000);
    expect([record.pings, record.deaths]).to.deep.equal([1, 0]);
  });
});
