import { describe, expect, test } from '@jest/globals';
import { guarded, newMarker, testQuery } from '../../src/checks/engines/postgres-statements.js';

describe('statement markers', () => {
  test("a monitor's statements name it; the random part keeps each statement's marker unique", () => {
    const a = newMarker('shop/orders');
    expect(a).toMatch(/^\/\* dbwatch:shop\/orders:[0-9a-f]{16} \*\/$/);
    expect(newMarker('shop/orders')).not.toBe(a);
    expect(newMarker()).toMatch(/^\/\* dbwatch:[0-9a-f]{16} \*\/$/);
    expect(guarded('SELECT 1', 1000, a).startsWith(`${a} SET LOCAL statement_timeout = 1000;`)).toBe(true);
    expect(testQuery('SELECT 1', 1000, a).startsWith(a)).toBe(true);
  });

  test('a label can never end the comment or carry SQL', () => {
    const marker = newMarker("x */ DROP TABLE t; --'");
    expect(marker).toMatch(/^\/\* dbwatch:x__\/_DROP_TABLE_t__--_:[0-9a-f]{16} \*\/$/);
    expect(marker.indexOf('*/')).toBe(marker.length - 2);
  });
});
