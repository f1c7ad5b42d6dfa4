/**
 * A UDP socket where the X-Ray daemon would listen, for the bench's traced subjects: it counts the datagrams and
 * keeps the first few, so a run can check that tracing really sent something without decoding every datagram on
 * the machine the subjects share.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** Datagrams kept whole per `take()`; the rest are only counted. */
const KEPT = 5;

export interface DaemonListener {
  /** `127.0.0.1:<port>`, as AWS_XRAY_DAEMON_ADDRESS. */
  readonly address: string;
  /** The datagrams since the last take: how many, and the first few as text. */
  take(): { readonly count: number; readonly first: readonly string[] };
  close(): void;
}

export async function startDaemonListener(): Promise<DaemonListener> {
  const socket = dgram.createSocket('udp4');
  let count = 0;
  let first: string[] = [];
  socket.on('message', (message) => {
    count += 1;
    if (first.length < KEPT) first.push(message.toString('utf8'));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    take() {
      const taken = { count, first };
      count = 0;
      first = [];
      return taken;
    },
    close: () => socket.close(),
  };
}

/**
 * The document of a datagram sent to the daemon: its first line must be the daemon's header (`{"format": "json",
 * "version": 1}`, however spaced), and the rest is returned as it is.
 */
export function daemonPayload(datagram: string): string {
  const newline = datagram.indexOf('\n');
  let header: { format?: unknown; version?: unknown } = {};
  try {
    header = JSON.parse(datagram.slice(0, newline)) as typeof header;
  } catch {
    // reported below
  }
  if (newline === -1 || header.format !== 'json' || header.version !== 1) throw new Error(`a datagram without the X-Ray daemon's header line: ${JSON.stringify(datagram.slice(0, 80))}`);
  return datagram.slice(newline + 1);
}
