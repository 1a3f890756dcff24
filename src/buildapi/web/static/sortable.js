// Click a column heading of a table.sortable to sort by it; click again to reverse.
// Cells may carry data-sort with the value to compare (numbers compare as numbers).
// BuildAPISortable.attach(root) makes the tables under root sortable (a region swapped in by
// live.js); BuildAPISortable.sort(table, column, descending) sorts as a click would.
(function () {
  "use strict";
  function value(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent.trim(); }
    var number = Number(raw);
    return raw !== "" && !isNaN(number) ? number : raw.toLowerCase();
  }
  function sortBy(table, column, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[column]), y = value(b.cells[column]);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function sort(table, column, descending) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    table.tHead.rows[0].cells[column].setAttribute("aria-sort", descending ? "descending" : "ascending");
    sortBy(table, column, descending);
  }
  function attach(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, column) {
        heading.classList.add("sortable-heading");
        heading.addEventListener("click", function () {
          sort(table, column, heading.getAttribute("aria-sort") === "ascending");
        });
      });
    });
  }
  window.BuildAPISortable = { attach: attach, sort: sort };
  attach(document);
})();
