// The page of `zoo serve`: pictures and forms in, every model's answer out.
// Pictures are kept as the set's pixels (0-255); shifting happens here, the models run on the
// server (POST /api/predict), so what is shown is exactly what each Keras model answers.
"use strict";

const TOP = 5; // classes shown per model
const SCALE = 8; // screen pixels per image pixel
const state = { runs: [], groups: [], shift: [0, 0] };

const $ = (selector, root = document) => root.querySelector(selector);

function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function say(message) {
  const box = $("#message");
  box.textContent = message || "";
  box.hidden = !message;
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new Error("The server does not answer (was it stopped?).");
  }
  let body = {};
  try {
    body = await response.json();
  } catch (err) {
    body = {};
  }
  if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
  return body;
}

// --- pictures ------------------------------------------------------------------------------

function shifted(pixels, shape, dx, dy) {
  // Moved dx right and dy down; the uncovered border is black.
  const [h, w] = shape;
  const c = shape.length > 2 ? shape[2] : 1;
  const out = new Array(pixels.length).fill(0);
  for (let y = 0; y < h; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < w; x++) {
      const sx = x - dx;
      if (sx < 0 || sx >= w) continue;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = pixels[(sy * w + sx) * c + k];
    }
  }
  return out;
}

function draw(canvas, pixels, shape) {
  const [h, w] = shape;
  const c = shape.length > 2 ? shape[2] : 1;
  const small = document.createElement("canvas");
  small.width = w;
  small.height = h;
  const image = small.getContext("2d").createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const rgb = c >= 3 ? [0, 1, 2].map((k) => pixels[i * c + k]) : [0, 0, 0].fill(pixels[i * c]);
    image.data.set([...rgb, 255], i * 4);
  }
  small.getContext("2d").putImageData(image, 0, 0);
  canvas.width = w * SCALE;
  canvas.height = h * SCALE;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// --- answers -------------------------------------------------------------------------------

function showAnswer(card, run, answer, truth) {
  const body = $(".answer", card);
  body.replaceChildren();
  if (answer.value !== undefined) {
    body.append(element("div", { class: "value", dataset: { value: String(answer.value) } },
      `predicted ${answer.value.toPrecision(4)}`));
    return;
  }
  const order = answer.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
  const list = element("ol", { class: "top" });
  for (const [p, i] of order.slice(0, TOP)) {
    const name = run.classes[i];
    const bar = element("div", { class: "bar" }, element("div"));
    bar.firstChild.style.width = `${(100 * p).toFixed(2)}%`;
    list.append(element("li", { class: name === truth ? "true" : "", dataset: { class: name, p: String(p) } },
      element("span", { class: "name", title: name }, name), bar,
      element("span", { class: "pct" }, `${(100 * p).toFixed(2)}%`)));
  }
  body.append(list);
}

function modelCard(run) {
  const accuracy = run.accuracy == null ? "" : ` · test accuracy ${run.accuracy.toFixed(4)}`;
  return element("article", { class: "card", dataset: { run: run.id } },
    element("h3", {}, run.name),
    element("div", { class: "meta" }, `${run.model} on ${run.dataset}${accuracy}`),
    element("div", { class: "answer" }));
}

// --- image groups --------------------------------------------------------------------------

async function predictGroup(group) {
  if (!group.pixels) return;
  const [dx, dy] = state.shift;
  const ticket = ++group.ticket;
  const pixels = shifted(group.pixels, group.shape, dx, dy);
  draw($("canvas", group.node), pixels, group.shape);
  $(".offset", group.node).textContent = `shift ${dx} right, ${dy} down`;
  group.node.dataset.pending = "1";
  try {
    const reply = await call("/api/predict", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ group: group.id, pixels }),
    });
    if (ticket !== group.ticket) return; // a newer shift is on its way
    for (const answer of reply.answers) {
      const card = $(`.card[data-run="${answer.run}"]`, group.node);
      showAnswer(card, state.runs[answer.run], answer, group.truth);
    }
    group.node.dataset.shown = `${dx},${dy}`;
    group.node.dataset.pending = "0";
  } catch (err) {
    if (ticket === group.ticket) { group.node.dataset.pending = "0"; say(err.message); }
  }
}

function setPicture(group, pixels, truth, source) {
  group.pixels = pixels;
  group.truth = truth;
  $(".truth", group.node).textContent = truth == null ? "" : `true class: ${truth}`;
  $(".source", group.node).textContent = source || "";
}

function predictAll() {
  for (const group of state.groups) predictGroup(group);
}

function awaiting(groups) {
  // A new picture is on its way: the answers shown are the old picture's until it comes.
  for (const group of groups) {
    delete group.node.dataset.shown;
    group.node.dataset.pending = "1";
  }
}

function setFound(group, found) {
  const where = found.test ? "test image" : "stored image";
  setPicture(group, found.pixels, found.truth, `${where} #${found.index}: ${found.source}`);
}

function showStart(group, found) {
  // The example the server drew and answered with the page's list of runs: no request more.
  setFound(group, found);
  draw($("canvas", group.node), found.pixels, group.shape);
  for (const answer of found.answers) {
    showAnswer($(`.card[data-run="${answer.run}"]`, group.node), state.runs[answer.run], answer, group.truth);
  }
  group.node.dataset.shown = "0,0";
  group.node.dataset.pending = "0";
}

async function randomPicture(group) {
  awaiting([group]);
  try {
    const found = await call(`/api/random?group=${group.id}`);
    say("");
    state.shift = [0, 0];
    setFound(group, found);
    await Promise.all(state.groups.map(predictGroup));
  } catch (err) {
    group.node.dataset.pending = "0";
    say(err.message);
  }
}

async function upload(file) {
  if (!file) return;
  awaiting(state.groups.filter((g) => g.pixels));
  try {
    const reply = await call("/api/image", { method: "POST", body: file });
    say("");
    state.shift = [0, 0];
    for (const group of state.groups) {
      const pixels = reply.pixels[String(group.id)];
      if (pixels) setPicture(group, pixels, null, `${file.name}, scaled to ${group.shape.join("x")}`);
    }
    predictAll();
  } catch (err) {
    say(err.message); // the picture shown before stays
    predictAll();
  }
}

function move(dx, dy) {
  if (!state.groups.some((g) => g.pixels)) return;
  const limit = Math.max(...state.groups.map((g) => Math.max(g.shape[0], g.shape[1])));
  const clamp = (v) => Math.max(-limit, Math.min(limit, v));
  state.shift = dx === null ? [0, 0] : [clamp(state.shift[0] + dx), clamp(state.shift[1] + dy)];
  predictAll();
}

function groupSection(info) {
  const group = { ...info, pixels: null, truth: null, ticket: 0 };
  const runs = info.runs.map((id) => state.runs[id]);
  const arrow = (cls, label, dx, dy, text) =>
    element("button", { class: cls, "aria-label": label, title: label, onclick: () => move(dx, dy) }, text);
  const picture = element("div", { class: "picture" },
    element("h2", {}, `${info.dataset} · ${info.shape.join("x")}`),
    element("canvas", { width: info.shape[1] * SCALE, height: info.shape[0] * SCALE }),
    element("button", { class: "random", onclick: () => randomPicture(group) }, "Random test image"),
    element("div", { class: "pad" },
      arrow("up", "shift up", 0, -1, "↑"), arrow("left", "shift left", -1, 0, "←"),
      arrow("reset", "no shift: the picture as it was given", null, null, "0"), arrow("right", "shift right", 1, 0, "→"),
      arrow("down", "shift down", 0, 1, "↓")),
    element("p", { class: "meta explain" },
      "The arrows move the picture one pixel (so do the arrow keys); 0 puts it back. " +
      "A network that learnt the picture's pixels, not its shapes, changes its answer."),
    element("div", { class: "offset meta" }, "shift 0 right, 0 down"),
    element("div", { class: "truth" }),
    element("div", { class: "source" }, info.uploads ? "" : "This set takes no uploads."));
  group.node = element("section", { class: "group", dataset: { group: info.id, pending: "0" } },
    picture, element("div", { class: "cards" }, ...runs.map(modelCard)));
  state.groups.push(group);
  return group.node;
}

// --- tabular runs --------------------------------------------------------------------------

// Tabular sets whose features are an image's pixels: [height, width, the value of full ink].
// Their form is the picture itself, drawn large; a click inks a pixel or clears an inked one.
const PIXEL_SETS = { digits: [8, 8, 16] };
const CELL = 28; // screen pixels per feature

function pixelEditor(run, inputs, changed) {
  const [h, w, ink] = PIXEL_SETS[run.dataset];
  const canvas = element("canvas", { class: "pixels", width: w * CELL, height: h * CELL,
    title: "Click a square to ink it, click again to clear it; drag to draw" });
  const paint = () => {
    const context = canvas.getContext("2d");
    for (let i = 0; i < h * w; i++) {
      const level = 255 - Math.round(255 * Math.max(0, Math.min(1, Number(inputs[i].value) / ink)));
      context.fillStyle = `rgb(${level},${level},${level})`;
      context.fillRect((i % w) * CELL, Math.floor(i / w) * CELL, CELL, CELL);
    }
    context.strokeStyle = "#ccc";
    for (let x = 0; x <= w; x++) context.strokeRect(x * CELL, 0, 0, h * CELL);
    for (let y = 0; y <= h; y++) context.strokeRect(0, y * CELL, w * CELL, 0);
  };
  let drawing = null; // the value a drag paints with
  const at = (e) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - box.left) / box.width) * w);
    const y = Math.floor(((e.clientY - box.top) / box.height) * h);
    return x >= 0 && x < w && y >= 0 && y < h ? y * w + x : null;
  };
  const set = (i) => {
    if (i === null || Number(inputs[i].value) === drawing) return;
    inputs[i].value = String(drawing);
    paint();
  };
  canvas.addEventListener("pointerdown", (e) => {
    const i = at(e);
    if (i === null) return;
    drawing = Number(inputs[i].value) >= ink / 2 ? 0 : ink;
    set(i);
  });
  canvas.addEventListener("pointermove", (e) => { if (drawing !== null) set(at(e)); });
  const done = () => { if (drawing !== null) { drawing = null; changed(); } };
  canvas.addEventListener("pointerup", done);
  canvas.addEventListener("pointerleave", done);
  paint();
  return { canvas, paint };
}

function tabularSection(run) {
  const size = run.shape.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: size }, (_, i) =>
    element("input", { type: "number", step: "any", value: "0", name: `x${i + 1}` }));
  const asPicture = run.dataset in PIXEL_SETS
    && PIXEL_SETS[run.dataset][0] * PIXEL_SETS[run.dataset][1] === size;
  const truth = element("div", { class: "truth" });
  const card = modelCard(run);
  for (const input of inputs) {
    input.addEventListener("input", () => { truth.textContent = ""; truth.dataset.truth = ""; });
  }
  const ask = async () => {
    try {
      const features = inputs.map((input) => input.value.trim() === "" ? null : Number(input.value));
      const reply = await call("/api/predict", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ run: run.id, features }),
      });
      say("");
      showAnswer(card, run, reply.answers[0], truth.dataset.truth);
    } catch (err) {
      say(err.message);
    }
  };
  const editor = asPicture ? pixelEditor(run, inputs, () => {
    truth.textContent = ""; truth.dataset.truth = ""; ask();
  }) : null;
  const fill = (found) => {
    found.features.forEach((v, i) => { inputs[i].value = String(v); });
    if (editor) editor.paint();
    truth.dataset.truth = found.truth ?? "";
    truth.textContent = found.truth == null ? "" : `true ${run.task === "classification" ? "class" : "value"}: ${found.truth}`;
  };
  const random = async () => {
    $(".answer", card).replaceChildren(); // the old answer goes with the old example
    truth.textContent = "";
    try {
      fill(await call(`/api/random?run=${run.id}`));
      await ask();
    } catch (err) {
      say(err.message);
    }
  };
  const fields = editor
    ? element("div", { class: "fields drawn" }, editor.canvas,
      element("div", { hidden: "" }, ...inputs), // the values sent, kept by the picture
      element("p", { class: "meta explain" },
        `The ${size} features are the pixels of a ${PIXEL_SETS[run.dataset][0]}×` +
        `${PIXEL_SETS[run.dataset][1]} picture (0 white to ${PIXEL_SETS[run.dataset][2]} black). ` +
        "Click a square to ink it or clear it, or drag to draw: the answer follows."))
    : element("div", { class: "fields" },
      ...inputs.map((input, i) => element("label", {}, `feature ${i + 1}`, input)));
  const form = element("form", { class: "form", onsubmit: (e) => { e.preventDefault(); ask(); } },
    element("h2", {}, `${run.dataset} · ${size} features`), fields,
    element("button", { type: "submit" }, "Predict"), " ",
    element("button", { type: "button", onclick: random }, "Random test example"), truth);
  const section = element("section", { class: "tab", dataset: { run: run.id } }, form, card);
  section.random = random;
  section.start = (found) => { fill(found); showAnswer(card, run, found.answers[0], truth.dataset.truth); };
  return section;
}

// --- start ---------------------------------------------------------------------------------

async function start() {
  let info;
  try {
    info = await call("/api/runs");
  } catch (err) {
    say(err.message);
    return;
  }
  state.runs = info.runs;
  $("#groups").append(...info.groups.map(groupSection));
  const forms = info.tabular.map((id) => tabularSection(state.runs[id]));
  $("#tabular").append(...forms);
  const takesPictures = info.groups.some((g) => g.uploads);
  $(".toolbar").hidden = !takesPictures;
  $("#file").addEventListener("change", (e) => { upload(e.target.files[0]); e.target.value = ""; });

  const keys = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  document.addEventListener("keydown", (e) => {
    if (!(e.key in keys) || e.target.closest("input, textarea, select")) return;
    e.preventDefault();
    move(...keys[e.key]);
  });
  let depth = 0;
  const overlay = $("#dropping");
  document.addEventListener("dragenter", (e) => { e.preventDefault(); depth++; overlay.hidden = !takesPictures; });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; overlay.hidden = true; } });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    if (takesPictures) upload(e.dataTransfer.files[0]);
  });
  // the page opens on a test example of every set and each model's answer to it, drawn and
  // answered by the server with the list of runs, so no card is ever shown empty
  const begun = info.start || { groups: [], tabular: {} };
  state.groups.forEach((group, i) => { if (begun.groups[i]) showStart(group, begun.groups[i]); });
  info.tabular.forEach((id, i) => { if (begun.tabular[String(id)]) forms[i].start(begun.tabular[String(id)]); });
  await Promise.all([
    ...state.groups.filter((group, i) => !begun.groups[i]).map(randomPicture),
    ...forms.filter((form, i) => !begun.tabular[String(info.tabular[i])]).map((form) => form.random()),
  ]);
  document.body.dataset.ready = "1";
}

start();
