(function () {
  "use strict";
  var box = document.querySelector(".filters");
  if (!box) { return; }
  box.hidden = false;
  var buttons = box.querySelectorAll("button");
  function show(filter) {
    document.querySelectorAll("tr[data-status]").forEach(function (row) {
      var s = row.getAttribute("data-status");
      var open = s === "fail" || s === "error" || s === "warn";
      row.hidden = !(filter === "all" || s === filter || (filter === "open" && open));
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === filter));
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-filter")); });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    show("all");
  });
})();
