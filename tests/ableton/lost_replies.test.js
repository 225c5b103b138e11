// UDP loses datagrams. The device follows the reference client's recovery
// (docs/osc.md): chunks sent again while nothing about the id comes back,
// /midifill/resend <id> <port> 0 after each second of silence once acked,
// missing result chunks asked for 0.1 s after the last one arrived, and it
// gives up only when the server has been silent for its whole timeout.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { openScripted, answerWith } = require("./scripted_server");
const h = require("./harness");

const DONE = /^(Filled|Continued|Wrote|Error|No answer|No result|Cancelled|Nothing|The midifill server)/;

async function pressAndTime(device, button, ms) {
  const started = Date.now();
  const done = device.waitForStatus(DONE, ms);
  device.message(button);
  const status = await done;
  return { status, seconds: (Date.now() - started) / 1000 };
}

const count = (sent, address, index) => sent.filter((m) => m.address === address &&
  (index === undefined || m.args[2] === index)).length;

test("a lost ack and a lost result: the chunks go again and the answer comes back", async (t) => {
  const s = openScripted(h.sessionSet(), { answer: answerWith([[40, 5, 1, 90]]),
    lose: (address, args, n) => n === 1 && (address === "/midifill/ack" || address === "/midifill/result") });
  t.after(s.close);
  const { status, seconds } = await pressAndTime(s.device, "fill", 3000);
  assert.match(status, /^Filled 1 note /);
  assert.ok(seconds < 2, `${seconds} s`);
  assert.ok(count(s.sent, "/midifill/request") >= 2, "chunk 0 was sent again");
});

test("a lost single-chunk result is polled for after a second of silence", async (t) => {
  const s = openScripted(h.sessionSet(), { answer: answerWith([[40, 5, 1, 90]]),
    lose: (address, args, n) => address === "/midifill/result" && n === 1 });
  t.after(s.close);
  const { status, seconds } = await pressAndTime(s.device, "fill", 4000);
  assert.match(status, /^Filled 1 note /);
  assert.ok(seconds < 2.5, `${seconds} s`);
  assert.ok(count(s.sent, "/midifill/resend", 0) >= 1);
});

test("a lost chunk of a long result is asked for again", async (t) => {
  const many = [];
  for (let i = 0; i < 400; i++) many.push([40 + (i % 30), 4 + (i % 80) * 0.1, 0.05, 90]);
  const s = openScripted(h.sessionSet(), { answer: answerWith(many),
    lose: (address, args, n) => address === "/midifill/result" && n === 2 });
  t.after(s.close);
  const { status, seconds } = await pressAndTime(s.device, "fill", 3000);
  assert.match(status, /^Filled \d+ notes/);
  assert.ok(seconds < 1.5, `${seconds} s`);
  assert.equal(count(s.sent, "/midifill/resend", 1), 1, "chunk 1 asked for once");
});

test("a server that falls silent after the ack: the device gives up after its timeout", async (t) => {
  const s = openScripted(h.sessionSet(), { answer: answerWith([[40, 5, 1, 90]]),
    lose: (address, args, n) => !(address === "/midifill/ack" && n === 1) && address !== "/midifill/pong" });
  t.after(s.close);
  s.device.message("silencetimeout", 1500);
  const before = s.set.snapshot();
  const { status, seconds } = await pressAndTime(s.device, "fill", 4000);
  assert.match(status, /^The midifill server stopped answering.*Nothing was changed\.$/);
  assert.ok(seconds >= 1.4 && seconds < 2.5, `${seconds} s`);
  assert.ok(count(s.sent, "/midifill/resend", 0) >= 1, "it polled before giving up");
  assert.deepEqual(s.set.snapshot(), before);
});
