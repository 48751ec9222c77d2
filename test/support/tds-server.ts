import net from 'node:net';

/**
 * A TDS 7.4 test server that speaks enough of the protocol (MS-TDS) for the real mssql/tedious client:
 * PRELOGIN, LOGIN7 (including failed logins), SQL batches answered with rows or errors, transaction
 * manager begin/rollback, and attention (cancel). What it answers is scripted per test; the driver,
 * its connection handling and timeouts, and dbwatch's mapping of results are the real code.
 * It is a stand-in for SQL Server's answers, not for SQL Server: no SQL is executed.
 */

const PACKET = {
  SQL_BATCH: 0x01,
  ATTENTION: 0x06,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
  TRANSACTION_MANAGER: 0x0e,
  RESPONSE: 0x04,
};
const TOKEN = { COLMETADATA: 0x81, ERROR: 0xaa, LOGINACK: 0xad, ROW: 0xd1, ENVCHANGE: 0xe3, DONE: 0xfd };
const DONE = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10, ATTN: 0x20 };
const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

export type ColumnType = 'nvarchar' | 'int' | 'bigint' | 'bit';
export interface Column {
  name: string;
  type: ColumnType;
}
export type Cell = string | number | boolean | null;

export type BatchAnswer =
  | { rows: Cell[][]; columns: Column[] }
  | { error: { number: number; message: string; state?: number; class?: number } }
  /** A statement without rows; `use` switches the session's database (USE), `endsTransaction` ends it (COMMIT). */
  | { done: true; use?: string; endsTransaction?: boolean }
  /** Never answers until the client sends an attention (cancels). */
  | { hang: true }
  /** Drops the connection: the server died or the network was cut mid-query. */
  | { drop: true };

export interface TdsScript {
  /** user → password; a login with anything else fails with error 18456. */
  logins: Record<string, string>;
  /** Databases that refuse logins with error 4060 (offline, restoring...). */
  unavailableDatabases?: string[];
  /** When set, the databases that exist: a login to any other also fails with 4060. */
  databases?: string[];
  /** An error a LOGIN7 gets instead of the acknowledgement (read at each login, so a test can change it). */
  loginError?: () => { number: number; message: string; state?: number; class?: number } | undefined;
  /** Encryption answered in PRELOGIN: NOT_SUP (default) or REQ (server requires TLS). */
  encryption?: 'NOT_SUP' | 'REQ';
  /** Answers SQL batches; tedious's own session set-up is answered before this is asked. */
  answer(sql: string, session: { user: string; database: string; inTransaction: boolean }): BatchAnswer;
}

export interface TdsServer {
  port: number;
  /** Every SQL batch received, in order, with the session's transaction state. */
  batches: { sql: string; inTransaction: boolean }[];
  transactions: ('begin' | 'rollback' | 'commit')[];
  stop(): Promise<void>;
}

// ---- encoding helpers --------------------------------------------------------------------------

const ucs2 = (s: string) => Buffer.from(s, 'ucs2');
const bVarchar = (s: string) => Buffer.concat([Buffer.from([s.length]), ucs2(s)]);
const usVarchar = (s: string) => {
  const len = Buffer.alloc(2);
  len.writeUInt16LE(s.length);
  return Buffer.concat([len, ucs2(s)]);
};

function withLength(token: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(token, 0);
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

function done(status: number, rowCount = 0): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt8(TOKEN.DONE, 0);
  b.writeUInt16LE(status, 1);
  b.writeUInt16LE(0xc1, 3);
  b.writeBigUInt64LE(BigInt(rowCount), 5);
  return b;
}

function errorToken(number: number, message: string, state = 1, klass = 14): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeInt32LE(number, 0);
  fixed.writeUInt8(state, 4);
  fixed.writeUInt8(klass, 5);
  const line = Buffer.alloc(4);
  line.writeInt32LE(1);
  return withLength(
    TOKEN.ERROR,
    Buffer.concat([fixed, usVarchar(message), bVarchar('dbwatch-tds-test'), bVarchar(''), line]),
  );
}

function loginAck(): Buffer {
  const version = Buffer.from([0x74, 0x00, 0x00, 0x04]); // TDS 7.4
  return withLength(
    TOKEN.LOGINACK,
    Buffer.concat([Buffer.from([0x01]), version, bVarchar('Microsoft SQL Server'), Buffer.from([16, 0, 0x10, 0x00])]),
  );
}

function envChange(type: number, newValue: Buffer, oldValue: Buffer): Buffer {
  return withLength(TOKEN.ENVCHANGE, Buffer.concat([Buffer.from([type]), newValue, oldValue]));
}

const bVarbyte = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);

function columnMetadata(columns: Column[]): Buffer {
  const parts: Buffer[] = [Buffer.from([TOKEN.COLMETADATA, columns.length & 0xff, columns.length >> 8])];
  for (const column of columns) {
    const userTypeAndFlags = Buffer.from([0, 0, 0, 0, 0x09, 0x00]); // nullable
    let typeInfo: Buffer;
    if (column.type === 'nvarchar') {
      typeInfo = Buffer.concat([Buffer.from([0xe7, 0x40, 0x1f]), COLLATION]); // max 8000 bytes
    } else if (column.type === 'bit') {
      typeInfo = Buffer.from([0x68, 1]);
    } else {
      typeInfo = Buffer.from([0x26, column.type === 'int' ? 4 : 8]);
    }
    parts.push(userTypeAndFlags, typeInfo, bVarchar(column.name));
  }
  return Buffer.concat(parts);
}

function row(columns: Column[], cells: Cell[]): Buffer {
  const parts = [Buffer.from([TOKEN.ROW])];
  columns.forEach((column, i) => {
    const cell = cells[i] ?? null;
    if (column.type === 'nvarchar') {
      if (cell === null) parts.push(Buffer.from([0xff, 0xff]));
      else {
        const data = ucs2(String(cell));
        const len = Buffer.alloc(2);
        len.writeUInt16LE(data.length);
        parts.push(len, data);
      }
    } else if (cell === null) {
      parts.push(Buffer.from([0]));
    } else if (column.type === 'bit') {
      parts.push(Buffer.from([1, cell ? 1 : 0]));
    } else if (column.type === 'int') {
      const b = Buffer.alloc(5);
      b.writeUInt8(4, 0);
      b.writeInt32LE(Number(cell), 1);
      parts.push(b);
    } else {
      const b = Buffer.alloc(9);
      b.writeUInt8(8, 0);
      b.writeBigInt64LE(BigInt(cell as number), 1);
      parts.push(b);
    }
  });
  return Buffer.concat(parts);
}

function packets(type: number, payload: Buffer, packetSize = 4096): Buffer {
  const chunks: Buffer[] = [];
  const room = packetSize - 8;
  let id = 1;
  for (let offset = 0; offset < payload.length || offset === 0; offset += room) {
    const body = payload.subarray(offset, offset + room);
    const last = offset + room >= payload.length;
    const head = Buffer.alloc(8);
    head.writeUInt8(type, 0);
    head.writeUInt8(last ? 0x01 : 0x00, 1);
    head.writeUInt16BE(body.length + 8, 2);
    head.writeUInt16BE(54, 4);
    head.writeUInt8(id++ % 256, 6);
    chunks.push(head, body);
    if (payload.length === 0) break;
  }
  return Buffer.concat(chunks);
}

function prelogin(encryption: 'NOT_SUP' | 'REQ'): Buffer {
  const options: [number, Buffer][] = [
    [0x00, Buffer.from([16, 0, 0x10, 0x00, 0, 0])],
    [0x01, Buffer.from([encryption === 'REQ' ? 0x03 : 0x02])],
    [0x02, Buffer.from([0])],
    [0x03, Buffer.alloc(0)],
    [0x04, Buffer.from([0])],
  ];
  const header = Buffer.alloc(options.length * 5 + 1);
  let dataOffset = header.length;
  options.forEach(([token, data], i) => {
    header.writeUInt8(token, i * 5);
    header.writeUInt16BE(dataOffset, i * 5 + 1);
    header.writeUInt16BE(data.length, i * 5 + 3);
    dataOffset += data.length;
  });
  header.writeUInt8(0xff, options.length * 5);
  return Buffer.concat([header, ...options.map(([, d]) => d)]);
}

// ---- decoding --------------------------------------------------------------------------------

/** LOGIN7 fields at their offset/length pairs; the password is unscrambled (XOR 0xA5, swap nibbles). */
function parseLogin7(p: Buffer): { user: string; password: string; database: string } {
  const field = (at: number) => {
    const offset = p.readUInt16LE(at);
    const length = p.readUInt16LE(at + 2);
    return p.subarray(offset, offset + length * 2);
  };
  const password = Buffer.from(
    field(44).map((b) => {
      const x = b ^ 0xa5;
      return ((x & 0x0f) << 4) | (x >> 4);
    }),
  );
  return {
    user: field(40).toString('ucs2'),
    password: password.toString('ucs2'),
    database: field(68).toString('ucs2'),
  };
}

const sqlOf = (payload: Buffer) => payload.subarray(payload.readUInt32LE(0)).toString('ucs2');

function answerTokens(answer: Exclude<BatchAnswer, { hang: true } | { drop: true }>): Buffer {
  if ('error' in answer) {
    const e = answer.error;
    return Buffer.concat([errorToken(e.number, e.message, e.state ?? 1, e.class ?? 16), done(DONE.ERROR)]);
  }
  if ('done' in answer) return done(DONE.FINAL);
  return Buffer.concat([
    columnMetadata(answer.columns),
    ...answer.rows.map((r) => row(answer.columns, r)),
    done(DONE.COUNT, answer.rows.length),
  ]);
}

// ---- server ----------------------------------------------------------------------------------

export async function startTdsServer(script: TdsScript): Promise<TdsServer> {
  const batches: TdsServer['batches'] = [];
  const transactions: TdsServer['transactions'] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let message: Buffer[] = [];
    const session = { user: '', database: '', inTransaction: false };
    let hanging = false;
    const send = (payload: Buffer) => socket.write(packets(PACKET.RESPONSE, payload));

    const handle = (type: number, payload: Buffer) => {
      if (type === PACKET.PRELOGIN) return send(prelogin(script.encryption ?? 'NOT_SUP'));
      if (type === PACKET.LOGIN7) {
        const login = parseLogin7(payload);
        if (script.logins[login.user] === undefined || script.logins[login.user] !== login.password) {
          return send(
            Buffer.concat([errorToken(18456, `Login failed for user '${login.user}'.`, 1, 14), done(DONE.ERROR)]),
          );
        }
        const refused = script.loginError?.();
        if (refused) {
          return send(
            Buffer.concat([
              errorToken(refused.number, refused.message, refused.state ?? 1, refused.class ?? 14),
              done(DONE.ERROR),
            ]),
          );
        }
        const missing =
          script.databases !== undefined && login.database !== '' && !script.databases.includes(login.database);
        if (missing || script.unavailableDatabases?.includes(login.database)) {
          // As SQL Server does: 4060 then 18456 (tedious keeps only the last one).
          return send(
            Buffer.concat([
              errorToken(
                4060,
                `Cannot open database "${login.database}" requested by the login. The login failed.`,
                1,
                11,
              ),
              errorToken(18456, `Login failed for user '${login.user}'.`, 1, 14),
              done(DONE.ERROR),
            ]),
          );
        }
        session.user = login.user;
        session.database = login.database || 'master';
        return send(
          Buffer.concat([envChange(1, bVarchar(session.database), bVarchar('master')), loginAck(), done(DONE.FINAL)]),
        );
      }
      if (type === PACKET.ATTENTION) {
        // The cancelled request's response ends first, then the acknowledgement comes as its own message.
        if (hanging) send(done(DONE.FINAL));
        hanging = false;
        return send(done(DONE.ATTN));
      }
      if (type === PACKET.TRANSACTION_MANAGER) {
        const headers = payload.readUInt32LE(0);
        const request = payload.readUInt16LE(headers);
        if (request === 5) {
          session.inTransaction = true;
          transactions.push('begin');
          return send(
            Buffer.concat([
              envChange(8, bVarbyte(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])), Buffer.from([0])),
              done(DONE.FINAL),
            ]),
          );
        }
        const committed = request === 7;
        session.inTransaction = false;
        transactions.push(committed ? 'commit' : 'rollback');
        return send(
          Buffer.concat([
            envChange(committed ? 9 : 10, Buffer.from([0]), bVarbyte(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]))),
            done(DONE.FINAL),
          ]),
        );
      }
      if (type === PACKET.SQL_BATCH) {
        const sql = sqlOf(payload);
        // tedious sets up every session with one batch of SET options.
        if (/^set (textsize|ansi_nulls)/i.test(sql.trim())) return send(done(DONE.FINAL));
        batches.push({ sql, inTransaction: session.inTransaction });
        const answer = script.answer(sql, session);
        if ('hang' in answer) {
          hanging = true;
          return;
        }
        if ('drop' in answer) {
          socket.destroy();
          return;
        }
        if ('done' in answer) {
          if (answer.use) session.database = answer.use;
          if (answer.endsTransaction) session.inTransaction = false;
        }
        return send(answerTokens(answer));
      }
      send(
        Buffer.concat([
          errorToken(40000, `dbwatch TDS test server: packet type ${type} is not supported`),
          done(DONE.ERROR),
        ]),
      );
    };

    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 8 && buffered.length >= buffered.readUInt16BE(2)) {
        const length = buffered.readUInt16BE(2);
        const type = buffered.readUInt8(0);
        const last = (buffered.readUInt8(1) & 0x01) === 0x01;
        message.push(buffered.subarray(8, length));
        buffered = buffered.subarray(length);
        if (last || type === PACKET.ATTENTION) {
          const payload = Buffer.concat(message);
          message = [];
          if (hanging && type !== PACKET.ATTENTION) continue;
          handle(type, payload);
        }
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as net.AddressInfo).port,
    batches,
    transactions,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => server.close(ok));
    },
  };
}
