import test from 'ava';
import dgram from 'node:dgram';
import { daemonPayload, startDaemonListener } from '../../../bench/daemon-listener.js';

test('the daemon header line is accepted however it is spaced, and the document after it returned', (t) => {
  t.is(daemonPayload('{"format": "json", "version": 1}\n{"name":"parse"}'), '{"name":"parse"}');
  t.is(daemonPayload('{"format":"json","version":1}\nT1Sabc'), 'T1Sabc');
});

test('a datagram without the daemon header is refused, quoting its start', (t) => {
  for (const datagram of ['{"name":"parse"}', '{"format": "xml", "version": 1}\n{}', 'not json\n{}']) {
    t.throws(() => daemonPayload(datagram), { message: /^a datagram without the X-Ray daemon's header line: / }, datagram);
  }
});

test('the listener counts every datagram sent to its address and keeps the first few', async (t) => {
  const listener = await startDaemonListener();
  const socket = dgram.createSocket('udp4');
  t.teardown(() => {
    socket.close();
    listener.close();
  });
  const [host, port] = listener.address.split(':');
  for (let i = 0; i < 8; i++) await new Promise<void>((resolve, reject) => socket.send(`datagram ${i}`, Number(port), host, (error) => (error ? reject(error) : resolve())));
  // Loopback datagrams are queued once sent; the listener reads them on its next turns.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const taken = listener.take();
  t.is(taken.count, 8);
  t.deepEqual(taken.first, ['datagram 0', 'datagram 1', 'datagram 2', 'datagram 3', 'datagram 4']);
  t.deepEqual(listener.take(), { count: 0, first: [] });
});
