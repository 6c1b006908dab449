// hubrota: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Availability editor: each select becomes a button that cycles blank → A → P → U.
  var ORDER = ["", "A", "P", "U"];
  var LABEL = { "": "·", A: "A", P: "P", U: "U" };
  document.querySelectorAll("select.cycle-source").forEach(function (select) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "cycle";
    var original = select.value;
    function show() {
      button.dataset.v = select.value;
      button.textContent = LABEL[select.value];
      button.setAttribute("aria-label", select.getAttribute("aria-label") + ": " + (select.value || "not entered"));
      button.classList.toggle("changed", select.value !== original);
    }
    button.addEventListener("click", function () {
      select.value = ORDER[(ORDER.indexOf(select.value) + 1) % ORDER.length];
      show();
    });
    button.disabled = select.disabled;
    select.hidden = true;
    select.after(button);
    show();
  });

  // Filters submit as soon as they change.
  document.querySelectorAll("form.autosubmit select, form.autosubmit input[type=checkbox]")
    .forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // A running optimiser: reload the page every few seconds until it ends.
  var running = document.querySelector("[data-refresh]");
  if (running) {
    setTimeout(function () { window.location.reload(); }, Number(running.dataset.refresh) * 1000);
  }

  // Confirm destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      if (!window.confirm(el.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
