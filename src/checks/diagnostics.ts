import dns from 'node:dns/promises';
import net from 'node:net';
import type { DiagnosticStage, DiagnosticsResult } from '../api/index.js';
import type { ResolveResult } from './connection-config.js';
import type { Deadline } from './deadline.js';
import type { ClassifiedError, DatabaseEngine } from './engine.js';
import { adviceFor } from './recommendations.js';
import { round2, TimeoutError, timed, withTimeout } from './timeout.js';

type StageName = DiagnosticStage['name'];

const BUDGET_EXHAUSTED = "not run: the check's time budget (timeoutSeconds) ran out";
const BUDGET_ADVICE =
  'The earlier steps used the whole time budget: raise spec.timeoutSeconds, or lower connectTimeoutSeconds so diagnostics have time to run';
const ORDER: StageName[] = ['configuration', 'dns', 'tcp', 'tls', 'authentication', 'database', 'query'];

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
 * stopping at the first failure, and says what to do about it.
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
        ...(failure ? { failedStage: failure.stage } : {}),
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

  const timeoutMs = () => Math.max(1, deadline.remainingMs());
  const engine = makeEngine();
  const fromError = (error: unknown, fallbackCause: string): StageFailure => {
    const classified: ClassifiedError = engine.classifyError(error);
    const cause = classified.stage === 'timeout' || error instanceof TimeoutError ? fallbackCause : classified.cause;
    return { cause, detail: describeError(error) };
  };
  const steps: [StageName, () => Promise<string>, string][] = [
    [
      'dns',
      async () => {
        if (net.isIP(config.host)) return `${config.host} is an IP address`;
        const found = await withTimeout(
          dns.lookup(config.host, { all: true }),
          timeoutMs(),
          `resolving ${config.host}`,
        );
        return `${config.host} → ${found.map((a) => a.address).join(', ')}`;
      },
      'Timeout',
    ],
    [
      'tcp',
      async () => {
        await openTcp(config.host, config.port, timeoutMs());
        return `${config.host}:${config.port} accepts TCP`;
      },
      'TcpTimeout',
    ],
    ['tls', () => engine.probeTls(timeoutMs()), 'HandshakeTimeout'],
    [
      'authentication',
      async () => {
        await engine.connectOnce(timeoutMs());
        return `logged in as ${config.username}`;
      },
      'HandshakeTimeout',
    ],
    ['database', async () => `database ${config.database} is open`, 'Timeout'],
    [
      'query',
      async () => {
        await engine.ping(timeoutMs());
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
      try {
        const { value, ms } = await timed(run);
        stages.push({ name, outcome: 'ok', durationMs: round2(ms), detail: value });
      } catch (error) {
        let failure = fromError(error, timeoutCause);
        let stage = name;
        // One login attempt tells both stages apart: a missing database fails after authentication.
        if (name === 'authentication' && engine.classifyError(error).stage === 'database') {
          stages.push({ name, outcome: 'ok', detail: `logged in as ${config.username}` });
          stage = 'database';
        } else if (name === 'dns' && !(error instanceof TimeoutError)) {
          failure = { cause: 'HostNotFound', detail: describeError(error) };
        }
        stages.push({ name: stage, outcome: 'failed', detail: failure.detail });
        return finish({ stage, ...failure }, adviceFor(failure.cause, config, timeoutMs()));
      }
    }
    return finish();
  } finally {
    await engine.close();
  }
}
