// Live updates for the Ferry UI: no framework, no build step.
// A page that shows something still going carries data-poll (a JSON URL) on <body>.
// The runs page reloads when its pipeline's records change; a run or step page updates
// statuses and counts in place and reloads once the run has finished, to show it all.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.poll;
  if (!url) { return; }
  var PERIOD_MS = 1000;
  var TIMEOUT_MS = 5000;

  function setStatus(element, status) {
    if (!element) { return; }
    Array.prototype.slice.call(element.classList).forEach(function (name) {
      if (name.indexOf("status-") === 0) { element.classList.remove(name); }
    });
    element.classList.add("status-" + status.toLowerCase());
    if (element.dataset.field === "status") { element.textContent = status; }
  }

  function matching(selector, name) {
    return Array.prototype.filter.call(document.querySelectorAll(selector), function (el) {
      return el.dataset.task === name;
    });
  }

  function updateRun(state) {
    setStatus(document.querySelector("#run-status [data-field=status]"), state.status);
    state.tasks.forEach(function (task) {
      matching("svg.dag .node", task.name).forEach(function (node) { setStatus(node, task.status); });
      matching("#steps tr", task.name).forEach(function (row) {
        setStatus(row.querySelector("[data-field=status]"), task.status);
        ["attempts", "duration", "rows_in", "rows_out", "rows_rejected", "quality_score"].forEach(function (field) {
          var cell = row.querySelector("[data-field=" + field + "]");
          if (cell) { cell.textContent = String(task[field]); }
        });
      });
      if (body.dataset.step === task.name) {
        setStatus(document.querySelector("#step-status [data-field=status]"), task.status);
      }
    });
    return state.finished;
  }

  function poll() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(url, { headers: { "Accept": "application/json" }, signal: controller.signal, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        clearTimeout(timer);
        if (state && state.version !== undefined) {
          if (state.version !== body.dataset.version) { window.location.reload(); return; }
        } else if (state && state.tasks) {
          if (updateRun(state)) { window.location.reload(); return; }
        }
        setTimeout(poll, PERIOD_MS);
      })
      .catch(function () { clearTimeout(timer); setTimeout(poll, PERIOD_MS * 3); });
  }
  setTimeout(poll, PERIOD_MS);
}());
