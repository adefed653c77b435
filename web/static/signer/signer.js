/* Sealtrail signer page: drag "anywhere" fields onto a page (pointer events: mouse, pen and
 * touch). Everything else on the page works without this script. Positions are posted as
 * PDF points, origin bottom-left of the page, as the server expects. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var form = document.getElementById("sign-form");
  if (!form) {
    return;
  }
  // The no-script position presets would override a dragged position: switch them off.
  form.querySelectorAll("[data-fallback]").forEach(function (el) {
    el.disabled = true;
  });

  function geometry(pageEl) {
    var d = pageEl.dataset;
    return {
      left: parseFloat(d.left),
      bottom: parseFloat(d.bottom),
      width: parseFloat(d.width),
      height: parseFloat(d.height),
      rotation: parseInt(d.rotation, 10) || 0
    };
  }

  function displaySize(g) {
    return g.rotation === 90 || g.rotation === 270 ? [g.height, g.width] : [g.width, g.height];
  }

  // Fractions of the shown page (origin top-left) -> PDF user space (origin bottom-left).
  function fromDisplay(g, du, dv) {
    var u = du, v = dv;
    if (g.rotation === 90) { u = dv; v = 1 - du; }
    else if (g.rotation === 180) { u = 1 - du; v = 1 - dv; }
    else if (g.rotation === 270) { u = 1 - dv; v = du; }
    return [g.left + u * g.width, g.bottom + g.height - v * g.height];
  }

  function bottomLeft(g, left, top, width, height) {
    var a = fromDisplay(g, left, top);
    var b = fromDisplay(g, left + width, top + height);
    return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
  }

  function inputFor(field, role) {
    var found = null;
    form.querySelectorAll("[data-role='" + role + "']").forEach(function (el) {
      if (el.dataset.field === field) { found = el; }
    });
    return found;
  }

  function pagesOf(doc) {
    return Array.prototype.slice.call(document.querySelectorAll(".page[data-doc='" + doc + "']"));
  }

  // The chip's size on a page, in pixels: the field's size in points, scaled like the image.
  function chipSize(chip, pageEl) {
    var g = geometry(pageEl);
    var shown = displaySize(g);
    var rect = pageEl.getBoundingClientRect();
    var w = parseFloat(chip.dataset.w), h = parseFloat(chip.dataset.h);
    if (g.rotation === 90 || g.rotation === 270) { var t = w; w = h; h = t; }
    return [w / shown[0] * rect.width, h / shown[1] * rect.height];
  }

  function place(chip, pageEl, px, py) {
    // px, py: top-left of the chip in client pixels.
    var rect = pageEl.getBoundingClientRect();
    var size = chipSize(chip, pageEl);
    var left = Math.min(Math.max(px - rect.left, 0), Math.max(rect.width - size[0], 0));
    var top = Math.min(Math.max(py - rect.top, 0), Math.max(rect.height - size[1], 0));
    var fl = left / rect.width, ft = top / rect.height;
    var fw = size[0] / rect.width, fh = size[1] / rect.height;
    chip.classList.remove("dragging");
    chip.classList.add("placed");
    chip.style.position = "";
    chip.style.left = (fl * 100).toFixed(3) + "%";
    chip.style.top = (ft * 100).toFixed(3) + "%";
    chip.style.width = (fw * 100).toFixed(3) + "%";
    chip.style.height = (fh * 100).toFixed(3) + "%";
    pageEl.appendChild(chip);
    var point = bottomLeft(geometry(pageEl), fl, ft, fw, fh);
    var field = chip.dataset.field;
    inputFor(field, "page").value = pageEl.dataset.page;
    inputFor(field, "x").value = point[0].toFixed(2);
    inputFor(field, "y").value = point[1].toFixed(2);
    var note = inputFor(field, "note");
    if (note) {
      note.textContent = words("placed").replace("{page}", pageEl.dataset.page);
      note.classList.add("is-placed");
    }
    chip.setAttribute("data-placed", "yes");
    var tray = document.getElementById("tray");
    if (tray && !tray.querySelector(".chip")) {
      tray.querySelector(".tray-help").textContent = words("moved");
    }
  }

  // The page's words in its language (the server puts them on the sign form).
  function words(name) {
    var form = document.getElementById("sign-form");
    return (form && form.getAttribute("data-t-" + name)) || "";
  }

  function pageAt(doc, x, y) {
    var pages = pagesOf(doc);
    for (var i = 0; i < pages.length; i++) {
      var r = pages[i].getBoundingClientRect();
      if (x >= r.left && x <= r.right && y >= r.top && y <= r.bottom) { return pages[i]; }
    }
    return null;
  }

  function mostVisiblePage(doc) {
    var best = null, bestArea = 0;
    pagesOf(doc).forEach(function (p) {
      var r = p.getBoundingClientRect();
      var h = Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0);
      var w = Math.min(r.right, window.innerWidth) - Math.max(r.left, 0);
      var area = Math.max(h, 0) * Math.max(w, 0);
      if (area > bestArea) { best = p; bestArea = area; }
    });
    return best || pagesOf(doc)[0] || null;
  }

  function startDrag(chip, ev) {
    if (ev.button !== undefined && ev.button !== 0) { return; }
    ev.preventDefault();
    var doc = chip.dataset.doc;
    var home = { parent: chip.parentNode, next: chip.nextSibling, style: chip.getAttribute("style"),
      placed: chip.classList.contains("placed") };
    var reference = mostVisiblePage(doc);
    var size = reference ? chipSize(chip, reference) : [chip.offsetWidth, chip.offsetHeight];
    var startX = ev.clientX, startY = ev.clientY, moved = false, over = null;

    chip.classList.remove("placed");
    chip.classList.add("dragging");
    chip.style.width = size[0] + "px";
    chip.style.height = size[1] + "px";
    document.body.appendChild(chip);

    function moveTo(x, y) {
      chip.style.left = (x - size[0] / 2) + "px";
      chip.style.top = (y - size[1] / 2) + "px";
    }
    moveTo(ev.clientX, ev.clientY);

    function onMove(e) {
      if (Math.abs(e.clientX - startX) + Math.abs(e.clientY - startY) > 4) { moved = true; }
      moveTo(e.clientX, e.clientY);
      var target = pageAt(doc, e.clientX, e.clientY);
      if (target !== over) {
        if (over) { over.classList.remove("drop-target"); }
        if (target) { target.classList.add("drop-target"); }
        over = target;
      }
      e.preventDefault();
    }

    function finish(e, cancelled) {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
      window.removeEventListener("pointercancel", onCancel);
      if (over) { over.classList.remove("drop-target"); }
      var target = cancelled ? null : pageAt(doc, e.clientX, e.clientY);
      if (!moved && !cancelled) {
        // A press without a drag (or the keyboard): put it at the bottom right of the page in view.
        target = mostVisiblePage(doc);
        if (target) {
          var r = target.getBoundingClientRect();
          var s = chipSize(chip, target);
          var margin = r.width * 0.06;
          place(chip, target, r.right - s[0] - margin, Math.min(r.bottom, window.innerHeight) - s[1] - margin);
          return;
        }
      }
      if (target) {
        var sz = chipSize(chip, target);
        place(chip, target, e.clientX - sz[0] / 2, e.clientY - sz[1] / 2);
        return;
      }
      // Dropped outside every page: back where it came from.
      chip.classList.remove("dragging");
      if (home.placed) { chip.classList.add("placed"); }
      if (home.style === null) { chip.removeAttribute("style"); } else { chip.setAttribute("style", home.style); }
      home.parent.insertBefore(chip, home.next);
    }
    function onUp(e) { finish(e, false); }
    function onCancel(e) { finish(e, true); }

    window.addEventListener("pointermove", onMove, { passive: false });
    window.addEventListener("pointerup", onUp);
    window.addEventListener("pointercancel", onCancel);
  }

  document.querySelectorAll(".chip[data-field]").forEach(function (chip) {
    chip.addEventListener("pointerdown", function (ev) { startDrag(chip, ev); });
    chip.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" && ev.key !== " ") { return; }
      ev.preventDefault();
      var target = mostVisiblePage(chip.dataset.doc);
      if (!target) { return; }
      var r = target.getBoundingClientRect();
      var s = chipSize(chip, target);
      chip.classList.remove("placed");
      place(chip, target, r.right - s[0] - r.width * 0.06, Math.min(r.bottom, window.innerHeight) - s[1] - r.width * 0.06);
    });
  });

  form.addEventListener("submit", function (ev) {
    var missing = [];
    form.querySelectorAll("fieldset.placement").forEach(function (set) {
      var field = set.dataset.field;
      var x = inputFor(field, "x");
      if (x && !x.value) { missing.push(set.querySelector("legend").textContent); }
    });
    var problem = document.getElementById("sign-problem");
    if (missing.length) {
      ev.preventDefault();
      if (problem) {
        problem.textContent = words("missing").replace("{what}", missing.join(", "));
        problem.hidden = false;
        var tray = document.getElementById("tray");
        if (tray) { tray.scrollIntoView({ behavior: "smooth", block: "start" }); }
      }
    }
  });
})();
