// hubrota run page: polls the run's JSON and redraws its figures and chart until it ends.
(function () {
  "use strict";
  var panel = document.getElementById("run-progress");
  if (!panel || panel.dataset.active !== "yes") { return; }
  var url = panel.dataset.url;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function show(run) {
    var badge = document.createElement("span");
    badge.className = "badge " + ({ done: "good", running: "blue", queued: "blue" }[run.status] || "bad");
    badge.textContent = run.status;
    var status = document.getElementById("run-status");
    status.replaceChildren(badge);
    text("run-phase", run.phase ? run.phase_number + "/" + run.phases + " " + run.phase : "—");
    text("run-elapsed", run.elapsed !== undefined ? run.elapsed.toFixed(1) + " s" : "—");
    text("run-best", run.best !== null && run.best !== undefined ? String(run.best) : "—");
    text("run-bound", run.bound !== null && run.bound !== undefined ? String(run.bound) : "—");
    text("run-gap", run.gap !== null && run.gap !== undefined ? (100 * run.gap).toFixed(1) + "%" : "—");
    text("run-message", run.message || "");
    document.getElementById("run-best-line").setAttribute("points", run.points.best);
    document.getElementById("run-bound-line").setAttribute("points", run.points.bound);
    text("run-chart-phase", run.points.phase);
    text("run-high", run.points.high);
    text("run-low", run.points.low);
    text("run-from", run.points.from);
    text("run-to", run.points.to);
    if (run.result_url) {
      document.getElementById("run-result-link").setAttribute("href", run.result_url);
      document.getElementById("run-result").hidden = false;
    }
    var figures = run.figures || {};
    text("run-required", figures.required || "—");
    text("run-contract", figures.contract || "—");
    text("run-fairness", figures.fairness || "—");
    text("run-objective", run.objective !== null && run.objective !== undefined ? String(run.objective) : "—");
    document.getElementById("run-figures-note").hidden = !run.active;
    var button = document.getElementById("cancel-run");
    if (button && !run.active) {
      button.closest("form").remove();  // nothing left to cancel
    } else if (button && run.cancel_requested) {
      button.disabled = true;
      button.textContent = "Stopping…";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        show(run);
        if (run.active) {
          setTimeout(poll, 1000);
        } else {
          panel.dataset.active = "no";
          panel.classList.add("ended");
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
