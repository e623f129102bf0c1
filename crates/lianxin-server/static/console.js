// Lianxin staff console: small progressive enhancements of server-rendered pages.
// Keyboard shortcuts, the intake screen's pickers and caller history, unit filters.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const data = (id) => {
    const el = document.getElementById(id);
    if (!el) return [];
    try { return JSON.parse(el.textContent); } catch (e) { return []; }
  };

  // ---- Global keys: "/" jumps to the order-number box, j/k move between rows. --------
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (e.key === "/") {
      // On the search page "/" returns to its box; elsewhere to the header's jump box.
      const jump = $("#search-q") || $("#jump");
      if (jump) { e.preventDefault(); jump.focus(); jump.select(); }
    } else if (e.key === "j" || e.key === "k") {
      const links = $$("table.rows a.row-link, ol.results a.row-link");
      if (!links.length) return;
      e.preventDefault();
      const holder = document.activeElement.closest("tr, li.hit");
      let i = links.indexOf(holder ? $("a.row-link", holder) : null);
      i = i < 0 ? (e.key === "j" ? 0 : links.length - 1) : Math.max(0, Math.min(links.length - 1, i + (e.key === "j" ? 1 : -1)));
      links[i].focus();
    }
  });

  // A click anywhere on a row (not on a control) opens its order.
  document.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-href], li.hit[data-href]");
    if (!tr || e.target.closest("a, button, input, select, textarea, label, form")) return;
    window.location.href = tr.dataset.href;
  });

  // A refused form: each message also next to its field, and the first field focused.
  const errorBox = $("#error-box[data-fields]");
  if (errorBox && errorBox.dataset.fields) {
    const scope = (errorBox.dataset.form && document.getElementById(errorBox.dataset.form)) || document;
    $$(".inline-error", errorBox).forEach((span) => {
      const name = (span.dataset.field || "").replace(/"/g, "");
      let el = scope.querySelector('[name="' + name + '"]');
      if (el && el.type === "hidden") {
        const combo = el.closest(".combo");
        el = combo ? $("input[role=combobox]", combo) : null;
      }
      if (!el) return;
      const id = "err-" + name.replace(/[^a-z0-9_-]/gi, "-");
      const msg = document.createElement("p");
      msg.className = "field-error";
      msg.id = id;
      msg.textContent = span.textContent;
      const anchor = el.closest("label") || el.closest("fieldset") || el;
      anchor.after(msg);
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-describedby", id);
    });
    for (const name of errorBox.dataset.fields.split(",")) {
      let el = scope.querySelector('[name="' + name.replace(/"/g, "") + '"]');
      if (el && el.type === "hidden") {
        const combo = el.closest(".combo");
        el = combo ? $("input[role=combobox]", combo) : null;
      }
      if (el && !el.disabled) { el.focus(); break; }
    }
  }

  $$("[data-back]").forEach((a) => a.addEventListener("click", (e) => {
    if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
  }));

  // ---- Login: the demo accounts fill the form. ---------------------------------------
  $$(".demo-user").forEach((b) => b.addEventListener("click", () => {
    $("#username").value = b.dataset.user;
    $("#password").value = "demo";
    $("#login-submit").focus();
  }));

  // The "nothing matches" line of a picker, hidden until a search finds nothing.
  const noneNote = (id, text) => {
    const none = document.createElement("p");
    none.className = "filter-none";
    none.id = id;
    none.setAttribute("role", "status");
    none.hidden = true;
    none.textContent = text || "";
    return none;
  };

  // ---- Pickers: type to filter a select's options (names and pinyin initials). -------
  // Filtering never changes what is chosen: Enter takes the first match, and a filter that
  // matches nothing says so.
  $$(".unit-filter").forEach((input) => {
    const select = document.getElementById(input.dataset.for);
    if (!select) return;
    const none = noneNote(select.id + "-none", input.dataset.none);
    input.after(none);
    let first = null;
    input.addEventListener("input", () => {
      const q = input.value.trim().toLowerCase();
      first = null;
      $$("option", select).forEach((o) => {
        const hit = !q || o.selected || o.textContent.toLowerCase().includes(q) || (o.dataset.i || "").startsWith(q) || o.value.includes(q);
        o.hidden = !hit;
        if (hit && !first && !o.selected && q) first = o;
      });
      $$("optgroup", select).forEach((g) => { g.hidden = !$$("option", g).some((o) => !o.hidden); });
      none.hidden = !q || !!first;
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        if (first) { first.selected = true; select.dispatchEvent(new Event("change", { bubbles: true })); }
        select.focus();
      }
    });
  });

  // ---- Several units picked by typing (assisting units): chips over a hidden multiple
  // select, which stays what the form submits (and what works without scripts).
  $$("select[multiple].chips").forEach((select) => {
    const box = document.createElement("div");
    box.className = "chip-box";
    const chips = document.createElement("span");
    chips.className = "chip-list";
    const input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-q";
    input.placeholder = select.dataset.placeholder || "";
    input.setAttribute("aria-label", select.dataset.placeholder || "");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.autocomplete = "off";
    const list = document.createElement("ul");
    list.className = "listbox";
    list.id = select.id + "-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const none = noneNote(select.id + "-none", select.dataset.none);
    box.append(chips, input, list, none);
    select.after(box);
    select.hidden = true;
    const label = document.querySelector('label[for="' + select.id + '"]');
    if (label) label.htmlFor = input.id;
    let shown = [];
    let active = -1;
    function renderChips() {
      chips.textContent = "";
      $$("option", select).filter((o) => o.selected).forEach((o) => {
        const c = document.createElement("span");
        c.className = "chip";
        c.dataset.code = o.value;
        c.textContent = o.textContent;
        const x = document.createElement("button");
        x.type = "button";
        x.className = "chip-x";
        x.textContent = "×";
        x.setAttribute("aria-label", (select.dataset.remove || "×") + " " + o.textContent);
        x.addEventListener("click", () => { o.selected = false; renderChips(); input.focus(); });
        c.append(x);
        chips.append(c);
      });
    }
    function renderList() {
      list.textContent = "";
      shown.forEach((o, i) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.code = o.value;
        if (i === active) li.className = "active";
        const n = document.createElement("span"); n.className = "n"; n.textContent = o.textContent;
        const p = document.createElement("span"); p.className = "p"; p.textContent = o.parentElement.label || "";
        li.append(n, p);
        li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(o); });
        list.append(li);
      });
      list.hidden = shown.length === 0;
    }
    function search() {
      const q = input.value.trim().toLowerCase();
      shown = q ? $$("option", select).filter((o) => !o.selected && !o.disabled &&
        (o.textContent.toLowerCase().includes(q) || (o.dataset.i || "").startsWith(q) || o.value.includes(q))).slice(0, 8) : [];
      active = shown.length ? 0 : -1;
      none.hidden = !q || shown.length > 0;
      renderList();
    }
    function pick(o) {
      o.selected = true;
      input.value = "";
      shown = []; active = -1; none.hidden = true;
      renderList(); renderChips();
      input.focus();
    }
    input.addEventListener("input", search);
    input.addEventListener("blur", () => setTimeout(() => { shown = []; renderList(); }, 120));
    input.addEventListener("keydown", (e) => {
      if ((e.key === "ArrowDown" || e.key === "ArrowUp") && shown.length) {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : -1) + shown.length) % shown.length;
        renderList();
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (active >= 0 && shown[active]) pick(shown[active]);
      } else if (e.key === "Backspace" && !input.value) {
        const last = $$("option", select).filter((o) => o.selected).pop();
        if (last) { last.selected = false; renderChips(); }
      }
    });
    renderChips();
  });

  // ---- Batch dispatch: the button counts the ticked rows. ---------------------------
  const batch = $("#batch-dispatch");
  if (batch) {
    const picks = $$("input.batch-pick");
    const count = () => {
      const n = picks.filter((p) => p.checked).length;
      $("#batch-count").textContent = String(n);
      $("#btn-batch").disabled = n === 0;
    };
    picks.forEach((p) => p.addEventListener("change", count));
    const all = $("#batch-all");
    if (all) all.addEventListener("change", () => { picks.forEach((p) => { p.checked = all.checked; }); count(); });
    count();
  }

  // ---- Correction form: a street picked in another district takes its district. -----
  const correctStreet = $("#correct-street");
  if (correctStreet) {
    correctStreet.addEventListener("change", () => {
      const opt = correctStreet.selectedOptions[0];
      const group = opt && opt.parentElement && opt.parentElement.dataset.d;
      if (group) $("#correct-district").value = group;
    });
  }

  // ---- Combobox: a text box that searches a list as you type. -----------------------
  function combo(root, opts) {
    const input = $("input[role=combobox]", root);
    const hidden = $("input[type=hidden]", root);
    const list = $("[role=listbox]", root);
    let shown = [];
    let active = -1;

    function render() {
      list.textContent = "";
      shown.forEach((it, i) => {
        const li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.dataset.i = String(i);
        li.setAttribute("role", "option");
        if (i === active) { li.className = "active"; li.setAttribute("aria-selected", "true"); }
        const n = document.createElement("span"); n.className = "n"; n.textContent = opts.name(it);
        const p = document.createElement("span"); p.className = "p"; p.textContent = opts.context(it);
        li.append(n, p);
        list.append(li);
      });
      list.hidden = shown.length === 0;
      input.setAttribute("aria-expanded", String(!list.hidden));
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", list.id + "-" + active);
        const el = document.getElementById(list.id + "-" + active);
        if (el && el.scrollIntoView) el.scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }
    const none = noneNote(list.id + "-none", root.dataset.none);
    list.after(none);
    function search() {
      const q = input.value.trim().toLowerCase();
      shown = opts.search(q);
      active = shown.length ? 0 : -1;
      none.hidden = !q || shown.length > 0 || !none.textContent;
      render();
    }
    function close() { shown = []; active = -1; none.hidden = true; render(); }
    function pick(it, advance) {
      hidden.value = it.c;
      input.value = opts.label(it);
      close();
      opts.onPick(it, advance);
      if (input.form) input.form.dispatchEvent(new Event("lx-picked"));
    }
    input.addEventListener("input", () => { hidden.value = ""; search(); });
    input.addEventListener("focus", () => { if (!hidden.value) search(); });
    // Closed a moment after the field is left (a click on the list still lands), unless the
    // user came back to it meanwhile.
    input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) close(); }, 120));
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        const d = e.key === "ArrowDown" ? 1 : -1;
        active = (active + d + shown.length) % shown.length;
        render();
      } else if (e.key === "Enter" && !e.ctrlKey) {
        if (active >= 0 && !list.hidden) { e.preventDefault(); pick(shown[active], true); }
        else if (!hidden.value && input.value.trim()) e.preventDefault();
      } else if (e.key === "Tab" && !e.shiftKey) {
        if (active >= 0 && !list.hidden && !hidden.value) pick(shown[active], false);
      } else if (e.key === "Escape") {
        close();
      }
    });
    list.addEventListener("mousedown", (e) => {
      const li = e.target.closest("li");
      if (li) { e.preventDefault(); pick(shown[Number(li.dataset.i)], true); }
    });
    return {
      search, pick,
      firstMatch() { const q = input.value.trim().toLowerCase(); return q ? opts.search(q)[0] : undefined; },
      picked() { return hidden.value; },
      input,
    };
  }

  // Ranks an item for a query: every space-separated term must match somewhere.
  function rank(q, fields) {
    const terms = q.split(/\s+/).filter(Boolean);
    let score = 0;
    for (const t of terms) {
      let best = 99;
      fields.forEach((f, idx) => {
        const v = (f.v || "").toLowerCase();
        if (!v) return;
        if (v.startsWith(t)) best = Math.min(best, idx * 2);
        else if (f.contains !== false && v.includes(t)) best = Math.min(best, idx * 2 + 1);
      });
      if (best === 99) return -1;
      score += best;
    }
    return score;
  }
  function best(items, q, fields, limit) {
    const out = [];
    for (const it of items) {
      const r = rank(q, fields(it));
      if (r >= 0) out.push([r, it]);
    }
    out.sort((a, b) => a[0] - b[0] || a[1].n.length - b[1].n.length);
    return out.slice(0, limit).map((x) => x[1]);
  }

  // ---- The intake screen. -----------------------------------------------------------
  const intake = $("#intake");
  if (intake) {
    const cats = data("lx-categories");
    const streets = data("lx-streets");
    const info = $("#cat-info");
    const detail = $("#cat-detail");
    const requestType = $("#request_type");
    const urgency = $("#urgency");
    const content = $("#content");
    const district = $("#district");
    let typeTouched = !!requestType.value;
    let current = null;
    requestType.addEventListener("change", () => { typeTouched = true; });

    function showCategory(it) {
      current = it;
      detail.textContent = "";
      const path = document.createElement("div");
      path.className = "cat-path";
      path.textContent = it.p + " › " + it.n;
      const limits = document.createElement("div");
      limits.className = "limits";
      limits.id = "cat-limits";
      ["normal", "urgent", "emergency"].forEach((u, i) => {
        const d = document.createElement("div");
        d.className = "lim" + (urgency.value === u ? " on" : "");
        d.textContent = info.dataset["l" + u.charAt(0).toUpperCase() + u.slice(1)];
        const b = document.createElement("b");
        b.textContent = it.l[i];
        d.append(b);
        limits.append(d);
      });
      detail.append(path, limits);
      if (it.pr && it.pr.length) {
        const h = document.createElement("h2");
        h.textContent = info.dataset.lPrompts;
        const ol = document.createElement("ol");
        ol.className = "prompts";
        ol.id = "cat-prompts";
        it.pr.forEach((p) => { const li = document.createElement("li"); li.textContent = p; ol.append(li); });
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "small";
        btn.id = "insert-prompts";
        btn.accessKey = "p";
        btn.textContent = info.dataset.lInsert + " (Alt+P)";
        btn.addEventListener("click", insertPrompts);
        detail.append(h, ol, btn);
      }
    }
    function insertPrompts() {
      if (!current || !current.pr) return;
      const lines = current.pr.map((p) => p + "：").join("\n");
      content.value = content.value.trim() ? content.value.replace(/\s+$/, "") + "\n" + lines : lines;
      content.focus();
      const first = content.value.indexOf("：", content.value.length - lines.length);
      if (first >= 0) content.setSelectionRange(first + 1, first + 1);
    }
    urgency.addEventListener("change", () => { if (current) showCategory(current); });
    // The picked category's template goes into an empty content (or replaces the template
    // of the category picked before, untouched); the caller's own words are never replaced.
    let prefilled = "";
    function prefill(it) {
      const untouched = !content.value.trim() || (prefilled && content.value === prefilled);
      if (!untouched) return;
      prefilled = it.tp || "";
      content.value = prefilled;
      content.classList.toggle("prefilled", !!prefilled);
    }
    content.addEventListener("input", () => content.classList.remove("prefilled"));

    const catBox = combo($("#cat-combo"), {
      // The name first, then its initials and path, then the words callers use (吵 → 噪音).
      search: (q) => q ? best(cats, q, (c) => [
        { v: c.n }, { v: c.i, contains: false }, { v: c.p + c.n }, { v: c.pi + c.i, contains: false }, { v: c.k }, { v: c.c },
      ], 12) : [],
      name: (c) => c.n,
      context: (c) => c.p,
      label: (c) => c.p + " › " + c.n,
      onPick: (c, advance) => {
        if (!typeTouched) requestType.value = c.t;
        showCategory(c);
        prefill(c);
        if (advance) {
          content.focus();
          // Straight to the template's first blank: typing fills it in.
          const blank = prefilled && content.value === prefilled ? content.value.indexOf("____") : -1;
          if (blank >= 0) content.setSelectionRange(blank, blank + 4);
        }
      },
    });
    const initial = cats.find((c) => c.c === $("#category").value);
    if (initial) showCategory(initial);

    const streetBox = combo($("#street-combo"), {
      search: (q) => {
        const pool = district.value ? streets.filter((s) => s.d === district.value) : streets;
        if (!q) return district.value ? pool.slice(0, 40) : [];
        return best(pool, q, (s) => [{ v: s.n }, { v: s.i, contains: false }, { v: s.dn + s.n }, { v: s.c }], 12);
      },
      name: (s) => s.n,
      context: (s) => s.dn,
      label: (s) => s.dn + " " + s.n,
      onPick: (s, advance) => {
        district.value = s.d;
        if (advance) $("#address").focus();
      },
    });
    district.addEventListener("change", () => {
      const s = streets.find((x) => x.c === streetBox.picked());
      if (s && district.value && s.d !== district.value) { $("#street").value = ""; streetBox.input.value = ""; }
    });

    // Caller history (screen pop) as the number is typed.
    const phone = $("#phone");
    const history = $("#caller-history");
    let timer = null;
    let asked = "";
    function lookUp() {
      const v = phone.value.replace(/[^0-9+]/g, "");
      if (v.length < 5 || v === asked) return;
      asked = v;
      fetch(phone.dataset.history + "?phone=" + encodeURIComponent(v), { credentials: "same-origin" })
        .then((r) => (r.ok && !r.url.includes("/login") ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          if (v !== asked) return;
          history.innerHTML = html;
          const d = $("#caller-data", history);
          const name = $("#name");
          if (d && d.dataset.name && !name.value) name.value = d.dataset.name;
        })
        .catch(() => { asked = ""; });
    }
    phone.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookUp, 250); });
    phone.addEventListener("blur", lookUp);
    if (phone.value) lookUp();

    // Adding this call to an open order needs only what the caller said.
    history.addEventListener("click", (e) => {
      const b = e.target.closest("button.add-contact");
      if (!b) return;
      if (!content.value.trim()) {
        e.preventDefault();
        content.required = true;
        content.reportValidity();
        content.focus();
      }
    });

    // Answers at the moment of the call: similar open orders, the knowledge base, the
    // template, announcements and referrals, asked for as the operator types.
    const aidsBox = $("#aids-box");
    const aids = $("#aids");
    let aidsTimer = null;
    let aidsAsked = "";
    function askAids() {
      const q = new URLSearchParams({ content: content.value, street: $("#street").value, category: $("#category").value });
      const key = q.toString();
      if (key === aidsAsked || (!content.value.trim() && !$("#category").value)) return;
      aidsAsked = key;
      fetch(aidsBox.dataset.aids + "?" + key, { credentials: "same-origin" })
        .then((r) => (r.ok && !r.url.includes("/login") ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          if (key !== aidsAsked) return;
          aids.innerHTML = html;
        })
        .catch(() => { aidsAsked = ""; });
    }
    const citeKind = $("#cite-kind");
    const citeId = $("#cite-id");
    const citeChip = $("#cite-chip");
    function setCite(kind, id, title) {
      citeKind.value = kind;
      citeId.value = id;
      $("#cite-title").textContent = title;
      $("#cite-title-v").value = title;
      citeChip.hidden = !id;
    }
    $("#cite-clear").addEventListener("click", () => setCite("", "", ""));
    // A citation fits one kind of close: changing the kind by hand drops one that no longer fits.
    $("#kind").addEventListener("change", (e) => {
      const fits = citeKind.value === "referral" ? "referred" : "answered";
      if (citeId.value && e.target.value !== fits) setCite("", "", "");
    });
    const joinIncident = $("#join-incident");
    function setIncident(id, title) {
      joinIncident.value = id;
      $("#incident-title").textContent = title;
      $("#join-incident-title").value = title;
      $("#incident-chip").hidden = !id;
    }
    $("#incident-clear").addEventListener("click", () => setIncident("", ""));
    const laterAids = () => { clearTimeout(aidsTimer); aidsTimer = setTimeout(askAids, 350); };
    content.addEventListener("input", laterAids);
    $("#category").addEventListener("change", laterAids);
    $("#street").addEventListener("change", laterAids);
    intake.addEventListener("lx-picked", laterAids);
    aids.addEventListener("click", (e) => {
      const cite = e.target.closest("button.cite");
      if (cite) {
        // Close at first contact citing what was read out.
        const r = $("#resolution");
        r.value = (r.value ? r.value + "\n" : "") + cite.dataset.text;
        $("#kind").value = cite.dataset.kind;
        setCite(cite.dataset.citeKind, cite.dataset.citeId, cite.dataset.title);
        r.focus();
        return;
      }
      const join = e.target.closest("button.join-incident");
      if (join) {
        setIncident(join.dataset.id, join.dataset.title);
        return;
      }
      const tpl = e.target.closest("button.insert-template");
      if (tpl) {
        content.value = content.value.trim() ? content.value + "\n" + tpl.dataset.body : tpl.dataset.body;
        content.focus();
        return;
      }
      const merge = e.target.closest("button.merge-into");
      if (merge && !content.value.trim()) {
        e.preventDefault();
        content.required = true;
        content.reportValidity();
        content.focus();
      }
    });

    // The answer is needed only to close at once.
    const resolution = $("#resolution");
    const kind = $("#kind");
    const closing = (on) => { resolution.required = on; kind.required = on; };
    $("#btn-close").addEventListener("click", () => closing(true));
    $("#btn-submit").addEventListener("click", () => closing(false));
    $("#btn-save").addEventListener("click", () => closing(false));

    intake.addEventListener("submit", () => {
      // A typed but unpicked category or street takes its best match.
      if (!catBox.picked()) { const c = catBox.firstMatch(); if (c) catBox.pick(c, false); }
      if (!streetBox.picked()) { const s = streetBox.input.value && streetBox.firstMatch(); if (s) streetBox.pick(s, false); }
    });
    intake.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        closing(false);
        intake.requestSubmit($("#btn-submit"));
      }
    });
  }

  // A form that undoes something asks first (withdrawing an announcement).
  document.addEventListener("submit", (e) => {
    const f = e.target;
    if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
  });
})();
