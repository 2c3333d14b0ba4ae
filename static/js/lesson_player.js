// Lesson player: reports progress (how far the reader scrolled, time on the page) to the
// progress API every 15 s and when the page is hidden; "Mark as done" reports 100 %.
(function () {
  var lesson = document.getElementById("lesson");
  if (!lesson || !lesson.dataset.heartbeatUrl) return;
  var url = lesson.dataset.heartbeatUrl;
  var best = parseFloat(lesson.dataset.percent || "0") || 0;
  var lastBeat = Date.now();
  var status = document.querySelector("[data-heartbeat-status]");

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function scrolled() {
    var doc = document.documentElement;
    var total = doc.scrollHeight - window.innerHeight;
    return total <= 0 ? 100 : Math.min(100, Math.round((window.scrollY / total) * 100));
  }
  function beat(percent) {
    var now = Date.now();
    var seconds = Math.min(600, Math.round((now - lastBeat) / 1000));
    lastBeat = now;
    best = Math.max(best, percent);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({lesson: lesson.dataset.lesson, percent: best,
                            time_delta_seconds: seconds, position: {scroll: scrolled()}})
    }).then(function (response) {
      if (status) status.textContent = response.ok ? "Saved." : "Could not save progress.";
      return response;
    });
  }
  setInterval(function () { beat(scrolled()); }, 15000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") beat(scrolled());
  });
  var done = document.querySelector("[data-mark-complete]");
  if (done) {
    done.addEventListener("click", function () {
      beat(100).then(function (response) {
        if (response.ok) window.location.href = document.querySelector(".lesson-nav a").href;
      });
    });
  }
})();
