// The witnesses checkpoints are handed to, from the environment (config.ts
// reads the variables and calls this; docs/transparency.md, "Witnesses"):
//
// - one witness by PROVENANT_CHECKPOINT_WITNESS_URL, _PROTOCOL (`post` or
//   `tlog-witness`) and _KEY (its vkeys), as before several were supported;
// - any number of tlog-witnesses by PROVENANT_CHECKPOINT_WITNESSES, one per
//   line or `;`-separated entry: its submission prefix, then its cosignature/v1
//   vkey(s), separated by spaces:
//
//     https://w1.example/tlog w1.example/w1+1a2b3c4d+BB...;
//     https://w2.example      w2.example+9f8e7d6c+BC...
//
// Each witness is delivered to on its own (delivery.ts); a key belongs to one
// witness only, since a witness's last cosigned size is recovered from the
// `CheckpointCosigned` events its keys made.
import { ProvenantError } from '../../errors.js';
import { parseCosignerKey } from './cosignature.js';

export type WitnessProtocol = 'post' | 'tlog-witness';

/**
 * How metrics name a witness: its URL's origin and path, without userinfo,
 * query string or fragment (credentials may be written there), and without
 * the lone `/` of a bare origin (`https://w.example`).
 */
export function witnessName(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return pathname === '/' ? origin : `${origin}${pathname}`;
  } catch {
    return 'invalid-url'; // configured URLs are checked; never echo one that does not parse
  }
}

/** One witness: where checkpoints go, how, and (tlog-witness) the keys its cosignatures verify with. */
export interface WitnessTarget {
  url: string;
  protocol: WitnessProtocol;
  /** cosignature/v1 vkeys (tlog-witness: at least one). */
  keys: string[];
}

export interface WitnessVariables {
  /** PROVENANT_CHECKPOINT_WITNESS_URL, already checked as an http(s) URL. */
  url: string | undefined;
  /** PROVENANT_CHECKPOINT_WITNESS_PROTOCOL, already checked. */
  protocol: WitnessProtocol;
  /** PROVENANT_CHECKPOINT_WITNESS_KEY as written. */
  keys: string | undefined;
  /** PROVENANT_CHECKPOINT_WITNESSES as written. */
  list: string | undefined;
}

const invalid = (name: string, message: string): ProvenantError =>
  new ProvenantError('CONFIG_INVALID', `${name}: ${message}`, { details: { variable: name } });

function checkedKeys(name: string, keys: string[]): string[] {
  for (const key of keys) {
    try {
      parseCosignerKey(key);
    } catch (error) {
      throw invalid(name, (error as Error).message);
    }
  }
  return keys;
}

/**
 * Refuses credentials in a witness URL: fetch refuses such a URL, so the
 * witness could never be delivered to (tlog-witness has no authentication; a
 * deployment that needs it puts a proxy in front).
 */
function withoutCredentials(name: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(name, `the witness ${witnessName(url)} is not a URL`);
  }
  if (parsed.username !== '' || parsed.password !== '')
    throw invalid(
      name,
      `the witness ${witnessName(url)} has credentials in its URL, which fetch refuses: put a proxy in front that adds them`,
    );
}

/** The entries of PROVENANT_CHECKPOINT_WITNESSES, each a tlog-witness. */
function listed(list: string): WitnessTarget[] {
  const name = 'PROVENANT_CHECKPOINT_WITNESSES';
  return list
    .split(/[;\n]/u)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [url, ...keys] = entry.split(/\s+/u);
      if (url === undefined || !/^https?:\/\/[^/\s]+/.test(url))
        throw invalid(name, `each entry starts with an http(s) URL, got '${entry.slice(0, 80)}'`);
      if (keys.length === 0)
        throw invalid(
          name,
          `the witness ${url} has no key: write its cosignature/v1 vkey after the URL`,
        );
      return { url, protocol: 'tlog-witness' as const, keys: checkedKeys(name, keys) };
    });
}

/** Every configured witness, the single-witness variables' first; CONFIG_INVALID naming the variable. */
export function witnessTargets(vars: WitnessVariables): WitnessTarget[] {
  const keys = checkedKeys(
    'PROVENANT_CHECKPOINT_WITNESS_KEY',
    (vars.keys ?? '').split(/[\s,]+/u).filter((k) => k !== ''),
  );
  if (vars.protocol === 'tlog-witness' && vars.url !== undefined && keys.length === 0)
    throw invalid(
      'PROVENANT_CHECKPOINT_WITNESS_KEY',
      'is required with PROVENANT_CHECKPOINT_WITNESS_PROTOCOL=tlog-witness (the witness cosignature key, a C2SP vkey)',
    );
  const targets: WitnessTarget[] = [
    ...(vars.url === undefined ? [] : [{ url: vars.url, protocol: vars.protocol, keys }]),
    ...listed(vars.list ?? ''),
  ];
  const urls = new Set<string>();
  const owners = new Map<string, string>();
  for (const t of targets) {
    withoutCredentials(
      t.url === vars.url ? 'PROVENANT_CHECKPOINT_WITNESS_URL' : 'PROVENANT_CHECKPOINT_WITNESSES',
      t.url,
    );
    if (urls.has(t.url))
      throw invalid('PROVENANT_CHECKPOINT_WITNESSES', `the witness ${t.url} is configured twice`);
    urls.add(t.url);
    for (const key of t.protocol === 'tlog-witness' ? t.keys : []) {
      const owner = owners.get(key);
      if (owner !== undefined)
        throw invalid(
          'PROVENANT_CHECKPOINT_WITNESSES',
          `the key ${key} is given to two witnesses (${owner} and ${t.url}): each witness has its own`,
        );
      owners.set(key, t.url);
    }
  }
  return targets;
}

/** The distinct witnesses (cosignature key names) the configured tlog-witnesses cosign as. */
export const witnessNames = (targets: readonly WitnessTarget[]): Set<string> =>
  new Set(
    targets.flatMap((t) =>
      t.protocol === 'tlog-witness' ? t.keys.map((k) => parseCosignerKey(k).name) : [],
    ),
  );

/**
 * PROVENANT_CHECKPOINT_WITNESS_QUORUM: how many of the configured witnesses must
 * have cosigned a checkpoint before the store presents it; undefined when not
 * set. CONFIG_INVALID when it is not a whole number from 1 to the number of
 * witnesses that cosign.
 */
export function witnessQuorum(
  raw: string | undefined,
  targets: readonly WitnessTarget[],
): number | undefined {
  const name = 'PROVENANT_CHECKPOINT_WITNESS_QUORUM';
  if (raw === undefined || raw.trim() === '') return undefined;
  const witnesses = witnessNames(targets).size;
  if (!/^\d+$/.test(raw.trim())) throw invalid(name, `must be a whole number, got '${raw}'`);
  const quorum = Number(raw.trim());
  if (witnesses === 0)
    throw invalid(name, 'needs tlog-witnesses with their keys (PROVENANT_CHECKPOINT_WITNESSES)');
  if (quorum < 1 || quorum > witnesses)
    throw invalid(
      name,
      `must be between 1 and ${witnesses} (the witnesses configured), got ${quorum}`,
    );
  return quorum;
}
