// The JavaScript engine this process runs on. A few hot paths pick their method by
// it, because V8 12 (Node 22 and later) changed which of two ways is faster; each
// choice names its measurements where it is made, and tests run both ways.

/** V8's major version: 11 on Node 20, 12 on Node 22, 13 on Node 24. */
export const V8_MAJOR = Number(process.versions.v8.split('.')[0]);
