// The push grid without reloads: a click on a cell opens its panel (builder, state, result,
// links, rebuild and cancel); the grid's one form posts each action as JSON, the job is
// polled until the agent has done it, then that push's cells are fetched again. When the
// page names an event stream, its build and request events refresh their push too.
(function () {
  "use strict";
  var table = document.getElementById("grid");
  var form = document.getElementById("grid-actions");
  var panel = document.getElementById("grid-panel");
  if (!table || !form || !panel) return;
  var base = table.dataset.base;
  var POLL_MS = 300;
  var POLL_DEADLINE_MS = 60000;
  var RESULT_NAMES = ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"];

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An agent's answer can list an error per build; the status line keeps its start, the
  // tooltip and the job's page the whole of it.
  function shortened(text) {
    return text.length > 140 ? text.slice(0, 140) + "…" : text;
  }

  function stateClass(job) {
    if (job.state !== "finished") return job.state;
    return job.result === null ? "finished" : "result" + job.result;
  }

  function resultName(code) {
    return code === "" || code === null || code === undefined ? "" : RESULT_NAMES[Number(code)] || String(code);
  }

  function cellFor(job) {
    var target = job.build_id !== null ? base + "/build/" + job.build_id : base + "/request/" + job.request_ids[0];
    var title = job.buildername + ": " + job.state + (job.result !== null ? ", " + resultName(job.result) : "");
    return element("a", {
      "class": "cell " + stateClass(job),
      href: target,
      title: title,
      "data-builder": job.buildername,
      "data-state": job.state,
      "data-result": job.result === null ? "" : String(job.result),
      "data-build-id": job.build_id === null ? "" : String(job.build_id),
      "data-request-ids": job.request_ids.join(" ")
    }, job.label);
  }

  // The actions a job allows: the write API's routes, as the grid's form submits them.
  function actionsOf(cell) {
    var buildId = cell.dataset.buildId;
    var requestId = cell.dataset.requestIds.split(" ")[0];
    var state = cell.dataset.state;
    var actions = [];
    if (state === "pending") {
      actions.push({ label: "cancel", path: base + "/request/" + requestId, method: "DELETE" });
    } else if (state === "running" && buildId) {
      actions.push({ label: "cancel", path: base + "/build/" + buildId, method: "DELETE" });
    } else if (state === "running") {
      actions.push({ label: "cancel", path: base + "/request/" + requestId, method: "DELETE" });
    }
    if (buildId) {
      actions.push({ label: "rebuild", path: base + "/build", name: "build_id", value: buildId });
    } else {
      actions.push({ label: "rebuild", path: base + "/request", name: "request_id", value: requestId });
    }
    return actions;
  }

  function actionButton(action) {
    var target = action.path + (action.method ? "?_method=" + action.method : "");
    var button = element("button", { type: "submit", form: form.id, formaction: target }, action.label);
    if (action.name) {
      button.name = action.name;
      button.value = action.value;
    }
    return button;
  }

  function openPanel(cell) {
    panel.textContent = "";
    panel.cell = cell;
    var close = element("button", { type: "button", "class": "close", "aria-label": "Close" }, "×");
    close.addEventListener("click", function () { panel.hidden = true; });
    panel.appendChild(close);
    panel.appendChild(element("h2", {}, cell.dataset.builder));
    var facts = element("dl");
    var result = resultName(cell.dataset.result);
    [["State", cell.dataset.state], ["Result", result || "-"]].forEach(function (pair) {
      facts.appendChild(element("dt", {}, pair[0]));
      facts.appendChild(element("dd", { "class": "panel-" + pair[0].toLowerCase() }, pair[1]));
    });
    panel.appendChild(facts);
    var links = element("p", { "class": "panel-links" });
    if (cell.dataset.buildId) {
      links.appendChild(element("a", { href: base + "/build/" + cell.dataset.buildId }, "build " + cell.dataset.buildId));
      links.appendChild(document.createTextNode(" "));
    }
    cell.dataset.requestIds.split(" ").forEach(function (id) {
      links.appendChild(element("a", { href: base + "/request/" + id }, "request " + id));
      links.appendChild(document.createTextNode(" "));
    });
    panel.appendChild(links);
    var buttons = element("p", { "class": "panel-actions" });
    actionsOf(cell).forEach(function (action) { buttons.appendChild(actionButton(action)); });
    panel.appendChild(buttons);
    panel.appendChild(element("p", { "class": "panel-status", role: "status" }));
    panel.hidden = false;
    var box = cell.getBoundingClientRect();
    panel.style.top = (window.scrollY + box.bottom + 4) + "px";
    panel.style.left = Math.max(0, window.scrollX + box.left - 40) + "px";
  }

  // Where a button's progress shows: the panel's status line, or one beside a push's buttons.
  function statusFor(button) {
    if (panel.contains(button)) return panel.querySelector(".panel-status");
    var holder = button.parentNode;
    var status = holder.querySelector(".push-status");
    if (!status) {
      status = element("span", { "class": "push-status", role: "status" });
      holder.appendChild(status);
    }
    return status;
  }

  function pushRowOf(node) {
    return node.closest("tr.push");
  }

  // Poll the job until the agent has done it: its `completed_at` is set.
  function waitForJob(jobId) {
    var deadline = Date.now() + POLL_DEADLINE_MS;
    return new Promise(function (resolve, reject) {
      function poll() {
        fetch(table.dataset.jobsUrl + jobId + "?format=json", { headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (job) {
            if (job.completed_at) return resolve(job);
            if (Date.now() > deadline) return reject(new Error("job " + jobId + " is not done yet"));
            setTimeout(poll, POLL_MS);
          })
          .catch(reject);
      }
      poll();
    });
  }

  // Fetch one push again (the page's filters kept) and redraw its cells.
  function refreshPush(row) {
    var query = new URLSearchParams(window.location.search);
    query.set("format", "json");
    query.set("num", "1");
    query.set("before", String(Number(row.dataset.pushId) + 1));
    return fetch(table.dataset.gridUrl + "?" + query.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var push = data.pushes && data.pushes[0];
        if (!push || String(push.push_id) !== row.dataset.pushId) return;
        row.querySelectorAll("td.platform").forEach(function (td) {
          td.textContent = "";
          push.jobs.forEach(function (job) {
            if (job.platform === td.dataset.platform) td.appendChild(cellFor(job));
          });
        });
        if (panel.cell && !panel.hidden && !panel.cell.isConnected) {
          var key = panel.cell.dataset.buildId
            ? '[data-build-id="' + panel.cell.dataset.buildId + '"]'
            : '[data-request-ids="' + panel.cell.dataset.requestIds + '"]';
          var same = row.querySelector("a.cell" + key);
          var said = panel.querySelector(".panel-status").textContent;
          if (same) {
            openPanel(same);
            panel.querySelector(".panel-status").textContent = said;
          }
        }
      });
  }

  function submitAction(button) {
    var confirmText = button.dataset.confirm;
    if (confirmText && !window.confirm(confirmText)) return;
    var row = pushRowOf(button) || (panel.cell && pushRowOf(panel.cell));
    var body = new URLSearchParams(new FormData(form));
    if (button.name) body.set(button.name, button.value);
    var status = statusFor(button);
    var say = function (text) { status.textContent = text; };
    button.disabled = true;
    say("sending…");
    fetch(button.formAction, { method: "POST", body: body, headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (response.status !== 202) throw new Error(answer.msg || "refused: " + response.status);
          say("job " + answer.request_id + " recorded; waiting for the agent…");
          return waitForJob(answer.request_id);
        });
      })
      .then(function (job) {
        var answer = (job.complete_data && job.complete_data.body) || {};
        var message = String(answer.msg || "");
        say("job " + job.id + (answer.errors ? " done with errors: " : " done: ") + shortened(message));
        status.title = message;
        return row ? refreshPush(row) : null;
      })
      .catch(function (error) { say(error.message); })
      .finally(function () { button.disabled = false; });
  }

  table.addEventListener("click", function (event) {
    var cell = event.target.closest("a.cell");
    if (!cell || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    openPanel(cell);
  });

  // Every action button belongs to the grid's one form; send it without leaving the page.
  form.addEventListener("submit", function (event) {
    if (!event.submitter) return;
    event.preventDefault();
    submitAction(event.submitter);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") panel.hidden = true;
  });

  // Live updates when the page names an event stream; a stream that fails is dropped, the
  // job polling above still refreshes what the user does.
  var eventsUrl = table.dataset.events;
  if (eventsUrl && window.EventSource) {
    var source = new EventSource(eventsUrl);
    var onEvent = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      if (data.branch !== table.dataset.branch || !data.revision) return;
      table.querySelectorAll("tr.push").forEach(function (row) {
        if (row.dataset.revision.indexOf(data.revision) === 0) refreshPush(row);
      });
    };
    source.addEventListener("build", onEvent);
    source.addEventListener("request", onEvent);
    source.onerror = function () { source.close(); };
  }
})();
