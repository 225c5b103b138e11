// tests/ableton/ci.js reads CI as tests/conftest.py does.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { inCI } = require("./ci");

test("CI=true, 1 or yes (any case) is CI; anything else is not", () => {
  for (const v of ["true", "TRUE", "1", "yes", "Yes"]) assert.equal(inCI({ CI: v }), true, v);
  for (const v of [undefined, "", "false", "0", "no", "truthy"]) assert.equal(inCI({ CI: v }), false, String(v));
});
