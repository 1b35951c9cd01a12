import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProvenantError } from '../../errors.js';
import { parseEsdbConnectionString, redactConnectionString } from './connectionString.js';

const rejects = (input: string, problem: RegExp): void =>
  assert.throws(
    () => parseEsdbConnectionString(input),
    (error) => {
      assert.ok(isProvenantError(error));
      assert.equal(error.code, 'STORE_CONFIGURATION');
      assert.match(error.message, problem);
      assert.doesNotMatch(error.message, /s3cret/);
      assert.doesNotMatch(JSON.stringify(error.details ?? {}), /s3cret/);
      return true;
    },
  );

describe('parseEsdbConnectionString', () => {
  it('accepts the esdb and kurrentdb schemes alike', () => {
    for (const scheme of ['esdb', 'kurrentdb', 'KurrentDB'])
      assert.deepEqual(parseEsdbConnectionString(`${scheme}://localhost:2113?tls=false`), {
        dnsDiscover: false,
        hosts: [{ address: 'localhost', port: 2113 }],
        tls: false,
      });
    for (const scheme of ['esdb+discover', 'kurrentdb+discover'])
      assert.equal(parseEsdbConnectionString(`${scheme}://cluster.example.com`).dnsDiscover, true);
  });

  it('reads credentials, hosts, default port, TLS and client options', () => {
    const settings = parseEsdbConnectionString(
      'kurrentdb://admin:p%40ss:w?rd@node1:2113,node2,node3:2114/?tls=true&tlsCAFile=/certs/ca/ca.crt&nodePreference=Leader&keepAliveInterval=-1&defaultDeadline=5000&connection_name=api',
    );
    assert.deepEqual(settings, {
      dnsDiscover: false,
      hosts: [
        { address: 'node1', port: 2113 },
        { address: 'node2', port: 2113 },
        { address: 'node3', port: 2114 },
      ],
      tls: true,
      credentials: { username: 'admin', password: 'p@ss:w?rd' },
      tlsCaFile: '/certs/ca/ca.crt',
      nodePreference: 'leader',
      keepAliveInterval: -1,
      defaultDeadline: 5000,
      connectionName: 'api',
    });
  });

  it('names the problem of a malformed string, never the password', () => {
    rejects('', /empty/);
    rejects('localhost:2113', /must start with esdb:\/\//);
    rejects('http://admin:s3cret@localhost:2113', /unsupported scheme 'http:\/\/'/);
    rejects('esdb://admin:s3cret@', /no host/);
    rejects('esdb://admin:s3cret@host:99999', /between 1 and 65535/);
    rejects('esdb://admin:s3cret@host:abc', /must be a number/);
    rejects('esdb://admin:s3cret@host:1:2', /more than one ':'/);
    rejects('esdb://admin:s3cret@host,,other', /empty host/);
    rejects('esdb://admin:s3cret@host/path', /path is not allowed/);
    rejects('esdb://:s3cret@host', /user:password@/);
    rejects('esdb://admin:s3cret@host?tls=maybe', /'tls' must be true or false/);
    rejects('esdb://admin:s3cret@host?tsl=false', /unknown option 'tsl'/);
    rejects('esdb://admin:s3cret@host?tls', /must be key=value/);
    rejects('esdb://admin:s3cret@host?', /nothing after '\?'/);
    rejects('esdb://admin:s3cret@host?defaultDeadline=0', /positive integer/);
    rejects('esdb://admin:s3cret@host?nodePreference=closest', /leader, follower/);
    rejects('esdb://admin:s3cret@host?tlsVerifyCert=false', /tlsCAFile/);
    rejects('esdb://admin:s3cret@host?throwOnAppendFailure=false', /not supported/);
    rejects('esdb://admin:s3cret@host?userCertFile=a.crt', /together/);
    rejects('esdb+discover://admin:s3cret@a,b', /exactly one DNS name/);
    rejects('esdb://admin:s3cret@[::1]:2113', /IPv6/);
    rejects('esdb://admin:s3%ZZ@host', /password is not valid percent-encoding/);
  });
});

describe('redactConnectionString', () => {
  it('hides user and password, even when the password holds ? / or @', () => {
    assert.equal(
      redactConnectionString('esdb://admin:changeit@localhost:2113?tls=false'),
      'esdb://***@localhost:2113?tls=false',
    );
    assert.equal(redactConnectionString('esdb://a:b?c/d@e@host'), 'esdb://***@host');
    assert.equal(redactConnectionString('admin:pw@host'), '***@host');
    assert.equal(
      redactConnectionString('kurrentdb://localhost:2113?tls=false'),
      'kurrentdb://localhost:2113?tls=false',
    );
  });
});
