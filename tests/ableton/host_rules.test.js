// The device against the parts of Live's documented behaviour that can damage
// a clip: the same-pitch rule of add_new_notes, a clip deleted while the
// server works. The server is scripted (scripted_server.js) so each case gets
// exactly the answer it needs.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { openScripted, requestSent, answerWith } = require("./scripted_server");
const h = require("./harness");

const DONE = /^(Filled|Continued|Wrote|Error|No answer|No result|Cancelled|Nothing)/;

async function press(device, button, ms = 10000) {
  const done = device.waitForStatus(DONE, ms);
  device.message(button);
  return done;
}

// The case: loop 4-12, a pitch-43 note from beat 2 for 4 beats.
function heldIntoRange() {
  const spec = h.sessionSet();
  spec.tracks[1].slots[0] = { name: "Bass", markers: [0, 16], loop: [4, 12],
    notes: [[43, 2, 4, 90], [40, 0, 1, 90], [40, 12, 1, 90]] };
  return spec;
}

test("Live's same-pitch rule: a kept note held into the range is not shortened by the fill", async (t) => {
  const s = openScripted(heldIntoRange(), { answer: answerWith([[43, 5, 1, 90], [45, 6, 1, 90], [40, 8, 2, 80]]) });
  t.after(s.close);
  const status = await press(s.device, "fill");
  assert.match(status, /^Filled 2 notes/);
  const notes = h.plain(s.set.tracks[1].slots[0].clip.notes);
  assert.deepEqual(notes.find((n) => n[0] === 43), [43, 2, 4, 90], "the kept note still ends at beat 6");
  assert.equal(notes.filter((n) => n[0] === 43).length, 1, "the new 43 under the kept one is left out");
  assert.ok(notes.some((n) => n[0] === 45 && n[1] === 6));
  assert.deepEqual(s.set.invalidUses, []);
});

test("Live's same-pitch rule: new notes of one pitch are cut where the next one starts", async (t) => {
  const s = openScripted(heldIntoRange(), { answer: answerWith([[48, 5, 3, 90], [48, 6, 1, 90], [48, 6, 2, 70]]) });
  t.after(s.close);
  assert.match(await press(s.device, "fill"), /^Filled 2 notes/);
  const mine = h.plain(s.set.tracks[1].slots[0].clip.notes).filter((n) => n[0] === 48);
  assert.deepEqual(h.sortNotes(mine), [[48, 5, 1, 90], [48, 6, 1, 90]]);
});

test("Live's same-pitch rule holds for Variations too", async (t) => {
  const s = openScripted(heldIntoRange(), { answer: () => ({ variations: [
    { notes: [[43, 4, 1, 90]] }, { notes: [[43, 5.5, 1, 90], [43, 7, 1, 90]] }] }) });
  t.after(s.close);
  s.device.message("numvariations", 2);
  assert.match(await press(s.device, "vary"), /^Wrote 2 variations/);
  const pitch43 = (slot) => h.sortNotes(h.plain(s.set.tracks[1].slots[slot].clip.notes).filter((n) => n[0] === 43));
  assert.deepEqual(pitch43(2), [[43, 2, 4, 90]]);
  assert.deepEqual(pitch43(3), [[43, 2, 4, 90], [43, 7, 1, 90]], "a 43 after the kept one ends is written");
});

for (const button of ["fill", "vary"]) {
  test(`a clip deleted while the server works: "${button}" writes nothing and says so`, async (t) => {
    const s = openScripted(h.sessionSet(), {
      answer: (request, set) => {
        set.deleteClip(set.tracks[1].slots[0].clip);
        return { variations: [{ notes: [[40, 5, 1, 90]] }, { notes: [[41, 5, 1, 90]] }] };
      },
    });
    t.after(s.close);
    const before = s.set.snapshot();
    const status = await press(s.device, button);
    assert.match(status, /^Nothing was written: the clip .*was deleted/);
    assert.deepEqual(s.set.invalidUses, []);
    const after = s.set.snapshot();
    before.tracks[1].slots[0] = null;
    assert.deepEqual(after, before, "no other clip or slot changed");
    assert.ok(requestSent(s.sent));
  });
}

// A clip keeps its own time signature (Clip.signature_numerator/denominator),
// which may differ from the Song's.
test("a 3/4 clip in a 4/4 set is sent as 3/4, and Continue starts on its bar line", async (t) => {
  const spec = h.sessionSet();
  spec.tracks[1].slots[0] = { name: "Waltz", markers: [0, 12], loop: [0, 12], signature: [3, 4],
    notes: [[40, 0, 1, 90], [43, 1, 1, 90], [45, 2, 0.5, 90]] };
  const s = openScripted(spec, { answer: answerWith([[47, 3, 1, 90]]) });
  t.after(s.close);
  assert.match(await press(s.device, "cont"), /^Continued with 1 note /);
  const request = requestSent(s.sent);
  assert.deepEqual(request.time_signature, [3, 4]);
  assert.deepEqual(request.target, { track: "t2", start: 3, end: 12 });
});

// Continue when the loop region is full must lengthen the clip. Live cannot
// lengthen an Arrangement clip through loop_end/end_marker (its end_time
// stays), and a Session clip may hold notes after its loop end.
async function refusedBeforeSending(t, spec, pattern) {
  const s = openScripted(spec, { answer: answerWith([[40, 8, 1, 90]]) });
  t.after(s.close);
  const before = s.set.snapshot();
  s.device.message("cont");
  assert.match(s.device.statuses.at(-1), pattern);
  assert.ok(s.device.statuses.at(-1).length <= 230, "fits the status line (patcher.test.js)");
  assert.equal(requestSent(s.sent), null, "nothing was sent");
  assert.deepEqual(s.set.snapshot(), before);
}

test("Continue on a full looped Arrangement clip refuses and says why", async (t) => {
  const spec = h.arrangementSet();
  spec.loop = { on: 0, start: 0, length: 4 };
  spec.tracks[1].arrangement = [{ name: "Bass", start_time: 16, length: 16, looping: 1, loop: [0, 8], markers: [0, 8],
    notes: [[40, 0, 2, 90], [43, 2, 2, 90], [45, 4, 2, 90], [47, 6, 1.5, 90]] }];
  await refusedBeforeSending(t, spec, /^Error: .*Arrangement clip.*lengthen/);
});

test("Continue on a full loop refuses to replace notes kept after the loop end", async (t) => {
  const spec = h.sessionSet();
  spec.tracks[1].slots[0] = { name: "Bass", markers: [0, 16], loop: [0, 8],
    notes: [[40, 0, 2, 90], [43, 2, 2, 90], [45, 4, 2, 90], [47, 6, 1.5, 90], [50, 10, 1, 90]] };
  await refusedBeforeSending(t, spec, /^Error: .*after its loop end.*beat 10/);
});

// A Drum Rack inside an Instrument Rack (or any rack chain) is still a drum part.
test("a Drum Rack nested in a rack marks the track as drums", async (t) => {
  const spec = h.sessionSet();
  spec.tracks[0].devices = [{ chains: [{ devices: [{}, { drum: true }] }] }];
  const s = openScripted(spec, { answer: answerWith([[40, 5, 1, 90]]) });
  t.after(s.close);
  assert.match(await press(s.device, "fill"), /^Filled 1 note /);
  const drums = requestSent(s.sent).tracks.find((tr) => tr.id === "t1");
  assert.equal(drums.is_drum, true);
  assert.equal(drums.program, 0);
});
