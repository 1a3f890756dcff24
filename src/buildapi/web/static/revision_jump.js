// The build-run jump box: go to /reports/revision/<branch>/<revision> (first 12 characters).
(function () {
  "use strict";
  var form = document.querySelector("form.jump");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var revision = form.elements.revision.value.trim().slice(0, 12);
    var branch = form.elements.branch.value;
    var here = window.location.pathname;
    var root = here.slice(0, here.indexOf("/reports/revision/"));
    window.location.href = root + "/reports/revision/" + encodeURIComponent(branch) + "/" + revision;
  });
})();
