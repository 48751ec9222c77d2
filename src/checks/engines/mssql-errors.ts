import { type ClassifiedError, PhaseError } from '../engine.js';
import { TimeoutError } from '../timeout.js';

/** SQL Server driver errors by stage and cause; kept apart from mssql.ts so that it loads without the driver. */
export function classifyMssqlError(error: unknown): ClassifiedError {
  if (error instanceof PhaseError) return classifyMssqlError(error.cause);
  const e = error as {
    code?: string;
    message?: string;
    number?: number;
    originalError?: { code?: string; message?: string };
  };
  const message = e?.message ?? String(error);
  const code = e?.code ?? e?.originalError?.code ?? '';
  const is = (stage: ClassifiedError['stage'], cause: string): ClassifiedError => ({ stage, cause, message });
  if (code === 'DB_MISSING') return is('database', 'DatabaseMissing');
  if (code === 'DB_UNAVAILABLE' || /Cannot open database/i.test(message)) return is('database', 'DatabaseUnavailable');
  if (code === 'DB_NO_ACCESS') return is('database', 'NoDatabaseAccess');
  if (code === 'WRITE_ESCAPED') return is('query', 'TransactionEscaped');
  if (code === 'WRITE_REFUSED') return is('query', 'WriteRefused');
  if (code === 'ECANCEL' || (error instanceof TimeoutError && /query/.test(message)))
    return is('query', 'StatementTimeout');
  // tedious's connect timeout ("Failed to connect to host:port in 5000ms"): the server never answered.
  if (code === 'ETIMEOUT' && /Failed to connect/i.test(message)) return is('timeout', 'ConnectTimeout');
  if (error instanceof TimeoutError || code === 'ETIMEOUT' || /timeout/i.test(message)) return is('timeout', 'Timeout');
  // PRELOGIN answered with something that is not TDS: another protocol listens on the port.
  if (code === 'NOT_TDS') return is('tls', 'WrongProtocol');
  if (code === 'EINSTLOOKUP') return is('dns', 'InstanceNotFound');
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(message)) return is('dns', 'HostNotFound');
  if (/ECONNREFUSED/.test(message)) return is('tcp', 'ConnectionRefused');
  // The connection died under a check: server stopped, failover, network cut.
  if (/ECONNRESET|socket hang up|Connection lost|ESOCKET|EPIPE/i.test(`${code} ${message}`))
    return is('tcp', 'ConnectionLost');
  if (code === 'TLS_REQUIRED' || code === 'EENCRYPT') return is('tls', 'TlsRequired');
  if (code === 'NO_SSL') return is('tls', 'TlsUnsupported');
  if (/certificate|self.signed|SSL|TLS/i.test(message)) return is('tls', 'TlsFailed');
  // 18470: the login is disabled; 17809: the server's 'user connections' are all in use.
  if (e?.number === 18470 || /account is disabled/i.test(message)) return is('authentication', 'LoginDisabled');
  if (e?.number === 17809 || /maximum number of '?\d+'? user connections/i.test(message))
    return is('authentication', 'TooManyConnections');
  if (code === 'ELOGIN' || /Login failed/i.test(message)) return is('authentication', 'LoginFailed');
  if (/read-only|permission was denied|denied/i.test(message)) return is('query', 'QueryFailed');
  return is('query', 'QueryFailed');
}
