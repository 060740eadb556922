// Live updates for the ticket page: follows /tickets/{id}/events (the session cookie
// authenticates it) and appends log lines to each step's pane and updates the state badge.
// The page works without it; this only saves reloading.
"use strict";
(function () {
  const runs = document.getElementById("runs");
  if (!runs || runs.dataset.live !== "true" || !window.EventSource) return;
  const id = runs.dataset.ticket;
  const initial = document.getElementById("state").dataset.state;
  const source = new EventSource("/tickets/" + encodeURIComponent(id) + "/events?after=" + runs.dataset.after);

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

  function setStatus(run, step, status) {
    const dot = document.getElementById("status-" + run + "-" + step);
    if (dot) { dot.className = "dot " + status; dot.setAttribute("aria-label", status); }
    const text = document.getElementById("status-text-" + run + "-" + step);
    if (text) text.textContent = status;
  }

  source.addEventListener("log", function (e) {
    const line = JSON.parse(e.data);
    const log = pane(line.run, line.step);
    const span = document.createElement("span");
    span.className = line.stream;
    span.textContent = line.text;
    log.appendChild(span);
    log.scrollTop = log.scrollHeight;
  });

  source.addEventListener("ticket", function (e) {
    const t = JSON.parse(e.data);
    const badge = document.getElementById("state");
    badge.textContent = t.state.replace(/_/g, " ");
    badge.dataset.state = t.state;
    const tone = { succeeded: "good", running: "running", awaiting_approval: "waiting", changes_requested: "waiting",
      failed: "bad", interrupted: "bad", rejected: "bad", denied: "bad", expired: "bad", cancelled: "bad", plan_failed: "bad" };
    badge.className = "badge " + (tone[t.state] || "neutral");
    (t.runs || []).forEach(function (run) {
      (run.steps || []).forEach(function (step) {
        pane(run.number, step.index, step.name);
        setStatus(run.number, step.index, step.outcome ? step.outcome.status : "running");
      });
      const outcome = document.getElementById("run-" + run.number + "-outcome");
      if (outcome) outcome.textContent = run.outcome ? run.outcome.status : "in progress";
    });
    if (t.state !== initial) {
      document.getElementById("changed").hidden = false;
      document.getElementById("headline").textContent = "";
    }
  });

  source.addEventListener("end", function () { source.close(); });
})();
