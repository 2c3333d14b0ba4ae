// Light/dark theme switch. Visitors keep it in a cookie; signed-in users in their preferences.
(function () {
  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var root = document.documentElement;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    document.cookie = "theme=" + next + "; path=/; max-age=31536000; SameSite=Lax";
    var label = button.querySelector(".theme-toggle-label");
    if (label) label.textContent = (next === "dark" ? "Light" : "Dark") + " theme";
    var url = button.getAttribute("data-theme-url");
    if (url) {
      fetch(url, {
        method: "POST",
        headers: {"X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded"},
        body: "theme=" + next,
        credentials: "same-origin"
      });
    }
  });
})();
