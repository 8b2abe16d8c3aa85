// What the admin pages need from a script, served by the service with them: their content
// security policy runs no inline script (modules/admin/security.py), so nothing of this is inline.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  // sqladmin deletes rows with a jQuery DELETE: it carries the form token as a header.
  if (window.jQuery) {
    window.jQuery(document).ajaxSend(function (_event, request, settings) {
      if (!/^(GET|HEAD|OPTIONS)$/i.test(settings.type)) {
        request.setRequestHeader("X-CSRF-Token", token);
      }
    });
  }

  // Messages after a change (templates/sqladmin/flash.html).
  document.querySelectorAll(".admin-toast").forEach(function (element) {
    new window.tabler.bootstrap.Toast(element, { delay: 5000 }).show();
  });
})();
