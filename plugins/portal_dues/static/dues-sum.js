/* The payment forms of the dues book: ticking a month puts the ticked months' dues into the amount.
 * Progressive enhancement: without JavaScript the secretary types the amount (the service checks it).
 * An amount the secretary changed by hand (a voluntary extra) is left alone. Money in fen: no floats. */
(function () {
  "use strict";
  function fen(text) {
    var parts = String(text).split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  function yuan(value) {
    var cents = String(value % 100);
    return Math.floor(value / 100) + "." + (cents.length < 2 ? "0" + cents : cents);
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-dues]"), function (form) {
    var dues = JSON.parse(form.getAttribute("data-dues"));
    var amount = form.querySelector("input[name$='amount']");
    if (!amount) { return; }
    function total() {
      var sum = 0;
      Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox]:checked"), function (box) {
        if (dues[box.value]) { sum += fen(dues[box.value]); }
      });
      return sum;
    }
    var shown = amount.value;
    form.addEventListener("change", function (event) {
      if (event.target.type !== "checkbox" || amount.value !== shown) { return; }
      shown = amount.value = total() ? yuan(total()) : "";
    });
  });
})();
