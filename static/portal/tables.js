// Wide tables scroll sideways inside their .table-wrap (at a phone's width, say). When one
// does, a hint above it says so; it goes away when the whole table fits.
(function () {
  "use strict";
  function mark(wrap) {
    var hint = wrap.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.textContent = "Scroll sideways to see every column \u2192";
      wrap.parentNode.insertBefore(hint, wrap);
    }
    var overflowing = wrap.scrollWidth > wrap.clientWidth + 1;
    hint.hidden = !overflowing;
    wrap.classList.toggle("overflowing", overflowing);
  }
  function markAll() {
    document.querySelectorAll(".table-wrap").forEach(mark);
  }
  document.addEventListener("DOMContentLoaded", markAll);
  window.addEventListener("resize", markAll);
  // Fragments swapped in later (the live job status) bring their own tables.
  new MutationObserver(function () { markAll(); }).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
