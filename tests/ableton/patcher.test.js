// The patcher is data: check it wires what the device needs, so a typo in a
// message name or a port cannot ship unnoticed (Max itself does not run here).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("fs");
const path = require("path");
const { LiveSet, loadDevice } = require("./fake_live");
const { sessionSet } = require("./harness");

const MAXPAT = path.join(__dirname, "..", "..", "daw_scripts", "ableton", "midifill.maxpat");
const patcher = JSON.parse(fs.readFileSync(MAXPAT, "utf8")).patcher;
const boxes = new Map(patcher.boxes.map(({ box }) => [box.id, box]));
const lines = patcher.lines.map(({ patchline }) => patchline);
const find = (pred) => [...boxes.values()].filter(pred);
const byText = (re) => find((b) => re.test(b.text || ""));
const wired = (src, out, dst) => lines.some((l) => l.source[0] === src && l.source[1] === out && l.destination[0] === dst);
const into = (dst) => lines.filter((l) => l.destination[0] === dst).map((l) => boxes.get(l.source[0]));

test("the js object, udpsend and udpreceive agree on the ports", () => {
  const [js] = byText(/^js /);
  const [, file, replyPort] = js.text.split(" ");
  assert.equal(file, "midifill.js");
  assert.deepEqual(byText(/^udpreceive /).map((b) => b.text), [`udpreceive ${replyPort}`]);
  assert.deepEqual(byText(/^udpsend /).map((b) => b.text), ["udpsend 127.0.0.1 9000"]);
  const [send] = byText(/^udpsend /);
  const [receive] = byText(/^udpreceive /);
  assert.ok(wired(js.id, 0, send.id), "js outlet 0 -> udpsend");
  assert.ok(wired(receive.id, 0, js.id), "udpreceive -> js");
  const [status] = find((b) => b.id === "obj-status");
  assert.ok(wired(js.id, 1, status.id), "js outlet 1 -> status line");
});

test("live.thisdevice starts the device; MIDI passes through", () => {
  const [thisdevice] = byText(/^live\.thisdevice$/);
  const [init] = find((b) => b.maxclass === "message" && b.text === "init");
  const [js] = byText(/^js /);
  assert.ok(wired(thisdevice.id, 0, init.id) && wired(init.id, 0, js.id));
  assert.ok(wired(byText(/^midiin$/)[0].id, 0, byText(/^midiout$/)[0].id));
});

test("every button and control reaches a function of midifill.js", () => {
  const device = loadDevice(new LiveSet(sessionSet()));
  const [js] = byText(/^js /);
  const selectors = into(js.id).map((b) => b.text.split(" ")).filter((w) => w[0] === "prepend").map((w) => w[1]);
  for (const sel of ["fill", "cont", "vary", "cancel", "temperature", "numvariations", "keylock", "together", "port", "menu"]) {
    assert.ok(selectors.includes(sel), `nothing sends ${sel}`);
  }
  for (const sel of selectors.concat(["init"])) assert.equal(typeof device.ctx[sel], "function", sel);
  const labels = find((b) => b.maxclass === "live.text").map((b) => b.text);
  for (const label of ["Fill", "Continue", "Variations", "Key lock", "Together"]) assert.ok(labels.includes(label), label);
  for (const b of find((x) => /^live\./.test(x.maxclass))) {
    assert.equal(b.presentation, 1, `${b.id} shows in the device`);
    assert.ok(b.saved_attribute_attributes.valueof.parameter_longname, `${b.id} names its parameter`);
  }
});

// Parameter visibility, as Max stores it: 0 (or absent) Automated and Stored,
// 1 Stored Only, 2 Hidden. A live.text button left automatable makes every
// press an undo step (Undo after a Fill would undo the press first);
// Ableton's production guidelines and its own devices make such buttons Hidden.
test("the action buttons are hidden parameters; the settings stay stored", () => {
  const visibility = (b) => b.saved_attribute_attributes.valueof.parameter_invisible || 0;
  const buttons = find((b) => b.maxclass === "live.text" && b.mode === 0);
  assert.deepEqual(buttons.map((b) => b.text).sort(), ["Cancel", "Continue", "Fill", "Variations"]);
  for (const b of buttons) assert.equal(visibility(b), 2, `${b.text} is hidden`);
  const settings = find((b) => /^live\./.test(b.maxclass) && !buttons.includes(b));
  assert.equal(settings.length, 5 + menus().length);
  for (const b of settings) assert.ok(visibility(b) < 2, `${b.id} is stored with the set`);
  // Together is read by the other midifill devices through Device.parameters,
  // which lists only automatable parameters: it must stay Automated and Stored
  const [together] = find((b) => b.maxclass === "live.text" && b.text === "Together");
  assert.equal(visibility(together), 0);
  assert.equal(together.saved_attribute_attributes.valueof.parameter_longname, "midifill together");
  assert.equal(together.mode, 1, "a switch, not a button");
});

// The controls that can follow the part are menus written from the control
// table (python -m midifill.bridge.faces): "auto" first and initial, stored with the
// set, each sending [menu NAME index] to the script; inside the device strip
// and clear of every other control.
const menus = () => find((b) => b.maxclass === "live.menu");
test("one menu per control that follows the part, auto first, wired to the script", () => {
  const { loadDevice: load } = require("./fake_live");
  const device = load(new LiveSet(sessionSet()));
  const defs = JSON.parse(JSON.stringify(device.ctx.CONTROLS)).filter((d) => d.menu.length); // out of the script's realm
  assert.deepEqual(menus().map((b) => b.id), defs.map((d) => `obj-ctl-${d.name}`));
  const [js] = byText(/^js /);
  for (const d of defs) {
    const [menu] = find((b) => b.id === `obj-ctl-${d.name}`);
    const v = menu.saved_attribute_attributes.valueof;
    assert.deepEqual(v.parameter_enum, d.menu);
    assert.equal(v.parameter_enum[v.parameter_initial[0]], d.auto ? "auto" : d.menu[0]);
    const [prep] = byText(new RegExp(`^prepend menu ${d.name}$`));
    assert.ok(prep && wired(menu.id, 0, prep.id) && wired(prep.id, 0, js.id), `${d.name} -> js`);
    const [x, y, w, hgt] = menu.presentation_rect;
    assert.ok(x >= 0 && x + w <= patcher.devicewidth && y + hgt <= 169, `${d.name} inside the device`);
    for (const other of find((b) => b.presentation === 1 && b.id !== menu.id)) {
      const [ox, oy, ow, oh] = other.presentation_rect;
      const apart = x + w <= ox || ox + ow <= x || y + hgt <= oy || oy + oh <= y;
      assert.ok(apart, `${d.name} overlaps ${other.id}`);
    }
  }
  assert.ok(defs.some((d) => d.name === "harmony") && defs.some((d) => d.name === "max_polyphony"));
});

// Live shows a device 169 px tall. The status line wraps inside its box, so
// the box must be tall enough for the longest status (host_rules.test.js
// keeps every refusal within STATUS_CHARS) at about 6 px a character and
// 12.5 px a line in 10-point Arial Bold.
test("the status line has room for the longest message", () => {
  const STATUS_CHARS = 230;
  const [status] = find((b) => b.id === "obj-status");
  const [, y, width, height] = status.presentation_rect;
  const lines = Math.ceil(STATUS_CHARS / Math.floor(width / 6));
  assert.ok(height >= lines * 12.5, `${height} px holds fewer than ${lines} lines`);
  assert.ok(y + height <= 169, "inside the device");
});
