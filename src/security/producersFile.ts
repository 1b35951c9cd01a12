// The producers file (PROVENANT_PRODUCERS_FILE): who may send events from which
// sources, with which keys, and whether they must sign (docs/security.md "Signed
// events"). Read once at start; an invalid file refuses to start (PRODUCERS_INVALID).
//
//   { "producers": [ { "id": "ci", "sources": ["https://ci.example.com/**"],
//       "mustSign": true,
//       "keys": [ { "keyId": "ci-2026", "publicKeyFile": "keys/ci-2026.pub.pem" } ] } ] }
//
// A key is given inline (`publicKey`, SPKI PEM) or as a file relative to the
// producers file (`publicKeyFile`). Only public keys belong here.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ProvenantError } from '../errors.js';
import type { Producer } from '../ingest/index.js';

const keySchema = z
  .object({
    keyId: z.string().min(1).max(256),
    publicKey: z.string().optional(),
    publicKeyFile: z.string().optional(),
  })
  .strict()
  .refine((k) => (k.publicKey === undefined) !== (k.publicKeyFile === undefined), {
    message: 'give exactly one of publicKey and publicKeyFile',
  });

const fileSchema = z
  .object({
    producers: z.array(
      z
        .object({
          id: z.string().min(1).max(256),
          sources: z.array(z.string().min(1)).min(1),
          mustSign: z.boolean().default(false),
          keys: z.array(keySchema).default([]),
        })
        .strict(),
    ),
  })
  .strict();

const invalid = (path: string, reason: string): ProvenantError =>
  new ProvenantError('PRODUCERS_INVALID', `Producers file ${path}: ${reason}`, {
    details: { path, reason },
  });

function publicKeyOf(pem: string, where: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw invalid(path, `${where} is not a public key in PEM`);
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'ed25519')
    throw invalid(path, `${where}: only ECDSA P-256 and Ed25519 keys are supported`);
  return key;
}

/** Parses the producers file's JSON (`path` names it in errors and anchors key files). */
export function parseProducers(json: string, path: string): Producer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw invalid(path, 'is not JSON');
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success)
    throw invalid(
      path,
      parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; '),
    );
  const ids = new Set<string>();
  return parsed.data.producers.map((p) => {
    if (ids.has(p.id)) throw invalid(path, `producer '${p.id}' is listed twice`);
    ids.add(p.id);
    if (p.mustSign && p.keys.length === 0)
      throw invalid(path, `producer '${p.id}' must sign but has no keys`);
    const keys = new Map<string, KeyObject>();
    for (const k of p.keys) {
      if (keys.has(k.keyId)) throw invalid(path, `producer '${p.id}' lists key '${k.keyId}' twice`);
      const where = `key '${k.keyId}' of producer '${p.id}'`;
      let pem = k.publicKey;
      if (k.publicKeyFile !== undefined) {
        const file = resolve(dirname(path), k.publicKeyFile);
        try {
          pem = readFileSync(file, 'utf8');
        } catch {
          throw invalid(path, `${where}: cannot read ${file}`);
        }
      }
      keys.set(k.keyId, publicKeyOf(pem ?? '', where, path));
    }
    return { id: p.id, sources: p.sources, keys, mustSign: p.mustSign };
  });
}

/** Reads and parses the producers file. */
export function loadProducersFile(path: string): Producer[] {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch {
    throw invalid(path, 'cannot be read');
  }
  return parseProducers(json, path);
}
