import { describe, expect, test } from '@jest/globals';
import { StatusEcho } from '../../src/controller/status-echo.js';

describe('sharing the written status with the cache', () => {
  const arriving = (resourceVersion: string) => ({
    metadata: { resourceVersion },
    status: { status: 'healthy', conditions: [{ type: 'Ready', status: 'True' }] },
  });

  test('the echo of our write holds our status object, not a second parse of it', () => {
    const echo = new StatusEcho();
    const written = { status: 'healthy', conditions: [{ type: 'Ready', status: 'True' }] };
    echo.written('DatabaseMonitor/shop/orders', '42', written);
    const obj = echo.share('DatabaseMonitor/shop/orders', arriving('42'));
    expect(obj.status).toBe(written);
    expect(echo.size).toBe(0);
  });

  test('a version we did not write keeps what the API server sent', () => {
    const echo = new StatusEcho();
    const written = { status: 'healthy' };
    echo.written('DatabaseMonitor/shop/orders', '42', written);
    const earlier = echo.share('DatabaseMonitor/shop/orders', arriving('41'));
    expect(earlier.status).not.toBe(written);
    expect(echo.size).toBe(1); // ours is still on its way
    const ours = echo.share('DatabaseMonitor/shop/orders', arriving('42'));
    expect(ours.status).toBe(written);
    expect(echo.size).toBe(0);
  });

  test('the cached object is never changed: a sharing copy takes its place', () => {
    const echo = new StatusEcho();
    const written = { status: 'healthy' };
    echo.written('DatabaseMonitor/shop/orders', '42', written);
    const fromWire = arriving('42');
    const stored = echo.share('DatabaseMonitor/shop/orders', fromWire);
    expect(stored).not.toBe(fromWire);
    expect(fromWire.status).not.toBe(written);
    expect(stored.metadata).toBe(fromWire.metadata);
  });

  test('a watch faster than the write response: the cache gets a copy with our status at once', () => {
    const echo = new StatusEcho();
    const written = { status: 'healthy' };
    const cached = arriving('42');
    echo.written('DatabaseMonitor/shop/orders', '42', written);
    const adopted = echo.adopt('DatabaseMonitor/shop/orders', cached, '41');
    expect(adopted?.status).toBe(written);
    expect(cached.status).not.toBe(written);
    expect(echo.size).toBe(0);
  });

  test('a watch slower than the write response: the cache holds our write at its version until the echo comes', () => {
    const echo = new StatusEcho();
    const written = { status: 'healthy' };
    echo.written('DatabaseMonitor/shop/orders', '42', written);
    const adopted = echo.adopt('DatabaseMonitor/shop/orders', arriving('41'), '41');
    expect(adopted).toMatchObject({ metadata: { resourceVersion: '42' } });
    expect(adopted?.status).toBe(written);
    expect(echo.size).toBe(1); // the watch's copy of 42 still shares it
    // Someone else's newer version in the cache is left alone.
    expect(echo.adopt('DatabaseMonitor/shop/orders', arriving('43'), '41')).toBeUndefined();
    expect(echo.share('DatabaseMonitor/shop/orders', arriving('42')).status).toBe(written);
  });

  test('other objects, unknown versions and deleted objects', () => {
    const echo = new StatusEcho();
    echo.written('DatabaseMonitor/shop/orders', undefined, { status: 'healthy' });
    expect(echo.size).toBe(0);
    echo.written('DatabaseMonitor/shop/orders', '7', { status: 'healthy' });
    expect(echo.share('DatabaseMonitor/shop/other', arriving('7')).status).toEqual(arriving('7').status);
    echo.forget('DatabaseMonitor/shop/orders');
    expect(echo.size).toBe(0);
  });
});
