// A plain synchronous CPU loop: what happens when a request handler does real work
// without awaiting anything? 10 requests arrive at once; where should the work run?
//
//     looplag run examples/node/cpu_loop.js::sumOfSquareRoots
//
// Expect: inline, one stall about as long as all 10 calls together (~1 s; ELU 1.0),
// because a synchronous function cannot be interrupted. In `worker` and `process`
// modes the loop stays responsive (lag p99 of a few ms) and, with 2 cores, the calls
// finish about twice as fast. Each call takes ~50-150 ms on a 2-core CI machine.

/** Σ √i for i < n: pure JavaScript, no allocation, no I/O (~100 ms for the default n). */
function sumOfSquareRoots(n = 40_000_000) {
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.sqrt(i);
  return total;
}

module.exports = { sumOfSquareRoots };
