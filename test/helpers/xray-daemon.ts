import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { DAEMON_HEADER } from '../../functions/predict/xray-tracer.js';

/** A UDP socket standing where the X-Ray daemon listens, decoding the segment documents sent to it. */
export interface XRayDaemon {
  /** `127.0.0.1:<port>`, as AWS_XRAY_DAEMON_ADDRESS. */
  readonly address: string;
  /** Every document received so far; throws on a datagram without the daemon's header line. */
  documents(): Record<string, unknown>[];
  /** Waits until `n` documents have arrived, or `timeoutMs` passed. */
  wait(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): void;
}

export async function startXRayDaemon(): Promise<XRayDaemon> {
  const socket = dgram.createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (message) => received.push(message.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  const documents = () =>
    received.map((text) => {
      if (!text.startsWith(DAEMON_HEADER)) throw new Error(`a datagram without the daemon header: ${text.slice(0, 60)}`);
      return JSON.parse(text.slice(DAEMON_HEADER.length)) as Record<string, unknown>;
    });
  return {
    address: `127.0.0.1:${port}`,
    documents,
    async wait(n, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (received.length < n && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      return documents();
    },
    close: () => socket.close(),
  };
}

/** The Root and Parent of an X-Ray trace header, as a subsegment document spells them. */
export function traceIds(header: string): { readonly traceId: string; readonly parentId: string } {
  const root = /Root=([^;]+)/.exec(header)?.[1];
  const parent = /Parent=([^;]+)/.exec(header)?.[1];
  if (root === undefined || parent === undefined) throw new Error(`not a trace header: ${header}`);
  return { traceId: root, parentId: parent };
}
