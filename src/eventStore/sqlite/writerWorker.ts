// The SQLite writer thread: owns the write connection, applies appends as they
// arrive and commits them in groups, so the fsync of a commit never blocks the
// thread that serves requests. Group commit: whatever arrived while the previous
// commit was running is committed together.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, setPragmas } from './database.js';
import { createWriterCore } from './writerCore.js';
import { createGroupApplier, type WriterMessage, type WriterReply } from './writerGroup.js';

export interface WriterWorkerData {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

const port = parentPort;
if (port === null) throw new Error('writerWorker must run in a worker thread');
const settings = workerData as WriterWorkerData;
const db = openDatabase(settings.path, { timeout: settings.busyTimeoutMs });
setPragmas(db, { synchronous: settings.synchronous, foreign_keys: 'ON' });
const applier = createGroupApplier(createWriterCore(db));
let commitScheduled = false;

const post = (reply: WriterReply): void => port.postMessage(reply);

function commitIfReady(): void {
  commitScheduled = false;
  if (!applier.canCommit || !applier.hasWork) return;
  const { committed, outcomes } = applier.commit();
  if (outcomes.length > 0) post({ t: committed ? 'committed' : 'failed', outcomes });
}

port.on('message', (message: WriterMessage) => {
  if (message.t === 'close') {
    commitIfReady();
    db.close();
    port.close();
    return;
  }
  applier.apply(message);
  if (applier.canCommit && !commitScheduled) {
    // Let the messages already queued join this group before committing.
    commitScheduled = true;
    setImmediate(commitIfReady);
  }
});
