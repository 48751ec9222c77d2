import type { ConnectionConfig } from './engine.js';

type Advice = (
  c: Pick<ConnectionConfig, 'host' | 'port' | 'database' | 'username' | 'engine'>,
  timeoutMs: number,
) => string;

const isPg = (c: { engine: string }) => c.engine === 'postgres';

/** What to do, by failure cause. Names hosts, ports, databases and users; never secret values. */
export const ADVICE: Record<string, Advice> = {
  HostNotFound: (c) =>
    `Host ${c.host} does not resolve: check the host key in the Secret; in a cluster use the Service's full name (name.namespace.svc)`,
  ConnectionRefused: (c) =>
    `Nothing accepts connections on ${c.host}:${c.port}: check the port, that the server is running, and its listen address${isPg(c) ? ' (listen_addresses)' : ''}`,
  HostUnreachable: (c) => `No route to ${c.host}: check the network, NetworkPolicies and security groups`,
  ConnectionReset: (c) =>
    `${c.host}:${c.port} closed the connection: check that this port belongs to ${c.engine}, and the server log`,
  ConnectionLost: (c) =>
    `The session to ${c.host}:${c.port} ended under the check (terminated backend, restart or failover): if it repeats, check the server log and for a restart loop`,
  ConnectTimeout: (c, t) =>
    `No answer from ${c.host}:${c.port} within ${t} ms (connectTimeoutSeconds): check the host and port, the server's load, and firewalls or NetworkPolicies that drop packets`,
  TcpTimeout: (c, t) =>
    `No TCP answer from ${c.host}:${c.port} within ${t} ms: a firewall or NetworkPolicy probably drops the packets`,
  HandshakeTimeout: (c, t) =>
    `${c.host}:${c.port} accepted TCP but did not complete the ${c.engine} handshake within ${t} ms: check the port is the database's and the server's load`,
  TlsRequired: () => 'The server requires TLS: set spec.connection.tls.mode to require (or verify-full with a CA)',
  TlsUnsupported: (c) =>
    `${c.host}:${c.port} does not offer TLS: enable TLS on the server, or set spec.connection.tls.mode to disable on a trusted network`,
  TlsClosedByServer: (c) =>
    `${c.host}:${c.port} closed the connection during TLS negotiation: check the server's TLS settings (ssl, certificates) and for a proxy or load balancer in front that does not speak ${c.engine}'s TLS`,
  TlsFailed: () =>
    'TLS failed: with verify-ca/verify-full provide the CA in tls.caSecretRef; use require only to encrypt without verifying',
  WrongPassword: (c) =>
    `The server rejected the password for user ${c.username}: update the password key in the Secret`,
  LoginFailed: (c) =>
    `Login failed for ${c.username} (SQL Server error 18456): check the password, that SQL authentication is enabled and that the login exists`,
  NoHbaEntry: (c) =>
    `The server has no pg_hba.conf entry for this client, user ${c.username} and database ${c.database}: add a host (or hostssl, then enable TLS) line for the operator's address`,
  NotAuthorized: (c) =>
    `User ${c.username} may not connect to ${c.database}: grant CONNECT or check the role's LOGIN attribute`,
  TooManyConnections: () =>
    'The server has no free connection slots: see the pool check; lower client pool sizes or add a pooler',
  DatabaseMissing: (c) =>
    `Database ${c.database} does not exist on ${c.host}: check the database key in the Secret, or create it`,
  DatabaseUnavailable: (c) =>
    `Database ${c.database} is not available (offline, restoring or the login's default database is inaccessible; SQL Server error 4060)`,
  NoConnectPrivilege: (c) =>
    `User ${c.username} lacks the CONNECT privilege on database ${c.database}: GRANT CONNECT ON DATABASE ${c.database} TO ${c.username}`,
  NoDatabaseAccess: (c) =>
    `Login ${c.username} has no user in database ${c.database}: CREATE USER ${c.username} FOR LOGIN ${c.username} in that database (see docs/permissions.md)`,
  TransactionEscaped: () =>
    "A test query ended dbwatch's transaction itself (COMMIT or ROLLBACK inside EXEC, sp_executesql or a procedure): what it changed may be committed; remove it and give the login read-only permissions",
  DatabaseStarting: () => 'The server is starting up or in recovery: wait, then check again',
  DatabaseShuttingDown: () =>
    'The server is shutting down and refuses new sessions: a restart or failover is under way; check again shortly',
  StatementTimeout: (_c, t) => `The test query did not finish within ${t} ms: check server load and locks`,
  LockTimeout: (_c, t) =>
    `A query waited longer than ${t} ms for a lock another session holds: look for long transactions (pg_stat_activity, pg_locks)`,
  IdleInTransactionTimeout: () => 'The server ended an idle transaction of the check: check server load',
  PermissionDenied: (c) =>
    `User ${c.username} may not read what the check needs: see docs/permissions.md for the grants (pg_monitor, SELECT on the migration table)`,
  WriteRefused: () => 'A test query tried to write: monitoring queries must only read',
  Timeout: (_c, t) => `No answer within ${t} ms: check server load and the network path`,
  QueryFailed: () => "The test query failed: see the error; check the monitoring login's permissions",
};

export function adviceFor(cause: string, config: Parameters<Advice>[0], timeoutMs: number): string {
  return (ADVICE[cause] ?? ADVICE.QueryFailed!)(config, timeoutMs);
}

const ENGINE_NAME: Record<ConnectionConfig['engine'], string> = { postgres: 'PostgreSQL', mssql: 'SQL Server' };

/** The port answered in another protocol: `found` says which (e.g. "127.0.0.1:5432 answers as PostgreSQL, not SQL Server"). */
export function wrongProtocolAdvice(c: Parameters<Advice>[0], found: string): string {
  return `${found}: point the Secret's host and port at your ${ENGINE_NAME[c.engine]}, or set spec.engine to the database that answers there`;
}
