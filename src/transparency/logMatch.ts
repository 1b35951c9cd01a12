// Before a signer continues a Merkle log, the event log must still hold the
// event its last leaf recorded, at the same position, unchanged. A log
// truncated, restored from an older copy or replaced by another one (a wrong
// PROVENANT_SQLITE_PATH, a restore without its `-merkle.db`) does not: signing
// on would either sign nothing more while the store serves (its new events
// never become leaves) or mix two logs in one tree. The signer refuses
// instead, with TLOG_LOG_MISMATCH; the tree is never rebuilt silently, since
// its checkpoints are what shows an auditor that history changed.
import type { EventStore } from '../eventStore/types.js';
import type { TreeStore } from './port.js';
import { eventLeafHash } from './treeBuilder.js';

const WHAT_TO_DO =
  'run `provenant log verify` to see what changed. Restore the log together with the Merkle log of the same copy, or, to start a new Merkle log over this log, stop every signer and move the Merkle log aside (PROVENANT_MERKLE_PATH; docs/transparency.md): checkpoints already handed out will then show that history changed';

/** Why the log does not continue the tree's last leaf, or undefined when it does. */
export async function logMismatch(
  eventStore: EventStore,
  tree: TreeStore,
): Promise<string | undefined> {
  const { size } = await tree.state();
  if (size === 0) return undefined;
  const last = await tree.leafAt(size - 1);
  if (last === undefined) return `the Merkle log has ${size} leaves but no leaf ${size - 1}`;
  const before = size === 1 ? undefined : await tree.leafAt(size - 2);
  const [event] = await eventStore.readAll({
    from: before === undefined ? 'start' : before.position,
    maxCount: 1,
  });
  const recorded = `The Merkle log's last leaf (${size - 1}) is event ${last.eventId} at position ${last.position}`;
  if (event === undefined || event.position !== last.position) {
    const head = await eventStore.headPosition();
    const there =
      event === undefined
        ? `the log ends at position ${head}`
        : `the log's next event after the previous leaf is at position ${event.position}`;
    return `${recorded}, but ${there}: the log was truncated, restored from an older copy, or replaced; ${WHAT_TO_DO}`;
  }
  if (event.id !== last.eventId)
    return `${recorded}, but the log holds event ${event.id} there: the log was replaced by another one; ${WHAT_TO_DO}`;
  if (!eventLeafHash(event).equals(last.hash))
    return `${recorded}, but that event differs from the one the leaf recorded (data, metadata or recorded time edited); ${WHAT_TO_DO}`;
  return undefined;
}
