import { startPostgres } from './postgres-server.js';

export interface TestComponents {
  stop(): Promise<void>;
}

/** Everything the integration tests talk to, started once per run. */
export async function startTestComponents(): Promise<TestComponents> {
  const stops: (() => Promise<void>)[] = [];
  if (!process.env.DBWATCH_TEST_PG_URL) {
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    process.env.DBWATCH_TEST_PG_URL = `postgres://${pg.superuser}:${encodeURIComponent(pg.superuserPassword)}@${pg.host}:${pg.port}/postgres`;
  }
  return {
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(e));
    },
  };
}
