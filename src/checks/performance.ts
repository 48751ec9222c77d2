import type { PerformanceCheck, PerformanceResult, QueryPerformance } from '../api/index.js';
import { apdex, ratingFor } from './apdex.js';
import type { Deadline } from './deadline.js';
import type { DatabaseEngine, TestQuerySession } from './engine.js';
import { PERCENTILE_METHOD, summarizeTimings } from './stats.js';
import { round2, timed } from './timeout.js';

interface Samples {
  ok: number[];
  errors: string[];
}

export const BUDGET_EXHAUSTED = "not run: the check's time budget (timeoutSeconds) ran out";

/** Runs `iterations` samples while the deadline allows; `run` resolves to the sample's duration. */
async function sample(
  iterations: number,
  deadline: Deadline,
  run: (timeoutMs: number) => Promise<number>,
  describe: (e: unknown) => string,
): Promise<Samples> {
  const samples: Samples = { ok: [], errors: [] };
  for (let i = 0; i < iterations; i++) {
    if (deadline.expired) {
      samples.errors.push(BUDGET_EXHAUSTED);
      continue;
    }
    try {
      samples.ok.push(await run(deadline.remainingMs()));
    } catch (error) {
      samples.errors.push(describe(error));
    }
  }
  return samples;
}

const timedConnect = (engine: DatabaseEngine) => async (timeoutMs: number) =>
  (await timed(() => engine.connectOnce(timeoutMs))).ms;

/**
 * Connection and query timings over `iterations`, rated by Apdex against `targetMs`. Queries run
 * sequentially on a session of their own (closed afterwards), read-only, each in a transaction that is
 * rolled back. All of it shares the check's deadline; samples it leaves no time for count as failures.
 */
export async function measurePerformance(
  engine: DatabaseEngine,
  spec: PerformanceCheck,
  deadline: Deadline,
  describeError: (e: unknown) => string,
  now: () => Date = () => new Date(),
): Promise<PerformanceResult> {
  const connections = await sample(spec.iterations, deadline, timedConnect(engine), describeError);
  const queryPerformance: QueryPerformance[] = [];
  const allOk: number[] = [];
  let failures = 0;
  let session: TestQuerySession | undefined;
  let sessionError: string | undefined;
  try {
    if (!deadline.expired) {
      session = await engine.openTestSession(deadline.remainingMs()).catch((e: unknown) => {
        sessionError = describeError(e);
        return undefined;
      });
    }
    for (const query of spec.queries) {
      const s: Samples = session
        ? await sample(spec.iterations, deadline, (t) => session!.run(query.sql, t), describeError)
        : { ok: [], errors: Array(spec.iterations).fill(sessionError ?? BUDGET_EXHAUSTED) };
      allOk.push(...s.ok);
      failures += s.errors.length;
      const timing = summarizeTimings(s.ok);
      queryPerformance.push({
        name: query.name,
        iterations: spec.iterations,
        successRate: round2((s.ok.length / spec.iterations) * 100),
        ...(timing ? { timing } : {}),
        ...(s.errors[0] ? { error: s.errors[0] } : {}),
      });
    }
  } finally {
    await session?.close();
  }
  const connectTiming = summarizeTimings(connections.ok);
  const queryTiming = summarizeTimings(allOk);
  const score = apdex(allOk, failures, spec.targetMs);
  const rating = ratingFor(score);
  return {
    connectionMetrics: {
      attempts: spec.iterations,
      successfulConnections: connections.ok.length,
      ...(connectTiming ? { timing: connectTiming } : {}),
    },
    queryPerformance,
    poolEfficiency: {
      poolSize: engine.poolStats().size,
      queriesRun: allOk.length + failures,
      ...(connectTiming ? { savedPerQueryMs: connectTiming.avgMs } : {}),
      note: connectTiming
        ? `Each pooled query avoids a fresh connection costing ${connectTiming.avgMs} ms on average`
        : 'Fresh connections failed; pooled figures only',
    },
    overallAssessment: {
      performanceRating: rating,
      apdex: score,
      targetMs: spec.targetMs,
      ...(queryTiming ? { avgQueryTimeMs: queryTiming.avgMs } : {}),
      recommendations: recommend(rating, queryPerformance, connections, spec.targetMs),
    },
    percentileMethod: PERCENTILE_METHOD,
    timestamp: now().toISOString(),
  };
}

function recommend(rating: string, queries: QueryPerformance[], connections: Samples, targetMs: number): string[] {
  const out: string[] = [];
  for (const q of queries) {
    if (q.error) out.push(`Query ${q.name} failed (${q.successRate}% success): ${q.error}`);
    else if (q.timing && q.timing.p95Ms > 4 * targetMs) {
      out.push(
        `Query ${q.name} p95 ${q.timing.p95Ms} ms exceeds 4× the ${targetMs} ms target: check its plan (EXPLAIN) and indexes`,
      );
    }
  }
  if (connections.errors.length > 0)
    out.push(`${connections.errors.length} fresh connection(s) failed: ${connections.errors[0]}`);
  if (out.length === 0) {
    out.push(
      rating === 'excellent' || rating === 'good'
        ? 'Performance is within acceptable ranges'
        : `Queries are often slower than the ${targetMs} ms target`,
    );
  }
  return out;
}
