import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestFromPurl, parsePurl, unitKeyFromPurl } from './purl.js';

const HEX = 'a'.repeat(64);

describe('purl', () => {
  it('parses the components and percent-decodes them', () => {
    assert.deepEqual(parsePurl('pkg:rpm/fedora/openssl@3.2.1-2.el9?arch=x86_64&epoch=1#sub/dir'), {
      type: 'rpm',
      namespace: 'fedora',
      name: 'openssl',
      version: '3.2.1-2.el9',
      qualifiers: Object.assign(Object.create(null) as object, { arch: 'x86_64', epoch: '1' }),
      subpath: 'sub/dir',
    });
    assert.equal(parsePurl(`pkg:oci/myapp@sha256%3A${HEX}`)?.version, `sha256:${HEX}`);
    assert.equal(parsePurl('pkg:npm/%40scope/name@1.0.0')?.namespace, '@scope');
  });

  it('rejects what is not a purl', () => {
    for (const text of [
      'https://example.com',
      'pkg:',
      'pkg:rpm',
      'pkg:rpm/@1.0',
      'pkg:rpm/a@%zz',
      'pkg:1bad/x@1',
    ])
      assert.equal(parsePurl(text), undefined, text);
  });

  it('derives NVRPP unit keys', () => {
    const key = (text: string): string | undefined => {
      const purl = parsePurl(text);
      return purl && unitKeyFromPurl(purl);
    };
    assert.equal(
      key('pkg:rpm/redhat/openssl@3.2.1-2.el9?arch=x86_64'),
      'openssl/3.2.1/2.el9/x86_64/rpm',
    );
    assert.equal(key('pkg:deb/debian/curl@7.88.1-10?arch=amd64'), 'curl/7.88.1/10/amd64/deb');
    assert.equal(key('pkg:npm/left-pad@1.3.0?release=1&platform=any'), 'left-pad/1.3.0/1/any/npm');
    // Missing release, platform or version: no unit.
    assert.equal(key('pkg:rpm/redhat/openssl@3.2.1?arch=x86_64'), undefined);
    assert.equal(key('pkg:rpm/redhat/openssl@3.2.1-2.el9'), undefined);
    assert.equal(key('pkg:npm/left-pad?release=1&platform=any'), undefined);
    assert.equal(key('pkg:generic/a%2Fb@1?release=1&arch=x'), undefined);
  });

  it('extracts sha256 digests from an OCI version or the checksum qualifier', () => {
    const digest = (text: string): unknown => {
      const purl = parsePurl(text);
      return purl && digestFromPurl(purl);
    };
    assert.deepEqual(digest(`pkg:oci/app@sha256%3A${HEX}`), { sha256: HEX });
    assert.deepEqual(digest(`pkg:rpm/x@1-1?checksum=sha1:${'b'.repeat(40)},sha256:${HEX}`), {
      sha1: 'b'.repeat(40),
      sha256: HEX,
    });
    assert.equal(digest(`pkg:rpm/x@1-1?checksum=sha1:${'b'.repeat(40)}`), undefined);
    assert.equal(digest('pkg:rpm/x@1-1?checksum=sha256:short'), undefined);
  });
});
