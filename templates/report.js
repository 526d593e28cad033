// Filters the results table by status. Without JavaScript the page is complete: every row
// shows and the filter buttons stay hidden.
(function () {
  "use strict";
  var box = document.querySelector(".filters");
  if (!box) { return; }
  box.hidden = false;
  var buttons = box.querySelectorAll("button");
  var empty = document.querySelector(".filter-empty");
  var OPEN = { fail: true, error: true, warn: true };
  function show(filter) {
    var shown = 0;
    document.querySelectorAll("details.area").forEach(function (area) {
      var inArea = 0;
      area.querySelectorAll("tbody.check").forEach(function (group) {
        var inGroup = 0;
        group.querySelectorAll("tr[data-status]").forEach(function (row) {
          var s = row.getAttribute("data-status");
          var visible = filter === "all" || s === filter || (filter === "open" && OPEN[s] === true);
          row.hidden = !visible;
          if (visible) { inGroup += 1; }
        });
        group.hidden = inGroup === 0;
        inArea += inGroup;
      });
      area.hidden = inArea === 0;
      shown += inArea;
    });
    if (empty) { empty.hidden = shown !== 0; }
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === filter));
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-filter")); });
  });
  // Paper shows everything, whatever was filtered or folded on screen.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    show("all");
  });
})();
