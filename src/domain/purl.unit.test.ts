import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeOf } from '../../test/support/errors.js';
import {
  nvrppOfPurl,
  parsePurlStrict,
  resolveUnit,
  unitNameParts,
  MAX_PURL_LENGTH,
} from './purl.js';
import { isValidUnitKey, normalizeUnitKey } from './unitKey.js';

const HEX = 'c'.repeat(64);

describe('units named by package URL', () => {
  it('an NVRPP and its purl are the same unit, both ways', () => {
    const nvrpp = 'openssl/3.2.1/2.el9/x86_64/rpm';
    const purl = 'pkg:rpm/openssl@3.2.1-2.el9?arch=x86_64';
    assert.deepEqual(resolveUnit(nvrpp), { key: nvrpp, purl, nvrpp });
    assert.deepEqual(resolveUnit(purl), { key: nvrpp, purl, nvrpp });
    // A namespace, other qualifiers or `platform` for `arch`: still the NVRPP unit.
    assert.equal(normalizeUnitKey('pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64&epoch=1'), nvrpp);
    assert.equal(normalizeUnitKey('pkg:RPM/openssl@3.2.1-2.el9?platform=x86_64'), nvrpp);
    // Types without version-release carry the release as a qualifier, both ways.
    const npm = resolveUnit('left-pad/1.3.0/1/any/npm');
    assert.equal(npm.purl, 'pkg:npm/left-pad@1.3.0?arch=any&release=1');
    assert.equal(normalizeUnitKey(npm.purl), 'left-pad/1.3.0/1/any/npm');
    // A release with '-' can not be split back from the version: it goes as a qualifier.
    const dashed = resolveUnit('a/1.0/1-2/x86_64/rpm');
    assert.equal(normalizeUnitKey(dashed.purl), 'a/1.0/1-2/x86_64/rpm');
  });

  it('round-trips every NVRPP through its purl', () => {
    for (const key of [
      'openssl/3.2.1/2.el9/x86_64/rpm',
      'curl/7.88.1/10/amd64/deb',
      'musl/1.2.4/r2/x86_64/apk',
      'a/1:2.0~rc1/0^git/noarch/rpm',
      'myapp/1.4.0/1/linux-amd64/oci',
      'pkg/1.0-beta/3/any/generic',
    ])
      assert.equal(normalizeUnitKey(resolveUnit(key).purl), key, key);
  });

  it('canonicalises purls with packageurl-js; OCI tags and checksums are not identity', () => {
    assert.equal(normalizeUnitKey('pkg:NPM/%40Scope/Name@1.0.0'), 'pkg:npm/%40scope/name@1.0.0');
    assert.equal(
      normalizeUnitKey('pkg:maven/org.example/app@1.0?type=jar&classifier=dist'),
      'pkg:maven/org.example/app@1.0?classifier=dist&type=jar',
    );
    const oci = resolveUnit(`pkg:oci/app@sha256%3A${HEX}?tag=v1&repository_url=r.example/app`);
    assert.equal(oci.key, `pkg:oci/app@sha256:${HEX}?repository_url=r.example%2Fapp`);
    assert.deepEqual(oci.aliases, { tag: 'v1' });
    assert.equal(oci.nvrpp, undefined);
    assert.equal(
      normalizeUnitKey(`pkg:generic/tool@2?checksum=sha256:${HEX}`),
      'pkg:generic/tool@2',
    );
    assert.equal(isValidUnitKey('pkg:pypi/django@5.0'), true);
    assert.equal(isValidUnitKey('pkg:golang/github.com/a/b@v1.2.3'), true);
  });

  it('refuses malformed purls with their own codes', () => {
    const cases: [string, string][] = [
      ['pkg:', 'DOMAIN_INVALID_PURL'],
      ['pkg:/name@1', 'DOMAIN_INVALID_PURL'], // no type
      ['pkg:npm', 'DOMAIN_INVALID_PURL'], // no name
      ['pkg:npm/@1.0', 'DOMAIN_INVALID_PURL'], // no name before the version
      ['pkg:npm/a@', 'DOMAIN_INVALID_PURL'], // empty version
      ['pkg:npm/a@%zz', 'DOMAIN_INVALID_PURL'], // bad percent-encoding
      ['pkg:npm/a%E0%A4%A@1', 'DOMAIN_INVALID_PURL'],
      ['pkg:npm/a@1?arch', 'DOMAIN_INVALID_PURL'], // qualifier without a value
      ['pkg:npm/a@1?arch=', 'DOMAIN_INVALID_PURL'],
      ['pkg:1npm/a@1', 'DOMAIN_INVALID_PURL'],
      [`pkg:npm/${'a'.repeat(MAX_PURL_LENGTH)}@1`, 'DOMAIN_PURL_TOO_LONG'],
      ['pkg:npm/left-pad', 'DOMAIN_PURL_NO_VERSION'],
      ['pkg:oci/app@latest', 'DOMAIN_INVALID_OCI_DIGEST'],
      [`pkg:oci/app@sha256:${'C'.repeat(64)}`, 'DOMAIN_INVALID_OCI_DIGEST'],
      ['not/a/unit', 'DOMAIN_INVALID_UNIT_KEY'],
    ];
    for (const [text, code] of cases)
      assert.equal(
        codeOf(() => normalizeUnitKey(text)),
        code,
        text,
      );
  });

  it('parses the parts, and finds name and type of either form', () => {
    const purl = parsePurlStrict('pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64#sub');
    assert.equal(purl.namespace, 'fedora');
    assert.equal(purl.subpath, 'sub');
    assert.equal(nvrppOfPurl(purl), 'openssl/3.2.1/2.el9/x86_64/rpm');
    assert.deepEqual(unitNameParts('openssl/3.2.1/2.el9/x86_64/rpm'), {
      type: 'rpm',
      name: 'openssl',
      version: '3.2.1',
    });
    assert.deepEqual(unitNameParts('pkg:npm/%40scope/name@1.0.0'), {
      type: 'npm',
      namespace: '@scope',
      name: 'name',
      version: '1.0.0',
    });
    assert.equal(unitNameParts('nonsense'), undefined);
  });
});
