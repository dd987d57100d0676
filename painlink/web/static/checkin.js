// The check-in's steppers and sliders (served from the app: the CSP allows only 'self').
// A stepper's − / + move its number by data-step; an empty one starts from data-start.
// A slider records a value only once it is moved or tapped: its hidden "_rated" field
// turns to "1", so an untouched slider never saves a 0 nobody chose.
(function () {
  "use strict";
  function round(v) { return Math.round(v * 10) / 10; }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.step");
    if (!button) { return; }
    var input = document.getElementById(button.dataset.for);
    if (!input) { return; }
    var step = parseFloat(button.dataset.step);
    var current = parseFloat(input.value);
    var base = isNaN(current) ? parseFloat(input.dataset.start || "0") : current;
    var next = round(base + step);
    var top = parseFloat(input.max);
    if (next < 0) { next = 0; }
    if (!isNaN(top) && next > top) { next = top; }
    input.value = String(next);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  function rate(slider) {
    if (!slider.dataset || !slider.dataset.rated) { return; }
    var flag = document.getElementById(slider.dataset.rated);
    if (flag) { flag.value = "1"; }
    slider.classList.remove("unrated");
    slider.removeAttribute("aria-valuetext");
    var out = document.getElementById(slider.id + "-out");
    if (out) { out.textContent = slider.value; }
  }
  // "Same as yesterday" is its own form: it takes along the colour chosen for this day
  // (without one, the server keeps the day's saved colour).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("same")) { return; }
    var chosen = document.querySelector("form.checkin input[name=stoplight]:checked");
    var carry = form.querySelector("input[name=stoplight]");
    if (chosen && carry) { carry.value = chosen.value; carry.disabled = false; }
  });
  ["input", "change", "pointerup", "keyup"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      var t = event.target;
      if (t && t.type === "range") { rate(t); }
    });
  });
})();
