import type { LabelSelector } from '../../api/index.js';

type Labels = Record<string, string> | undefined;

/** metav1.LabelSelector semantics: every matchLabels pair and every expression must hold; {} matches all. */
export function matchesSelector(labels: Labels, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels![key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const present = has(key);
    const ok =
      operator === 'Exists'
        ? present
        : operator === 'DoesNotExist'
          ? !present
          : operator === 'In'
            ? present && values.includes(labels![key]!)
            : !present || !values.includes(labels![key]!);
    if (!ok) return false;
  }
  return true;
}
