// Pages that follow the farm as it changes, with no framework.
//
// BuildAPILive.listen(names, handler): one EventSource on /events per page; handler(name, data)
//   runs for each event named in `names` ("build", "request", "job", "reset"; see docs/api.md).
// BuildAPILive.refresh(): fetch this page again and swap each [data-live-region] element (by
//   id) for the new one, keeping the sort a reader chose in its tables.
// The <script> tag says what the page wants:
//   data-events="URL of /events"           where the events are (the mount prefix included)
//   data-follow="build request"            refresh the regions on these events (and on reset)
//   data-poll="URL" data-poll-until="KEY"  fetch URL (JSON) every second until KEY is not
//                                           null, then refresh the regions once and stop
(function () {
  "use strict";
  var script = document.currentScript;
  var source = null;
  var busy = false, again = false, last = 0;
  var REFRESH_SPACING_MS = 2000, POLL_MS = 1000;

  function listen(names, handler) {
    if (source === null) { source = new EventSource(script.dataset.events); }
    names.forEach(function (name) {
      source.addEventListener(name, function (event) {
        handler(name, JSON.parse(event.data));
      });
    });
    return source;
  }

  function chosenSort(region) {
    var sorts = {};
    region.querySelectorAll("table.sortable").forEach(function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, column) {
        var order = heading.getAttribute("aria-sort");
        if (order) { sorts[table.id] = [column, order === "descending"]; }
      });
    });
    return sorts;
  }

  function swap(fresh) {
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      var replacement = fresh.getElementById(region.id);
      if (!replacement) { return; }
      var sorts = chosenSort(region);
      replacement = document.importNode(replacement, true);
      region.replaceWith(replacement);
      if (window.BuildAPISortable) {
        window.BuildAPISortable.attach(replacement);
        replacement.querySelectorAll("table.sortable").forEach(function (table) {
          if (sorts[table.id]) { window.BuildAPISortable.sort(table, sorts[table.id][0], sorts[table.id][1]); }
        });
      }
    });
  }

  // At most one fetch at a time, two seconds apart; changes during a fetch make one more.
  function refresh() {
    if (busy) { again = true; return; }
    var wait = Math.max(0, last + REFRESH_SPACING_MS - Date.now());
    busy = true;
    setTimeout(function () {
      fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (text !== null) { swap(new DOMParser().parseFromString(text, "text/html")); }
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          last = Date.now();
          document.documentElement.dataset.liveRefreshed = String(last);
          if (again) { again = false; refresh(); }
        });
    }, wait);
  }

  function pollUntil(url, key) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .catch(function () { return {}; })
      .then(function (data) {
        if (data[key] !== null && data[key] !== undefined) { refresh(); return; }
        setTimeout(function () { pollUntil(url, key); }, POLL_MS);
      });
  }

  window.BuildAPILive = { listen: listen, refresh: refresh };
  if (script.dataset.follow) {
    listen(script.dataset.follow.split(" ").concat(["reset"]), refresh);
  }
  if (script.dataset.poll) {
    setTimeout(function () { pollUntil(script.dataset.poll, script.dataset.pollUntil); }, POLL_MS);
  }
})();
