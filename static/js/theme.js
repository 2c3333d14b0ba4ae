// Light/dark theme switch: remembered in a cookie so server-rendered pages come out right.
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var root = document.documentElement;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    document.cookie = "theme=" + next + "; path=/; max-age=31536000; SameSite=Lax";
    var label = button.querySelector(".theme-toggle-label");
    if (label) label.textContent = (next === "dark" ? "Light" : "Dark") + " theme";
  });
})();
