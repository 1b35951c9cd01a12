// `provenant log verify | prove | consistency`: the whole-log walk against the
// Merkle log and its signed checkpoints, inclusion proofs of one event, and the
// proof that the current log extends an old checkpoint (docs/transparency.md).
import { existsSync, readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import {
  openEventStore,
  openTransparencyReader,
  openTreeStore,
  treeStoreExists,
} from '../../composition.js';
import { boundedText } from '../../boundedAnswer.js';
import { loadConfig, type Config } from '../../config.js';
import { ProvenantError } from '../../errors.js';
import { verifyConsistency, verifyInclusion } from '../../transparency/merkle.js';
import { loadNoteKey } from '../../transparency/keyFile.js';
import { keyChain, readRotations } from '../../transparency/keyRotation.js';
import { noteSigner, parseVerifierKey, type NoteVerifier } from '../../transparency/note.js';
import type { TreeStore } from '../../transparency/port.js';
import { verifyLog, type LogVerifyReport } from '../../transparency/verifyLog.js';
import { parseCosignerKey, type CosignerKey } from '../../transparency/witness/cosignature.js';
import { count, envHelp, exitCodesHelp } from '../shared.js';

const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

/** The trusted note keys: `--key` values, and the configured log key when its file exists. */
function verifiersFor(config: Config, keys: readonly string[]): NoteVerifier[] {
  const verifiers = keys.map(parseVerifierKey);
  if (existsSync(config.transparency.keyPath)) {
    const { key } = loadNoteKey(config.transparency.keyPath, false);
    verifiers.push(parseVerifierKey(noteSigner(config.transparency.origin, key).verifierKey));
  }
  return verifiers;
}

/** The tree store when it exists (verification never creates a SQLite file); on PostgreSQL, the shared one. */
const existingTree = async (config: Config): Promise<TreeStore | undefined> =>
  treeStoreExists(config) ? openTreeStore(config) : undefined;

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProvenantError('TLOG_MALFORMED_NOTE', `${what} ${file} cannot be read`, {
      cause: error,
    });
  }
}

/** A checkpoint note, cosignatures included, is a few kilobytes: far more is not one. */
const MAX_CHECKPOINT_BYTES = 1024 ** 2;

/** A witness copy: a file, or an http(s) URL fetched with GET (a witness service). */
async function readWitness(source: string): Promise<string> {
  if (!/^https?:\/\//.test(source)) return readText(source, 'Checkpoint file');
  try {
    const response = await fetch(source, {
      headers: { accept: 'text/plain' },
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    return await boundedText(response, MAX_CHECKPOINT_BYTES);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new ProvenantError(
      'TLOG_MALFORMED_NOTE',
      `Checkpoint ${source} cannot be fetched: ${cause ?? (error instanceof Error ? error.message : String(error))}`,
      { cause: error },
    );
  }
}

/** Progress of the walk: a bar on a terminal, a line a second otherwise. */
function progress(quiet: boolean) {
  if (quiet) return { update: (_n: number, _head: bigint) => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'log verify [{bar}] {value}/{total} events | ETA {eta_formatted}',
      },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update: (n: number, head: bigint) => {
        if (!begun) bar.start(Math.max(Number(head), n, 1), 0);
        begun = true;
        bar.update(n);
      },
      stop: () => {
        if (begun) bar.stop();
      },
    };
  }
  let last = Date.now();
  return {
    update: (n: number, head: bigint) => {
      if (Date.now() - last < 1000) return;
      last = Date.now();
      console.error(`  ${count(n, 'event')} checked (head position ${head})`);
    },
    stop: () => undefined,
  };
}

export interface WholeLogOptions {
  json?: boolean;
  checkpoint?: string[];
  key?: string[];
  witnessKey?: string[];
  witnessQuorum?: string;
}

/** Exit code of `log verify` when the only problems are witness quorums falling short. */
export const QUORUM_UNMET = 3;

/** --witness-quorum: a whole number from 1 to the number of witnesses (key names) given. */
function witnessQuorum(
  value: string | undefined,
  keys: readonly CosignerKey[],
): number | undefined {
  if (value === undefined) return undefined;
  const witnesses = new Set(keys.map((k) => k.name)).size;
  const n = /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : 0;
  if (n < 1 || n > witnesses)
    throw new ProvenantError(
      'TLOG_BAD_QUORUM',
      `--witness-quorum must be a whole number from 1 to the ${witnesses} witness(es) given with --witness-key, got '${value}'`,
    );
  return n;
}

/** The whole-log walk; returns the exit code (0 intact, 1 a problem, 3 only a witness quorum unmet). */
export async function verifyWholeLog(options: WholeLogOptions): Promise<number> {
  const config = loadConfig();
  const verifiers = verifiersFor(config, options.key ?? []);
  const witnessKeys = (options.witnessKey ?? []).map(parseCosignerKey);
  const quorum = witnessQuorum(options.witnessQuorum, witnessKeys);
  const witnesses: { source: string; note: string }[] = [];
  for (const source of options.checkpoint ?? [])
    witnesses.push({ source: `witness ${source}`, note: await readWitness(source) });
  const { store, description } = await openEventStore(config);
  const tree = await existingTree(config);
  const bar = progress(options.json === true);
  let result: LogVerifyReport;
  try {
    if (!options.json) console.error(`verifying ${description}`);
    result = await verifyLog({
      eventStore: store,
      ...(tree === undefined ? {} : { tree }),
      verifiers,
      witnesses,
      witnessKeys,
      witnessQuorum: quorum,
      onProgress: bar.update,
    });
  } finally {
    bar.stop();
    await tree?.close();
    await store.close();
  }
  const first = result.problems[0];
  const quorumOnly = !result.ok && result.problems.every((p) => p.kind === 'witness-quorum');
  const checked = result.problems.find((p) => p.leafIndex !== undefined)?.leafIndex ?? 0;
  if (options.json) {
    console.log(
      toJson({ ...result, checked: first === undefined ? result.events : checked, problem: first }),
    );
  } else if (result.ok) {
    console.log(
      `ok: ${count(result.events, 'event')} verified; Merkle root ${result.root} at size ${result.treeSize}; ${count(result.checkpointSizesChecked, 'checkpoint')} matched (${count(result.checkpointsChecked, 'signed copy', 'signed copies')})${result.keyRotations === 0 ? '' : ` across ${count(result.keyRotations, 'note key rotation')}`}${result.cosignaturesChecked === undefined ? '' : `; ${count(result.cosignaturesChecked, 'witness cosignature')} verified`}`,
    );
  } else if (quorumOnly) {
    console.log(`QUORUM NOT MET: ${count(result.events, 'event')} verified, but`);
    for (const p of result.problems) console.log(`  ${p.message}`);
  } else {
    for (const [i, p] of result.problems.entries()) {
      const where = p.stream === undefined ? '' : ` at ${p.stream}@${p.revision}`;
      const pos =
        p.position === undefined
          ? ''
          : ` (position ${p.position}${p.eventId ? `, event ${p.eventId}` : ''})`;
      console.log(
        `${i === 0 ? `BROKEN after ${count(checked, 'good event')}: ` : ''}${p.kind}${where}${pos}\n  ${p.message}`,
      );
    }
  }
  return result.ok ? 0 : quorumOnly ? QUORUM_UNMET : 1;
}

const help = (codes: readonly (readonly [number, string])[]): string =>
  `\n${exitCodesHelp(codes)}\n\n${envHelp()}\n`;

export function proveCommand(): Command {
  return new Command('prove')
    .summary('Print an inclusion proof of one event under the latest checkpoint')
    .description(
      `Prints the inclusion proof of the event in the Merkle log (JSON: leaf index, tree
size, leaf hash, root, proof hashes in base64, and the signed checkpoint), after
checking it. The Merkle log is kept by the server or 'projections run'.`,
    )
    .argument('<eventId>', 'the event id (ULID)')
    .option('--tree-size <n>', 'prove under this tree size instead of the latest checkpoint')
    .addHelpText(
      'after',
      help([
        [0, 'printed (and the proof verifies)'],
        [1, 'the proof does not verify against the root'],
        [2, 'usage or configuration error, unknown event (TLOG_LEAF_NOT_FOUND), no checkpoint'],
      ]),
    )
    .action(async (eventId: string, options: { treeSize?: string }) => {
      const config = loadConfig();
      // The log first: where there is none, nothing (a tree, a note key) is created.
      const { store } = await openEventStore(config);
      const { service, tree } = await openTransparencyReader(config, store).catch(async (error) => {
        await store.close();
        throw error;
      });
      try {
        const size = options.treeSize === undefined ? undefined : Number(options.treeSize);
        const proof = await service.inclusionByEventId(eventId, size);
        const failure = verifyInclusion(
          proof.leafIndex,
          proof.treeSize,
          Buffer.from(proof.leafHash, 'base64'),
          proof.proof.map((p) => Buffer.from(p, 'base64')),
          Buffer.from(proof.rootHash, 'base64'),
        );
        console.log(toJson(proof));
        process.exitCode = failure === undefined ? 0 : 1;
        if (failure !== undefined) console.error(`the proof does not verify: ${failure}`);
      } finally {
        await tree.close();
        await store.close();
      }
    });
}

export function consistencyCommand(): Command {
  return new Command('consistency')
    .summary('Prove that the current log extends an old checkpoint')
    .description(
      `Reads an old signed checkpoint (a C2SP signed note, e.g. a witness copy), checks
its signature with the log key (or --key; through the log's note key rotations,
when it has any), and checks the consistency proof from
its size to the latest checkpoint's: the log only grew, nothing was rewritten.`,
    )
    .argument('<old-checkpoint-file>', 'file holding the old signed checkpoint')
    .option('--key <verifierKey...>', 'trust checkpoints signed by this note verifier key')
    .option('--json', 'print the proof as JSON')
    .addHelpText(
      'after',
      help([
        [0, 'the current log extends the old checkpoint'],
        [1, 'it does not (history rewritten or truncated)'],
        [
          2,
          'usage or configuration error, malformed note (TLOG_MALFORMED_NOTE), unknown key (TLOG_UNKNOWN_KEY)',
        ],
      ]),
    )
    .action(async (file: string, options: { key?: string[]; json?: boolean }) => {
      const config = loadConfig();
      const verifiers = verifiersFor(config, options.key ?? []);
      const note = readText(file, 'Checkpoint file');
      // The key that signed it may have been rotated away since: followed through `$log-keys`.
      const { store } = await openEventStore(config);
      let tree: TreeStore | undefined;
      try {
        const old = keyChain(verifiers, await readRotations(store)).openCheckpoint(note);
        if (old.origin !== config.transparency.origin)
          throw new ProvenantError(
            'TLOG_ORIGIN_MISMATCH',
            `The checkpoint is of '${old.origin}', this log is '${config.transparency.origin}'`,
          );
        const reader = await openTransparencyReader(config, store);
        tree = reader.tree;
        const { service } = reader;
        const latest = await service.latestCheckpoint();
        if (old.size > latest.size) {
          console.log(
            `INCONSISTENT: the old checkpoint signs ${old.size} events, the latest only ${latest.size} (truncated?)`,
          );
          process.exitCode = 1;
          return;
        }
        const proof = await service.consistency(old.size, latest.size);
        const failure = verifyConsistency(
          old.size,
          latest.size,
          proof.proof.map((p) => Buffer.from(p, 'base64')),
          old.root,
          latest.root,
        );
        if (options.json)
          console.log(toJson({ ...proof, consistent: failure === undefined, failure }));
        else if (failure === undefined)
          console.log(
            `consistent: the log at size ${latest.size} extends the checkpoint of size ${old.size}`,
          );
        else console.log(`INCONSISTENT: ${failure}`);
        process.exitCode = failure === undefined ? 0 : 1;
      } finally {
        await tree?.close();
        await store.close();
      }
    });
}
