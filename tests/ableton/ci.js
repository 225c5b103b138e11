// CI=true (or 1, yes; any case) as tests/conftest.py reads it: the one place
// the Node tests ask whether they run under CI, where a missing server fails
// instead of skipping.
"use strict";

function inCI(env = process.env) {
  return ["1", "true", "yes"].includes(String(env.CI || "").toLowerCase());
}

module.exports = { inCI };
