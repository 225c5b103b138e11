// A result of several chunks, delivered out of order, twice, or with one
// lost: the device puts the chunks back by their index (docs/osc.md), not
// by arrival, and writes exactly the notes of the answer. The scripted
// server's own result replies are dropped; the test delivers the chunks.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { openScripted, answerWith } = require("./scripted_server");
const h = require("./harness");

const CHUNK_CHARS = 6000;
const DONE = /^(Filled|Continued|Wrote|Error|No answer|No result|Cancelled|Nothing|The midifill server)/;

// 960 notes in the loop region [4, 12) of the session set's Bass clip, each
// pitch at its own beats, so Live's same-pitch rule changes none of them
function manyNotes() {
  const notes = [];
  for (let p = 30; p < 90; p++) for (let j = 0; j < 16; j++) notes.push([p, 4 + j * 0.5, 0.25, 60 + (p % 40)]);
  return notes;
}

async function deliver(order, { lost = [] } = {}) {
  const notes = manyNotes();
  const answer = answerWith(notes);
  const s = openScripted(h.sessionSet(), { answer, lose: (address) => address === "/midifill/result" });
  const text = JSON.stringify(answer());
  const chunks = [];
  for (let at = 0; at < text.length; at += CHUNK_CHARS) chunks.push(text.substr(at, CHUNK_CHARS));
  const done = s.device.waitForStatus(DONE, 5000);
  s.device.message("fill");
  // once the request is in (acked), deliver the chunks in the order asked
  while (!s.replies.some((r) => r.address === "/midifill/ack")) await new Promise((r) => setTimeout(r, 5));
  const id = s.sent.find((m) => m.address === "/midifill/request").args[0];
  for (const k of order(chunks.length)) {
    if (!lost.includes(k)) s.device.message("/midifill/result", id, k, chunks.length, chunks[k]);
  }
  // a lost chunk: the device asks for it by index; answer that ask
  for (const k of lost) {
    const deadline = Date.now() + 2000;
    while (!s.sent.some((m) => m.address === "/midifill/resend" && m.args[2] === k)) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    s.device.message("/midifill/result", id, k, chunks.length, chunks[k]);
  }
  const status = await done;
  s.close();
  return { s, status, notes, count: chunks.length };
}

function written(s) {
  const clip = s.set.tracks[1].slots[0].clip;
  return h.sortNotes(h.plain(h.inside(clip.notes, 4, 12)));
}

test("a result in reverse order, one chunk twice, is written whole and exact", async () => {
  const { s, status, notes, count } = await deliver((n) => {
    const order = [];
    for (let k = n - 1; k >= 0; k--) order.push(k);
    return [order[0]].concat(order); // the last chunk twice, first
  });
  assert.ok(count >= 3, `${count} chunks`);
  assert.match(status, /^Filled 960 notes/);
  assert.deepEqual(written(s), h.sortNotes(notes));
});

test("a lost middle chunk asked for again and answered last is written in its place", async () => {
  const { s, status, notes, count } = await deliver((n) => [...Array(n).keys()], { lost: [1] });
  assert.ok(count >= 3, `${count} chunks`);
  assert.match(status, /^Filled 960 notes/);
  assert.deepEqual(written(s), h.sortNotes(notes));
  assert.equal(s.sent.filter((m) => m.address === "/midifill/resend" && m.args[2] === 1).length >= 1, true);
});
