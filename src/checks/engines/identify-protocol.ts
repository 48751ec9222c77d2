import net from 'node:net';
import type { EngineName } from '../../api/index.js';
import { isTdsResponse, preloginPacket, tdsPacketComplete } from './tds-prelogin.js';

/** What a port can turn out to speak, named as a person would. */
export type Protocol = 'PostgreSQL' | 'SQL Server' | 'HTTP' | 'SSH' | 'MySQL' | 'TLS';

export const ENGINE_PROTOCOL: Record<EngineName, Protocol> = { postgres: 'PostgreSQL', mssql: 'SQL Server' };

/** PostgreSQL's SSLRequest: every PostgreSQL server (and PgBouncer) answers it with one byte, S or N. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Names the protocol of a server's first answer (or of a banner it sends unasked); undefined if unknown. */
export function recognize(answer: Buffer, asked: 'postgres' | 'tds'): Protocol | undefined {
  const text = answer.subarray(0, 8).toString('latin1');
  if (text.startsWith('SSH-')) return 'SSH';
  if (text.startsWith('HTTP/')) return 'HTTP';
  // A TLS alert record (content type 21, version 3.x): the port wants TLS first.
  if (answer.length >= 3 && answer[0] === 0x15 && answer[1] === 0x03) return 'TLS';
  // MySQL greets first: a 3-byte length (a greeting is some tens of bytes), sequence 0, protocol version 10.
  if (answer.length >= 5 && answer[3] === 0 && answer[4] === 0x0a && answer.readUIntLE(0, 3) < 1024) return 'MySQL';
  if (asked === 'postgres' && answer.length === 1 && (text === 'S' || text === 'N')) return 'PostgreSQL';
  if (asked === 'tds' && isTdsResponse(answer)) return 'SQL Server';
  return undefined;
}

/** Sends one engine's first message on a socket of its own and names whatever answers; never rejects. */
function ask(
  host: string,
  port: number,
  asked: 'postgres' | 'tds',
  signal: AbortSignal,
): Promise<Protocol | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = Buffer.alloc(0);
    const done = (found: Protocol | undefined) => {
      signal.removeEventListener('abort', stop);
      socket.destroy();
      resolve(found);
    };
    const stop = () => done(undefined);
    signal.addEventListener('abort', stop, { once: true });
    socket.on('error', () => done(undefined));
    socket.once('close', () => done(recognize(data, asked)));
    socket.once('connect', () => socket.write(asked === 'postgres' ? SSL_REQUEST : preloginPacket()));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]).subarray(0, 4096);
      const found = recognize(data, asked);
      // A TDS packet can arrive in pieces; anything else is decided on its first bytes.
      if (found && (found !== 'SQL Server' || tdsPacketComplete(data))) done(found);
    });
  });
}

/**
 * What a server on host:port speaks, asked the way PostgreSQL and SQL Server clients open a session (both at
 * once, on two short-lived connections), within timeoutMs. Used after a failed handshake, to tell "this is
 * not the database you named" from a slow or broken one.
 */
export async function identifyProtocol(host: string, port: number, timeoutMs: number): Promise<Protocol | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const answers = [ask(host, port, 'postgres', controller.signal), ask(host, port, 'tds', controller.signal)];
    // The first probe to recognise something wins; the other is cut short.
    const found = await new Promise<Protocol | undefined>((resolve) => {
      let pending = answers.length;
      for (const answer of answers)
        void answer.then((p) => {
          if (p !== undefined) resolve(p);
          else if (--pending === 0) resolve(undefined);
        });
    });
    return found;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
