// Parsing a large JSON body: `JSON.parse` is one synchronous native call that the
// event loop cannot interleave with anything, like Python's GIL-holding C calls.
//
//     looplag run examples/node/json_parse.js::parseBody
//
// Expect: inline, one stall as long as all the calls together (~1 s for 10 calls).
// Offloading `parseBody` does not help much, and can make things worse: each parsed
// result (100,000 objects, ~7 MB serialized) is copied back and deserialized on the
// main thread, so the `worker` and `process` rows show stalls of their own and seconds
// "on loop" in the transfer column. Measure `summarizeBody` instead (it returns one
// number): the loop then stays responsive. Each call takes ~50-150 ms on a 2-core CI
// machine.

// Built once at load time, as a server holds a request body it has already read (~8 MB).
const BODY = JSON.stringify(
  Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', 'c'], price: i * 0.01, active: i % 2 === 0 })),
);

/** Parses the whole body and returns it: the result travels back from a worker. */
function parseBody(text = BODY) {
  return JSON.parse(text);
}

/** Parses the body but returns only a count: almost nothing to transfer back. */
function summarizeBody(text = BODY) {
  return JSON.parse(text).filter((item) => item.active).length;
}

module.exports = { parseBody, summarizeBody };
