/** Routes are closed by default: an /api route without an auth level stops the app from building. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { asAdmin, type HttpHarness, makeHttpHarness } from '../../test/support/http-harness.js';

describe('route auth levels', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await makeHttpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses to register an /api route that declares no auth level', () => {
    let thrown: unknown;
    try {
      h.app.get('/api/v1/forgotten', async () => ({ secret: true }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PacklineError);
    expect((thrown as PacklineError).code).toBe('PKL_CONFIG_INVALID');
    expect(String((thrown as PacklineError).details?.reason)).toContain('/api/v1/forgotten');
  });

  it('registers /api routes that state their level, and public routes outside /api', async () => {
    h.app.get('/api/v1/declared', { config: { auth: 'admin' } }, async () => ({ ok: true }));
    h.app.get('/outside-api', async () => ({ ok: true }));
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/declared' })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/declared', headers: asAdmin })).statusCode).toBe(200);
  });
});
