import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { claimNode, nodeOwner, ownsNode } from '../../test/support/node.js';

/**
 * The machine's one node belongs to the checkout that brought it up: another checkout's `up --node` is refused
 * and its `down` leaves the node alone (test/support/node.ts, hack/cluster.ts). Two checkouts' cluster
 * directories here, and the claim file in a directory of the test's own.
 */
let root: string;
let a: string;
let b: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'dbwatch-node-claim-'));
  process.env.DBWATCH_NODE_CLAIM = join(root, 'owner');
  a = join(root, 'checkout-a/.dbwatch/cluster');
  b = join(root, 'checkout-b/.dbwatch/cluster');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
});
afterEach(() => {
  delete process.env.DBWATCH_NODE_CLAIM;
  rmSync(root, { recursive: true, force: true });
});

/** What prepareNode does after claiming: the node's directory, where its host record lives. */
const bringUp = (dir: string) => {
  claimNode(dir);
  mkdirSync(join(dir, 'node'), { recursive: true });
};

describe('one node per machine, owned by the checkout that brought it up', () => {
  test("another checkout's up --node is refused, naming the owner; its down is not the owner", () => {
    bringUp(a);
    expect(nodeOwner()).toBe(a);
    expect(() => claimNode(b)).toThrow(
      `the machine's node belongs to the cluster in ${a} (one node per machine): run \`npm run cluster:down\` there first`,
    );
    expect([ownsNode(a), ownsNode(b)]).toEqual([true, false]);
    // The owner may claim again (up after a partial failure).
    expect(() => claimNode(a)).not.toThrow();
  });

  test('a claim whose checkout no longer has a node is stale and taken over', () => {
    bringUp(a);
    rmSync(join(root, 'checkout-a'), { recursive: true });
    expect(nodeOwner()).toBeUndefined();
    bringUp(b);
    expect([ownsNode(a), ownsNode(b)]).toEqual([false, true]);
  });

  test('without any claim (a node from before claims), the checkout with a node directory owns it', () => {
    mkdirSync(join(a, 'node'));
    expect([ownsNode(a), ownsNode(b)]).toEqual([true, false]);
  });
});
