import { describe, expect, jest, test } from '@jest/globals';
import { waitCommand } from '../../src/cli/wait-command.js';

describe('dbwatch wait --timeout', () => {
  test.each(['0s', '99999999h', 'soon'])('%s is refused with exit 3 before any API call', async (timeout) => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await waitCommand('orders-ready', { namespace: 'shop', timeout })).toBe(3);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/--timeout .*must be a duration between 1s and 24h/);
    } finally {
      stderr.mockRestore();
    }
  });
});
