import dns from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DiagnosticStage, DiagnosticsResult } from '../api/index.js';
import type { ResolveResult } from './connection-config.js';
import type { Deadline } from './deadline.js';
import type { ClassifiedError, ConnectionConfig, DatabaseEngine } from './engine.js';
import { ENGINE_PROTOCOL, identifyProtocol } from './engines/identify-protocol.js';
import { adviceFor, wrongProtocolAdvice } from './recommendations.js';
import { round2, TimeoutError, withTimeout } from './timeout.js';

type StageName = DiagnosticStage['name'];

/**
 * Diagnostics run only after a failed check, on a budget of their own that does not depend on timeoutSeconds:
 * every step that talks to the server gets at most the connect timeout, and the whole diagnosis at most
 * connectTimeoutSeconds + DIAGNOSTICS_EXTRA_MS. A host that never answers therefore costs the check's own
 * connection attempt plus one more, and up to IDENTIFY_MS to ask what else may be listening on the port.
 */
export const DIAGNOSTICS_EXTRA_MS = 2000;
export const IDENTIFY_MS = 1000;
export const diagnosticsBudgetMs = (config: Pick<ConnectionConfig, 'connectTimeoutMs'>) =>
  config.connectTimeoutMs + DIAGNOSTICS_EXTRA_MS;

const BUDGET_EXHAUSTED = 'not run: the diagnostics budget (connectTimeoutSeconds + 2 s) ran out';
const BUDGET_ADVICE =
  'Every step answered slowly and the diagnostics budget (connectTimeoutSeconds + 2 s) ran out: check the server load and the network path, or raise connectTimeoutSeconds';
const ORDER: StageName[] = ['configuration', 'dns', 'tcp', 'tls', 'authentication', 'database', 'query'];

/** Failures after which the port may be speaking another protocol than the engine's: ask what answers there. */
const MAYBE_ANOTHER_PROTOCOL = new Set([
  'ConnectionLost',
  'ConnectionReset',
  'HandshakeTimeout',
  'WrongProtocol',
  'TlsClosedByServer',
  'QueryFailed',
]);

interface StageFailure {
  cause: string;
  detail: string;
}

async function openTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const socket = net.connect({ host, port });
  let failed: (e: Error) => void = () => undefined;
  // Listened to for the socket's whole life: an error after the race is settled must not go unhandled.
  socket.on('error', (e) => failed(e));
  try {
    await withTimeout(
      new Promise((ok, fail) => {
        failed = fail;
        socket.once('connect', ok);
      }),
      timeoutMs,
      `TCP connect to ${host}:${port}`,
    );
  } finally {
    socket.destroy();
  }
}

/**
 * Walks configuration → DNS → TCP → TLS → authentication → database → query on fresh connections,
 * stopping at the first failure, and says what to do about it. `deadline` is the diagnostics' own budget
 * (diagnosticsBudgetMs); each step gets at most the connect timeout of it, and advice quotes the timeout used.
 */
export async function diagnoseConnectivity(
  resolved: ResolveResult,
  makeEngine: () => DatabaseEngine,
  deadline: Deadline,
  describeError: (e: unknown) => string,
  now: () => Date = () => new Date(),
): Promise<DiagnosticsResult> {
  const stages: DiagnosticStage[] = [];
  const finish = (failure?: { stage: StageName } & StageFailure, advice?: string): DiagnosticsResult => {
    for (const name of ORDER.slice(stages.length)) stages.push({ name, outcome: 'skipped', detail: 'not reached' });
    return {
      configuration: resolved.ok
        ? {
            valid: true,
            issues: [],
            host: resolved.config.host,
            port: resolved.config.port,
            database: resolved.config.database,
            tlsMode: resolved.config.tls.mode,
          }
        : { valid: false, issues: [resolved.message], tlsMode: 'unknown' },
      connectivity: {
        connectionSuccessful: failure === undefined,
        ...(failure ? { failedStage: failure.stage, failureReason: failure.cause } : {}),
        stages,
      },
      recommendations: advice ? [advice] : ['All stages passed: the database is reachable and answers queries'],
      timestamp: now().toISOString(),
    };
  };

  if (!resolved.ok) {
    stages.push({ name: 'configuration', outcome: 'failed', detail: resolved.message });
    return finish(
      { stage: 'configuration', cause: resolved.reason, detail: resolved.message },
      `Fix the connection settings: ${resolved.message}`,
    );
  }
  const config = resolved.config;
  stages.push({
    name: 'configuration',
    outcome: 'ok',
    detail: `${config.engine} at ${config.host}:${config.port}/${config.database}`,
  });

  /** What one step may take: the connect timeout, or less when the diagnostics budget is nearly spent. */
  const stageMs = () => Math.max(1, Math.min(config.connectTimeoutMs, deadline.remainingMs()));
  const engine = makeEngine();
  const fromError = (error: unknown, timeoutCause: string, usedMs: number): StageFailure => {
    const classified: ClassifiedError = engine.classifyError(error);
    // Our own timer says what it waited for; a driver's ("timeout expired") gets the time it had.
    if (error instanceof TimeoutError) return { cause: timeoutCause, detail: describeError(error) };
    if (classified.stage === 'timeout')
      return { cause: timeoutCause, detail: `no answer within ${usedMs} ms (${describeError(error)})` };
    return { cause: classified.cause, detail: describeError(error) };
  };
  /** A handshake that failed strangely may have met another protocol: name it when one answers. */
  const otherProtocol = async (failure: StageFailure): Promise<StageFailure> => {
    if (!MAYBE_ANOTHER_PROTOCOL.has(failure.cause) || deadline.expired) return failure;
    const found = await identifyProtocol(config.host, config.port, Math.min(IDENTIFY_MS, deadline.remainingMs()));
    const expected = ENGINE_PROTOCOL[config.engine];
    if (found === undefined || found === expected) return failure;
    return { cause: 'WrongProtocol', detail: `${config.host}:${config.port} answers as ${found}, not ${expected}` };
  };
  const steps: [StageName, (timeoutMs: number) => Promise<string>, string][] = [
    [
      'dns',
      async (timeoutMs) => {
        if (net.isIP(config.host)) return `${config.host} is an IP address`;
        const found = await withTimeout(dns.lookup(config.host, { all: true }), timeoutMs, `resolving ${config.host}`);
        return `${config.host} → ${found.map((a) => a.address).join(', ')}`;
      },
      'Timeout',
    ],
    [
      'tcp',
      async (timeoutMs) => {
        await openTcp(config.host, config.port, timeoutMs);
        return `${config.host}:${config.port} accepts TCP`;
      },
      'TcpTimeout',
    ],
    ['tls', (timeoutMs) => engine.probeTls(timeoutMs), 'HandshakeTimeout'],
    [
      'authentication',
      async (timeoutMs) => {
        await engine.connectOnce(timeoutMs);
        return `logged in as ${config.username}`;
      },
      'HandshakeTimeout',
    ],
    ['database', async () => `database ${config.database} is open`, 'Timeout'],
    [
      'query',
      async (timeoutMs) => {
        await engine.ping(timeoutMs);
        return 'test query answered';
      },
      'StatementTimeout',
    ],
  ];
  try {
    for (const [name, run, timeoutCause] of steps) {
      if (deadline.expired) {
        stages.push({ name, outcome: 'failed', detail: BUDGET_EXHAUSTED });
        return finish({ stage: name, cause: 'Timeout', detail: BUDGET_EXHAUSTED }, BUDGET_ADVICE);
      }
      const usedMs = stageMs();
      const started = performance.now();
      try {
        const value = await run(usedMs);
        stages.push({ name, outcome: 'ok', durationMs: round2(performance.now() - started), detail: value });
      } catch (error) {
        const durationMs = round2(performance.now() - started);
        let failure = fromError(error, timeoutCause, usedMs);
        let stage = name;
        // One login attempt tells both stages apart: a missing database fails after authentication.
        if (name === 'authentication' && engine.classifyError(error).stage === 'database') {
          stages.push({ name, outcome: 'ok', durationMs, detail: `logged in as ${config.username}` });
          stage = 'database';
        } else if (name === 'dns' && !(error instanceof TimeoutError)) {
          failure = { cause: 'HostNotFound', detail: describeError(error) };
        } else if (name === 'tls' || name === 'authentication') {
          failure = await otherProtocol(failure);
        }
        stages.push({ name: stage, outcome: 'failed', durationMs, detail: failure.detail });
        const advice =
          failure.cause === 'WrongProtocol'
            ? wrongProtocolAdvice(config, failure.detail)
            : adviceFor(failure.cause, config, usedMs);
        return finish({ stage, ...failure }, advice);
      }
    }
    return finish();
  } finally {
    await engine.close();
  }
}
