// Password hashing with the synchronous API, as in a login handler:
// `crypto.pbkdf2Sync` runs on the calling thread for the whole derivation.
//
//     looplag run examples/node/pbkdf2.js::hashPassword --args "'correct horse battery staple'"
//
// Expect: inline, the loop stalls for every call back to back (max lag ≈ 10 × one
// call). In `worker` and `process` modes the loop stays responsive: the hashing runs
// in native code on another thread, and only a few dozen bytes travel each way
// (see the transfer column). The async `crypto.pbkdf2` would use libuv's thread pool
// (4 threads by default) for the same effect. Each call takes ~50-150 ms on a 2-core
// CI machine.
const crypto = require('node:crypto');

const SALT = Buffer.from('a fixed salt for a reproducible example');

/** PBKDF2-HMAC-SHA512 with 210,000 iterations (OWASP's recommendation); hex digest. */
function hashPassword(password, iterations = 210_000) {
  return crypto.pbkdf2Sync(password, SALT, iterations, 64, 'sha512').toString('hex');
}

module.exports = { hashPassword };
