// A producer's scope: which CloudEvent sources and types, which actions and which
// units it may record. Pure (no Node, no fastify) so that the application checks
// it where an event's source, type, action and unit are known (ingest).
import { ProvenantError } from '../errors.js';

/**
 * Globs a producer is limited to. In a glob, `*` matches any run of characters
 * (`/` included, so that `https://ci.example.com/*` covers every path of a URI
 * source and `openssl/*` every unit named openssl); every other character stands
 * for itself. An event must match one glob of every list that applies to it.
 */
export interface ProducerScope {
  /** CloudEvent `source` URIs. */
  readonly sources: readonly string[];
  /** CloudEvent `type`s (`dev.provenant.receipt.v1`, `dev.cdevents.build.finished.0.1.1` …). */
  readonly types: readonly string[];
  /** Receipt action names (`build`, `unit-test` …). */
  readonly actions: readonly string[];
  /**
   * Unit keys: NVRPPs `name/version/release/platform/type` (`openssl/*`) or
   * purls (`pkg:npm/@acme/*`). A unit is allowed when one of its names matches
   * (the key as sent, its canonical key, its canonical purl), so `openssl/*`
   * covers the openssl RPM however the event names it.
   */
  readonly units: readonly string[];
}

/** What an event would record, as far as it is known where the check happens. */
export interface ScopeTarget {
  readonly source?: string | undefined;
  readonly type?: string | undefined;
  readonly action?: string | undefined;
  /** The unit as the event names it, or all of its names, the one as sent first. */
  readonly unit?: string | readonly string[] | undefined;
}

/**
 * True when `text` matches `glob` (`*` = any run of characters). Iterative, with
 * one backtrack point: linear in practice and never exponential, whatever the glob.
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g++;
      t++;
    } else if (star >= 0) {
      g = star + 1;
      t = ++resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

const fields = [
  ['source', 'sources'],
  ['type', 'types'],
  ['action', 'actions'],
  ['unit', 'units'],
] as const;

/** The first field of `target` that `scope` does not allow, or undefined when all are allowed. */
export function outOfScope(
  scope: ProducerScope,
  target: ScopeTarget,
): (typeof fields)[number][0] | undefined {
  for (const [field, list] of fields) {
    const value = target[field];
    if (value === undefined) continue;
    const names: readonly string[] = typeof value === 'string' ? [value] : value;
    if (!names.some((name) => scope[list].some((glob) => globMatch(glob, name)))) return field;
  }
  return undefined;
}

/** Throws `AUTH_PRODUCER_SCOPE` naming the field (not the allowed globs) when `target` is outside `scope`. */
export function assertInScope(
  principal: string,
  scope: ProducerScope | undefined,
  target: ScopeTarget,
): void {
  if (scope === undefined) return;
  const field = outOfScope(scope, target);
  if (field === undefined) return;
  const value = target[field];
  const shown = typeof value === 'string' ? value : value?.[0];
  throw new ProvenantError(
    'AUTH_PRODUCER_SCOPE',
    `Producer ${principal} may not record an event with this ${field} (${JSON.stringify(shown)})`,
    { details: { field, value: shown } },
  );
}
