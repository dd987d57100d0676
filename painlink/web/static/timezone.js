// The browser knows its own time zone (Intl API): fill it into an empty time-zone field
// (registration), or offer it when the field says another zone (a traveller on the
// account page). Nothing is sent anywhere; without this script the field is typed.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  if (!zone) return;
  var fields = document.querySelectorAll("input[data-browser-zone]");
  Array.prototype.forEach.call(fields, function (input) {
    var note = document.getElementById(input.id + "-device");
    var filled = !input.value;
    if (filled) input.value = zone;
    if (!note || (input.value === zone && !filled)) return;
    note.querySelector("[data-zone]").textContent = zone;
    if (filled) {
      // said, so a person whose device is set wrong knows where the zone came from
      note.querySelector("[data-use-zone]").remove(); // CSS shows buttons despite [hidden]
      note.querySelector("[data-said]").textContent = "Filled in from this device:";
      note.hidden = false;
      return;
    }
    note.querySelector("[data-use-zone]").addEventListener("click", function () {
      input.value = zone;
      note.hidden = true;
      input.focus();
    });
    note.hidden = false;
  });
})();
