// Live filtering on the catalog: changing a filter submits the form at once.
(function () {
  "use strict";
  const form = document.querySelector("[data-catalog-filters]");
  if (!form) return;
  form.querySelectorAll("select").forEach((select) => {
    select.addEventListener("change", () => form.requestSubmit());
  });
})();
