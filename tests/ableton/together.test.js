// Several clips in one request (issue 31): the tracks whose midifill device
// has Together on join a Fill or Variations of the selected clip, against a
// real `midifill serve`; no note outside any target's range changes.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const h = require("./harness");

const drumBeats = (len) => {
  const out = [];
  for (let b = 0; b < len; b++) out.push([b % 2 ? 38 : 36, b, 0.25, 100]);
  return out;
};

// Bass selected (loop region 4-12); Drums and Lead carry a midifill device
// with Together on, Keys one with it off; the Lead clip starts at its marker 4.
function sessionSet() {
  const spec = h.sessionSet({ occupied: [1] });
  spec.tracks[0].devices = [{ drum: true }, { midifill: { together: 1 } }];
  spec.tracks[0].slots[0] = { name: "Beat", markers: [0, 16], notes: drumBeats(16) };
  spec.tracks[2].devices = [{ midifill: { together: 0 } }];
  spec.tracks.splice(3, 0, { name: "Lead", devices: [{ midifill: { together: 1 } }],
    slots: { 0: { name: "Tune", markers: [4, 20], loop: [4, 20], notes: h.sortNotes([[72, 4, 1, 90], [74, 9, 1, 90], [76, 13, 2, 90], [77, 18, 1, 90]]) } } });
  return spec;
}

// clip, its range in clip time, and how payload time maps to it (clip = payload - shift)
const SESSION_TARGETS = [[1, 4, 12, 0], [0, 4, 12, 0], [3, 8, 16, -4]];

/** The notes a variation's target i should leave inside [start, end) of a clip. */
function expected(notes, shift, start, end, kept) {
  const mine = h.sortNotes(notes.map(([p, s, d, v]) => [p, s - shift, Math.min(d, end - (s - shift)), v])
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

function assertFilled(clip, original, notes, shift, start, end) {
  assert.deepEqual(h.outside(clip.notes, start, end), h.outside(original.notes, start, end),
    `${clip.name}: a note outside ${start}-${end} changed`);
  const got = h.sortNotes(h.plain(h.inside(clip.notes, start, end)));
  const want = expected(notes, shift, start, end, h.plain(h.outside(clip.notes, start, end)));
  assert.equal(got.length, want.length, `${clip.name}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  got.forEach((n, i) => assert.ok(n.every((x, k) => Math.abs(x - want[i][k]) < 1e-6), `${n} vs ${want[i]}`));
}

test("Session: Fill writes the selected clip and the scene's clips on Together tracks, in one request", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(sessionSet());
  t.after(close);
  const before = set.snapshot();
  const status = await h.press(device, "fill");
  assert.match(status, /^Filled \d+ notes? in 3 clips in [\d.]+ s\.$/);
  assert.deepEqual(device.errors, []);
  const request = h.requestOf(link);
  assert.equal(request.target, undefined);
  assert.deepEqual(request.targets, [{ track: "t2", start: 4, end: 12 }, { track: "t1", start: 4, end: 12 },
    { track: "t4", start: 4, end: 12 }]);
  const byId = Object.fromEntries(request.tracks.map((tr) => [tr.id, tr]));
  assert.deepEqual(Object.keys(byId).sort(), ["t1", "t2", "t3", "t4"]);
  for (const id of ["t1", "t2", "t4"]) {
    assert.ok(byId[id].notes.every((n) => n[1] < 4 || n[1] >= 12), `${id}: the old fill is not sent`);
  }
  assert.deepEqual(byId.t4.notes, [[72, 0, 1, 90], [77, 14, 1, 90]], "the Lead from its start marker");
  const response = h.responseOf(link, link.sent.at(-1).args[0]);
  const filled = response.variations[0].targets;
  assert.deepEqual(filled.map((x) => x.track), ["t2", "t1", "t4"]);
  assert.ok(filled.every((x) => x.notes.length > 0), "the model wrote into every clip");
  SESSION_TARGETS.forEach(([tr, start, end, shift], i) => {
    assertFilled(set.tracks[tr].slots[0].clip, before.tracks[tr].slots[0], filled[i].notes, shift, start, end);
  });
  const after = set.snapshot();
  for (const [tr] of SESSION_TARGETS) after.tracks[tr].slots[0] = before.tracks[tr].slots[0];
  assert.deepEqual(after, before, "Keys (Together off) and every other clip unchanged");
});

test("Session: Variations put take v of every clip in one scene", async (t) => {
  if (!h.needServer(t)) return;
  const { set, link, device, close } = await h.openDevice(sessionSet());
  t.after(close);
  const before = set.snapshot();
  device.message("numvariations", 2);
  assert.match(await h.press(device, "vary"), /^Wrote 2 variations/);
  assert.deepEqual(device.errors, []);
  const response = h.responseOf(link, link.sent.at(-1).args[0]);
  const after = set.snapshot();
  assert.equal(after.scenes, 4, "rows 2 and 3 are free on every track filled");
  [2, 3].forEach((row, v) => {
    SESSION_TARGETS.forEach(([tr, start, end, shift], i) => {
      const copy = set.tracks[tr].slots[row].clip;
      assert.equal(copy.name, `${before.tracks[tr].slots[0].name} v${v + 1}`);
      assertFilled(copy, before.tracks[tr].slots[0], response.variations[v].targets[i].notes, shift, start, end);
    });
  });
  for (const [tr] of SESSION_TARGETS) assert.deepEqual(after.tracks[tr].slots.slice(0, 2), before.tracks[tr].slots.slice(0, 2));
  assert.deepEqual(after.tracks[2], before.tracks[2], "Keys untouched");
  assert.equal(set.view.detail, set.tracks[1].slots[0].clip, "the original stays selected");
});

test("Arrangement: the clip under the loop brace on a Together track joins; takes keep their places", async (t) => {
  if (!h.needServer(t)) return;
  const spec = h.arrangementSet();
  spec.tracks[0] = { name: "Drums", drum: true, devices: [{ drum: true }, { midifill: { together: 1 } }],
    arrangement: [{ name: "Beat", start_time: 16, looping: 0, markers: [0, 16], notes: drumBeats(16) }] };
  const { set, link, device, close } = await h.openDevice(spec);
  t.after(close);
  const before = set.snapshot();
  assert.match(await h.press(device, "fill"), /^Filled \d+ notes? in 2 clips/);
  assert.deepEqual(device.errors, []);
  const request = h.requestOf(link);
  // the Bass clip starts at song beat 18 (payload 2); the brace covers song beats 24-28
  assert.deepEqual(request.targets, [{ track: "t2", start: 8, end: 12 }, { track: "t1", start: 8, end: 12 }]);
  const filled = h.responseOf(link, link.sent.at(-1).args[0]).variations[0].targets;
  assertFilled(set.tracks[1].arrangement[0], before.tracks[1].arrangement[0], filled[0].notes, 2, 6, 10);
  assertFilled(set.tracks[0].arrangement[0], before.tracks[0].arrangement[0], filled[1].notes, 0, 8, 12);

  device.message("numvariations", 2);
  assert.match(await h.press(device, "vary"), /^Wrote 2 variations/);
  const places = (tr) => set.snapshot().tracks[tr].arrangement.slice(1).map((c) => [c.name, c.start_time]);
  assert.deepEqual(places(0), [["Beat v1", 32], ["Beat v2", 48]]);
  assert.deepEqual(places(1), [["Bass v1", 34], ["Bass v2", 50]], "2 beats after the drums, as the originals");
});

test("A Together track with no clip where the selected one plays is left out, and said so", async (t) => {
  if (!h.needServer(t)) return;
  const spec = sessionSet();
  delete spec.tracks[0].slots[0];
  spec.tracks[0].slots[2] = { name: "Elsewhere", markers: [0, 16], notes: drumBeats(16) };
  const { set, link, device, close } = await h.openDevice(spec);
  t.after(close);
  device.message("fill");
  assert.ok(device.statuses.some((s) => /no clip to fill on Drums/.test(s)), JSON.stringify(device.statuses));
  await device.waitForStatus(/^Filled \d+ notes? in 2 clips/, 60000);
  const request = h.requestOf(link);
  assert.deepEqual(request.targets.map((x) => x.track), ["t2", "t4"]);
  assert.deepEqual(set.tracks[0].slots[2].clip.notes.length, 16);
});
