/** Expands $(name) placeholders (the CRD allows only each source's own names, so every one has a value). */
export const expandPlaceholders = (text: string, values: Record<string, string>): string =>
  text.replace(/\$\(([a-z]+)\)/g, (whole, name: string) => values[name] ?? whole);
