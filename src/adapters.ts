// The optional backends, each loaded only when the configuration selects it
// (composition.ts and the commands call these). A static import would load the
// KurrentDB client (grpc) and pg at every CLI start, SQLite-only or `--help`
// included: ~250 ms of CPU (composition.js alone: 852 → 599 ms measured when
// this was made lazy). Modules that need a backend's types
// import them with `import type`, which loads nothing.
// test/lazyAdapters.e2e.test.ts checks that a SQLite start loads neither.
// The sigstore packages load at their first use likewise (src/sigstore.ts).

/** The EventStoreDB/KurrentDB event store (PROVENANT_STORE=eventstore). */
export const loadEsdb = async () => {
  const { getEventStoreDBEventStore } = await import('./eventStore/esdb/index.js');
  return { getEventStoreDBEventStore };
};

/** The PostgreSQL adapters: the log, the read models, the Merkle tree and their leader elections. */
export const loadPostgres = async () => {
  const [eventStore, readModels, transparency] = await Promise.all([
    import('./eventStore/postgres/index.js'),
    import('./readModels/postgres/index.js'),
    import('./transparency/postgres/index.js'),
  ]);
  return {
    getPostgresEventStore: eventStore.getPostgresEventStore,
    getPostgresReadModelStore: readModels.getPostgresReadModelStore,
    electProjectionLeaders: readModels.electProjectionLeaders,
    whileNoProjectionLeaders: readModels.whileNoProjectionLeaders,
    getPostgresTreeStore: transparency.getPostgresTreeStore,
    electMerkleFollower: transparency.electMerkleFollower,
    whileNoMerkleLeader: transparency.whileNoMerkleLeader,
  };
};
