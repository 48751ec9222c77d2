import type { MigrationHistory, Row } from './history.js';
import { inOrder, namedHistory } from './history.js';

/** `0001_squashed_0004_auto` replaces the app's migrations numbered 1 to 4 (squashmigrations' default name). */
const squashedRange = (name: string) => {
  const m = /^(\d+)_squashed_(\d+)(?:_|$)/.exec(name);
  return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
};
const numberOf = (name: string) => Number(/^(\d+)/.exec(name)?.[1] ?? Number.NaN);

/**
 * django_migrations keeps a row for a squashed migration and for each migration it replaces; Django counts the
 * squashed one once, and treats it as applied when all it replaces are. Names with a custom --squashed-name
 * cannot be recognised from the table.
 */
export function djangoHistory(rows: Row[]): MigrationHistory {
  const entries = inOrder(rows, 'id').map((r) => ({ app: String(r.app), name: String(r.name) }));
  const squashes = entries.flatMap((e) => {
    const range = squashedRange(e.name);
    return range ? [{ ...e, ...range }] : [];
  });
  const replacedBy = (app: string, name: string) =>
    squashes.find((s) => s.app === app && s.name !== name && numberOf(name) >= s.from && numberOf(name) <= s.to);
  const counted = entries.filter((e) => !replacedBy(e.app, e.name));
  const last = entries.at(-1);
  const named = namedHistory(
    'Django',
    entries.map((e) => `${e.app}.${e.name}`),
    last ? { currentVersion: `${last.app}.${last.name}` } : {},
  );
  return {
    ...named,
    appliedCount: counted.length,
    stateOf: (migration) => {
      const dot = migration.indexOf('.');
      const app = migration.slice(0, dot);
      const name = migration.slice(dot + 1);
      if (named.stateOf(migration) === 'applied' || replacedBy(app, name)) return 'applied';
      const range = squashedRange(name);
      if (!range) return 'pending';
      const numbers = new Set(entries.filter((e) => e.app === app).map((e) => numberOf(e.name)));
      for (let n = range.from; n <= range.to; n++) if (!numbers.has(n)) return 'pending';
      return 'applied';
    },
  };
}
