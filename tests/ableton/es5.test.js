// Max's classic [js] object is ES5: the device must parse as ES5 and must not
// touch the Live API before live.thisdevice says the device is loaded.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const acorn = require("acorn");
const { LiveSet, loadDevice, DEVICE_JS } = require("./fake_live");
const { sessionSet } = require("./harness");

test("midifill.js parses as ECMAScript 5", () => {
  const source = fs.readFileSync(DEVICE_JS, "utf8");
  assert.doesNotThrow(() => acorn.parse(source, { ecmaVersion: 5, sourceType: "script" }));
});

test("ES5 check catches ES2015 syntax (the check itself works)", () => {
  for (const snippet of ["let a = 1;", "var f = (x) => x;", "class A {}", "var s = `t`;"]) {
    assert.throws(() => acorn.parse(snippet, { ecmaVersion: 5 }), SyntaxError, snippet);
  }
});

test("loading the device touches no Live object; buttons wait for live.thisdevice", () => {
  const set = new LiveSet(sessionSet());
  let created = 0;
  const Real = set.LiveAPI;
  set.LiveAPI = function (...args) { created++; return new Real(...args); };
  const sent = [];
  const device = loadDevice(set, { onOutlet: (i, ...atoms) => { if (i === 0) sent.push(atoms); } });
  assert.equal(created, 0);
  device.message("fill");
  assert.equal(created, 0);
  assert.deepEqual(sent, []);
  assert.match(device.statuses.at(-1), /Waiting for Live/);
});
