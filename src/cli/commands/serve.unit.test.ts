// `serve --dev-anonymous` (what `npm start` runs) turns development mode on by
// default only: an explicit PROVENANT_AUTH_ANONYMOUS wins, so it can be turned off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config.js';
import { serveEnvironment } from './serve.js';

const anonymous = (env: Record<string, string>, devAnonymous?: boolean): boolean =>
  loadConfig(serveEnvironment(env, devAnonymous === undefined ? {} : { devAnonymous })).auth
    .anonymous;

describe('serve --dev-anonymous', () => {
  it('is off without the flag, on with it, and off again when PROVENANT_AUTH_ANONYMOUS=false', () => {
    assert.equal(anonymous({}), false);
    assert.equal(anonymous({}, true), true);
    assert.equal(anonymous({ PROVENANT_AUTH_ANONYMOUS: 'false' }, true), false);
    assert.equal(anonymous({ PROVENANT_AUTH_ANONYMOUS: 'true' }), true);
  });

  it('lets --host and --port override the environment', () => {
    const env = serveEnvironment({ PROVENANT_PORT: '1' }, { host: '0.0.0.0', port: '2' });
    assert.equal(env.PROVENANT_HOST, '0.0.0.0');
    assert.equal(env.PROVENANT_PORT, '2');
  });
});
