// The market page: browse, preview, search similar, upload, download. Every text from the API is
// set with textContent, never as HTML.
"use strict";
const state = { key: localStorage.getItem("aivj-market-key") || "", offset: 0, tier: "free" };
const $ = (id) => document.getElementById(id);

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.key) h["X-API-Key"] = state.key;
  return h;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function loadPreview(img, t) {
  try {
    const blob = await (await api(`/api/templates/${t.id}/preview.webp`)).blob();
    img.src = URL.createObjectURL(blob);
  } catch (e) { img.alt = "no preview"; }
}

function card(t) {
  const box = el("div", `card ${t.kind}`);
  box.dataset.id = t.id;
  box.dataset.kind = t.kind;
  if (t.preview) {
    const img = el("img");
    img.alt = `${t.fg.name} over ${t.bg.name}`;
    loadPreview(img, t);
    box.append(img);
  } else {
    box.append(el("div", "noimg", t.preview_note || "no preview"));
  }
  box.append(el("div", "rank", `#${t.rank}  ${t.score.toFixed(3)}${t.kind === "upload" ? "  (your upload)" : ""}`));
  box.append(el("div", "names", `FG ${t.fg.name}`), el("div", "names", `BG ${t.bg.name}`));
  box.append(el("div", "tags", [...new Set([...t.fg.style_tags, ...t.bg.style_tags])].join(", ")));
  const similar = el("button", "similar", "similar");
  similar.onclick = () => showSimilar(api(`/api/templates/${t.id}/similar?k=8`), `to #${t.rank}`);
  box.append(similar);
  if (t.downloadable) {
    const dl = el("button", "download", "download");
    dl.onclick = () => download(t);
    box.append(dl);
  }
  return box;
}

async function download(t) {
  const blob = await (await api(`/api/templates/${t.id}/download`)).blob();
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = `aivj-template-${t.id}.zip`;
  document.body.append(a);
  a.click();
  a.remove();
}

async function showSimilar(request, title) {
  const list = $("similar");
  list.replaceChildren();
  $("similar-title").textContent = title;
  try {
    const doc = await (await request).json();
    for (const r of doc.results) {
      list.append(el("li", "", `${r.distance.toFixed(2)}  #${r.rank}  ${r.fg.name} / ${r.bg.name}`));
    }
  } catch (e) { list.append(el("li", "error", e.message)); }
}

async function loadPage(reset) {
  if (reset) { state.offset = 0; $("grid").replaceChildren(); }
  const doc = await (await api(`/api/templates?offset=${state.offset}&limit=60`)).json();
  for (const t of doc.templates) $("grid").append(card(t));
  state.offset += doc.templates.length;
  $("count").textContent = `(${doc.total})`;
  $("more").hidden = state.offset >= doc.total;
}

async function refresh() {
  try {
    const who = await (await api("/api/tier")).json();
    state.tier = who.tier;
    $("tier").textContent = who.tier === "premium"
      ? `premium (${who.client}): ${who.templates} templates`
      : `free tier: the top ${who.templates} elite templates`;
    $("upload-box").hidden = who.tier !== "premium";
    await loadPage(true);
  } catch (e) { $("tier").textContent = e.message; $("tier").className = "error"; }
}

async function upload() {
  const out = $("upload-result");
  const fg = $("upload-fg").files[0], bg = $("upload-bg").files[0];
  if (!fg || !bg) { out.textContent = "choose an FG and a BG .milk file"; out.className = "error"; return; }
  out.textContent = "scoring..."; out.className = "";
  const body = { fg: { name: fg.name, text: await fg.text() }, bg: { name: bg.name, text: await bg.text() } };
  try {
    const t = await (await api("/api/uploads", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } })).json();
    out.textContent = `ranked #${t.rank} of ${t.library_size}: score ${t.score.toFixed(3)} (${t.scoring.path} path)`;
    out.dataset.id = t.id;
    await loadPage(true);
  } catch (e) { out.textContent = `rejected: ${e.message}`; out.className = "error"; }
}

$("key").value = state.key;
$("key-form").onsubmit = (ev) => { ev.preventDefault(); state.key = $("key").value.trim(); localStorage.setItem("aivj-market-key", state.key); refresh(); };
$("clear-key").onclick = () => { state.key = ""; $("key").value = ""; localStorage.removeItem("aivj-market-key"); refresh(); };
$("upload-btn").onclick = upload;
$("more").onclick = () => loadPage(false);
$("similar-file").onchange = async () => {
  const f = $("similar-file").files[0];
  if (f) showSimilar(api("/api/similar?k=8", { method: "POST", body: JSON.stringify({ preset: await f.text() }), headers: { "Content-Type": "application/json" } }), `to ${f.name}`);
};
refresh();
