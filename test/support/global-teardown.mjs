export default async function globalTeardown() {
  await globalThis.__dbwatchComponents?.stop();
}
