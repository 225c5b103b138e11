// Shared set-up for the device tests: Live sets to fill, and a device wired
// to a real `midifill serve` (its UDP port comes in MIDIFILL_PORT).
"use strict";

const dgram = require("dgram");
const { LiveSet, loadDevice } = require("./fake_live");
const { openLink, reassemble } = require("./osc_udp");
const { inCI } = require("./ci");

const SERVER_PORT = Number(process.env.MIDIFILL_PORT || 0);
const DONE = /^(Filled|Continued|Wrote|Error|No answer|No result|Cancelled)/;

/** Skip (or fail under CI=true) when no server port was given. */
function needServer(t) {
  if (SERVER_PORT) return true;
  if (inCI()) throw new Error("MIDIFILL_PORT is not set (run through tests/test_ableton.py)");
  t.skip("MIDIFILL_PORT is not set; run through pytest tests/test_ableton.py");
  return false;
}

async function freePort() {
  const s = dgram.createSocket("udp4");
  await new Promise((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function openDevice(spec, serverPort = SERVER_PORT, linkOptions = {}) {
  const set = new LiveSet(spec);
  const link = await openLink(serverPort, linkOptions);
  const device = loadDevice(set, { replyPort: link.replyPort, onOutlet: link.onOutlet });
  link.device = device;
  device.message("port", serverPort);
  device.message("init"); // what live.thisdevice triggers once Live is ready
  return { set, link, device, close: () => link.close() };
}

/** Press a button and wait for the status line to say how it ended. */
async function press(device, button, ms = 60000) {
  const done = device.waitForStatus(DONE, ms);
  device.message(button);
  return done;
}

const beats = (from, to, pitch, step = 1) => {
  const out = [];
  for (let b = from; b < to; b += step) out.push([pitch + (b % 3), b, step / 2, 90]);
  return out;
};

// Drums (one-bar loop), Bass (the target: 4 bars, loop region bars 2-3),
// Keys (4 bars of chords) and an audio track, in scene 0.
function sessionSet({ occupied = [1] } = {}) {
  const bassSlots = { 0: { name: "Bass", markers: [0, 16], loop: [4, 12], notes: beats(0, 16, 40) } };
  for (const i of occupied) bassSlots[i] = { name: "Other", markers: [0, 8], notes: beats(0, 8, 45, 2) };
  return {
    tempo: 100, signature: [4, 4], scenes: 4,
    tracks: [
      { name: "Drums", drum: true, slots: { 0: { markers: [0, 4], notes: [[36, 0, 0.25, 110], [38, 1, 0.25, 100], [36, 2, 0.25, 110], [38, 3, 0.25, 100]] } } },
      { name: "Bass", slots: bassSlots },
      { name: "Keys", slots: { 0: { markers: [0, 16], notes: [[60, 0, 4, 80], [64, 0, 4, 80], [67, 0, 4, 80], [65, 8, 4, 80], [69, 8, 4, 80]] } } },
      { name: "Audio", midi: false },
    ],
    select: { track: 1, slot: 0 },
  };
}

// Arrangement: Drums loop over bars 1-8; Bass clip at beat 18 (mid-bar), 12
// beats long, unlooped; the arrangement loop brace covers beats 24-28.
function arrangementSet({ later = false } = {}) {
  const bass = [{ name: "Bass", start_time: 18, looping: 0, markers: [0, 12], notes: beats(0, 12, 40) }];
  if (later) bass.push({ name: "Later", start_time: 32, looping: 0, markers: [0, 8], notes: beats(0, 8, 50, 2) });
  return {
    tempo: 120, signature: [4, 4], scenes: 2, loop: { on: 1, start: 24, length: 4 },
    tracks: [
      { name: "Drums", drum: true, arrangement: [{ start_time: 0, length: 32, looping: 1, markers: [0, 4], loop: [0, 4],
        notes: [[36, 0, 0.25, 110], [42, 1, 0.25, 90], [38, 2, 0.25, 100], [42, 3, 0.25, 90]] }] },
      { name: "Bass", arrangement: bass },
    ],
    select: { track: 1, arrangement: 0 },
  };
}

const requestOf = (link) => reassemble(link.sent, "/midifill/request", undefined, 2);
const responseOf = (link, id) => reassemble(link.received, "/midifill/result", id, 1);
const plain = (notes) => notes.map((n) => [n.pitch, n.start_time, n.duration, n.velocity]);
const sortNotes = (list) => list.slice().sort((a, b) => a[1] - b[1] || a[0] - b[0]);
const outside = (notes, start, end) => notes.filter((n) => n.start_time < start || n.start_time >= end);
const inside = (notes, start, end) => notes.filter((n) => n.start_time >= start && n.start_time < end);

module.exports = { SERVER_PORT, needServer, freePort, openDevice, press, sessionSet, arrangementSet,
  requestOf, responseOf, plain, sortNotes, outside, inside };
