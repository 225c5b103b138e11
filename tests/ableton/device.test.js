// The device's JavaScript against a stand-in Live and a real `midifill serve`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./harness");
const { openScripted, requestSent, answerWith } = require("./scripted_server");
const { reassemble } = require("./osc_udp");

/**
 * The notes Live should now hold inside [start, end): the response's, moved
 * back by shift, cut at the range end and, as Live keeps notes of one pitch
 * apart, where the next note of their pitch starts (kept notes are [p, s, d, v]).
 */
function expectedInside(variation, shift, start, end, kept = []) {
  const mine = h.sortNotes(variation.notes
    .map(([p, s, d, v]) => [p, s - shift, Math.min(d, end - (s - shift)), v])
    .filter((n) => n[1] >= start - 1e-6 && n[1] < end - 1e-6));
  const out = [];
  for (const n of mine) {
    if (kept.some((k) => k[0] === n[0] && k[1] <= n[1] && k[1] + k[2] > n[1] + 1e-6)) continue;
    if (out.some((o) => o[0] === n[0] && Math.abs(o[1] - n[1]) < 1e-6)) continue;
    const next = mine.concat(kept).filter((o) => o[0] === n[0] && o[1] > n[1] + 1e-6).map((o) => o[1]);
    out.push([n[0], n[1], Math.min(n[2], ...next.map((x) => x - n[1])), n[3]]);
  }
  return out;
}

function assertSameNotes(actual, expected) {
  assert.equal(actual.length, expected.length, `note count ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
  actual.forEach((n, i) => {
    const e = expected[i];
    assert.equal(n[0], e[0]);
    assert.ok(Math.abs(n[1] - e[1]) < 1e-6 && Math.abs(n[2] - e[2]) < 1e-6, `${n} vs ${e}`);
    assert.equal(n[3], e[3]);
  });
}

test("Session: Fill rewrites the loop region only, with the scene as context", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(h.sessionSet());
  t.after(close);
  const before = set.snapshot();
  const status = await h.press(device, "fill");
  assert.match(status, /^Filled \d+ notes in [\d.]+ s\.$/);
  assert.deepEqual(device.errors, []);

  const request = h.requestOf(link);
  assert.equal(request.mode, "fill");
  assert.deepEqual(request.target, { track: "t2", start: 4, end: 12 });
  assert.deepEqual(request.time_signature, [4, 4]);
  assert.equal(request.tempo, 100);
  const byId = Object.fromEntries(request.tracks.map((tr) => [tr.id, tr]));
  assert.deepEqual(Object.keys(byId).sort(), ["t1", "t2", "t3"]); // the audio track is left out
  assert.equal(byId.t1.is_drum, true);
  assert.equal(byId.t1.notes.length, 16); // the one-bar drum loop, played over four bars
  assert.equal(byId.t2.program, 33);
  assert.ok(byId.t2.notes.every((n) => n[1] < 4 || n[1] >= 12), "the old fill is not sent");

  const response = h.responseOf(link, link.sent.at(-1).args[0]);
  const clip = set.tracks[1].slots[0].clip;
  assert.deepEqual(h.outside(clip.notes, 4, 12), h.outside(before.tracks[1].slots[0].notes, 4, 12));
  assertSameNotes(h.sortNotes(h.plain(h.inside(clip.notes, 4, 12))),
    expectedInside(response.variations[0], 0, 4, 12, h.plain(h.outside(clip.notes, 4, 12))));
  assert.ok(response.variations[0].notes.length > 0, "the model wrote something");
  const after = set.snapshot();
  after.tracks[1].slots[0] = before.tracks[1].slots[0];
  assert.deepEqual(after, before, "no other clip changed");
});

test("Arrangement: Fill writes the loop-brace range, shifted to a bar line and back", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(h.arrangementSet());
  t.after(close);
  const before = set.snapshot();
  const status = await h.press(device, "fill");
  assert.match(status, /^Filled/);
  assert.deepEqual(device.errors, []);

  // The clip starts at song beat 18; payload beat 0 is the bar line at 16 (shift 2).
  // The brace 24-28 is clip time 6-10, payload 8-12.
  const request = h.requestOf(link);
  assert.deepEqual(request.target, { track: "t2", start: 8, end: 12 });
  const drums = request.tracks.find((tr) => tr.id === "t1");
  assert.deepEqual(drums.notes.map((n) => n[1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const bass = request.tracks.find((tr) => tr.id === "t2");
  assert.deepEqual(bass.notes.map((n) => n[1]), [2, 3, 4, 5, 6, 7, 12, 13]);

  const response = h.responseOf(link, link.sent.at(-1).args[0]);
  const clip = set.tracks[1].arrangement[0];
  assert.deepEqual(h.outside(clip.notes, 6, 10), h.outside(before.tracks[1].arrangement[0].notes, 6, 10));
  assertSameNotes(h.sortNotes(h.plain(h.inside(clip.notes, 6, 10))),
    expectedInside(response.variations[0], 2, 6, 10, h.plain(h.outside(clip.notes, 6, 10))));
});

test("Session: Variations land in empty slots (and a new scene), the original stays selected", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(h.sessionSet({ occupied: [1] }));
  t.after(close);
  const before = set.snapshot();
  device.message("numvariations", 3);
  const status = await h.press(device, "vary");
  assert.match(status, /^Wrote 3 variations/);
  assert.deepEqual(device.errors, []);
  const response = h.responseOf(link, link.sent.at(-1).args[0]);
  assert.equal(response.variations.length, 3);

  const after = set.snapshot();
  assert.equal(after.scenes, 5, "one scene was added for the third variation");
  const bass = after.tracks[1].slots;
  assert.deepEqual(bass[0], before.tracks[1].slots[0], "the original is untouched");
  assert.deepEqual(bass[1], before.tracks[1].slots[1], "the occupied slot is untouched");
  [2, 3, 4].forEach((slot, v) => {
    const copy = bass[slot];
    assert.equal(copy.name, `Bass v${v + 1}`);
    assert.deepEqual(h.plain(h.outside(copy.notes, 4, 12)), h.plain(h.outside(before.tracks[1].slots[0].notes, 4, 12)));
    assertSameNotes(h.sortNotes(h.plain(h.inside(copy.notes, 4, 12))),
      expectedInside(response.variations[v], 0, 4, 12, h.plain(h.outside(copy.notes, 4, 12))));
  });
  for (const tr of [0, 2]) assert.deepEqual(after.tracks[tr].slots.slice(0, 4), before.tracks[tr].slots);
  assert.equal(set.view.detail, set.tracks[1].slots[0].clip, "the original stays selected");
});

test("Arrangement: Variations go after the last clip of the track, covering nothing", async (t) => {
  if (!h.needServer(t)) return;
  const { set, device, close } = await h.openDevice(h.arrangementSet({ later: true }));
  t.after(close);
  const before = set.snapshot();
  device.message("numvariations", 2);
  const status = await h.press(device, "vary");
  assert.match(status, /^Wrote 2 variations/);
  assert.deepEqual(device.errors, []);
  const clips = set.snapshot().tracks[1].arrangement;
  assert.deepEqual(clips.slice(0, 2), before.tracks[1].arrangement);
  assert.deepEqual(clips.slice(2).map((c) => [c.name, c.start_time, c.end_time]),
    [["Bass v1", 40, 52], ["Bass v2", 52, 64]]);
  assert.equal(set.view.detail, set.tracks[1].arrangement[0]);
});

test("Continue writes after the last note, from the next bar line", async (t) => {
  if (!h.needServer(t)) return;
  const spec = h.sessionSet();
  spec.tracks[1].slots[0] = { name: "Bass", markers: [0, 16], loop: [0, 16], notes: [[40, 0, 1, 90], [43, 2, 1, 90], [45, 5, 0.5, 90]] };
  const { set, link, device, close } = await h.openDevice(spec);
  t.after(close);
  const status = await h.press(device, "cont");
  assert.match(status, /^Continued with \d+ notes/);
  const request = h.requestOf(link);
  assert.equal(request.mode, "continue");
  assert.deepEqual(request.target, { track: "t2", start: 8, end: 16 });
  const notes = set.tracks[1].slots[0].clip.notes;
  assert.deepEqual(h.plain(notes.slice(0, 3)), [[40, 0, 1, 90], [43, 2, 1, 90], [45, 5, 0.5, 90]]);
  assert.ok(notes.slice(3).every((n) => n.start_time >= 8 && n.start_time < 16));
});

test("Continue on a full loop appends a loop-long section and lengthens the clip", async (t) => {
  if (!h.needServer(t)) return;
  const spec = h.sessionSet();
  const full = [[40, 0, 2, 90], [43, 2, 2, 90], [45, 4, 2, 90], [47, 6, 1.5, 90]];
  spec.tracks[1].slots[0] = { name: "Bass", markers: [0, 8], loop: [0, 8], notes: full };
  const { set, link, device, close } = await h.openDevice(spec);
  t.after(close);
  assert.match(await h.press(device, "cont"), /^Continued/);
  assert.deepEqual(h.requestOf(link).target, { track: "t2", start: 8, end: 16 });
  const clip = set.tracks[1].slots[0].clip;
  assert.deepEqual([clip.loop_end, clip.end_marker], [16, 16]);
  assert.deepEqual(h.plain(h.outside(clip.notes, 8, 16)), full);
});

test("A big scene travels as several chunks and comes back whole", async (t) => {
  if (!h.needServer(t)) return;
  const spec = h.sessionSet();
  const busy = [];
  for (let b = 0; b < 16; b += 0.25) for (const p of [60, 64, 67, 71]) busy.push([p + (Math.floor(b) % 2), b, 0.2, 70]);
  spec.tracks[2].slots[0] = { markers: [0, 16], notes: busy };
  spec.tracks.push({ name: "Pad", slots: { 0: { markers: [0, 16], notes: busy.map((n) => [n[0] - 12, n[1], n[2], n[3]]) } } });
  const { set, link, device, close } = await h.openDevice(spec);
  t.after(close);
  const status = await h.press(device, "fill");
  assert.match(status, /^Filled/);
  const chunks = link.sent.filter((m) => m.address === "/midifill/request");
  assert.ok(chunks.length >= 2, `${chunks.length} chunk(s)`);
  assert.ok(chunks.every((m) => m.args[4].length <= 6000));
  assert.equal(h.requestOf(link).tracks.find((tr) => tr.id === "t3").notes.length, busy.length);
  assert.deepEqual(h.outside(set.tracks[1].slots[0].clip.notes, 4, 12).length, 8);
});

test("A request the server rejects changes nothing and shows the server's message", async (t) => {
  if (!h.needServer(t)) return;
  const { set, device, close } = await h.openDevice(h.sessionSet());
  t.after(close);
  const before = set.snapshot();
  device.message("temperature", 50); // the engine accepts 0-5
  const status = await h.press(device, "fill");
  assert.match(status, /^Error \(bad_request\): .*temperature/);
  assert.deepEqual(set.snapshot(), before);
});

test("No server: every clip stays as it was and the status says so", async (t) => {
  const port = await h.freePort();
  const spec = h.sessionSet();
  // room left in the loop, so that Continue is sent (a full one with notes after it is refused)
  spec.tracks[1].slots[0].notes = [[40, 0, 1, 90], [41, 4, 1, 90], [43, 5, 1, 90], [40, 12, 1, 90]];
  const { set, device, close } = await h.openDevice(spec, port);
  t.after(close);
  device.message("acktimeout", 400);
  const before = set.snapshot();
  for (const button of ["fill", "cont", "vary"]) {
    const status = await h.press(device, button, 5000);
    assert.match(status, new RegExp(`^No answer from a midifill server on port ${port}\\..*Nothing was changed\\.$`));
  }
  assert.deepEqual(set.snapshot(), before);
  assert.deepEqual(device.errors, []);
});

test("Nothing selected: a clear message and no request", async (t) => {
  const spec = h.sessionSet();
  spec.select = { track: 1, slot: 2, detailClip: false }; // an empty slot
  const { device, link, close } = await h.openDevice(spec, await h.freePort());
  t.after(close);
  device.message("fill");
  assert.match(device.statuses.at(-1), /^Error: select a MIDI clip first/);
  assert.equal(link.sent.filter((m) => m.address === "/midifill/request").length, 0);
});

test("Numbers sent as floats (Max does not promise int atoms): ping and Fill still work", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(h.sessionSet(), h.SERVER_PORT, { floats: true });
  t.after(close);
  await device.waitForStatus(/^Connected to midifill/, 5000);
  const status = await h.press(device, "fill");
  assert.match(status, /^Filled \d+ notes? in/);
  assert.ok(link.received.some((m) => m.address === "/midifill/ack"));
  assert.ok(h.inside(set.tracks[1].slots[0].clip.notes, 4, 12).length > 0);
});

// The request of the device's latest press, as its datagrams went to the server.
function lastRequest(link) {
  const id = link.sent.filter((m) => m.address === "/midifill/request").at(-1).args[0];
  return reassemble(link.sent, "/midifill/request", id, 2);
}

test("The menus: auto leaves a control out, off and values reach the server, which accepts them", async (t) => {
  if (!h.needServer(t)) return;
  const { link, device, close } = await h.openDevice(h.sessionSet());
  t.after(close);
  assert.match(await h.press(device, "fill"), /^Filled/);
  for (const name of ["harmony", "max_polyphony", "pitch_range", "kit", "feel"]) {
    assert.ok(!(name in lastRequest(link).controls), `${name} at auto: the engine follows the track`);
  }
  // the menus' items (daw_scripts/ableton/midifill.js, CONTROLS): auto is item 0
  for (const [name, index, expected] of [["harmony", 1, "off"], ["harmony", 3, 0.4],
                                          ["max_polyphony", 2, 1], ["pitch_range", 3, [36, 72]],
                                          ["feel", 4, "swing"], ["kit", 2, [36, 38, 42, 46, 49]]]) {
    device.message("menu", name, index);
    const status = await h.press(device, "fill");
    assert.match(status, /^Filled/, `${name} item ${index}: the server accepted it`);
    assert.deepEqual(lastRequest(link).controls[name], expected);
  }
  device.message("menu", "harmony", 0); // back to auto
  assert.match(await h.press(device, "fill"), /^Filled/);
  assert.ok(!("harmony" in lastRequest(link).controls), "auto again: left out");
  assert.equal(lastRequest(link).controls.max_polyphony, 1, "the other menus keep their choice");
  assert.deepEqual(device.errors, []);
});

test("A control's value is held to its range; 0.3 is a value; what cannot be read is left out", async (t) => {
  const cases = [["harmony", 1.7, 1], ["harmony", -0.2, 0], ["harmony", "0.3", 0.3],
                 ["harmony", "strong", undefined], ["harmony", "auto", undefined],
                 ["max_polyphony", 99, 32], ["pitch_range", "60-40", undefined]];
  for (const [name, sent, expected] of cases) {
    const s = openScripted(h.sessionSet(), { answer: answerWith([[45, 5, 1, 90]]) });
    t.after(s.close);
    s.device.message("control", name, sent);
    const done = s.device.waitForStatus(/^(Filled|Error)/, 10000);
    s.device.message("fill");
    assert.match(await done, /^Filled/);
    assert.deepEqual(requestSent(s.sent).controls[name], expected, `${name} ${JSON.stringify(sent)}`);
    s.close();
  }
});
