// funnelspec report: sortable tables. The page is complete without scripts; this only adds sorting.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var sort = cell.getAttribute("data-sort");
    if (sort !== null && sort !== "" && sort !== "None" && !isNaN(Number(sort))) return Number(sort);
    return cell.textContent.trim();
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return a.localeCompare(b, undefined, { numeric: true });
  }

  function sortBy(table, header, index) {
    var body = table.tBodies[0];
    if (!body) return;
    var descending = !header.classList.contains("sorted-desc");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.classList.remove("sorted-asc", "sorted-desc");
    });
    header.classList.add(descending ? "sorted-desc" : "sorted-asc");
    var pinned = [], rows = [];
    Array.prototype.forEach.call(body.rows, function (row) {
      (row.classList.contains("whole") || row.classList.contains("total") ? pinned : rows).push(row);
    });
    rows.sort(function (r1, r2) {
      var order = compare(cellValue(r1, index), cellValue(r2, index));
      return descending ? -order : order;
    });
    pinned.filter(function (r) { return r.classList.contains("whole"); }).concat(rows)
      .concat(pinned.filter(function (r) { return r.classList.contains("total"); }))
      .forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.title = "Sort by this column";
      header.addEventListener("click", function () { sortBy(table, header, index); });
    });
  });

  document.documentElement.setAttribute("data-report-ready", "true");
})();
