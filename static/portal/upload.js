/* The assignment page's upload form, enhanced: files dropped on the drop area go into the
 * file input, the chosen files are listed, and the form is sent with XMLHttpRequest so that a
 * progress bar can show the upload. Without this script (or without XHR) the form posts as a
 * plain form and the server answers with the receipt or the page with its refusal.
 *
 * The server answers this script's requests (X-Requested-With: XMLHttpRequest) with JSON:
 * {"receipt_url"} on success, {"error": {"code", "message"}} on a refusal. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = form.querySelector('input[type="file"]');
  var dropzone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-file-list]");
  var progressBox = form.querySelector("[data-progress]");
  var bar = progressBox.querySelector("progress");
  var progressText = progressBox.querySelector("[data-progress-text]");
  var button = form.querySelector('button[type="submit"]');
  var errorBox = document.getElementById("submit-error");
  var maxFile = parseInt(form.getAttribute("data-max-file-bytes"), 10);
  var maxTotal = parseInt(form.getAttribute("data-max-total-bytes"), 10);
  var busy = false;

  function human(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
  }

  function showError(message, code) {
    errorBox.textContent = "";
    var p = document.createElement("p");
    p.textContent = message;
    errorBox.appendChild(p);
    if (code) {
      errorBox.setAttribute("data-code", code);
    } else {
      errorBox.removeAttribute("data-code");
    }
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: "nearest" });
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    errorBox.removeAttribute("data-code");
  }

  function listFiles() {
    list.textContent = "";
    var files = input.files || [];
    for (var i = 0; i < files.length; i += 1) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = files[i].name;
      var size = document.createElement("span");
      size.className = "muted";
      size.textContent = " " + human(files[i].size);
      li.appendChild(name);
      li.appendChild(size);
      list.appendChild(li);
    }
    list.hidden = files.length === 0;
    dropzone.classList.toggle("has-files", files.length > 0);
  }

  // The server's own messages, checked before sending anything big for nothing.
  function tooLarge(files) {
    var total = 0;
    for (var i = 0; i < files.length; i += 1) {
      if (files[i].size > maxFile) {
        return form.getAttribute("data-file-too-large").replace("{name}", files[i].name);
      }
      total += files[i].size;
    }
    if (total > maxTotal) {
      return form.getAttribute("data-total-too-large");
    }
    return null;
  }

  input.addEventListener("change", function () {
    clearError();
    listFiles();
  });

  // Drag and drop: the dropped files join those already chosen.
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) {
      if (busy) {
        return;
      }
      event.preventDefault();
      dropzone.classList.add("dragover");
    });
  });
  ["dragleave", "dragend"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) {
      if (!dropzone.contains(event.relatedTarget)) {
        dropzone.classList.remove("dragover");
      }
    });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    dropzone.classList.remove("dragover");
    if (busy || !event.dataTransfer || !event.dataTransfer.files.length) {
      return;
    }
    try {
      var merged = new DataTransfer();
      var seen = {};
      var add = function (file) {
        if (!seen[file.name]) {
          seen[file.name] = true;
          merged.items.add(file);
        }
      };
      Array.prototype.forEach.call(event.dataTransfer.files, add);
      Array.prototype.forEach.call(input.files || [], add);
      input.files = merged.files;
    } catch (err) {
      input.files = event.dataTransfer.files; // browsers without a DataTransfer constructor
    }
    clearError();
    listFiles();
  });

  function setProgress(loaded, total) {
    var percent = total ? Math.floor((loaded / total) * 100) : 0;
    bar.value = percent;
    progressText.textContent = percent + "% (" + human(loaded) + " of " + human(total) + ")";
  }

  function finish() {
    busy = false;
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    clearError();
    var problem = tooLarge(input.files || []);
    if (problem) {
      showError(problem, "file_too_large");
      return;
    }
    var data = new FormData(form);
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]');
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.pathname);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    if (token) {
      xhr.setRequestHeader("X-CSRFToken", token.value);
    }
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        setProgress(e.loaded, e.total);
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server checks and stores
      progressText.textContent = "Uploaded; checking and storing your files…";
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (err) {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.receipt_url) {
        progressText.textContent = "Received. Opening your receipt…";
        window.location.assign(body.receipt_url);
        return;
      }
      finish();
      progressBox.hidden = true;
      if (body && body.error) {
        showError(body.error.message, body.error.code);
      } else if (xhr.status === 403) {
        showError("Your session has expired or the page is out of date. Reload the page and submit again.");
      } else {
        showError("The upload could not be completed (HTTP " + xhr.status + "). Reload the page to see whether it arrived, then try again.");
      }
    });
    xhr.addEventListener("error", function () {
      finish();
      progressBox.hidden = true;
      showError("The connection broke off during the upload. Reload the page to see whether it arrived, then try again.");
    });
    busy = true;
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    progressBox.hidden = false;
    setProgress(0, 1);
    xhr.send(data);
  });
})();
