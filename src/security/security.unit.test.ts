// The pure parts of security: globs and producer scopes, the role table, the
// principals file, and the configuration of authentication, TLS and proxies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { isProvenantError } from '../errors.js';
import { parseAuthFile } from './authFile.js';
import { normalizeSubject } from './authenticate.js';
import { allows, ingestScopeOf } from './permissions.js';
import { assertInScope, globMatch, outOfScope, type ProducerScope } from './scope.js';

const configError = (fn: () => unknown, pattern: RegExp): void =>
  assert.throws(
    fn,
    (error) =>
      isProvenantError(error) && error.code === 'CONFIG_INVALID' && pattern.test(error.message),
  );

describe('globs and producer scopes', () => {
  it('matches * against any run of characters, / included, and nothing else loosely', () => {
    assert.ok(globMatch('https://ci.example.com/*', 'https://ci.example.com/a/b'));
    assert.ok(globMatch('openssl/*', 'openssl/3.2.1/2.el9/x86_64/rpm'));
    assert.ok(globMatch('*', ''));
    assert.ok(globMatch('a*b*c', 'aXbYc'));
    assert.ok(!globMatch('openssl/*', 'openssl-devel/1/1/x/rpm'));
    assert.ok(!globMatch('build', 'build2'));
    assert.ok(!globMatch('dev.?', 'dev.x'), '? is a literal, not a wildcard');
    assert.ok(!globMatch('https://ci.example.com/*', 'https://ci.example.com.evil.org/x'));
    // No exponential backtracking on a pathological glob.
    const started = Date.now();
    assert.ok(!globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)));
    assert.ok(Date.now() - started < 1000);
  });

  it('names the first field out of scope, and ignores fields an event lacks', () => {
    const scope: ProducerScope = {
      sources: ['https://ci/*'],
      types: ['dev.provenant.receipt.v1'],
      actions: ['build'],
      units: ['openssl/*'],
    };
    const ok = {
      source: 'https://ci/x',
      type: 'dev.provenant.receipt.v1',
      action: 'build',
      unit: 'openssl/1/1/x/rpm',
    };
    assert.equal(outOfScope(scope, ok), undefined);
    assert.equal(outOfScope(scope, { ...ok, source: 'https://other/x' }), 'source');
    assert.equal(outOfScope(scope, { ...ok, unit: 'zlib/1/1/x/rpm' }), 'unit');
    // A unit given by all its names is allowed when one of them matches.
    const rpm = ['pkg:rpm/openssl@1-1?arch=x', 'openssl/1/1/x/rpm'];
    assert.equal(outOfScope(scope, { ...ok, unit: rpm }), undefined);
    assert.equal(outOfScope(scope, { ...ok, unit: ['pkg:rpm/zlib@1-1?arch=x'] }), 'unit');
    assert.equal(
      outOfScope(scope, { source: 'https://ci/x', type: 'dev.provenant.receipt.v1' }),
      undefined,
    );
    assert.throws(
      () => assertInScope('token:ci', scope, { ...ok, action: 'sast' }),
      (error) =>
        isProvenantError(error) &&
        error.code === 'AUTH_PRODUCER_SCOPE' &&
        error.details?.field === 'action',
    );
    assert.doesNotThrow(() => assertInScope('token:admin', undefined, { ...ok, action: 'sast' }));
  });
});

describe('roles', () => {
  it('allows public to anyone, and the rest by role', () => {
    assert.ok(allows(undefined, 'public'));
    assert.ok(!allows(undefined, 'read'));
    const reader = { id: 'r', via: 'token', roles: ['reader'] } as const;
    assert.ok(allows(reader, 'read'));
    assert.ok(!allows(reader, 'define'));
  });

  it('holds producers to their scope, admins to none, and a scope-less producer to nothing', () => {
    const scope = { sources: ['*'], types: ['*'], actions: ['build'], units: ['*'] };
    assert.deepEqual(ingestScopeOf({ id: 'p', via: 'token', roles: ['producer'], scope }), scope);
    assert.equal(
      ingestScopeOf({ id: 'a', via: 'token', roles: ['producer', 'admin'], scope }),
      undefined,
    );
    const nothing = ingestScopeOf({ id: 'p', via: 'oidc', roles: ['producer'] });
    assert.deepEqual(nothing, { sources: [], types: [], actions: [], units: [] });
  });

  it('compares certificate subjects whatever the order and spacing', () => {
    assert.equal(
      normalizeSubject('O=Example\nCN=builder-1'),
      normalizeSubject('CN=builder-1, O=Example'),
    );
    assert.notEqual(normalizeSubject('CN=builder-1'), normalizeSubject('CN=builder-2'));
  });
});

describe('the principals file', () => {
  const sha = 'a'.repeat(64);
  it('reads tokens, certificates and OIDC rules; scope lists default to everything', () => {
    const file = parseAuthFile(
      JSON.stringify({
        tokens: [
          { name: 'ci', sha256: sha, roles: ['producer'], scope: { sources: ['https://ci/*'] } },
        ],
        oidc: [{ subject: 'repo:x/*', roles: ['reader'] }],
      }),
      'p.json',
    );
    assert.deepEqual(file.tokens[0]?.scope, {
      sources: ['https://ci/*'],
      types: ['*'],
      actions: ['*'],
      units: ['*'],
    });
    assert.deepEqual(file.certificates, []);
  });

  it('refuses bad files with CONFIG_INVALID naming the place, never the content of a secret', () => {
    configError(() => parseAuthFile('{', 'p.json'), /p\.json is not JSON/);
    configError(
      () =>
        parseAuthFile(
          JSON.stringify({ tokens: [{ name: 'ci', sha256: 'short', roles: ['admin'] }] }),
          'p.json',
        ),
      /tokens\.0\.sha256/,
    );
    configError(
      () =>
        parseAuthFile(
          JSON.stringify({ tokens: [{ name: 'ci', sha256: sha, roles: ['producer'] }] }),
          'p.json',
        ),
      /producer needs a "scope"/,
    );
    configError(
      () =>
        parseAuthFile(
          JSON.stringify({ tokens: [{ name: 'ci', sha256: sha, roles: ['root'] }] }),
          'p.json',
        ),
      /roles/,
    );
    configError(
      () => parseAuthFile(JSON.stringify({ secrets: [] }), 'p.json'),
      /secrets|Unrecognized/i,
    );
    configError(
      () =>
        parseAuthFile(
          JSON.stringify({
            tokens: [
              { name: 'ci', sha256: sha, roles: ['admin'] },
              { name: 'ci', sha256: 'b'.repeat(64), roles: ['admin'] },
            ],
          }),
          'p.json',
        ),
      /used twice/,
    );
  });
});

describe('configuration of authentication, TLS and proxies', () => {
  it('defaults to no anonymous access, no TLS and no trusted proxy', () => {
    const config = loadConfig({}, '/srv');
    assert.deepEqual(config.auth, { anonymous: false, file: undefined, oidc: undefined });
    assert.equal(config.tls, undefined);
    assert.deepEqual(config.trustedProxies, []);
  });

  it('reads OIDC, TLS and proxy settings', () => {
    const config = loadConfig(
      {
        PROVENANT_AUTH_ANONYMOUS: 'false',
        PROVENANT_AUTH_FILE: 'principals.json',
        PROVENANT_AUTH_OIDC_ISSUER: 'https://token.actions.githubusercontent.com',
        PROVENANT_AUTH_OIDC_AUDIENCE: 'provenant, provenant-ci',
        PROVENANT_AUTH_OIDC_ALGORITHMS: 'RS256',
        PROVENANT_AUTH_OIDC_CLOCK_TOLERANCE: '5',
        PROVENANT_TLS_CERT: 'tls/cert.pem',
        PROVENANT_TLS_KEY: 'tls/key.pem',
        PROVENANT_TLS_CLIENT_CA: 'tls/clients.pem',
        PROVENANT_TRUSTED_PROXIES: '10.0.0.0/8, ::1,192.168.1.5',
      },
      '/srv',
    );
    assert.equal(config.auth.file, '/srv/principals.json');
    assert.deepEqual(config.auth.oidc, {
      issuer: 'https://token.actions.githubusercontent.com',
      audience: ['provenant', 'provenant-ci'],
      jwksUrl: undefined,
      algorithms: ['RS256'],
      clockToleranceSeconds: 5,
    });
    assert.deepEqual(config.tls, {
      certFile: '/srv/tls/cert.pem',
      keyFile: '/srv/tls/key.pem',
      clientCaFile: '/srv/tls/clients.pem',
    });
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '::1', '192.168.1.5']);
  });

  it('refuses incomplete or unsafe settings, naming the variable', () => {
    configError(
      () => loadConfig({ PROVENANT_AUTH_OIDC_ISSUER: 'https://idp' }),
      /PROVENANT_AUTH_OIDC_AUDIENCE/,
    );
    configError(
      () => loadConfig({ PROVENANT_AUTH_OIDC_ISSUER: 'idp', PROVENANT_AUTH_OIDC_AUDIENCE: 'a' }),
      /ISSUER: must be an http/,
    );
    for (const alg of ['none', 'HS256'])
      configError(
        () =>
          loadConfig({
            PROVENANT_AUTH_OIDC_ISSUER: 'https://idp',
            PROVENANT_AUTH_OIDC_AUDIENCE: 'a',
            PROVENANT_AUTH_OIDC_ALGORITHMS: `RS256,${alg}`,
          }),
        /never accepted/,
      );
    configError(() => loadConfig({ PROVENANT_TLS_CERT: 'c.pem' }), /PROVENANT_TLS_KEY/);
    configError(() => loadConfig({ PROVENANT_TLS_CLIENT_CA: 'ca.pem' }), /PROVENANT_TLS_CLIENT_CA/);
    for (const proxy of ['localhost', '10.0.0.0/33', '1.2.3.4/8/1'])
      configError(
        () => loadConfig({ PROVENANT_TRUSTED_PROXIES: proxy }),
        /PROVENANT_TRUSTED_PROXIES/,
      );
    configError(
      () => loadConfig({ PROVENANT_AUTH_ANONYMOUS: 'maybe' }),
      /PROVENANT_AUTH_ANONYMOUS/,
    );
  });
});
