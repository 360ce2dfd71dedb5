/* The place picker's enhancement: fills the <datalist> of an input[data-places] with matching places
 * from GET /places?q= as the member types. Without JavaScript the server resolves the typed text. */
(function () {
  "use strict";
  if (window.portalPlaces) { return; }
  window.portalPlaces = true;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var term = input.value.trim();
      if (!list || term === last || term.length < 1) { return; }
      last = term;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        fetch(input.getAttribute("data-places") + "?q=" + encodeURIComponent(term), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { places: [] }; })
          .then(function (data) {
            list.textContent = "";
            data.places.forEach(function (place) {
              var option = document.createElement("option");
              option.value = place.name;
              list.appendChild(option);
            });
          })
          .catch(function () { /* offline: the server resolves the text on submit */ });
      }, 200);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-places]"), attach);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
