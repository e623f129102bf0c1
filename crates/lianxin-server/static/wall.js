// The live wall: replaces its body with each `wall` event from /wall/events. EventSource
// reconnects by itself when the connection drops (a server restart); when the server
// refuses the stream (signed out), the page reloads and shows the sign-in.
(function () {
  "use strict";
  var body = document.getElementById("wall-body");
  var clock = document.getElementById("wall-clock");
  var lang = document.documentElement.lang || "zh-CN";
  function tick() {
    if (clock) clock.textContent = new Date().toLocaleString(lang, { hour12: false });
  }
  tick();
  setInterval(tick, 1000);
  var es = new EventSource("/wall/events" + location.search);
  es.addEventListener("wall", function (e) {
    body.innerHTML = e.data;
    document.body.classList.remove("offline");
  });
  es.onopen = function () { document.body.classList.remove("offline"); };
  es.onerror = function () {
    document.body.classList.add("offline");
    if (es.readyState === EventSource.CLOSED) setTimeout(function () { location.reload(); }, 5000);
  };
})();
