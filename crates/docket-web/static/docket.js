// Live updates for the ticket page: follows /tickets/{id}/events (the session cookie
// authenticates it), appends log lines to each step's pane and keeps the steps' status; each
// time the ticket changes it asks the server for the page's panels as they are now
// (/tickets/{id}/panels: the state and headline, the viewer's actions, why it needs approval,
// approvals and comments) and puts them in place, keeping what the viewer was typing. When
// the stream says a step left a result the page does not show yet, it asks for the results
// part (/tickets/{id}/results) and puts it in place.
// The page works without it; this only saves reloading.
"use strict";
(function () {
  const runs = document.getElementById("runs");
  if (!runs || runs.dataset.live !== "true" || !window.EventSource) return;
  const id = runs.dataset.ticket;
  const base = "/tickets/" + encodeURIComponent(id);
  // The plan the page shows: the server offers approving only that one.
  const status = document.getElementById("ticket-status");
  const digest = status ? status.dataset.digest : "";
  const source = new EventSource(base + "/events?after=" + runs.dataset.after);
  const notes = { pending: "Not started", running: "Running; no output yet" };

  function pane(run, step, name) {
    let log = document.getElementById("log-" + run + "-" + step);
    if (log) return log;
    let block = runs.querySelector('.run[data-run="' + run + '"]');
    if (!block) {
      block = document.createElement("div");
      block.className = "run";
      block.dataset.run = run;
      const h = document.createElement("h3");
      h.textContent = "Run " + run;
      block.appendChild(h);
      runs.appendChild(block);
    }
    const details = document.createElement("details");
    details.className = "step";
    details.id = "step-" + run + "-" + step;
    details.open = true;
    const summary = document.createElement("summary");
    const dot = document.createElement("span");
    dot.className = "dot running";
    dot.id = "status-" + run + "-" + step;
    summary.appendChild(dot);
    summary.appendChild(document.createTextNode(" " + (name || "step " + (step + 1))));
    details.appendChild(summary);
    log = document.createElement("pre");
    log.className = "log";
    log.id = "log-" + run + "-" + step;
    details.appendChild(log);
    block.appendChild(details);
    return log;
  }

  function setStatus(run, step, state) {
    const dot = document.getElementById("status-" + run + "-" + step);
    if (dot) { dot.className = "dot " + state; dot.setAttribute("aria-label", state); }
    const text = document.getElementById("status-text-" + run + "-" + step);
    if (text) text.textContent = state;
    const note = document.getElementById("note-" + run + "-" + step);
    if (note) note.textContent = notes[state] || "No output";
  }

  // The panels from the server replace the page's, keeping the viewer's typing, focus and
  // open sections. One request at a time; a change during it asks again afterwards.
  let asking = false, again = false;
  function refresh() {
    if (asking) { again = true; return; }
    asking = true;
    fetch(base + "/panels?digest=" + encodeURIComponent(digest), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) swap(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () {})
      .then(function () {
        asking = false;
        if (again) { again = false; refresh(); }
      });
  }

  function swap(doc) {
    ["ticket-status", "side"].forEach(function (part) {
      const fresh = doc.getElementById(part), old = document.getElementById(part);
      if (!fresh || !old) return;
      const focused = old.contains(document.activeElement) ? document.activeElement.id : "";
      old.querySelectorAll("input[id], textarea[id], select[id]").forEach(function (field) {
        const twin = fresh.querySelector("#" + CSS.escape(field.id));
        if (twin && field.type !== "hidden" && field.value) twin.value = field.value;
      });
      old.querySelectorAll("details[id]").forEach(function (d) {
        const twin = fresh.querySelector("#" + CSS.escape(d.id));
        if (twin) twin.open = d.open;
      });
      old.innerHTML = fresh.innerHTML;
      const back = focused && document.getElementById(focused);
      if (back) back.focus();
    });
  }

  source.addEventListener("log", function (e) {
    const line = JSON.parse(e.data);
    const log = pane(line.run, line.step);
    log.hidden = false;
    const note = document.getElementById("note-" + line.run + "-" + line.step);
    if (note) note.remove();
    const span = document.createElement("span");
    span.className = line.stream;
    span.textContent = line.text;
    log.appendChild(span);
    log.scrollTop = log.scrollHeight;
  });

  source.addEventListener("ticket", function (e) {
    const t = JSON.parse(e.data);
    (t.runs || []).forEach(function (run) {
      (run.steps || []).forEach(function (step) {
        pane(run.number, step.index, step.name);
        setStatus(run.number, step.index, step.outcome ? step.outcome.status : "running");
      });
      const outcome = document.getElementById("run-" + run.number + "-outcome");
      if (outcome) outcome.textContent = run.outcome ? run.outcome.status : "in progress";
    });
    refresh();
  });

  // The results part, asked for again when a result it does not show is announced; one
  // request at a time, asking again afterwards if another was announced meanwhile.
  let fetching = false, refetch = false;
  function shownResults() {
    const part = document.getElementById("results");
    return part ? (part.dataset.shown || "").split(" ") : [];
  }
  function fetchResults() {
    if (fetching) { refetch = true; return; }
    fetching = true;
    fetch(base + "/results", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("results");
        const old = document.getElementById("results");
        if (fresh && old) { old.innerHTML = fresh.innerHTML; old.dataset.shown = fresh.dataset.shown || ""; }
      })
      .catch(function () {})
      .then(function () {
        fetching = false;
        if (refetch) { refetch = false; fetchResults(); }
      });
  }

  source.addEventListener("result", function (e) {
    const r = JSON.parse(e.data);
    if (shownResults().indexOf(r.run + ":" + r.step) < 0) fetchResults();
  });

  source.addEventListener("end", function () {
    source.close();
    refresh();
  });
})();
