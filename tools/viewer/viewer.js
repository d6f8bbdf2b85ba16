"use strict";
// The worldlog viewer. Everything it shows comes from the JSON API and the WebSocket of
// docs/viewer.md, on the page's own origin; it sends nothing that could change the world.

const token = new URLSearchParams(location.search).get("token");
const $ = (selector) => document.querySelector(selector);

// What the page shows now. One zone is chosen at a time; it drives the map and the timeline.
const view = {
  world: null, // the last GET /api/world
  zone: null, // the chosen zone
  map: null, // its GET /api/zones/{z}/map
  mapFrame: null, // the newest state drawn on the map: {seq, state}
  drawn: [], // what the map shows, for clicks: {kind, id, x, y, json}
  selected: null, // the entity of the panel: {kind, id}
  socket: null,
  seq: null, // the timeline's seq
  stateTicket: 0, // answers to older state requests than this are dropped
  marks: { a: null, b: null },
  behaviour: null, // the last GET /api/behaviour
  anomaliesShown: "", // the anomalies the list holds, serialized: rebuilt only when they change
};

// ---- the API -------------------------------------------------------------------------------

/** The URL of a path of the page's origin with `params`, carrying the page's token. */
function apiUrl(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  if (token) url.searchParams.set("token", token);
  return url;
}

/**
 * JSON whose integers beyond 2^53 (the reference game's mob ids are) stay exact: as the text of
 * the number, which is what an id is used for (display, comparison, URLs).
 */
function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) ? context.source : value);
}

/** GET `path` as JSON; an answer that is not 2xx throws with the server's own error text. */
async function api(path, params) {
  const response = await fetch(apiUrl(path, params), { cache: "no-store" });
  const text = await response.text();
  let body = {};
  try {
    body = parseJson(text);
  } catch (error) {
    if (response.ok) throw new Error(`${path}: not JSON`);
  }
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

// Problems are shown on the page, by source, not thrown into the browser's log: a server that
// went away is something to see, not a bug of the page.
const problems = new Map();

function report(source, error) {
  if (error) problems.set(source, `${source}: ${error.message || error}`);
  else problems.delete(source);
  $("#status").textContent = [...problems.values()].join(" · ");
}

/** `fn` as an event handler whose failures are reported under `source`. */
function guarded(source, fn) {
  return async (...args) => {
    try {
      await fn(...args);
      report(source, null);
    } catch (error) {
      report(source, error);
    }
  };
}

/** Runs `fn` now and then `ms` after each run ends, so that slow answers never pile up. */
function every(ms, source, fn) {
  const run = guarded(source, fn);
  const loop = async () => {
    await run();
    setTimeout(loop, ms);
  };
  loop();
}

// ---- formatting ----------------------------------------------------------------------------

function wallTime(us) {
  return us == null ? "–" : new Date(us / 1000).toISOString().replace("T", " ");
}

function number(value) {
  if (value == null) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function scopeName(zone) {
  return zone == null ? "world" : `zone ${zone}`;
}

/** An element with attributes and children (strings become text). */
function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** JSON a field a line, arrays of numbers (positions) on one. */
function pretty(json) {
  return JSON.stringify(json, null, 1).replace(/\[\s+([-\d.,\se]*?)\s+\]/g, (_, inner) => `[${inner.replace(/\s+/g, " ")}]`);
}

/** A link that moves the timeline to `seq` of `zone` (see the click handler in start()). */
function gotoLink(zone, seq, text) {
  return element("a", { href: "#timeline-section", class: "goto", "data-zone": zone, "data-seq": seq }, text);
}

// ---- the world -----------------------------------------------------------------------------

async function pollWorld() {
  const world = await api("/api/world");
  view.world = world;
  $("#world-summary").textContent =
    `${world.model || "?"} · ${world.live ? "live" : "stored log"} · position ${world.position}`;
  showZones(world.zones);
  if (view.zone === null && world.zones.length > 0) await chooseZone(world.zones[0].zone);
  const zone = zoneInfo(view.zone);
  if (zone) showHead(zone.head);
  // A stored log has no live frames: follow its head (another process may still write it).
  if (!world.live && zone && view.mapFrame && zone.head !== view.mapFrame.seq) await loadMapState();
}

function zoneInfo(zone) {
  return view.world?.zones.find((z) => z.zone === zone) ?? null;
}

/** The zones' table, its rows updated in place: a row being clicked is never replaced. */
function showZones(zones) {
  const body = $("#zones tbody");
  const rows = zones.map((z) => {
    let row = body.querySelector(`tr[data-zone="${z.zone}"]`);
    if (!row) {
      row = element("tr", { "data-zone": z.zone }, ...[0, 1, 2, 3].map(() => element("td")));
      row.addEventListener("click", guarded("zone", () => chooseZone(z.zone)));
    }
    const cells = [`zone ${z.zone}`, z.head, z.online, z.mailbox].map((value) => String(value ?? "–"));
    cells.forEach((text, i) => { if (row.cells[i].textContent !== text) row.cells[i].textContent = text; });
    row.classList.toggle("chosen", z.zone === view.zone);
    return row;
  });
  body.replaceChildren(...rows);
  showScopes(zones.map((z) => z.zone));
}

/** Makes `zone` the one the map and the timeline show; the timeline at `seq` (the head: null). */
async function chooseZone(zone, seq = null) {
  if (zone === view.zone && seq === null) return; // the chosen zone again: keep where it is
  if (zone !== view.zone) {
    view.zone = zone;
    view.map = null;
    view.mapFrame = null;
    view.selected = null;
    view.marks = { a: null, b: null };
    $("#entity").replaceChildren(element("p", { class: "hint" }, "Click a player, mob or item on the map."));
    $("#step").replaceChildren();
    $("#diff-result").replaceChildren();
    $("#bisect-result").replaceChildren();
    showMarks();
    for (const row of document.querySelectorAll("#zones tbody tr")) {
      row.classList.toggle("chosen", Number(row.dataset.zone) === zone);
    }
    $("#map-zone").textContent = `zone ${zone}`;
    $("#timeline-zone").textContent = `zone ${zone}`;
    const info = zoneInfo(zone);
    if (info) showHead(info.head);
    openSocket(zone);
    const map = await api(`/api/zones/${zone}/map`);
    if (view.zone !== zone) return; // another zone was chosen meanwhile
    view.map = map;
    await loadMapState();
  }
  await loadState(seq);
}

// ---- the live map --------------------------------------------------------------------------

/** The chosen zone's head state, for the map until (or without) live frames. */
async function loadMapState() {
  showMapFrame(await api(`/api/zones/${view.zone}/state`));
}

/** Live frames of the chosen zone, when the world is live; a stored log sends none. */
function openSocket(zone) {
  if (view.socket) {
    view.socket.onclose = null;
    view.socket.close();
    view.socket = null;
  }
  if (!view.world?.live) return;
  const url = apiUrl(`/ws/zones/${zone}`);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  socket.onmessage = (message) => showMapFrame(parseJson(message.data));
  socket.onclose = () => {
    // Dropped (a slow tab, a restarted server): come back while this zone is still chosen.
    report("live map", new Error("disconnected, reconnecting"));
    setTimeout(() => { if (view.zone === zone && view.socket === socket) openSocket(zone); }, 2000);
  };
  socket.onopen = () => report("live map", null);
  view.socket = socket;
}

/** Draws a frame {zone, seq, state} unless it is of another zone or older than the one shown. */
function showMapFrame(frame) {
  if (frame.zone !== view.zone) return;
  if (view.mapFrame && frame.seq < view.mapFrame.seq) return;
  view.mapFrame = frame;
  drawMap();
}

/** The map's extent in mm: the model's map, or else what holds every entity. */
function mapExtent() {
  if (view.map?.width_mm) return { width: view.map.width_mm, height: view.map.height_mm };
  let width = 1;
  let height = 1;
  for (const entity of entities(view.mapFrame?.state ?? {})) {
    width = Math.max(width, entity.x * 1.05);
    height = Math.max(height, entity.y * 1.05);
  }
  return { width, height };
}

/** The state's players, mobs and items, with where each is. */
function entities(state) {
  const list = [];
  for (const player of state.players ?? []) list.push({ kind: "player", id: player.id, json: player });
  for (const mob of state.mobs ?? []) list.push({ kind: "mob", id: mob.id, json: mob });
  for (const item of state.items ?? []) list.push({ kind: "item", id: item.id, json: item });
  return list
    .filter((entity) => Array.isArray(entity.json.at))
    .map((entity) => ({ ...entity, x: entity.json.at[0], y: entity.json.at[1] }));
}

function drawMap() {
  const canvas = $("#map");
  const extent = mapExtent();
  // Sized to the zone's shape, in device pixels so that it stays sharp.
  const cssWidth = Math.min(560, canvas.parentElement.clientWidth * 0.6 || 560);
  const cssHeight = Math.max(120, cssWidth * extent.height / extent.width);
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
    canvas.style.width = `${cssWidth}px`;
    canvas.style.height = `${cssHeight}px`;
  }
  const scale = canvas.width / extent.width; // device pixels per mm
  const g = canvas.getContext("2d");
  const css = getComputedStyle(document.documentElement);
  const colour = (name) => css.getPropertyValue(`--${name}`).trim();
  g.clearRect(0, 0, canvas.width, canvas.height);
  drawTerrain(g, scale, colour);

  const state = view.mapFrame?.state ?? {};
  const shown = entities(state);
  const dot = 5 * ratio;
  for (const entity of shown) {
    const x = entity.x * scale;
    const y = entity.y * scale;
    g.beginPath();
    if (entity.kind === "item") {
      g.fillStyle = colour("item");
      g.rect(x - dot * 0.6, y - dot * 0.6, dot * 1.2, dot * 1.2);
    } else if (entity.kind === "mob") {
      g.fillStyle = colour(entity.json.dead ? "dead" : "mob");
      g.moveTo(x, y - dot);
      g.lineTo(x + dot, y + dot * 0.8);
      g.lineTo(x - dot, y + dot * 0.8);
      g.closePath();
    } else {
      g.fillStyle = colour(entity.json.dead ? "dead" : "player");
      g.arc(x, y, dot * 0.8, 0, 2 * Math.PI);
    }
    g.fill();
    if (view.selected?.kind === entity.kind && view.selected.id === entity.id) {
      g.beginPath();
      g.strokeStyle = colour("alarm");
      g.lineWidth = 2 * ratio;
      g.arc(x, y, dot * 2, 0, 2 * Math.PI);
      g.stroke();
    }
  }
  view.drawn = shown.map((entity) => ({ ...entity, px: entity.x * scale / ratio, py: entity.y * scale / ratio }));
  showCounts(shown, view.mapFrame);
  refreshSelected(shown);
}

/** Rocks, exits, the spawn point and the waypoint of the model's map. */
function drawTerrain(g, scale, colour) {
  const map = view.map ?? {};
  if (map.tile_mm) {
    g.fillStyle = colour("rock");
    const tile = map.tile_mm * scale;
    for (const [tx, ty] of map.rocks ?? []) g.fillRect(tx * tile, ty * tile, tile, tile);
  }
  const band = 6 * (window.devicePixelRatio || 1);
  g.font = `${11 * (window.devicePixelRatio || 1)}px system-ui, sans-serif`;
  for (const exit of map.exits ?? []) {
    const west = exit.side === "west";
    g.fillStyle = colour("accent");
    g.globalAlpha = 0.35;
    g.fillRect(west ? 0 : g.canvas.width - band, 0, band, g.canvas.height);
    g.globalAlpha = 1;
    // The label on a white box: readable over rocks.
    const label = west ? `◀ zone ${exit.to}` : `zone ${exit.to} ▶`;
    const width = g.measureText(label).width + band;
    const x = west ? band : g.canvas.width - band - width;
    const y = g.canvas.height / 2;
    g.fillStyle = "white";
    g.fillRect(x, y - band * 2, width, band * 3);
    g.fillStyle = colour("accent");
    g.textAlign = "left";
    g.fillText(label, x + band / 2, y);
  }
  for (const [name, point] of [["spawn", map.spawn], ["waypoint", map.waypoint]]) {
    if (!point) continue;
    g.strokeStyle = colour(name);
    g.lineWidth = 2 * (window.devicePixelRatio || 1);
    g.beginPath();
    g.arc(point[0] * scale, point[1] * scale, band * 1.6, 0, 2 * Math.PI);
    g.stroke();
  }
}

function showCounts(shown, frame) {
  const count = (kind) => shown.filter((entity) => entity.kind === kind).length;
  const counts = $("#map-counts");
  const players = count("player");
  const mobs = count("mob");
  const items = count("item");
  counts.dataset.players = players;
  counts.dataset.mobs = mobs;
  counts.dataset.items = items;
  counts.textContent = frame
    ? `${players} players · ${mobs} mobs · ${items} items — seq ${frame.seq}, ${wallTime(frame.wall_time_us)}`
    : "no state yet";
}

/** Hit test: the entity drawn nearest to a click, within a few pixels. */
function entityAt(event) {
  const box = $("#map").getBoundingClientRect();
  const x = event.clientX - box.left;
  const y = event.clientY - box.top;
  let best = null;
  let bestDistance = 10;
  for (const entity of view.drawn) {
    const distance = Math.hypot(entity.px - x, entity.py - y);
    if (distance < bestDistance) {
      best = entity;
      bestDistance = distance;
    }
  }
  return best;
}

async function selectEntity(event) {
  const entity = entityAt(event);
  if (!entity) return;
  view.selected = { kind: entity.kind, id: entity.id };
  const panel = $("#entity");
  panel.replaceChildren(
    element("h3", {}, `${entity.kind} ${entity.id}`),
    element("pre", { id: "entity-json" }, pretty(entity.json)));
  drawMap();
  // Items are not actors: they have no actions of their own.
  if (entity.kind === "item") return;
  const answer = await api(`/api/actors/${entity.kind}/${entity.id}/events`, { limit: 20 });
  if (view.selected?.kind !== entity.kind || view.selected.id !== entity.id) return;
  const actions = answer.events.map((e) => element("li", {},
    gotoLink(e.zone, e.seq, `zone ${e.zone} seq ${e.seq}`),
    ` ${wallTime(e.wall_time_us)} ${e.type} `,
    element("code", {}, JSON.stringify(e.event))));
  panel.append(element("h4", {}, `last ${actions.length} actions`),
    actions.length ? element("ol", {}, ...actions) : element("p", { class: "hint" }, "none"));
}

/** Keeps the panel's JSON that of the newest frame while the entity is still in the zone. */
function refreshSelected(shown) {
  if (!view.selected) return;
  const entity = shown.find((e) => e.kind === view.selected.kind && e.id === view.selected.id);
  const json = $("#entity-json");
  if (json) json.textContent = entity ? pretty(entity.json) : "(no longer in this zone)";
}

// ---- behaviour -----------------------------------------------------------------------------

async function pollBehaviour() {
  view.behaviour = await api("/api/behaviour");
  const b = view.behaviour;
  $("#behaviour-summary").textContent =
    `windows of ${number(b.window_us / 1e6)} s · ${b.closed_windows} closed · ${b.anomalies.length} anomalies`
    + (b.failure ? ` · the projection stopped: ${b.failure}` : "");
  showCharts();
  showAnomalies(b.anomalies);
}

/** The scope select: the world, then each zone. Kept as chosen when the zones are polled. */
function showScopes(zones) {
  const select = $("#scope");
  const wanted = ["world", ...zones.map(String)];
  const have = [...select.options].map((option) => option.value);
  if (wanted.join() === have.join()) return;
  const chosen = select.value || "world";
  select.replaceChildren(...wanted.map((value) =>
    element("option", { value }, value === "world" ? "world" : `zone ${value}`)));
  select.value = wanted.includes(chosen) ? chosen : "world";
}

function showCharts() {
  const b = view.behaviour;
  if (!b) return;
  const chosen = $("#scope").value || "world";
  const scope = b.scopes.find((s) => String(s.zone ?? "world") === chosen);
  const charts = $("#charts");
  if (!scope) {
    charts.replaceChildren(element("p", { class: "hint" }, `no signals of ${chosen} yet`));
    return;
  }
  const anomalies = b.anomalies.filter((a) => String(a.zone ?? "world") === chosen);
  charts.replaceChildren(...scope.signals.map((signal) =>
    chart(signal, anomalies.filter((a) => a.signal === signal.name), b.window_us)));
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/**
 * One signal's closed windows as a line, over its baseline band (mean ± deviation), with the
 * spans of its anomalies shaded.
 */
function chart(signal, anomalies, windowUs) {
  const active = anomalies.some((a) => a.ended_us == null);
  const box = element("div", { class: active ? "chart anomalous" : "chart", "data-signal": signal.name });
  box.append(element("h4", {}, element("span", {}, signal.name),
    element("span", { class: "score" }, `last ${number(signal.last)} · score ${number(signal.score)}`)));
  const history = signal.history ?? [];
  if (history.length === 0) {
    box.append(element("p", { class: "hint" }, "no closed window yet"));
    return box;
  }
  const width = 300;
  const height = 70;
  const from = history[0][0];
  const to = history[history.length - 1][0] + windowUs;
  const top = Math.max(1, signal.mean + signal.deviation, ...history.map(([, value]) => value)) * 1.1;
  const x = (us) => (Math.min(Math.max(us, from), to) - from) / (to - from) * width;
  const y = (value) => height - Math.max(0, value) / top * height;

  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none" });
  const title = svg("title");
  title.textContent = `${signal.name} per window: baseline ${number(signal.mean)} ± ${number(signal.deviation)}`;
  plot.append(title);
  plot.append(svg("rect", {
    class: "band", x: 0, width,
    y: y(signal.mean + signal.deviation),
    height: Math.max(0, y(signal.mean - signal.deviation) - y(signal.mean + signal.deviation)),
  }));
  plot.append(svg("line", { class: "mean", x1: 0, x2: width, y1: y(signal.mean), y2: y(signal.mean) }));
  for (const anomaly of anomalies) {
    const start = x(anomaly.started_us);
    const end = x(anomaly.ended_us ?? to);
    plot.append(svg("rect", { class: "anomaly", x: start, width: Math.max(2, end - start), y: 0, height }));
  }
  const points = history.map(([start, value]) => `${x(start + windowUs / 2).toFixed(1)},${y(value).toFixed(1)}`);
  plot.append(svg("polyline", { class: "series", points: points.join(" ") }));
  box.append(plot);
  return box;
}

/** The list of anomalies, each linking to the timeline where it started. */
function showAnomalies(anomalies) {
  const serialized = JSON.stringify(anomalies);
  if (serialized === view.anomaliesShown) return;
  view.anomaliesShown = serialized;
  const items = anomalies.map((a) => {
    const item = element("li", {
      class: `${a.direction}${a.ended_us == null ? "" : " over"}`,
      "data-zone": a.zone ?? "world",
      "data-signal": a.signal,
      "data-direction": a.direction,
    }, `${scopeName(a.zone)} · ${a.signal} · ${a.direction} from ${wallTime(a.started_us)}: `
      + `${number(a.value)} against ${number(a.mean)} ± ${number(a.deviation)} (score ${number(a.score)}), `
      + (a.ended_us == null ? "still on" : `over at ${wallTime(a.ended_us)}`));
    if (a.zone != null && a.first_seq != null) {
      item.append(" · ", gotoLink(a.zone, a.first_seq, `seqs ${a.first_seq}..${a.last_seq} in the timeline`));
    }
    return item;
  });
  $("#anomalies").replaceChildren(...(items.length ? items : [element("p", { class: "hint" }, "none")]));
}

// ---- the timeline --------------------------------------------------------------------------

function showHead(head) {
  const scrubber = $("#scrubber");
  scrubber.max = Math.max(1, head);
  $("#state-head").textContent = String(head);
  $("#step-forward").disabled = view.seq === null || view.seq >= head;
  if (!$("#bisect-to").value) $("#bisect-to").placeholder = String(head);
}

/** The state of the chosen zone after `seq` (the head: null); older answers are dropped. */
async function loadState(seq) {
  const ticket = ++view.stateTicket;
  const zone = view.zone;
  const answer = await api(`/api/zones/${zone}/state`, { at: seq });
  if (ticket !== view.stateTicket) return;
  view.seq = answer.seq;
  view.timelineState = answer.state;
  $("#scrubber").value = answer.seq;
  $("#seq-input").value = answer.seq;
  $("#state-seq").textContent = String(answer.seq);
  $("#state-hash").textContent = answer.hash;
  $("#state-time").textContent = wallTime(answer.wall_time_us);
  $("#state-fold").textContent = answer.from_snapshot
    ? `(from the snapshot at seq ${answer.from_snapshot} + ${answer.folded} events)`
    : `(folded from seq 1, ${answer.folded} events)`;
  $("#step-back").disabled = answer.seq <= 1;
  $("#step-forward").disabled = answer.seq >= Number($("#scrubber").max);
  showStateJson();
}

/** The state's JSON, only while its <details> is open: it can be large. */
function showStateJson() {
  if ($("#state-json").parentElement.open) {
    $("#state-json").textContent = pretty(view.timelineState ?? null);
  }
}

/** A seq typed in `input`, checked against the chosen zone's head; throws naming what is wrong. */
function seqOf(input) {
  const head = Number($("#scrubber").max);
  const text = input.value.trim() || input.placeholder;
  const seq = Number(text);
  if (!Number.isInteger(seq) || seq < 1 || seq > head) throw new Error(`a seq is 1..${head}, not "${text}"`);
  return seq;
}

/** One event and its changes, as /step answers it. */
function showStep(step, how) {
  $("#step").replaceChildren(
    element("p", {}, `${how} seq ${step.seq} `, element("b", {}, step.type), ` at ${wallTime(step.wall_time_us)}: `,
      element("code", {}, JSON.stringify(step.event))),
    changesTable(step.changes));
}

/** At most 200 changes as path / before / after. */
function changesTable(changes) {
  const limit = 200;
  const rows = changes.slice(0, limit).map((c) => element("tr", {},
    element("td", {}, c.path), element("td", {}, JSON.stringify(c.before) ?? "–"),
    element("td", {}, "→"), element("td", {}, JSON.stringify(c.after) ?? "–")));
  const table = element("table", {}, ...rows);
  if (changes.length === 0) return element("p", { class: "hint" }, "no changes");
  if (changes.length <= limit) return table;
  return element("div", {}, table, element("p", { class: "hint" }, `… and ${changes.length - limit} more`));
}

async function stepForward() {
  const seq = view.seq + 1;
  const answer = await api(`/api/zones/${view.zone}/step`, { from: seq, count: 1 });
  showStep(answer.steps[0], "did");
  await loadState(seq);
}

async function stepBack() {
  const seq = view.seq;
  const answer = await api(`/api/zones/${view.zone}/step`, { from: seq, count: 1 });
  showStep(answer.steps[0], "undid");
  await loadState(seq - 1);
}

function showMarks() {
  const { a, b } = view.marks;
  $("#marks").textContent = `A ${a ?? "–"}, B ${b ?? "–"}`;
  $("#diff").disabled = a == null || b == null;
}

async function diffMarks() {
  const { a, b } = view.marks;
  const answer = await api(`/api/zones/${view.zone}/diff`, { from: a, to: b });
  $("#diff-result").replaceChildren(
    element("p", {}, `seq ${answer.from.seq} (${answer.from.hash.slice(0, 16)}) → seq ${answer.to.seq} `
      + `(${answer.to.hash.slice(0, 16)}): ${answer.changes.length} changes`),
    changesTable(answer.changes));
}

async function loadInvariants() {
  const invariants = await api("/api/invariants");
  $("#invariant").replaceChildren(...invariants.map((i) =>
    element("option", { value: i.name, title: i.description }, i.name)));
}

async function bisect() {
  const to = seqOf($("#bisect-to"));
  const result = $("#bisect-result");
  result.textContent = "bisecting…";
  const answer = await api(`/api/zones/${view.zone}/bisect`, { invariant: $("#invariant").value, to });
  if (answer.holds) {
    result.replaceChildren(`${answer.invariant} holds through seq ${answer.checked_to}`);
  } else {
    result.replaceChildren(`${answer.invariant} first broken by `,
      gotoLink(view.zone, answer.first_broken, `seq ${answer.first_broken}`),
      answer.event ? ` (${answer.event.type ?? ""})` : "");
  }
}

// ---- wiring --------------------------------------------------------------------------------

function start() {
  $("#map").addEventListener("click", guarded("map", selectEntity));
  window.addEventListener("resize", () => drawMap());
  $("#scope").addEventListener("change", () => showCharts());
  // Dragging shows the seq under the thumb; letting go (or a key) loads its state.
  $("#scrubber").addEventListener("input", () => { $("#seq-input").value = $("#scrubber").value; });
  $("#scrubber").addEventListener("change", guarded("timeline", () => loadState(Number($("#scrubber").value))));
  $("#seq-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded("timeline", () => loadState(seqOf($("#seq-input"))))();
  });
  $("#step-forward").addEventListener("click", guarded("timeline", stepForward));
  $("#step-back").addEventListener("click", guarded("timeline", stepBack));
  $("#mark-a").addEventListener("click", () => { view.marks.a = view.seq; showMarks(); });
  $("#mark-b").addEventListener("click", () => { view.marks.b = view.seq; showMarks(); });
  $("#diff").addEventListener("click", guarded("diff", diffMarks));
  $("#bisect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded("bisect", bisect)();
  });
  $("#state-json").parentElement.addEventListener("toggle", showStateJson);
  // Links to a seq (anomalies, actions, bisect) move the timeline there, in their zone.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.goto");
    if (!link) return;
    guarded("timeline", () => chooseZone(Number(link.dataset.zone), Number(link.dataset.seq)))();
  });
  showMarks();
  guarded("invariants", loadInvariants)();
  every(1000, "world", pollWorld);
  every(2000, "behaviour", pollBehaviour);
}

start();
