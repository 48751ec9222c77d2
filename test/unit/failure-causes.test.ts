import { describe, expect, test } from '@jest/globals';
import { recognize } from '../../src/checks/engines/identify-protocol.js';
import { classifyMssqlError } from '../../src/checks/engines/mssql-errors.js';
import { classifyPostgresError } from '../../src/checks/engines/postgres.js';
import { preloginPacket } from '../../src/checks/engines/tds-prelogin.js';

describe('failure causes say what happened: no answer, refused, or lost after connecting', () => {
  test.each([
    // node-postgres's own connect timeout, from the client and from the pool.
    ['timeout expired', 'ConnectTimeout'],
    ['Connection terminated due to connection timeout', 'ConnectTimeout'],
    // A session that existed and ended.
    ['Connection terminated unexpectedly', 'ConnectionLost'],
  ])('postgres: %s → %s', (message, cause) => {
    expect(classifyPostgresError(new Error(message)).cause).toBe(cause);
  });

  test('postgres: a refused connection is ConnectionRefused', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyPostgresError(refused).cause).toBe('ConnectionRefused');
  });

  test('mssql: tedious connect timeout is ConnectTimeout; a PRELOGIN answered in another protocol is WrongProtocol', () => {
    const timeout = Object.assign(new Error('Failed to connect to 10.0.0.1:1433 in 5000ms'), { code: 'ETIMEOUT' });
    expect(classifyMssqlError(timeout).cause).toBe('ConnectTimeout');
    expect(classifyMssqlError(Object.assign(new Error('not TDS'), { code: 'NOT_TDS' })).cause).toBe('WrongProtocol');
  });
});

describe('naming the protocol a port answers in', () => {
  const tdsAnswer = Buffer.concat([Buffer.from([0x04, 0x01, 0x00, 0x0d, 0, 0, 1, 0]), Buffer.from([0xff, 0, 0, 0, 0])]);
  test.each([
    [Buffer.from('N'), 'postgres', 'PostgreSQL'],
    [Buffer.from('S'), 'postgres', 'PostgreSQL'],
    [tdsAnswer, 'tds', 'SQL Server'],
    [Buffer.from('HTTP/1.1 400 Bad Request\r\n'), 'postgres', 'HTTP'],
    [Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'tds', 'SSH'],
    [Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]), 'postgres', 'TLS'],
    [Buffer.concat([Buffer.from([74, 0, 0, 0, 0x0a]), Buffer.from('8.0.36\0')]), 'postgres', 'MySQL'],
  ] as const)('%j asked as %s → %s', (answer, asked, protocol) => {
    expect(recognize(answer, asked)).toBe(protocol);
  });

  test('nothing, or bytes no probe knows, is not named', () => {
    expect(recognize(Buffer.alloc(0), 'postgres')).toBeUndefined();
    expect(recognize(Buffer.from('E'), 'postgres')).toBeUndefined();
    // A PRELOGIN echoed back is a request, not a TDS answer.
    expect(recognize(preloginPacket(), 'tds')).toBeUndefined();
  });
});
