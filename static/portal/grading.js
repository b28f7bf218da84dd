/* The grading view (templates/grading/grade_submission.html): each line of a code file gets a
   button with its number that opens a small comment form under that line (posting in the
   background to the same view as the plain form at the bottom, which works without this
   script, so rubric items ticked and not saved yet stay as they are), and the number keys 1-9
   tick the first nine rubric checkboxes unless the focus is in a text field. */
(function () {
  "use strict";

  var plain = document.getElementById("annotation-form");

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "input") {
      return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    }
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  function openForm(li, file, line) {
    var open = li.querySelector("form.line-comment-form");
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    var form = document.createElement("form");
    form.method = "post";
    form.action = plain.getAttribute("action");
    form.className = "line-comment-form";
    form.appendChild(hidden("csrfmiddlewaretoken", plain.querySelector("[name=csrfmiddlewaretoken]").value));
    form.appendChild(hidden("file", file));
    form.appendChild(hidden("line", String(line)));
    form.appendChild(hidden("anchor", "code"));
    var id = "line-comment-" + li.id;
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Comment on line " + line + " of " + file;
    var text = document.createElement("textarea");
    text.id = id;
    text.name = "text";
    text.rows = 2;
    text.required = true;
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "button";
    save.textContent = "Save comment";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link-button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { form.remove(); });
    var said = document.createElement("p");
    said.className = "line-comment-status";
    said.setAttribute("role", "status");
    form.append(label, text, save, cancel, said);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form, li, text, said, save);
    });
    li.appendChild(form);
    text.focus();
  }

  // The view answers with a redirect to this page, whose messages say how it went.
  function send(form, li, text, said, save) {
    save.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var answer = new DOMParser().parseFromString(html, "text/html");
        var refusal = answer.querySelector(".messages .error");
        if (refusal) {
          said.textContent = refusal.textContent;
          save.disabled = false;
          return;
        }
        var note = document.createElement("div");
        note.className = "annotation";
        note.setAttribute("role", "note");
        var head = document.createElement("span");
        head.className = "annotation-label";
        head.textContent = "Comment on line " + form.elements.line.value + ":";
        note.append(head, document.createTextNode(" " + text.value));
        li.insertBefore(note, form);
        form.remove();
      })
      .catch(function () {
        said.textContent = "The comment could not be saved; try again, or use the form below.";
        save.disabled = false;
      });
  }

  function lineButtons(block) {
    var file = block.getAttribute("data-file");
    var lines = block.querySelectorAll("ol.code-lines > li");
    block.classList.add("line-buttons");
    lines.forEach(function (li, index) {
      var number = index + 1;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "line-number";
      button.textContent = String(number);
      button.setAttribute("aria-label", "Comment on line " + number + " of " + file);
      button.addEventListener("click", function () { openForm(li, file, number); });
      li.insertBefore(button, li.firstChild);
    });
  }

  if (plain) {
    document.querySelectorAll("[data-commentable]").forEach(lineButtons);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!/^[1-9]$/.test(event.key)) return;
    var boxes = document.querySelectorAll(".rubric-items input[type=checkbox]");
    var box = boxes[Number(event.key) - 1];
    if (!box) return;
    event.preventDefault();
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
