// Where the read models live and whether `serve` runs the projections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { isProvenantError } from '../../src/errors.js';

describe('read-model configuration', () => {
  it('puts the read models beside the log by default, and runs projections inline', () => {
    const config = loadConfig({}, '/srv');
    assert.equal(config.sqlite.path, '/srv/data/provenant.db');
    assert.deepEqual(config.readModels, {
      path: '/srv/data/provenant-readmodels.db',
      projections: 'inline',
    });
    assert.equal(
      loadConfig({ PROVENANT_SQLITE_PATH: '/var/lib/log.sqlite' }, '/srv').readModels.path,
      '/var/lib/log-readmodels.sqlite',
    );
  });

  it('takes PROVENANT_READ_MODELS_PATH (relative to the data directory) and PROVENANT_PROJECTIONS', () => {
    const config = loadConfig(
      { PROVENANT_READ_MODELS_PATH: 'rm/views.db', PROVENANT_PROJECTIONS: 'OFF' },
      '/srv',
    );
    assert.deepEqual(config.readModels, { path: '/srv/data/rm/views.db', projections: 'off' });
    assert.throws(
      () => loadConfig({ PROVENANT_PROJECTIONS: 'worker' }),
      (error: unknown) => isProvenantError(error) && /PROVENANT_PROJECTIONS/.test(error.message),
    );
  });
});
