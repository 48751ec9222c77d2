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
    `The server rejected the password for user ${c.username} (open sessions may still work: the password may have changed on the server but not in the Secret): update the password key in the Secret`,
  LoginFailed: (c) =>
    `Login failed for ${c.username} (SQL Server error 18456): check the password, that SQL authentication is enabled and that the login exists`,
  NoHbaEntry: (c) =>
    `The server has no pg_hba.conf entry for this client, user ${c.username} and database ${c.database}: add a host (or hostssl, then enable TLS) line for the operator's address`,
  NotAuthorized: (c) =>
    `User ${c.username} may not connect to ${c.database}: grant CONNECT or check the role's LOGIN attribute`,
  TooManyConnections: () =>
    'The server has no free connection slots, so new logins fail while open sessions work: see the pool check; lower client pool sizes or add a pooler',
  RoleConnectionLimit: (c) =>
    `User ${c.username} has reached its CONNECTION LIMIT, so new logins fail while open sessions work: raise it (ALTER ROLE ${c.username} CONNECTION LIMIT n) or find who holds the connections`,
  RoleExpired: (c) =>
    `The password of ${c.username} has expired (VALID UNTIL), so new logins fail while open sessions work: ALTER ROLE ${c.username} VALID UNTIL 'infinity' (or a new date) and rotate the Secret`,
  HbaRejected: (c) =>
    `pg_hba.conf has a reject line for this client, user ${c.username} and database ${c.database}: new logins fail while open sessions work; fix the line and reload`,
  LoginDisabled: (c) => `Login ${c.username} is disabled on the server (ALTER LOGIN ${c.username} ENABLE)`,
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
  MultipleStatements: () =>
    'A test query must be exactly one statement: split it into several entries of checks.performance.queries',
  // A pooler (PgBouncer) in front of the database said no: its own settings, not the login or the database.
  PoolerRefusedParameter: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) refused a startup parameter: add it to ignore_startup_parameters in pgbouncer.ini (dbwatch itself sends only user, database and application_name)`,
  PoolerClientLimit: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) accepts no more clients (max_client_conn or a per-database/user limit): raise the limit or lower application pool sizes; add checks.pgbouncer to see its pools`,
  PoolerNoSuchDatabase: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) has no database ${c.database} in its [databases] section: add it, or fix the database key in the Secret`,
  PoolerDatabaseDisabled: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) has database ${c.database} disabled (DISABLE): ENABLE it on the admin console`,
  PoolerServerUnavailable: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) cannot log into the PostgreSQL behind it: check that server, and PgBouncer's log for the server's answer`,
  PoolerLoginRejected: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) rejected the login for ${c.username} (its auth_file or auth_query, or PostgreSQL rejected PgBouncer's login for it): check the password in the Secret against PgBouncer's, and PgBouncer's log`,
  PoolerQueryWaitTimeout: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) gave no server connection within query_wait_timeout: its pool for ${c.database} is saturated or paused; add checks.pgbouncer to see it`,
  PoolerQueryTimeout: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) ended the query at its query_timeout: raise it above spec.timeoutSeconds`,
  PoolerStatementMode: () =>
    'PgBouncer in statement pooling mode refused a transaction block: dbwatch sends none, so something else in the path (another pooler?) did',
  PoolerPaused: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) holds ${c.database} paused (PAUSE) or is shutting down: RESUME it on the admin console`,
  PoolerError: (c) =>
    `The pooler at ${c.host}:${c.port} (PgBouncer) refused the connection: see the error and PgBouncer's log`,
};

export function adviceFor(cause: string, config: Parameters<Advice>[0], timeoutMs: number): string {
  return (ADVICE[cause] ?? ADVICE.QueryFailed!)(config, timeoutMs);
}

const ENGINE_NAME: Record<ConnectionConfig['engine'], string> = { postgres: 'PostgreSQL', mssql: 'SQL Server' };

/** The port answered in another protocol: `found` says which (e.g. "127.0.0.1:5432 answers as PostgreSQL, not SQL Server"). */
export function wrongProtocolAdvice(c: Parameters<Advice>[0], found: string): string {
  return `${found}: point the Secret's host and port at your ${ENGINE_NAME[c.engine]}, or set spec.engine to the database that answers there`;
}
