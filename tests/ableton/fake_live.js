// A stand-in for the parts of Ableton Live and Max that midifill.js uses:
// a Live set kept in memory behind a LiveAPI look-alike (paths, ids, get/set/
// call/getcount), and Max's outlet, post and Task. It is strict where Live is
// forgiving (unknown properties and calls throw, and copying onto a clip that
// exists throws) so that a device bug shows up as a failing test, except where
// the forgiving behaviour is itself the danger: a LiveAPI whose object is gone
// (id 0) ignores get/set/call as Max does, posting "no valid object set", and
// add_new_notes applies Live's rule that notes of one pitch never overlap.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const DEVICE_JS = path.join(__dirname, "..", "..", "daw_scripts", "ableton", "midifill.js");

class LiveSet {
  /**
   * spec: {tempo, signature: [n, d], loop: {on, start, length}, scale: {root, name},
   *        scenes: n, tracks: [{name, midi, drum, slots: {index: clipSpec}, arrangement: [clipSpec]}],
   *        select: {track, slot} or {track, arrangement: k}}
   * clipSpec: {name, looping, loop: [start, end], markers: [start, end], start_time, signature: [n, d], notes: [...]}
   * deviceSpec: {drum, chains: [{devices: [deviceSpec]}]} (a rack holds chains of devices),
   *   or {midifill: {together: 0|1}}: a midifill device (a Max MIDI effect), its Together switch
   *   among its automatable parameters (Device.parameters lists only those, as Live does)
   */
  constructor(spec) {
    this.ids = new Map();
    this.nextId = 1;
    this.log = [];
    this.invalidUses = []; // get/set/call on a LiveAPI whose object is gone
    this.song = this.register({ type: "Song", tempo: spec.tempo || 120,
      num: (spec.signature || [4, 4])[0], den: (spec.signature || [4, 4])[1],
      loop: spec.loop || { on: 0, start: 0, length: 16 }, scale: spec.scale || null });
    this.view = this.register({ type: "Song.View", detail: null, highlighted: null });
    this.scenes = [];
    for (let i = 0; i < (spec.scenes || 4); i++) this.scenes.push(this.register({ type: "Scene" }));
    this.tracks = spec.tracks.map((t) => {
      const track = this.register({ type: "Track", name: t.name, midi: t.midi !== false, slots: [],
        arrangement: [], devices: (t.devices || [{ drum: !!t.drum }]).map((d) => this.makeDevice(d)) });
      for (let i = 0; i < this.scenes.length; i++) {
        const slot = this.register({ type: "ClipSlot", track, clip: null });
        if (t.slots && t.slots[i]) slot.clip = this.makeClip(t.slots[i], { slot });
        track.slots.push(slot);
      }
      for (const c of t.arrangement || []) track.arrangement.push(this.makeClip(c, { track }));
      track.arrangement.sort((a, b) => a.start_time - b.start_time);
      return track;
    });
    const sel = spec.select;
    if (sel) {
      const track = this.tracks[sel.track];
      if (sel.slot !== undefined) {
        this.view.highlighted = track.slots[sel.slot];
        this.view.detail = sel.detailClip === false ? null : track.slots[sel.slot].clip;
      } else {
        this.view.detail = track.arrangement[sel.arrangement];
      }
    }
    this.LiveAPI = makeLiveAPIClass(this);
  }

  makeDevice(d) {
    const chains = (d.chains || []).map((c) => this.register({ type: "Chain",
      devices: (c.devices || []).map((x) => this.makeDevice(x)) }));
    const className = d.midifill ? "MxDeviceMidiEffect"
      : d.drum ? "DrumGroupDevice" : chains.length ? "InstrumentGroupDevice" : "OriginalSimpler";
    const params = [["Device On", 1]];
    if (d.midifill) params.push(["Key lock", 0], ["midifill together", d.midifill.together ? 1 : 0]);
    const parameters = params.map(([name, value]) => this.register({ type: "DeviceParameter", name, value }));
    return this.register({ type: "Device", drum: !!d.drum, chains, className, parameters });
  }

  register(obj) {
    obj.id = this.nextId++;
    this.ids.set(obj.id, obj);
    return obj;
  }

  makeClip(c, owner) {
    const markers = c.markers || [0, 16];
    const loop = c.loop || markers;
    const clip = this.register({ type: "Clip", name: c.name || "", midi: c.midi !== false,
      looping: c.looping === undefined ? 1 : c.looping ? 1 : 0,
      loop_start: loop[0], loop_end: loop[1], start_marker: markers[0], end_marker: markers[1],
      start_time: c.start_time || 0, slot: owner.slot || null, track: owner.track || null,
      sig: c.signature || [this.song.num, this.song.den], notes: [], nextNote: 1 });
    clip.end_time = clip.start_time + (c.length || (clip.looping ? loop[1] - markers[0] : markers[1] - markers[0]));
    this.addNotes(clip, (c.notes || []).map((n) => (Array.isArray(n)
      ? { pitch: n[0], start_time: n[1], duration: n[2], velocity: n[3] } : n)));
    return clip;
  }

  addNotes(clip, notes) {
    for (const n of notes) {
      for (const field of ["pitch", "start_time", "duration"]) {
        if (typeof n[field] !== "number" || !isFinite(n[field])) {
          throw new Error(`add_new_notes: note without a numeric ${field}: ${JSON.stringify(n)}`);
        }
      }
      if (n.pitch < 0 || n.pitch > 127 || n.duration <= 0) throw new Error(`add_new_notes: bad note ${JSON.stringify(n)}`);
      const note = { note_id: clip.nextNote++, pitch: n.pitch, start_time: n.start_time,
        duration: n.duration, velocity: n.velocity === undefined ? 100 : n.velocity, mute: n.mute ? 1 : 0,
        probability: 1, velocity_deviation: 0, release_velocity: 64 };
      // Live keeps the notes of one pitch apart: a note added at the start of
      // one of its pitch replaces it; one that starts while an earlier note of
      // its pitch still sounds shortens that note to end where it starts; and
      // a note that runs into a later one of its pitch is itself shortened.
      const same = clip.notes.filter((o) => o.pitch === note.pitch);
      clip.notes = clip.notes.filter((o) => !(o.pitch === note.pitch && Math.abs(o.start_time - note.start_time) < 1e-9));
      for (const o of same) {
        if (o.start_time < note.start_time && o.start_time + o.duration > note.start_time) {
          o.duration = note.start_time - o.start_time;
        } else if (o.start_time > note.start_time && note.start_time + note.duration > o.start_time) {
          note.duration = o.start_time - note.start_time;
        }
      }
      clip.notes.push(note);
    }
  }

  /** What deleting a clip in Live does: the slot empties and the clip's id is dead. */
  deleteClip(clip) {
    if (clip.slot) clip.slot.clip = null;
    if (clip.track) clip.track.arrangement = clip.track.arrangement.filter((c) => c !== clip);
    this.ids.delete(clip.id);
  }

  copyClip(clip, owner, startTime) {
    const copy = this.register({ ...clip, notes: clip.notes.map((n) => ({ ...n })), slot: owner.slot || null,
      track: owner.track || null });
    if (owner.track) {
      copy.start_time = startTime;
      copy.end_time = startTime + (clip.end_time - clip.start_time);
    }
    return copy;
  }

  resolve(p) {
    const words = String(p).replace(/"/g, "").trim().split(/\s+/);
    if (words[0] === "id") return this.ids.get(Number(words[1])) || null;
    if (words[0] !== "live_set") return null;
    let obj = this.song;
    for (let i = 1; i < words.length && obj; i++) {
      const w = words[i], k = Number(words[i + 1]);
      if (w === "view" && obj === this.song) obj = this.view;
      else if (w === "tracks") { obj = this.tracks[k]; i++; }
      else if (w === "scenes") { obj = this.scenes[k]; i++; }
      else if (w === "clip_slots" && obj.type === "Track") { obj = obj.slots[k]; i++; }
      else if (w === "arrangement_clips" && obj.type === "Track") { obj = obj.arrangement[k]; i++; }
      else if (w === "devices" && (obj.type === "Track" || obj.type === "Chain")) { obj = obj.devices[k]; i++; }
      else if (w === "chains" && obj.type === "Device") { obj = obj.chains[k]; i++; }
      else if (w === "parameters" && obj.type === "Device") { obj = obj.parameters[k]; i++; }
      else if (w === "clip" && obj.type === "ClipSlot") obj = obj.clip;
      else return null;
    }
    return obj || null;
  }

  pathOf(obj) {
    if (!obj) return "";
    if (obj === this.song) return "live_set";
    if (obj === this.view) return "live_set view";
    if (obj.type === "Scene") return `live_set scenes ${this.scenes.indexOf(obj)}`;
    if (obj.type === "Track") return `live_set tracks ${this.tracks.indexOf(obj)}`;
    if (obj.type === "Device" || obj.type === "Chain") {
      // search every track's device tree for the holder of obj
      const walk = (prefix, list, key) => {
        for (let i = 0; i < list.length; i++) {
          const here = `${prefix} ${key} ${i}`;
          if (list[i] === obj) return here;
          const inner = list[i].type === "Device" ? walk(here, list[i].chains, "chains") : walk(here, list[i].devices, "devices");
          if (inner) return inner;
        }
        return null;
      };
      for (const t of this.tracks) {
        const found = walk(this.pathOf(t), t.devices, "devices");
        if (found) return found;
      }
    }
    if (obj.type === "ClipSlot") return `${this.pathOf(obj.track)} clip_slots ${obj.track.slots.indexOf(obj)}`;
    if (obj.type === "Clip" && obj.slot) return `${this.pathOf(obj.slot)} clip`;
    if (obj.type === "Clip") return `${this.pathOf(obj.track)} arrangement_clips ${obj.track.arrangement.indexOf(obj)}`;
    throw new Error("no path for " + obj.type);
  }

  /** Everything a user could lose, as plain data, for before/after comparisons. */
  snapshot() {
    const clip = (c) => c && { name: c.name, loop: [c.loop_start, c.loop_end], markers: [c.start_marker, c.end_marker],
      start_time: c.start_time, end_time: c.end_time, notes: c.notes.map((n) => ({ ...n })) };
    return { scenes: this.scenes.length, tracks: this.tracks.map((t) => ({ name: t.name,
      slots: t.slots.map((s) => clip(s.clip)), arrangement: t.arrangement.map(clip) })) };
  }
}

const idList = (obj) => ["id", obj ? obj.id : 0];

function getProp(set, obj, prop) {
  const t = obj.type;
  if (t === "Song") {
    const v = { tempo: obj.tempo, signature_numerator: obj.num, signature_denominator: obj.den,
      loop: obj.loop.on, loop_start: obj.loop.start, loop_length: obj.loop.length,
      root_note: obj.scale ? obj.scale.root : 0, scale_name: obj.scale ? obj.scale.name : "Major" }[prop];
    if (v !== undefined) return [v];
  } else if (t === "Song.View") {
    if (prop === "detail_clip") return idList(obj.detail);
    if (prop === "highlighted_clip_slot") return idList(obj.highlighted);
  } else if (t === "Track") {
    if (prop === "name") return [obj.name];
    if (prop === "has_midi_input") return [obj.midi ? 1 : 0];
  } else if (t === "ClipSlot") {
    if (prop === "has_clip") return [obj.clip ? 1 : 0];
    if (prop === "clip") return idList(obj.clip);
  } else if (t === "Clip") {
    if (prop === "is_midi_clip") return [obj.midi ? 1 : 0];
    if (prop === "is_arrangement_clip") return [obj.slot ? 0 : 1];
    if (prop === "length") return [obj.looping ? obj.loop_end - obj.loop_start : obj.end_marker - obj.start_marker];
    if (prop === "name") return [obj.name];
    if (prop === "signature_numerator") return [obj.sig[0]];
    if (prop === "signature_denominator") return [obj.sig[1]];
    if (["looping", "loop_start", "loop_end", "start_marker", "end_marker", "start_time", "end_time"].includes(prop)) {
      return [obj[prop]];
    }
  } else if (t === "Device") {
    if (prop === "can_have_drum_pads") return [obj.drum ? 1 : 0];
    if (prop === "can_have_chains") return [obj.chains.length || obj.drum ? 1 : 0];
    if (prop === "class_name") return [obj.className];
  } else if (t === "DeviceParameter") {
    if (prop === "name") return [obj.name];
    if (prop === "value") return [obj.value];
  }
  throw new Error(`get: ${t} has no property ${prop}`);
}

function setProp(set, obj, prop, value) {
  set.log.push(["set", set.pathOf(obj), prop, value]);
  const idOf = (v) => Number(String(Array.isArray(v) ? v.join(" ") : v).replace("id", "").trim());
  if (obj.type === "Song.View" && prop === "detail_clip") obj.detail = set.ids.get(idOf(value)) || null;
  else if (obj.type === "Song.View" && prop === "highlighted_clip_slot") obj.highlighted = set.ids.get(idOf(value)) || null;
  else if (obj.type === "Clip" && ["name", "loop_end", "end_marker", "loop_start", "start_marker"].includes(prop)) {
    obj[prop] = prop === "name" ? String(value) : Number(value);
  } else throw new Error(`set: ${obj.type} property ${prop} is not settable here`);
}

function callFn(set, obj, fn, args) {
  set.log.push(["call", set.pathOf(obj), fn, args]);
  const inRange = (n, a) => n.pitch >= a[0] && n.pitch < a[0] + a[1] && n.start_time >= a[2] && n.start_time < a[2] + a[3];
  if (obj.type === "Clip" && fn === "get_notes_extended") {
    if (args.length !== 4) throw new Error("get_notes_extended takes 4 arguments");
    // Live answers a JSON string in Max's js.
    return JSON.stringify({ notes: obj.notes.filter((n) => inRange(n, args)) });
  }
  if (obj.type === "Clip" && fn === "remove_notes_extended") {
    if (args.length !== 4) throw new Error("remove_notes_extended takes 4 arguments");
    obj.notes = obj.notes.filter((n) => !inRange(n, args));
    return undefined;
  }
  if (obj.type === "Clip" && fn === "add_new_notes") {
    const dict = args[0];
    if (!dict || !Array.isArray(dict.notes)) throw new Error("add_new_notes takes {notes: [...]}");
    set.addNotes(obj, dict.notes);
    return undefined;
  }
  if (obj.type === "ClipSlot" && fn === "duplicate_clip_to") {
    const dest = set.resolve(String(args[0]));
    if (!obj.clip) throw new Error("duplicate_clip_to: the source slot is empty");
    if (!dest || dest.type !== "ClipSlot") throw new Error("duplicate_clip_to: target is not a clip slot");
    if (dest.clip) throw new Error("duplicate_clip_to would overwrite a clip");
    dest.clip = set.copyClip(obj.clip, { slot: dest });
    return undefined;
  }
  if (obj.type === "Song" && fn === "create_scene") {
    const index = Number(args[0]) < 0 ? set.scenes.length : Number(args[0]);
    set.scenes.splice(index, 0, set.register({ type: "Scene" }));
    for (const t of set.tracks) t.slots.splice(index, 0, set.register({ type: "ClipSlot", track: t, clip: null }));
    return idList(set.scenes[index]);
  }
  if (obj.type === "Track" && fn === "duplicate_clip_to_arrangement") {
    const source = set.resolve(String(args[0]));
    const at = Number(args[1]);
    if (!source || source.type !== "Clip") throw new Error("duplicate_clip_to_arrangement: no clip " + args[0]);
    const end = at + (source.end_time - source.start_time);
    if (obj.arrangement.some((c) => c.start_time < end && c.end_time > at)) {
      throw new Error("duplicate_clip_to_arrangement would overwrite an arrangement clip");
    }
    const copy = set.copyClip(source, { track: obj }, at);
    obj.arrangement.push(copy);
    obj.arrangement.sort((a, b) => a.start_time - b.start_time);
    return idList(copy);
  }
  throw new Error(`call: ${obj.type} has no function ${fn} here`);
}

function makeLiveAPIClass(set) {
  // Max's LiveAPI: new LiveAPI([callback], [path]); id "0" when nothing is there.
  function LiveAPI(a, b) {
    this._obj = set.resolve(typeof a === "function" || a === null ? b || "" : a || "");
  }
  // Max answers get/set/call on an object that is gone (id 0) with "no valid
  // object set" in its console and nothing else: no exception reaches the script.
  const dead = (self, what) => {
    if (self._obj && set.ids.get(self._obj.id) === self._obj) return false;
    self._obj = null;
    set.invalidUses.push(what);
    if (set.post) set.post(`${what}: no valid object set`);
    return true;
  };
  Object.defineProperties(LiveAPI.prototype, {
    id: { get() { return String(this._obj && set.ids.get(this._obj.id) === this._obj ? this._obj.id : 0); } },
    path: { get() { return this._obj ? `"${set.pathOf(this._obj)}"` : ""; } },
    unquotedpath: { get() { return set.pathOf(this._obj); } },
    type: { get() { return this._obj ? this._obj.type : ""; } },
  });
  LiveAPI.prototype.goto = function (p) { this._obj = set.resolve(p); };
  LiveAPI.prototype.get = function (prop) { return dead(this, "get") ? [] : getProp(set, this._obj, prop); };
  LiveAPI.prototype.set = function (prop, value) { if (!dead(this, "set " + prop)) setProp(set, this._obj, prop, value); };
  LiveAPI.prototype.call = function (fn, ...args) { return dead(this, "call " + fn) ? undefined : callFn(set, this._obj, fn, args); };
  LiveAPI.prototype.getcount = function (child) {
    if (dead(this, "getcount " + child)) return 0;
    const o = this._obj;
    const lists = { Song: { tracks: set.tracks, scenes: set.scenes },
      Track: { clip_slots: o.slots, arrangement_clips: o.arrangement, devices: o.devices },
      Device: { chains: o.chains, parameters: o.parameters }, Chain: { devices: o.devices } }[o.type] || {};
    if (!lists[child]) throw new Error(`getcount: ${o.type} has no list ${child}`);
    return lists[child].length;
  };
  return LiveAPI;
}

// Max's Task: schedule(ms) runs the function once, later; cancel() stops it.
function makeTaskClass(device) {
  function Task(fn, obj, ...args) {
    this.fn = fn; this.obj = obj; this.args = args; this.handle = null;
  }
  Task.prototype.schedule = function (ms) {
    this.cancel();
    this.handle = setTimeout(() => {
      this.handle = null;
      device.guard(() => this.fn.apply(this.obj, this.args));
    }, Number(ms) || 0);
  };
  Task.prototype.cancel = function () {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  };
  return Task;
}

/**
 * Load midifill.js as Max's [js] would: its top-level functions answer the
 * messages from the patcher; outlet() goes to onOutlet(index, ...atoms).
 */
function loadDevice(set, { replyPort = 9001, onOutlet = () => {} } = {}) {
  const device = {
    set, statuses: [], posts: [], errors: [], waiters: [],
    guard(fn) {
      try { return fn(); } catch (e) { device.errors.push(e); device.posts.push("js error: " + e.stack); }
      return undefined;
    },
    /** Send the device a Max message: a function call, or anything() for other selectors. */
    message(selector, ...args) {
      return device.guard(() => {
        if (typeof device.ctx[selector] === "function" && !selector.startsWith("/")) {
          return device.ctx[selector](...args);
        }
        device.ctx.messagename = selector;
        return device.ctx.anything(...args);
      });
    },
    /** Resolve with the first status (from now on) that matches re. */
    waitForStatus(re, ms = 30000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no status matching ${re} in ${ms} ms; got ${JSON.stringify(device.statuses)}`)), ms);
        device.waiters.push((text) => {
          if (!re.test(text)) return false;
          clearTimeout(timer);
          resolve(text);
          return true;
        });
      });
    },
  };
  set.post = (text) => device.posts.push(text);
  const ctx = {
    LiveAPI: set.LiveAPI,
    Task: makeTaskClass(device),
    jsarguments: ["midifill.js", String(replyPort)],
    messagename: "",
    post: (...parts) => device.posts.push(parts.join(" ")),
    outlet: (index, ...atoms) => {
      if (index === 1 && atoms[0] === "set") {
        const text = atoms.slice(1).join(" ");
        device.statuses.push(text);
        device.waiters = device.waiters.filter((w) => !w(text));
      }
      onOutlet(index, ...atoms);
    },
  };
  device.ctx = vm.createContext(ctx);
  vm.runInContext(fs.readFileSync(DEVICE_JS, "utf8"), device.ctx, { filename: DEVICE_JS });
  return device;
}

module.exports = { LiveSet, loadDevice, DEVICE_JS };
