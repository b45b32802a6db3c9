// Live updates for the Ferry UI: no framework, no build step.
// A page that shows something still going carries data-poll (a JSON URL) on <body>.
// The runs page reloads when its pipeline's records change; a run or step page updates
// statuses and counts in place and reloads once the run has finished, to show it all.
// Once the page is being left (a form sent, a link followed) it neither polls nor reloads:
// a reload would cancel that navigation. Run now writes the new run's record before its
// answer arrives, so the runs page's poll could see the record first and reload, leaving
// the browser on the runs page instead of the run.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.poll;
  if (!url) { return; }
  var PERIOD_MS = 1000;
  var TIMEOUT_MS = 5000;
  var leaving = false;
  var pending = null;

  function stay() {
    if (leaving) { return; }
    if (pending !== null) { clearTimeout(pending); }
    pending = setTimeout(poll, PERIOD_MS);
  }
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { leaving = false; stay(); }  // back to this page from the cache
  });

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

  function reload() {
    if (!leaving) { window.location.reload(); }
  }

  function poll() {
    pending = null;
    if (leaving) { return; }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(url, { headers: { "Accept": "application/json" }, signal: controller.signal, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        clearTimeout(timer);
        if (leaving) { return; }
        if (state && state.version !== undefined) {
          if (state.version !== body.dataset.version) { reload(); return; }
        } else if (state && state.tasks) {
          if (updateRun(state)) { reload(); return; }
        }
        stay();
      })
      .catch(function () {
        clearTimeout(timer);
        if (!leaving) { pending = setTimeout(poll, PERIOD_MS * 3); }
      });
  }
  stay();
}());
