// What gates and stages share over their lifetime: each definition is a new
// version, and disabling keeps the definition (for history) with an optional reason.
import type { ProvenantError } from '../errors.js';
import { MAX_TEXT_LENGTH, optionalText } from './validate.js';

/** The lifecycle part of a gate's or a stage's folded state. */
export interface Lifecycle {
  version: number;
  enabled: boolean;
  disabledReason?: string;
}

/**
 * The rule of `DefineGate` and `DefineStage`: an enabled one whose definition is
 * the same decides nothing (`undefined`: a repeated PUT creates no version);
 * otherwise, a disabled one included, the version the new definition gets.
 */
export function decideDefine<D>(
  state: Lifecycle & { definition: D | undefined },
  definition: D,
  sameDefinition: (a: D, b: D) => boolean,
): number | undefined {
  if (state.enabled && state.definition && sameDefinition(state.definition, definition))
    return undefined;
  return state.version + 1;
}

/**
 * The rule of `DisableGate` and `DisableStage`: a never-defined one is `notFound`;
 * an already disabled one decides nothing (`undefined`); otherwise the data the
 * disabled event adds to its id and version, the checked reason if any.
 */
export function decideDisable(
  state: Lifecycle,
  reason: unknown,
  notFound: () => ProvenantError,
): { reason?: string } | undefined {
  if (state.version === 0) throw notFound();
  if (!state.enabled) return undefined;
  const checked = optionalText('DOMAIN_INVALID_COMMAND', 'reason', reason, MAX_TEXT_LENGTH);
  return checked === undefined ? {} : { reason: checked };
}

/** The state after a disabled event: same definition and version, the reason if given. */
export function evolveDisabled<S extends Lifecycle>(state: S, reason: string | undefined): S {
  const next: S = { ...state, enabled: false };
  if (reason !== undefined) next.disabledReason = reason;
  return next;
}
