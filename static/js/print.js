// Buttons marked data-print open the browser's print dialog (no inline handlers: CSP).
document.addEventListener("click", function (event) {
  "use strict";
  if (event.target.closest("[data-print]")) { window.print(); }
});
