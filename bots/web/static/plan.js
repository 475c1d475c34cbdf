/*
 * The plan page (/plan/{id}). The link that opens it carries the owner secret (#eigenaar=…) or a
 * share token (#deel=…) in its fragment, which the browser never sends to the server. The page
 * keeps it in localStorage, removes it from the address bar, and sends it in a header with every
 * request. All plan text goes into the DOM as text, never as HTML.
 */
(() => {
  "use strict";

  const planId = document.body.dataset.plan;
  const main = document.getElementById("plan");
  const OWNER_KEY = `opschaal-plan-owner:${planId}`;
  const SHARE_KEY = `opschaal-plan-share:${planId}`;

  const L = {
    nl: {
      title: "Opschaalplan",
      loading: "Het plan wordt geladen…",
      notFound: "Dit plan bestaat niet of is niet met je gedeeld.",
      network: "Geen verbinding met Opschaalwijzer. Probeer het opnieuw.",
      warning: "Zet geen persoonsgegevens van anderen in het plan: noem rollen, geen namen.",
      readOnly: "Je bekijkt dit plan via een deellink: je kunt het lezen, niet wijzigen.",
      innovation: "De innovatie",
      problem: "Probleem en voor wie",
      where: "Waar het nu draait",
      owner: "Eigenaar na de pilot",
      budget: "Budget",
      blocker: "Wat de opschaling tegenhoudt",
      ambition: "Opschaalambitie",
      phase: "Fase",
      why: "Waarom deze fase",
      source: "bron",
      correct: "Klopt het niet? Corrigeer fase en obstakels",
      phaseLabel: "Fase",
      obstaclesLabel: "Obstakels",
      save: "Opslaan",
      saved: "Opgeslagen.",
      obstacles: "Obstakels en wat anderen deden",
      othersDid: "Wat anderen deden",
      people: "Mensen die dit eerder tegenkwamen (met toestemming)",
      invite: "Nodig uit om mee te denken",
      inviteQuestion: "Je vraag aan",
      inviteDefault: (o) => `Hoe hebben jullie '${o}' aangepakt, en wil je even meedenken over onze aanpak?`,
      draft: "Maak concept",
      draftLabel: "Concept-uitnodiging aan",
      copy: "Kopieer",
      copied: "Gekopieerd naar het klembord.",
      mail: "Open in je e-mail",
      viaChannel: (c) => `Stuur dit via ${c} (de persoon heeft daar een account).`,
      invitedSaved: "De uitnodiging is vastgelegd in het plan.",
      stakeholders: "Stakeholders",
      role: "Rol of organisatie",
      interest: "Belang",
      influence: "Invloed",
      stance: "Houding",
      quadrant: "Kwadrant",
      q: { manage: "actief betrekken", satisfy: "tevreden houden", inform: "informeren", monitor: "monitoren" },
      stances: { voor: "voor", neutraal: "neutraal", tegen: "tegen", onbekend: "onbekend" },
      gridTitle: "Invloed-belangmatrix",
      gridAlt: (n) => `Invloed-belangmatrix met ${n} stakeholders; de tabel hierboven geeft dezelfde gegevens.`,
      gridNone: "Nog geen stakeholders: voeg ze hieronder toe, dan verschijnen ze in de matrix.",
      addStakeholder: "Voeg een stakeholder toe",
      add: "Voeg toe",
      missing: "Wie ontbreekt er misschien",
      none: "Nog niets.",
      case: "Businesscase (vijf jaar)",
      item: "Post",
      kind: "Soort",
      year: "Jaar",
      payer: "Betaler",
      beneficiary: "Baathouder",
      net: "Netto per jaar",
      split: "Gespleten prikkel",
      refs: "Cases met cijfers als ijkpunt",
      tasks: "Implementatieplan",
      taskOwner: "Trekker",
      due: "Datum",
      newTask: "Nieuwe taak",
      addTask: "Voeg taak toe",
      taskDone: (t) => `Afgevinkt: ${t}`,
      taskOpen: (t) => `Weer open: ${t}`,
      taskAdded: (t) => `Taak toegevoegd: ${t}`,
      chat: "Vertel wat er veranderd is, of vraag “wat nu?”",
      chatSend: "Verstuur",
      chatTicked: (t) => `Afgevinkt: ${t}.`,
      nextSteps: "Volgende stappen",
      invited: "Uitgenodigd om mee te denken",
      share: "Delen",
      shareIntro: "Met een deellink kan iemand het plan lezen, niet wijzigen. Je kunt hem intrekken.",
      shareMake: "Maak een deellink",
      shareLabel: "Deellink",
      shareRevoke: "Trek deze deellink in",
      shareRevoked: "De deellink is ingetrokken.",
      export: "Exporteren",
      exportIntro: "Neem het plan mee naar je overleg.",
      download: (f) => `Download ${f}`,
      downloaded: (f) => `${f} gedownload.`,
      history: "Wijzigingsgeschiedenis",
      actor: { owner: "eigenaar" },
      actions: { created: "aangemaakt", edited: "gewijzigd", task_added: "taak toegevoegd", task_updated: "taak bijgewerkt", invited: "uitgenodigd", shared: "gedeeld", share_revoked: "deellink ingetrokken" },
      sources: "Bronnen",
      types: { case: "praktijkvoorbeeld", lesson: "les", guide: "handreiking", blog: "blog" },
      kinds: { eenmalig: "eenmalig", jaarlijks: "jaarlijks", baten: "baten" },
      statuses: { open: "open", bezig: "bezig", klaar: "klaar" },
    },
    en: {
      title: "Scaling plan",
      loading: "Loading the plan…",
      notFound: "This plan does not exist or has not been shared with you.",
      network: "Cannot reach Opschaalwijzer. Please try again.",
      warning: "Do not put other people's personal data in the plan: name roles, not people.",
      readOnly: "You are viewing this plan through a share link: you can read it, not change it.",
      innovation: "The innovation",
      problem: "Problem and for whom",
      where: "Where it runs now",
      owner: "Owner after the pilot",
      budget: "Budget",
      blocker: "What blocks the scaling",
      ambition: "Scaling ambition",
      phase: "Phase",
      why: "Why this phase",
      source: "source",
      correct: "Not right? Correct the phase and obstacles",
      phaseLabel: "Phase",
      obstaclesLabel: "Obstacles",
      save: "Save",
      saved: "Saved.",
      obstacles: "Obstacles and what others did",
      othersDid: "What others did",
      people: "People who faced this before (with consent)",
      invite: "Invite to think along",
      inviteQuestion: "Your question to",
      inviteDefault: (o) => `How did you handle '${o}', and would you think along with our approach?`,
      draft: "Draft",
      draftLabel: "Draft invitation to",
      copy: "Copy",
      copied: "Copied to the clipboard.",
      mail: "Open in your email",
      viaChannel: (c) => `Send this through ${c} (the person has an account there).`,
      invitedSaved: "The invitation is recorded in the plan.",
      stakeholders: "Stakeholders",
      role: "Role or organisation",
      interest: "Interest",
      influence: "Influence",
      stance: "Stance",
      quadrant: "Quadrant",
      q: { manage: "manage closely", satisfy: "keep satisfied", inform: "keep informed", monitor: "monitor" },
      stances: { voor: "in favour", neutraal: "neutral", tegen: "against", onbekend: "unknown" },
      gridTitle: "Influence/interest grid",
      gridAlt: (n) => `Influence/interest grid with ${n} stakeholders; the table above holds the same data.`,
      gridNone: "No stakeholders yet: add them below and they appear in the grid.",
      addStakeholder: "Add a stakeholder",
      add: "Add",
      missing: "Who may be missing",
      none: "Nothing yet.",
      case: "Business case (five years)",
      item: "Item",
      kind: "Kind",
      year: "Year",
      payer: "Payer",
      beneficiary: "Beneficiary",
      net: "Net per year",
      split: "Split incentive",
      refs: "Cases with figures as reference points",
      tasks: "Implementation plan",
      taskOwner: "Lead",
      due: "Date",
      newTask: "New task",
      addTask: "Add task",
      taskDone: (t) => `Ticked off: ${t}`,
      taskOpen: (t) => `Open again: ${t}`,
      taskAdded: (t) => `Task added: ${t}`,
      chat: "Say what changed, or ask “what next?”",
      chatSend: "Send",
      chatTicked: (t) => `Ticked off: ${t}.`,
      nextSteps: "Next steps",
      invited: "Invited to think along",
      share: "Sharing",
      shareIntro: "With a share link someone can read the plan, not change it. You can revoke it.",
      shareMake: "Make a share link",
      shareLabel: "Share link",
      shareRevoke: "Revoke this share link",
      shareRevoked: "The share link has been revoked.",
      export: "Export",
      exportIntro: "Take the plan to your meeting.",
      download: (f) => `Download ${f}`,
      downloaded: (f) => `${f} downloaded.`,
      history: "Change history",
      actor: { owner: "owner" },
      actions: { created: "created", edited: "edited", task_added: "task added", task_updated: "task updated", invited: "invited", shared: "shared", share_revoked: "share link revoked" },
      sources: "Sources",
      types: { case: "case", lesson: "lesson", guide: "guide", blog: "blog" },
      kinds: { eenmalig: "one-off", jaarlijks: "yearly", baten: "benefits" },
      statuses: { open: "open", bezig: "in progress", klaar: "done" },
    },
  };

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function safeHttpUrl(url) {
    try {
      const u = new URL(String(url || ""));
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch {
      return null;
    }
  }

  // The fragment hands over the secret once; after that it lives in this origin's storage only.
  const frag = new URLSearchParams(location.hash.slice(1));
  try {
    if (frag.get("eigenaar")) localStorage.setItem(OWNER_KEY, frag.get("eigenaar"));
    if (frag.get("deel")) localStorage.setItem(SHARE_KEY, frag.get("deel"));
  } catch {
    /* storage blocked: the secret still works for this visit */
  }
  const stored = (key) => {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  };
  const ownerSecret = frag.get("eigenaar") || stored(OWNER_KEY);
  const shareToken = frag.get("deel") || stored(SHARE_KEY);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);

  const api = (path) => `/api/plans/${encodeURIComponent(planId)}${path}`;
  function headers(json) {
    const hd = {};
    if (json) hd["Content-Type"] = "application/json";
    if (ownerSecret) hd["X-Plan-Owner"] = ownerSecret;
    else if (shareToken) hd["X-Plan-Token"] = shareToken;
    return hd;
  }
  async function call(method, path, body) {
    const res = await fetch(api(path), {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    if (!res.ok) {
      let detail = "";
      try {
        detail = (await res.json()).detail || "";
      } catch {
        /* not JSON */
      }
      throw Object.assign(new Error(detail), { status: res.status, detail });
    }
    return res;
  }

  let plan = null;
  let choices = null;
  let t = L.nl;
  let gridUrl = null;
  const state = { message: "", draft: null, share: null };

  function say(text) {
    state.message = text;
    const live = document.getElementById("live");
    if (live) live.textContent = text;
  }

  function refs(ns) {
    return (ns || []).map((n) => h("a", { href: `#bron-${n}`, class: "cite", "aria-label": `${t.source} ${n}` }, `[${n}]`));
  }

  function quadrant(s) {
    const hiInf = s.influence >= 3;
    const hiInt = s.interest >= 3;
    return t.q[hiInf ? (hiInt ? "manage" : "satisfy") : hiInt ? "inform" : "monitor"];
  }

  /** The change history, one line per change; the same change in the same minute by the same
   * person (the intake adds its tasks one by one) reads as one line with a count. */
  function historyLines() {
    const lines = [];
    let last = null;
    for (const e of plan.history) {
      const actor = String(e.actor).startsWith("web:") ? t.actor.owner : e.actor;
      const text = `${e.created.slice(0, 16).replace("T", " ")} · ${actor} · ${t.actions[e.action] || e.action}`;
      if (last && last.text === text) last.n += 1;
      else lines.push((last = { text, n: 1 }));
    }
    return lines.map((l) => (l.n > 1 ? `${l.text} (${l.n}×)` : l.text));
  }

  function table(caption, head, rows, numeric) {
    const id = `tbl-${Math.random().toString(36).slice(2, 8)}`;
    return h(
      "div",
      { class: "scroll", role: "region", "aria-labelledby": id, tabindex: "0" },
      h(
        "table",
        {},
        h("caption", { id }, caption),
        h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", { class: numeric && numeric(i) ? "num" : null }, c)))))),
      ),
    );
  }

  const money = (x) => `€ ${Math.round(x).toLocaleString("nl-NL")}`;
  const owner = () => plan && plan.access === "owner";

  function section(id, title, ...body) {
    return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...body);
  }

  function render() {
    const focusId = document.activeElement && document.activeElement.id;
    const i = plan.intake;
    document.documentElement.lang = plan.language;
    document.title = `${t.title}: ${i.innovation} · Opschaalwijzer`;
    const parts = [h("h1", {}, `${t.title}: ${i.innovation}`), h("p", { class: "warn" }, t.warning)];
    if (!owner()) parts.push(h("p", { class: "note" }, t.readOnly));
    parts.push(h("p", { id: "live", class: "status", role: "status", "aria-live": "polite" }, state.message));

    parts.push(
      section("s-innovation", t.innovation, h("dl", { class: "facts" }, ["problem", "where", "owner", "budget", "blocker"].flatMap((k) => [h("dt", {}, t[k]), h("dd", {}, i[k] || "—")]))),
      section("s-ambition", t.ambition, h("p", {}, plan.ambition_name, " ", refs(plan.ambition_sources))),
    );

    const reasons = plan.phase_reason_text || "—";
    const phaseBody = [h("p", {}, h("strong", {}, plan.phase_name || "—"), ". ", `${t.why}: ${reasons}`)];
    if (owner() && choices) phaseBody.push(correctionForm());
    parts.push(section("s-phase", t.phase, ...phaseBody));

    const obstacleBody = plan.obstacles.length ? plan.obstacles.map(obstacleBlock) : [h("p", {}, t.none)];
    parts.push(section("s-obstacles", t.obstacles, ...obstacleBody));

    parts.push(stakeholderSection());
    parts.push(caseSection());
    parts.push(taskSection());

    const inv = plan.invitations;
    parts.push(section("s-invited", t.invited, inv.length ? h("ul", {}, inv.map((x) => h("li", {}, `${x.name}: ${x.question} (${x.created.slice(0, 10)})`))) : h("p", {}, t.none)));
    if (owner()) parts.push(shareSection());
    parts.push(exportSection());
    parts.push(
      section(
        "s-history",
        t.history,
        h("ul", {}, historyLines().map((line) => h("li", {}, line))),
      ),
      section(
        "s-sources",
        t.sources,
        h(
          "ol",
          { class: "sources" },
          plan.sources.map((s) => {
            const href = safeHttpUrl(s.url) || `/bronnen/${encodeURI(s.doc_id)}${plan.language === "en" ? "?lang=en" : ""}`;
            return h("li", { id: `bron-${s.n}`, value: s.n }, h("a", { href }, s.title), ` (${t.types[s.type] || s.type})`);
          }),
        ),
      ),
    );
    main.replaceChildren(...parts);
    const again = focusId && document.getElementById(focusId);
    if (again) again.focus();
  }

  function correctionForm() {
    const phase = h("select", { id: "fix-phase", name: "phase" }, choices.phases.map((p) => h("option", { value: p.key, selected: p.key === plan.phase }, p.name)));
    const current = new Set(plan.obstacles.map((o) => o.key));
    const boxes = choices.obstacles.map((o) =>
      h("label", { class: "opt", for: `fix-o-${o.key}` }, h("input", { type: "checkbox", id: `fix-o-${o.key}`, name: "obstacles", value: o.key, checked: current.has(o.key) }), o.name),
    );
    const form = h(
      "form",
      { class: "box", id: "fix" },
      h("h3", {}, t.correct),
      h("div", { class: "field" }, h("label", { for: "fix-phase" }, t.phaseLabel), phase),
      h("fieldset", {}, h("legend", {}, t.obstaclesLabel), boxes),
      h("button", { type: "submit", class: "btn primary", id: "fix-save" }, t.save),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const obstacles = [...form.querySelectorAll("input[name=obstacles]:checked")].map((x) => x.value);
      act(() => call("PATCH", "", { phase: phase.value, obstacles }), t.saved);
    });
    return form;
  }

  function obstacleBlock(o) {
    const block = h("div", {}, h("h3", {}, o.label), o.what_others_did.length ? h("p", {}, `${t.othersDid}: `, refs(o.what_others_did)) : null);
    if (o.people.length) {
      block.append(h("p", {}, h("strong", {}, t.people)));
      const list = h("ul", {});
      for (const p of o.people) {
        const li = h(
          "li",
          { class: "person" },
          h("p", { class: "name" }, p.name),
          h("p", {}, [p.role, p.organisation].filter(Boolean).join(" · ")),
          h("p", {}, p.reason),
        );
        if (owner()) li.append(inviteBox(p, o));
        list.append(li);
      }
      block.append(list);
    }
    return block;
  }

  function inviteBox(p, o) {
    const key = `${o.key}-${String(p.id).replace(/[^a-zA-Z0-9_-]/g, "")}`;
    const draft = state.draft && state.draft.key === key ? state.draft : null;
    const qid = `inv-q-${key}`;
    const area = h("textarea", { id: qid, rows: "3", maxlength: "500" });
    area.value = draft ? draft.question : t.inviteDefault(o.label);
    const form = h(
      "form",
      { class: "box" },
      h("div", { class: "field" }, h("label", { for: qid }, `${t.inviteQuestion} ${p.name}`), area),
      h("button", { type: "submit", class: "btn", id: `inv-send-${key}` }, t.invite),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      act(async () => {
        const res = await call("POST", "/invitations", { person_id: p.id, question: area.value });
        state.draft = { key, question: area.value, ...(await res.json()) };
      }, t.invitedSaved, `inv-text-${key}`);
    });
    const out = h("div", {}, form);
    if (draft) {
      const tid = `inv-text-${key}`;
      const text = h("textarea", { id: tid, readonly: true, rows: "8" });
      text.value = draft.text;
      const copy = h("button", { type: "button", class: "btn", id: `inv-copy-${key}` }, t.copy);
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(draft.text);
        } catch {
          text.select();
          document.execCommand && document.execCommand("copy");
        }
        say(t.copied);
      });
      const row = h("div", { class: "row" }, copy);
      if (draft.mailto && /^mailto:/.test(draft.mailto)) row.append(h("a", { class: "btn", href: draft.mailto, id: `inv-mail-${key}` }, t.mail));
      if (draft.channel === "slack" || draft.channel === "teams") row.append(h("span", {}, t.viaChannel(draft.channel === "slack" ? "Slack" : "Teams")));
      out.append(h("div", { class: "field" }, h("label", { for: tid }, `${t.draftLabel} ${p.name}`), text), row);
    }
    return out;
  }

  function stakeholderSection() {
    const st = plan.stakeholders;
    const body = [];
    if (st.length) {
      body.push(table(t.stakeholders, [t.role, t.interest, t.influence, t.stance, t.quadrant], st.map((s) => [s.role, String(s.interest), String(s.influence), t.stances[s.stance] || s.stance, quadrant(s)])));
      const img = h("img", { id: "grid-img", alt: t.gridAlt(st.length), width: "720", height: "540" });
      if (gridUrl) img.src = gridUrl;
      body.push(h("figure", { class: "grid-figure" }, img, h("figcaption", {}, t.gridTitle)));
    } else body.push(h("p", {}, t.gridNone));
    if (owner()) {
      const role = h("input", { type: "text", id: "st-role", maxlength: "200", required: true });
      const num = (id, label) => h("div", { class: "field" }, h("label", { for: id }, `${label} (1–5)`), h("select", { id }, [1, 2, 3, 4, 5].map((n) => h("option", { value: n, selected: n === 3 }, String(n)))));
      const stance = h("select", { id: "st-stance" }, Object.entries(t.stances).map(([k, v]) => h("option", { value: k, selected: k === "onbekend" }, v)));
      const form = h(
        "form",
        { class: "box" },
        h("h3", {}, t.addStakeholder),
        h("div", { class: "field" }, h("label", { for: "st-role" }, t.role), role),
        h("div", { class: "row" }, num("st-interest", t.interest), num("st-influence", t.influence), h("div", { class: "field" }, h("label", { for: "st-stance" }, t.stance), stance)),
        h("button", { type: "submit", class: "btn", id: "st-add" }, t.add),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (role.value.trim().length < 2) return role.focus();
        const next = [...st, { role: role.value.trim(), interest: Number(form.querySelector("#st-interest").value), influence: Number(form.querySelector("#st-influence").value), stance: stance.value }];
        act(() => call("PATCH", "", { stakeholders: next }), t.saved, "st-role", true);
      });
      body.push(form);
    }
    const sug = plan.suggested_stakeholders;
    if (sug.length) body.push(h("h3", {}, t.missing), h("ul", {}, sug.map((s) => h("li", {}, h("strong", {}, s.role), `: ${s.why} `, refs(s.sources)))));
    return section("s-stakeholders", t.stakeholders, ...body);
  }

  function caseSection() {
    const bc = plan.business_case;
    const head = [t.item, t.kind, ...[1, 2, 3, 4, 5].map((y) => `${t.year} ${y}`), t.payer, t.beneficiary];
    const rows = bc.rows.map((r) => [r.item, t.kinds[r.kind] || r.kind, ...r.years.map(money), r.payer || "—", r.beneficiary || "—"]);
    rows.push([t.net, "", ...bc.net.map(money), "", ""]);
    const body = [table(t.case, head, rows, (i) => i >= 2 && i <= 6)];
    if (bc.split_incentive) body.push(h("p", { class: "warn" }, h("strong", {}, `${t.split}: `), bc.split_text, " ", refs(bc.split_sources)));
    if (bc.reference_cases.length) body.push(h("p", {}, `${t.refs}: `, refs(bc.reference_cases)));
    return section("s-case", t.case, ...body);
  }

  function taskSection() {
    const list = h(
      "ul",
      { class: "tasks" },
      plan.tasks.map((task) => {
        const id = `task-${task.id}`;
        const box = h("input", { type: "checkbox", id, checked: task.status === "klaar", disabled: !owner(), "aria-describedby": `${id}-meta` });
        box.addEventListener("change", () => {
          const status = box.checked ? "klaar" : "open";
          act(() => call("PATCH", `/tasks/${encodeURIComponent(task.id)}`, { status }), (box.checked ? t.taskDone : t.taskOpen)(task.title), id);
        });
        const meta = [task.owner && `${t.taskOwner}: ${task.owner}`, task.due && `${t.due}: ${task.due}`, t.statuses[task.status]].filter(Boolean).join(" · ");
        return h("li", { class: task.status === "klaar" ? "done" : null }, box, h("div", {}, h("label", { for: id }, task.title), h("span", { class: "meta", id: `${id}-meta` }, meta)));
      }),
    );
    const body = [list];
    if (owner()) {
      const title = h("input", { type: "text", id: "task-title", maxlength: "300", required: true });
      const who = h("input", { type: "text", id: "task-owner", maxlength: "200" });
      const due = h("input", { type: "date", id: "task-due" });
      const form = h(
        "form",
        { class: "box" },
        h("h3", {}, t.newTask),
        h("div", { class: "field" }, h("label", { for: "task-title" }, t.newTask), title),
        h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "task-owner" }, `${t.taskOwner} (${t.role.toLowerCase()})`), who), h("div", { class: "field" }, h("label", { for: "task-due" }, t.due), due)),
        h("button", { type: "submit", class: "btn", id: "task-add" }, t.addTask),
      );
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!title.value.trim()) return title.focus();
        const body = { title: title.value.trim() };
        if (who.value.trim()) body.owner = who.value.trim();
        if (due.value) body.due = due.value;
        act(() => call("POST", "/tasks", body), t.taskAdded(body.title), "task-title");
      });
      const say_ = h("input", { type: "text", id: "chat-text", maxlength: "2000" });
      const chat = h("form", { class: "box" }, h("div", { class: "field" }, h("label", { for: "chat-text" }, t.chat), say_), h("button", { type: "submit", class: "btn", id: "chat-send" }, t.chatSend));
      chat.addEventListener("submit", (e) => {
        e.preventDefault();
        if (!say_.value.trim()) return say_.focus();
        act(async () => {
          const r = await (await call("POST", "/chat", { text: say_.value.trim() })).json();
          const next = r.next_steps.map((s) => s.title).join("; ");
          state.pending = (r.updated ? t.chatTicked(r.updated.title) + " " : "") + `${t.nextSteps}: ${next || "—"}`;
        }, null, "chat-text");
      });
      body.push(form, chat);
    }
    return section("s-tasks", t.tasks, ...body);
  }

  function shareSection() {
    const body = [h("p", {}, t.shareIntro)];
    const make = h("button", { type: "button", class: "btn", id: "share-make" }, t.shareMake);
    make.addEventListener("click", () =>
      act(async () => {
        state.share = await (await call("POST", "/shares")).json();
      }, null, "share-url"),
    );
    body.push(h("div", { class: "row" }, make));
    if (state.share) {
      const url = h("input", { type: "url", id: "share-url", readonly: true, size: "60" });
      url.value = new URL(state.share.page, location.origin).href;
      const copy = h("button", { type: "button", class: "btn", id: "share-copy" }, t.copy);
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(url.value);
        } catch {
          url.select();
          document.execCommand && document.execCommand("copy");
        }
        say(t.copied);
      });
      const revoke = h("button", { type: "button", class: "btn", id: "share-revoke" }, t.shareRevoke);
      revoke.addEventListener("click", () =>
        act(async () => {
          await call("POST", "/shares/revoke", { token: state.share.token });
          state.share = null;
        }, t.shareRevoked, "share-make"),
      );
      body.push(h("div", { class: "field" }, h("label", { for: "share-url" }, t.shareLabel), url), h("div", { class: "row" }, copy, revoke));
    }
    return section("s-share", t.share, ...body);
  }

  function exportSection() {
    const row = h("div", { class: "row" });
    for (const [fmt, label] of [["docx", "DOCX (Word)"], ["pdf", "PDF"], ["md", "Markdown"]]) {
      const b = h("button", { type: "button", class: "btn", id: `export-${fmt}` }, t.download(label));
      b.addEventListener("click", async () => {
        try {
          const res = await call("GET", `/export?format=${fmt}`);
          const blob = await res.blob();
          const a = h("a", { href: URL.createObjectURL(blob), download: `opschaalplan-${planId}.${fmt}`, hidden: true });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(a.href), 10000);
          say(t.downloaded(label));
        } catch (err) {
          say(err.detail || t.network);
        }
      });
      row.append(b);
    }
    return section("s-export", t.export, h("p", {}, t.exportIntro), row);
  }

  /** Run a change, reload the plan, and keep the keyboard focus where the user was. */
  async function act(fn, message, focusId, reloadGrid) {
    try {
      await fn();
      await load(reloadGrid);
      const msg = message || state.pending || "";
      state.pending = null;
      if (focusId) {
        const el = document.getElementById(focusId);
        if (el) el.focus();
      }
      say(msg);
    } catch (err) {
      say(err.detail ? err.detail.charAt(0).toUpperCase() + err.detail.slice(1) + "." : t.network);
    }
  }

  async function loadGrid() {
    if (!plan.stakeholders.length) return;
    try {
      const res = await call("GET", "/grid.png");
      if (gridUrl) URL.revokeObjectURL(gridUrl);
      gridUrl = URL.createObjectURL(await res.blob());
      const img = document.getElementById("grid-img");
      if (img) img.src = gridUrl;
    } catch {
      /* the table above carries the same data */
    }
  }

  async function load(reloadGrid) {
    plan = await (await call("GET", "")).json();
    t = L[plan.language] || L.nl;
    if (!choices && plan.access === "owner") {
      try {
        choices = await (await fetch(`/api/plan-intake?language=${plan.language}`, { credentials: "omit" })).json();
      } catch {
        /* no corrections without the choices */
      }
    }
    render();
    if (reloadGrid || !gridUrl) await loadGrid();
  }

  load(true)
    .then(() => {
      main.setAttribute("aria-busy", "false");
      document.body.dataset.ready = "true";
    })
    .catch((err) => {
      main.replaceChildren(h("h1", {}, L.nl.title), h("p", { class: "err", role: "alert" }, err.status === 404 ? L.nl.notFound : L.nl.network), h("p", { lang: "en" }, err.status === 404 ? L.en.notFound : L.en.network));
      document.body.dataset.ready = "error";
    });
})();
