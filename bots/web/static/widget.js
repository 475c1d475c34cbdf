/*
 * Opschaalwijzer chat widget. One tag on any page:
 *   <script src="https://HOST/widget.js" data-title="Opschaalwijzer" data-lang="nl" defer></script>
 * Optional: data-key (API key, only on pages behind a login), data-open="true", data-api (API base).
 *
 * No framework, no build step. Everything lives in a shadow root, so the host page's CSS cannot
 * reach in and ours cannot leak out. All data from the server goes into the DOM as text
 * (textContent / createTextNode), never as HTML: answers quote documents, and documents and
 * questions may contain markup.
 */
(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-title], script[src$="widget.js"]');
  if (!script || customElements.get("opschaal-widget")) return;

  const base = new URL(script.dataset.api || ".", script.src || location.href).href.replace(/\/?$/, "/");
  const apiKey = script.dataset.key || "";
  const title = script.dataset.title || "Opschaalwijzer";

  const STRINGS = {
    nl: {
      launcher: "Vraag het Opschaalwijzer",
      close: "Sluit de chat",
      switchLang: "EN",
      switchLabel: "EN – switch to English",
      newChat: "Nieuw gesprek",
      newShort: "Nieuw",
      label: "Je vraag",
      placeholder: "Bijv.: hoe krijg ik draagvlak?",
      send: "Verstuur",
      you: "Jij",
      bot: "Opschaalwijzer",
      welcome:
        "Hallo! Ik help je met het opschalen van digitale innovaties. Stel je vraag: ik antwoord met bronnen, mensen die je kunt spreken en volgende stappen.",
      examplesLabel: "Voorbeeldvragen",
      examples: ["Hoe kopen we samen met andere gemeenten in?", "Wanneer moet ik met een DPIA beginnen?"],
      thinking: "Even zoeken in de kennisbank…",
      done: "Antwoord ontvangen.",
      sources: "Bronnen",
      source: "Bron",
      openSource: "Open de bron",
      people: "Mensen om te spreken",
      introduce: "Stel me voor",
      introLabel: "Conceptbericht aan",
      copy: "Kopieer",
      copied: "Gekopieerd",
      mail: "Open in je e-mail",
      nextSteps: "Volgende stappen",
      phase: "Fase",
      feedbackLabel: "Was dit antwoord nuttig?",
      up: "Nuttig",
      down: "Niet nuttig",
      thanks: "Bedankt voor je feedback!",
      commentLabel: "Wat miste je? (optioneel)",
      commentHint: "Laat persoonsgegevens weg. Escape slaat over.",
      commentSend: "Verstuur toelichting",
      commentSkip: "Overslaan",
      commentEmpty: "Typ eerst wat je miste, of kies Overslaan.",
      commentThanks: "Dank je, je toelichting is opgeslagen.",
      error: "Er ging iets mis. Probeer het nog eens.",
      network: "Geen verbinding met Opschaalwijzer. Controleer je netwerk en probeer het opnieuw.",
      corsRefused:
        "Deze site mag deze Opschaalwijzer niet gebruiken; de beheerder van Opschaalwijzer zet dit adres in OPSCHAAL_ALLOWED_ORIGINS.",
      rateLimited: (s) => `Even rustig aan: probeer het over ${s} seconden opnieuw.`,
      empty: "Typ eerst een vraag.",
      share: "Deel je ervaring",
      plan: "Maak een opschaalplan",
      planIntro: "Ik stel je hooguit acht korte vragen, één voor één. Daarna zie je wat ik herkende en kun je het corrigeren.",
      planStep: (i, n) => `Vraag ${i} van ${n}`,
      planNext: "Volgende",
      planSkip: "Sla over",
      planNeedName: "Geef de innovatie een naam van minstens twee tekens.",
      planMaking: "Ik maak je plan en kijk wat ik herken…",
      planDetected: "Dit heb ik herkend",
      planPhase: "Fase",
      planObstacles: "Obstakels",
      planNone: "geen",
      planWhy: "Waarom",
      planConfirm: "Klopt, maak het plan",
      planReady: "Je opschaalplan staat klaar.",
      planOpen: "Open je opschaalplan",
      planKeep: "Wie deze link heeft, kan je plan wijzigen: stuur hem niet door. Deel het plan met anderen via de deellink op de planpagina.",
      myPlans: "Je opschaalplannen in deze browser",
      myPlansNote: "Deze browser onthoudt de link naar je plan, zodat je het na herladen terugvindt. Werk je op een gedeelde computer? Kies dan Vergeet.",
      forget: (name) => `Vergeet ${name} op dit apparaat`,
      forgetShort: "Vergeet",
      forgotten: (name) => `${name} is vergeten op dit apparaat. Het plan zelf bestaat nog.`,
      shareIntro: "Deel wat je probeerde, waar je tegenaan liep en wat je leerde. Een curator bekijkt het voordat het in de kennisbank komt.",
      fTitle: "Titel",
      fTried: "Wat heb je geprobeerd?",
      fObstacles: "Waar liep je tegenaan?",
      fLearned: "Wat heb je geleerd?",
      fOrganisation: "Organisatie",
      fContact: "Mogen anderen je hierover benaderen?",
      yes: "Ja",
      no: "Nee",
      fName: "Naam (alleen als je benaderd mag worden)",
      fEmail: "E-mailadres (alleen als je benaderd mag worden)",
      shareSend: "Insturen",
      shareSent: "Dank je! Een curator bekijkt je bijdrage.",
    },
    en: {
      launcher: "Ask Opschaalwijzer",
      close: "Close the chat",
      switchLang: "NL",
      switchLabel: "NL – wissel naar Nederlands",
      newChat: "New conversation",
      newShort: "New",
      label: "Your question",
      placeholder: "E.g.: how do I build support?",
      send: "Send",
      you: "You",
      bot: "Opschaalwijzer",
      welcome:
        "Hello! I help you scale digital innovations. Ask your question: I answer with sources, people you can talk to, and next steps.",
      examplesLabel: "Example questions",
      examples: ["How do we procure together with other municipalities?", "When should I start a DPIA?"],
      thinking: "Searching the knowledge base…",
      done: "Answer received.",
      sources: "Sources",
      source: "Source",
      openSource: "Open the source",
      people: "People to talk to",
      introduce: "Introduce me",
      introLabel: "Draft message to",
      copy: "Copy",
      copied: "Copied",
      mail: "Open in your email",
      nextSteps: "Next steps",
      phase: "Phase",
      feedbackLabel: "Was this answer helpful?",
      up: "Helpful",
      down: "Not helpful",
      thanks: "Thank you for your feedback!",
      commentLabel: "What was missing? (optional)",
      commentHint: "Leave out personal details. Escape skips.",
      commentSend: "Send comment",
      commentSkip: "Skip",
      commentEmpty: "Type what was missing first, or choose Skip.",
      commentThanks: "Thank you, your comment has been saved.",
      error: "Something went wrong. Please try again.",
      network: "Cannot reach Opschaalwijzer. Check your network and try again.",
      corsRefused: "This site is not allowed to use this Opschaalwijzer; the administrator sets OPSCHAAL_ALLOWED_ORIGINS.",
      rateLimited: (s) => `Slow down a little: try again in ${s} seconds.`,
      empty: "Type a question first.",
      share: "Share your experience",
      plan: "Make a scaling plan",
      planIntro: "I will ask you at most eight short questions, one at a time. Then you see what I detected and can correct it.",
      planStep: (i, n) => `Question ${i} of ${n}`,
      planNext: "Next",
      planSkip: "Skip",
      planNeedName: "Give the innovation a name of at least two characters.",
      planMaking: "Making your plan and checking what I detect…",
      planDetected: "What I detected",
      planPhase: "Phase",
      planObstacles: "Obstacles",
      planNone: "none",
      planWhy: "Why",
      planConfirm: "Right, make the plan",
      planReady: "Your scaling plan is ready.",
      planOpen: "Open your scaling plan",
      planKeep: "Whoever has this link can change your plan: do not forward it. Share the plan with others through the share link on the plan page.",
      myPlans: "Your scaling plans in this browser",
      myPlansNote: "This browser remembers the link to your plan, so you find it again after a reload. On a shared computer, choose Forget.",
      forget: (name) => `Forget ${name} on this device`,
      forgetShort: "Forget",
      forgotten: (name) => `${name} is forgotten on this device. The plan itself still exists.`,
      shareIntro: "Share what you tried, what got in the way and what you learned. A curator reviews it before it enters the knowledge base.",
      fTitle: "Title",
      fTried: "What did you try?",
      fObstacles: "What got in the way?",
      fLearned: "What did you learn?",
      fOrganisation: "Organisation",
      fContact: "May others contact you about this?",
      yes: "Yes",
      no: "No",
      fName: "Name (only if you may be contacted)",
      fEmail: "Email (only if you may be contacted)",
      shareSend: "Submit",
      shareSent: "Thank you! A curator will review your contribution.",
    },
  };

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a; }
button, textarea { font: inherit; }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; box-shadow: 0 0 0 5px #0b0c0c; }
.launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; display: flex; align-items: center; gap: 8px;
  min-height: 48px; padding: 10px 18px; border: 2px solid #fff; border-radius: 24px; background: #154273; color: #fff;
  font-weight: 600; cursor: pointer; box-shadow: 0 2px 10px rgba(0,0,0,.3); }
.launcher:hover { background: #0f3158; }
.panel { position: fixed; right: 16px; bottom: 80px; z-index: 2147483001; width: min(420px, calc(100vw - 16px));
  height: min(680px, calc(100vh - 96px)); display: flex; flex-direction: column; background: #fff; border: 1px solid #8a8a8a;
  border-radius: 10px; box-shadow: 0 6px 28px rgba(0,0,0,.3); overflow: hidden; }
.panel[hidden] { display: none; }
.head { display: flex; align-items: center; gap: 6px; padding: 8px 8px 8px 14px; background: #154273; color: #fff; }
.head h2 { flex: 1; margin: 0; font-size: 17px; font-weight: 700; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.head button { min-width: 40px; min-height: 40px; padding: 4px 8px; border: 1px solid rgba(255,255,255,.7); border-radius: 6px;
  background: transparent; color: #fff; cursor: pointer; font-size: 14px; }
.head button:hover { background: rgba(255,255,255,.15); }
.head .x { font-size: 22px; line-height: 1; }
.log { flex: 1; overflow-y: auto; padding: 12px 14px; background: #f5f7fa; overscroll-behavior: contain; }
.msg { margin: 0 0 14px; padding: 10px 12px; border-radius: 8px; background: #fff; border: 1px solid #d0d7e1; overflow-wrap: anywhere; }
.msg.user { margin-left: 32px; background: #e1eaf5; border-color: #b6c7dc; }
.who { margin: 0 0 4px; font-size: 13px; font-weight: 700; color: #3d3d3d; }
.text p { margin: 0 0 8px; white-space: pre-line; }
.text p:last-child { margin-bottom: 0; }
.text h4.section { font-size: 1em; margin: 12px 0 4px; }
.text ul, .text ol { margin: 0 0 8px; padding-left: 1.4em; }
.text li { margin: 0 0 4px; }
.cite { color: #154273; font-weight: 700; text-decoration: underline; padding: 0 1px; }
.cite:hover { background: #fff3c4; }
a { color: #154273; }
h3 { margin: 12px 0 6px; font-size: 14px; font-weight: 700; color: #1a1a1a; }
ul, ol { margin: 0; padding-left: 20px; }
.sources { list-style: none; padding: 0; }
.sources li { margin: 0 0 6px; }
details { border: 1px solid #d0d7e1; border-radius: 6px; padding: 4px 8px; background: #fafbfc; }
summary { cursor: pointer; font-size: 14px; }
details p { margin: 6px 0; font-size: 14px; color: #333; white-space: pre-line; }
.people { list-style: none; padding: 0; }
.person { margin: 0 0 8px; padding: 8px 10px; border: 1px solid #d0d7e1; border-left: 4px solid #154273; border-radius: 6px; background: #fafbfc; }
.person .name { margin: 0; font-weight: 700; }
.person .role { margin: 0; font-size: 14px; color: #3d3d3d; }
.person .reason { margin: 4px 0; font-size: 14px; }
.btn { min-height: 40px; padding: 6px 12px; border: 2px solid #154273; border-radius: 6px; background: #fff; color: #154273;
  font-weight: 600; cursor: pointer; }
.btn:hover { background: #e1eaf5; }
.btn.primary { background: #154273; color: #fff; }
.btn.primary:hover { background: #0f3158; }
.btn:disabled { opacity: .6; cursor: default; }
.intro textarea { width: 100%; min-height: 160px; margin: 4px 0; padding: 6px; border: 1px solid #6b6b6b; border-radius: 4px; font-size: 14px; }
.intro label { display: block; font-size: 14px; font-weight: 700; margin-top: 6px; }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.phase { margin: 0 0 4px; font-size: 14px; }
.steps li { margin: 0 0 4px; font-size: 15px; }
.feedback { margin-top: 10px; }
.feedback button { display: inline-flex; align-items: center; justify-content: center; min-width: 44px; min-height: 40px;
  border: 1px solid #6b6b6b; border-radius: 6px; background: #fff; color: #154273; cursor: pointer; }
.feedback button:hover:not(:disabled):not([aria-disabled="true"]) { background: #e1eaf5; }
.feedback button[aria-disabled="true"], .btn[aria-disabled="true"] { cursor: default; }
.feedback button[aria-pressed="true"] { background: #154273; border-color: #154273; color: #fff; opacity: 1; }
.feedback .thanks { font-size: 14px; color: #1f5f2a; }
form.comment { display: block; margin-top: 8px; max-width: 100%; padding: 0; border: 0; background: transparent; }
.comment label { display: block; font-size: 14px; font-weight: 700; color: #1a1a1a; }
.comment .hint { margin: 0 0 4px; font-size: 13px; color: #3d3d3d; }
.comment textarea { display: block; width: 100%; min-height: 72px; margin: 0 0 6px; padding: 6px; border: 2px solid #6b6b6b;
  border-radius: 4px; color: #1a1a1a; background: #fff; font-size: 14px; resize: vertical; }
.comment .err { color: #a4000f; font-weight: 700; font-size: 14px; margin: 4px 0 0; }
.examples { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.share label, .share legend { display: block; font-size: 14px; font-weight: 700; margin-top: 8px; }
.share input[type=text], .share input[type=email], .share textarea { width: 100%; padding: 6px; border: 1px solid #6b6b6b; border-radius: 4px; font: inherit; font-size: 14px; }
.share textarea { min-height: 72px; }
.share fieldset { border: 0; margin: 0; padding: 0; }
.share .opt { display: flex; align-items: center; gap: 6px; font-weight: 400; margin-top: 2px; }
.share .err { color: #a4000f; font-weight: 700; }
.intake label, .intake legend { display: block; font-size: 14px; font-weight: 700; margin-top: 8px; }
.intake textarea, .intake select { width: 100%; padding: 6px; border: 2px solid #6b6b6b; border-radius: 4px; font: inherit; font-size: 15px; background: #fff; color: #1a1a1a; }
.intake textarea { min-height: 64px; resize: vertical; }
.intake fieldset { border: 0; margin: 0; padding: 0; }
.intake .opt { display: flex; align-items: center; gap: 6px; font-weight: 400; margin-top: 2px; }
.intake .step { margin: 0; font-size: 13px; color: #3d3d3d; }
.intake .warn { background: #fff3c4; border-left: 4px solid #8a6d00; padding: 6px 8px; }
.intake .err { color: #a4000f; font-weight: 700; }
.intake .answer { margin: 2px 0 8px; padding: 4px 8px; background: #e1eaf5; border-radius: 4px; }
.intake .open-plan { display: inline-block; margin-top: 6px; }
.my-plans { margin-top: 10px; border-top: 1px solid #d0d7e1; padding-top: 6px; }
.my-plans h3 { font-size: 15px; margin: 4px 0; }
.my-plans ul { margin: 4px 0; padding-left: 18px; }
.my-plans li { margin: 4px 0; }
.my-plans .forget { font-size: 13px; min-height: 32px; padding: 2px 8px; }
.my-plans .step { margin: 4px 0 0; font-size: 13px; color: #3d3d3d; }
.examples .btn { font-size: 14px; min-height: 36px; }
.error { color: #a4161a; font-weight: 600; }
form { display: flex; gap: 8px; align-items: flex-end; padding: 10px; border-top: 1px solid #d0d7e1; background: #fff; }
form .field { flex: 1; display: flex; flex-direction: column; }
form label { font-size: 13px; font-weight: 700; color: #3d3d3d; margin-bottom: 2px; }
form textarea { width: 100%; min-height: 44px; max-height: 120px; resize: vertical; padding: 8px; border: 2px solid #6b6b6b; border-radius: 6px; color: #1a1a1a; background: #fff; }
/* The share and plan forms sit inside a message: stacked fields, not the question bar's row. */
form.share, form.intake-q { display: block; margin-top: 8px; padding: 0; border: 0; background: transparent; }
form.intake-q .row { margin-top: 8px; }
.status { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.busy::after { content: " ▍"; animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .busy::after { animation: none; } }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100dvh; border-radius: 0; border: 0; }
  .launcher { right: 12px; bottom: 12px; }
  /* Full screen, the panel is modal: the launcher it covers leaves the tab order. */
  .launcher[aria-expanded="true"] { display: none; }
  .msg.user { margin-left: 16px; }
}
`;

  /** Create an element with attributes and children; strings become text nodes, never HTML. */
  /* The owner's plans made in this widget: id, name and the owner secret, so that a reload of
   * the page does not cost the owner their plan. localStorage of the page that embeds the widget;
   * the widget says so next to the list and offers Vergeet. Never in a URL that reaches a server:
   * the secret travels to the plan page in the link's fragment only. */
  const PLANS_KEY = `opschaal-plans:${new URL(base).origin}`;
  const myPlans = {
    list() {
      try {
        const v = JSON.parse(localStorage.getItem(PLANS_KEY) || "[]");
        return Array.isArray(v) ? v.filter((p) => p && typeof p.id === "string" && typeof p.secret === "string") : [];
      } catch {
        return [];
      }
    },
    save(list) {
      try {
        if (list.length) localStorage.setItem(PLANS_KEY, JSON.stringify(list.slice(0, 10)));
        else localStorage.removeItem(PLANS_KEY);
      } catch {
        /* storage blocked: the link in the chat still works for this visit */
      }
    },
    add(plan) {
      this.save([plan, ...this.list().filter((p) => p.id !== plan.id)]);
    },
    forget(id) {
      this.save(this.list().filter((p) => p.id !== id));
    },
    href(p) {
      return `${new URL(`plan/${encodeURIComponent(p.id)}`, base).href}#eigenaar=${encodeURIComponent(p.secret)}`;
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

  // Icons as static SVG paths (Material Icons, Apache-2.0): emoji fonts differ per platform and
  // are missing on many servers and kiosks.
  const ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
  };

  function icon(name) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  /** Section labels of a composed answer (assistant/answering.py SECTIONS), lower case. */
  const SECTION_LABELS = new Set(["wat je kunt doen", "zo deden anderen het", "let op", "what you can do", "how others did it", "watch out"]);

  /** Text with **bold** spans as <strong> nodes; the rest stays plain text. */
  function withBold(text) {
    return String(text)
      .split(/\*\*([^*\n]+?)\*\*/)
      .map((piece, i) => (i % 2 ? h("strong", {}, piece) : document.createTextNode(piece)));
  }

  function safeHttpUrl(url) {
    if (!url) return null;
    try {
      const u = new URL(String(url));
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch {
      return null;
    }
  }

  class OpschaalWidget extends HTMLElement {
    constructor() {
      super();
      this.uiLang = script.dataset.lang === "en" ? "en" : "nl";
      this.conversationId = null;
      this.busy = false;
      this.messages = []; // {role, question?, answer?, el, feedback?}
      this.lastQuestion = "";
      const root = this.attachShadow({ mode: "open" });
      if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
      } else {
        root.append(h("style", {}, CSS));
      }
      this.build(root);
    }

    get t() {
      return STRINGS[this.uiLang];
    }

    build(root) {
      const t = this.t;
      this.launcher = h(
        "button",
        { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "ow-panel", onclick: () => this.toggle() },
        icon("chat"),
        h("span", { class: "launcher-label" }, t.launcher),
      );
      this.heading = h("h2", { id: "ow-title" }, title);
      this.langButton = h("button", { type: "button", class: "lang", onclick: () => this.switchLang() });
      // The visible word is part of the accessible name (WCAG 2.5.3); the arrow is decoration.
      this.newButton = h("button", { type: "button", class: "new", onclick: () => this.reset() }, h("span", { "aria-hidden": "true" }, "↺ "), h("span", { class: "new-label" }));
      this.closeButton = h("button", { type: "button", class: "x", onclick: () => this.close() }, "×");
      this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": "ow-title", tabindex: "0" });
      this.input = h("textarea", { id: "ow-q", rows: "2", maxlength: "2000", autocomplete: "off" });
      this.inputLabel = h("label", { for: "ow-q" });
      this.sendButton = h("button", { type: "submit", class: "btn primary send" });
      this.status = h("p", { class: "status", role: "status", "aria-live": "polite" });
      this.form = h(
        "form",
        { onsubmit: (e) => { e.preventDefault(); this.ask(this.input.value); } },
        h("div", { class: "field" }, this.inputLabel, this.input),
        this.sendButton,
      );
      this.input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.ask(this.input.value);
        }
      });
      this.panel = h(
        "section",
        { class: "panel", id: "ow-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "ow-title", hidden: true },
        // A div, not <header>: inside the dialog it is no page banner landmark.
        h("div", { class: "head" }, this.heading, this.langButton, this.newButton, this.closeButton),
        this.log,
        this.form,
        this.status,
      );
      this.panel.addEventListener("keydown", (e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          this.close();
        } else if (e.key === "Tab" && this.fullScreen.matches) {
          this.trapFocus(e);
        }
      });
      // Below 480 px the panel covers the page: then it is a modal dialog with a focus trap.
      this.fullScreen = window.matchMedia("(max-width: 480px)");
      const syncModal = () => this.panel.setAttribute("aria-modal", String(this.fullScreen.matches));
      syncModal();
      this.fullScreen.addEventListener?.("change", syncModal);
      this.wrapper = h("div", { class: "root" }, this.launcher, this.panel);
      root.append(this.wrapper);
      this.applyStrings();
      this.welcome();
      if (script.dataset.open === "true") this.open(false);
    }

    applyStrings() {
      const t = this.t;
      this.wrapper.setAttribute("lang", this.uiLang);
      this.launcher.querySelector(".launcher-label").textContent = t.launcher;
      this.langButton.textContent = t.switchLang;
      this.langButton.setAttribute("aria-label", t.switchLabel);
      this.langButton.setAttribute("lang", this.uiLang === "nl" ? "en" : "nl");
      this.newButton.setAttribute("aria-label", t.newChat);
      this.newButton.querySelector(".new-label").textContent = t.newShort;
      this.newButton.title = t.newChat;
      this.closeButton.setAttribute("aria-label", t.close);
      this.closeButton.title = t.close;
      this.inputLabel.textContent = t.label;
      this.input.placeholder = t.placeholder;
      this.sendButton.textContent = t.send;
    }

    switchLang() {
      this.uiLang = this.uiLang === "nl" ? "en" : "nl";
      this.applyStrings();
      // Rebuild what carries UI words; the answers themselves stay in the language they came in.
      for (const m of this.messages) {
        if (m.role === "welcome") this.renderWelcome(m);
        else if (m.role === "user") m.el.querySelector(".who").textContent = this.t.you;
        else if (m.answer) this.renderAnswer(m);
      }
      this.langButton.focus();
    }

    /** Tab and Shift+Tab cycle inside the full-screen panel instead of reaching the page. */
    trapFocus(e) {
      const focusable = [...this.panel.querySelectorAll("button, a[href], textarea, input, select, summary, [tabindex]")].filter(
        (el) => !el.disabled && el.tabIndex >= 0 && !el.closest("[hidden]") && el.getClientRects().length,
      );
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      const active = this.shadowRoot.activeElement;
      if (e.shiftKey && (active === first || !this.panel.contains(active))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (active === last || !this.panel.contains(active))) {
        e.preventDefault();
        first.focus();
      }
    }

    /** A fetch that failed without an answer: the network, or CORS refusing this page? An
     * opaque no-cors request reaches a server that CORS refuses, but not one that is down. */
    async networkText() {
      const t = this.t;
      if (new URL(base).origin === location.origin) return t.network;
      try {
        await fetch(new URL("healthz", base), { mode: "no-cors", credentials: "omit", cache: "no-store" });
        return t.corsRefused;
      } catch {
        return t.network;
      }
    }

    toggle() {
      if (this.panel.hidden) this.open(true);
      else this.close();
    }

    open(focus) {
      this.panel.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      if (focus) this.input.focus();
    }

    close() {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    reset() {
      this.conversationId = null;
      this.messages = [];
      this.log.replaceChildren();
      this.welcome();
      this.input.focus();
    }

    welcome() {
      const m = { role: "welcome", el: h("div", { class: "msg bot welcome" }) };
      this.messages.push(m);
      this.renderWelcome(m);
      this.log.append(m.el);
    }

    renderWelcome(m) {
      const t = this.t;
      const examples = h("div", { class: "examples", role: "group", "aria-label": t.examplesLabel });
      for (const q of t.examples) {
        examples.append(h("button", { type: "button", class: "btn", onclick: () => this.ask(q) }, q));
      }
      examples.append(h("button", { type: "button", class: "btn share-open", onclick: () => this.openShare() }, t.share));
      examples.append(h("button", { type: "button", class: "btn plan-open", onclick: () => this.openPlan() }, t.plan));
      m.el.replaceChildren(h("p", { class: "who" }, t.bot), h("div", { class: "text" }, h("p", {}, t.welcome)), examples);
      const mine = myPlans.list();
      if (mine.length) m.el.append(this.myPlansList(mine));
    }

    /** The plans this browser remembers, each with its link and a Vergeet button. */
    myPlansList(mine) {
      const t = this.t;
      const uid = Math.random().toString(36).slice(2, 8);
      const status = h("p", { role: "status", class: "step" });
      const items = mine.map((p) => {
        const li = h("li", {},
          h("a", { href: myPlans.href(p), target: "_blank", rel: "noopener noreferrer" }, p.name),
          " ",
          h("button", { type: "button", class: "btn forget", "aria-label": t.forget(p.name),
            onclick: () => {
              myPlans.forget(p.id);
              const next = li.nextElementSibling || li.previousElementSibling;
              li.remove();
              status.textContent = t.forgotten(p.name);
              (next ? next.querySelector("a") : this.input).focus();
            } }, t.forgetShort));
        return li;
      });
      return h("section", { class: "my-plans", "aria-labelledby": `ow-my-plans-${uid}` },
        h("h3", { id: `ow-my-plans-${uid}` }, t.myPlans),
        h("ul", {}, items),
        h("p", { class: "step" }, t.myPlansNote),
        status);
    }

    async openShare() {
      const t = this.t;
      let obstacles = [];
      try {
        const res = await fetch(new URL("api/obstacles", base), { headers: this.headers(false), credentials: "omit" });
        if (res.ok) obstacles = await res.json();
      } catch {
        /* the form still works; the server validates */
      }
      const uid = Math.random().toString(36).slice(2, 8);
      const field = (name, label, kind) => {
        const id = `ow-share-${name}-${uid}`;
        const input = kind === "area"
          ? h("textarea", { id, name, required: true })
          : h("input", { id, name, type: kind || "text", required: kind !== "email" && name !== "name" ? true : null });
        return h("div", {}, h("label", { for: id }, label), input);
      };
      const boxes = h("fieldset", {}, h("legend", {}, t.fObstacles),
        ...obstacles.map((o) => {
          const id = `ow-share-o-${o.key}-${uid}`;
          return h("label", { class: "opt", for: id },
            h("input", { type: "checkbox", id, name: "obstacles", value: o.key }),
            this.uiLang === "en" ? o.label_en || o.label : o.label);
        }));
      const contact = h("fieldset", {}, h("legend", {}, t.fContact),
        ...[["ja", t.yes], ["nee", t.no]].map(([v, label]) => {
          const id = `ow-share-c-${v}-${uid}`;
          return h("label", { class: "opt", for: id }, h("input", { type: "radio", id, name: "contact_ok", value: v, required: true }), label);
        }));
      const error = h("p", { class: "err", role: "alert" });
      const send = h("button", { type: "submit", class: "btn primary" }, t.shareSend);
      const form = h("form", { class: "share", novalidate: true },
        h("p", {}, t.shareIntro),
        field("title", t.fTitle), field("tried", t.fTried, "area"), boxes, field("learned", t.fLearned, "area"),
        field("organisation", t.fOrganisation), contact, field("name", t.fName), field("email", t.fEmail, "email"),
        error, send);
      const m = { role: "share", el: h("div", { class: "msg bot" }, h("p", { class: "who" }, t.share), form) };
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const fd = new FormData(form);
        const contactValue = fd.get("contact_ok");
        const body = {
          title: fd.get("title") || "", tried: fd.get("tried") || "", learned: fd.get("learned") || "",
          organisation: fd.get("organisation") || "", obstacles: fd.getAll("obstacles"),
          name: fd.get("name") || null, email: fd.get("email") || null,
        };
        if (contactValue) body.contact_ok = contactValue === "ja";
        send.disabled = true;
        try {
          const res = await this.post("api/contributions", body);
          if (res.ok) {
            m.el.replaceChildren(h("p", { class: "who" }, t.share), h("p", { role: "status" }, t.shareSent));
            this.input.focus();
          } else {
            error.textContent = await this.errorText(res);
            error.focus?.();
          }
        } catch {
          error.textContent = await this.networkText();
        } finally {
          send.disabled = false;
        }
      });
      this.messages.push(m);
      this.log.append(m.el);
      form.querySelector("input").focus();
    }

    /** "Maak een opschaalplan": the intake one question at a time, then what was detected, to
     * correct, then a link to the plan page. The owner secret goes to the page in the link's
     * fragment (never sent to a server); the widget remembers it in this browser (myPlans). */
    async openPlan() {
      const t = this.t;
      const lang = this.uiLang;
      const uid = Math.random().toString(36).slice(2, 8);
      const box = h("div", { class: "intake" });
      const m = { role: "plan", el: h("div", { class: "msg bot plan" }, h("p", { class: "who" }, t.plan), box) };
      this.messages.push(m);
      this.log.append(m.el);
      let choices;
      try {
        const res = await fetch(new URL(`api/plan-intake?language=${lang}`, base), { headers: this.headers(false), credentials: "omit" });
        if (!res.ok) throw Object.assign(new Error("questions"), { response: res });
        choices = await res.json();
      } catch (err) {
        box.append(h("p", { class: "error", role: "alert" }, err && err.response ? await this.errorText(err.response) : await this.networkText()));
        return;
      }
      box.append(h("p", {}, t.planIntro), h("p", { class: "warn" }, choices.warning));
      const questions = choices.questions.filter((q) => q.key !== "confirm");
      const total = questions.length + 1;
      const answers = { language: lang };
      const done = h("div", { class: "answers" });
      box.append(done);

      const ask = (i) => {
        if (i >= questions.length) return this.makePlan(box, answers, choices, total, uid);
        const q = questions[i];
        const id = `ow-plan-${q.key}-${uid}`;
        const error = h("p", { class: "err", role: "alert" });
        let field;
        if (q.key === "ambition") {
          field = h("fieldset", {}, h("legend", { id }, q.text),
            ...choices.ambitions.map((a) => {
              const rid = `${id}-${a.key}`;
              return h("label", { class: "opt", for: rid }, h("input", { type: "radio", id: rid, name: `ambition-${uid}`, value: a.key, checked: a.key === "out" }), a.name);
            }));
        } else {
          const area = h("textarea", { id, rows: "2", maxlength: q.key === "innovation" ? "300" : "2000", "aria-describedby": `${id}-step` });
          area.addEventListener("keydown", (e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              form.requestSubmit();
            }
          });
          field = h("div", {}, h("label", { for: id }, q.text), area);
        }
        const next = h("button", { type: "submit", class: "btn primary" }, t.planNext);
        const form = h("form", { class: "intake-q", novalidate: true }, h("p", { class: "step", id: `${id}-step` }, t.planStep(i + 1, total)), field, error, h("div", { class: "row" }, next));
        form.addEventListener("submit", (e) => {
          e.preventDefault();
          let value;
          if (q.key === "ambition") value = (form.querySelector("input:checked") || {}).value || "out";
          else value = form.querySelector("textarea").value.trim();
          if (q.key === "innovation" && value.length < 2) {
            error.textContent = t.planNeedName;
            form.querySelector("textarea").focus();
            return;
          }
          answers[q.key] = value;
          const shown = q.key === "ambition" ? choices.ambitions.find((a) => a.key === value).name : value || "—";
          done.append(h("p", { class: "step" }, q.text), h("p", { class: "answer" }, shown));
          form.remove();
          ask(i + 1);
        });
        box.append(form);
        this.scroll();
        const first = form.querySelector("textarea") || form.querySelector("input:checked") || form.querySelector("input");
        requestAnimationFrame(() => first.focus());
      };
      ask(0);
    }

    async makePlan(box, answers, choices, total, uid) {
      const t = this.t;
      const status = h("p", { role: "status" }, t.planMaking);
      box.append(status);
      let plan;
      try {
        const res = await this.post("api/plans", answers);
        if (!res.ok) throw Object.assign(new Error("plan"), { response: res });
        plan = await res.json();
      } catch (err) {
        status.replaceWith(h("p", { class: "error", role: "alert" }, err && err.response ? await this.errorText(err.response) : await this.networkText()));
        return;
      }
      status.remove();
      // Remembered at once: a reload during the correction step must not lose the plan.
      myPlans.add({ id: plan.plan_id, name: answers.innovation, secret: plan.owner_secret });
      const reasons = plan.phase_reason_text;
      const id = `ow-plan-phase-${uid}`;
      const phase = h("select", { id }, choices.phases.map((p) => h("option", { value: p.key, selected: p.key === plan.phase }, p.name)));
      const found = new Set(plan.obstacles.map((o) => o.key));
      const boxes = choices.obstacles.map((o) => {
        const cid = `ow-plan-o-${o.key}-${uid}`;
        return h("label", { class: "opt", for: cid }, h("input", { type: "checkbox", id: cid, value: o.key, checked: found.has(o.key) }), o.name);
      });
      const error = h("p", { class: "err", role: "alert" });
      const confirm = h("button", { type: "submit", class: "btn primary" }, t.planConfirm);
      const confirmQ = (choices.questions.find((q) => q.key === "confirm") || {}).text || "";
      const form = h(
        "form",
        { class: "intake-q detected", novalidate: true },
        h("p", { class: "step" }, t.planStep(total, total)),
        h("h3", { id: `${id}-h` }, t.planDetected),
        h("p", {}, `${t.planPhase}: `, h("strong", {}, plan.phase_name || "—"), reasons ? ` (${t.planWhy}: ${reasons})` : ""),
        h("p", {}, `${t.planObstacles}: `, h("strong", {}, plan.obstacles.map((o) => o.label).join(", ") || t.planNone)),
        h("p", {}, confirmQ),
        h("label", { for: id }, t.planPhase),
        phase,
        h("fieldset", {}, h("legend", {}, t.planObstacles), ...boxes),
        error,
        h("div", { class: "row" }, confirm),
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const obstacles = boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);
        const changes = {};
        if (phase.value && phase.value !== plan.phase) changes.phase = phase.value;
        if (obstacles.slice().sort().join() !== [...found].sort().join()) changes.obstacles = obstacles;
        confirm.setAttribute("aria-disabled", "true");
        try {
          if (Object.keys(changes).length) {
            const headers = { ...this.headers(), "X-Plan-Owner": plan.owner_secret };
            const res = await fetch(new URL(`api/plans/${encodeURIComponent(plan.plan_id)}`, base), { method: "PATCH", headers, body: JSON.stringify(changes), credentials: "omit" });
            if (!res.ok) throw Object.assign(new Error("edit"), { response: res });
          }
        } catch (err) {
          confirm.removeAttribute("aria-disabled");
          error.textContent = err && err.response ? await this.errorText(err.response) : await this.networkText();
          return;
        }
        const href = myPlans.href({ id: plan.plan_id, secret: plan.owner_secret });
        const link = h("a", { href, class: "btn primary open-plan", target: "_blank", rel: "noopener noreferrer" }, t.planOpen);
        form.replaceWith(h("div", {}, h("p", { role: "status" }, t.planReady), link, h("p", { class: "step" }, t.planKeep), h("p", { class: "step" }, t.myPlansNote)));
        link.focus();
      });
      box.append(form);
      this.scroll();
      requestAnimationFrame(() => phase.focus());
    }

    headers(json = true) {
      const hd = {};
      if (json) hd["Content-Type"] = "application/json";
      if (apiKey) hd["X-API-Key"] = apiKey;
      return hd;
    }

    async post(path, body, accept) {
      const headers = this.headers();
      if (accept) headers.Accept = accept;
      return fetch(new URL(path, base), { method: "POST", headers, body: JSON.stringify(body || {}), credentials: "omit" });
    }

    async errorText(res) {
      const t = this.t;
      if (res.status === 429) {
        return t.rateLimited(res.headers.get("Retry-After") || "60");
      }
      try {
        const data = await res.json();
        // Server details are Dutch; in the English UI fall back to the generic line.
        if (data && typeof data.detail === "string" && this.uiLang === "nl") {
          return data.detail.charAt(0).toUpperCase() + data.detail.slice(1) + ".";
        }
      } catch {
        /* not JSON */
      }
      return t.error;
    }

    async ensureConversation() {
      if (this.conversationId) return this.conversationId;
      const res = await this.post("api/conversations", {});
      if (!res.ok) throw Object.assign(new Error("conversation"), { response: res });
      this.conversationId = (await res.json()).conversation_id;
      return this.conversationId;
    }

    async ask(raw) {
      const question = String(raw || "").trim();
      if (this.busy) return;
      if (!question) {
        this.status.textContent = this.t.empty;
        this.input.focus();
        return;
      }
      this.busy = true;
      // aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>.
      this.sendButton.setAttribute("aria-disabled", "true");
      this.input.value = "";
      this.lastQuestion = question;

      const userEl = h("div", { class: "msg user" }, h("p", { class: "who" }, this.t.you), h("div", { class: "text" }, h("p", {}, question)));
      this.messages.push({ role: "user", el: userEl });
      this.log.append(userEl);

      const textNode = document.createTextNode("");
      const para = h("p", { class: "busy" }, textNode);
      const botEl = h("article", { class: "msg bot", "aria-busy": "true" }, h("p", { class: "who" }, this.t.bot), h("div", { class: "text" }, para));
      const m = { role: "bot", question, el: botEl, answer: null, feedback: null };
      this.messages.push(m);
      this.log.append(botEl);
      this.scroll();
      this.status.textContent = this.t.thinking;

      try {
        let res;
        for (let attempt = 0; attempt < 2; attempt++) {
          const cid = await this.ensureConversation();
          res = await this.post(`api/conversations/${encodeURIComponent(cid)}/messages/stream`, { question }, "text/event-stream");
          if (res.status === 404 && attempt === 0) {
            this.conversationId = null; // expired or purged: start a fresh one once
            continue;
          }
          break;
        }
        if (!res.ok || !res.body) {
          this.fail(m, await this.errorText(res));
          return;
        }
        await this.readEvents(res.body, {
          delta: (d) => {
            textNode.appendData(d.text || "");
            botEl.dataset.deltas = String(Number(botEl.dataset.deltas || 0) + 1);
            this.scroll();
          },
          answer: (a) => {
            m.answer = a;
            this.renderAnswer(m);
            this.status.textContent = this.t.done;
          },
          error: (e) => this.fail(m, this.uiLang === "nl" && e.detail ? e.detail.charAt(0).toUpperCase() + e.detail.slice(1) + "." : this.t.error),
        });
        if (!m.answer && !m.failed) this.fail(m, this.t.error);
      } catch (err) {
        this.fail(m, err && err.response ? await this.errorText(err.response) : await this.networkText());
      } finally {
        botEl.setAttribute("aria-busy", "false");
        this.busy = false;
        this.sendButton.removeAttribute("aria-disabled");
      }
    }

    /** Minimal SSE reader over fetch (EventSource cannot POST). */
    async readEvents(body, handlers) {
      const reader = body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      const dispatch = (block) => {
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (!data.length || !handlers[event]) return;
        try {
          handlers[event](JSON.parse(data.join("\n")));
        } catch (e) {
          console.warn("opschaalwijzer: onleesbaar event", e);
        }
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let i;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, i));
          buffer = buffer.slice(i + 2);
        }
      }
      if (buffer.trim()) dispatch(buffer);
    }

    fail(m, text) {
      m.failed = true;
      const textEl = m.el.querySelector(".text");
      textEl.replaceChildren(h("p", { class: "error", role: "alert" }, text));
      this.status.textContent = text;
    }

    scroll() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    citeHref(c) {
      const url = safeHttpUrl(c.url);
      if (url) return url;
      const path = String(c.doc_id).split("/").map(encodeURIComponent).join("/");
      return new URL(`bronnen/${path}${this.uiLang === "en" ? "?lang=en" : ""}`, base).href;
    }

    /** One line of answer text as nodes: [n] markers become source links, the rest is text. */
    inline(text, byN) {
      const t = this.t;
      const out = [];
      for (const part of String(text).split(/(\[\d+\])/)) {
        const match = /^\[(\d+)\]$/.exec(part);
        const c = match && byN.get(Number(match[1]));
        if (c) {
          out.push(
            h(
              "a",
              { class: "cite", href: this.citeHref(c), target: "_blank", rel: "noopener noreferrer", title: `${c.title} — ${c.snippet || ""}`, "aria-label": `${t.source} ${c.n}: ${c.title}` },
              `[${c.n}]`,
            ),
          );
        } else if (part) {
          out.push(...withBold(part));
        }
      }
      return out;
    }

    /**
     * The answer's structure as HTML, built node by node (never from markup): paragraphs, the
     * section labels ("Wat je kunt doen", "Let op", …) as headings, Markdown list lines as
     * real <ul>/<ol> lists (an indented line nests under the item above it).
     */
    answerText(a) {
      const byN = new Map((a.citations || []).map((c) => [Number(c.n), c]));
      const box = h("div", { class: "text", lang: a.language || null });
      let para = [];
      let list = null;
      const flush = () => {
        if (para.length) box.append(h("p", {}, ...this.inline(para.join(" "), byN)));
        para = [];
      };
      for (const line of String(a.answer || "").split("\n")) {
        const item = /^(\s*)(?:[-*•]|(\d{1,2})[.)])\s+(.*)$/.exec(line);
        if (!line.trim()) {
          flush();
          list = null;
        } else if (item) {
          flush();
          const li = h("li", {}, ...this.inline(item[3], byN));
          const ordered = item[2] !== undefined;
          if (item[1].length >= 2 && list && list.lastElementChild) {
            const parent = list.lastElementChild;
            let sub = parent.querySelector(":scope > ul, :scope > ol");
            if (!sub) parent.append((sub = h(ordered ? "ol" : "ul")));
            sub.append(li);
          } else {
            if (!list || list.tagName !== (ordered ? "OL" : "UL")) box.append((list = h(ordered ? "ol" : "ul")));
            list.append(li);
          }
        } else if (SECTION_LABELS.has(line.trim().replace(/:$/, "").toLowerCase())) {
          flush();
          list = null;
          box.append(h("h4", { class: "section" }, line.trim().replace(/:$/, "")));
        } else {
          list = null;
          para.push(line.trim());
        }
      }
      flush();
      return box;
    }

    // The labels inside an answer follow the UI, except that an English answer is English
    // throughout: an English question in the Dutch widget gets "Sources", not "Bronnen".
    answerStrings(a) {
      return STRINGS[a && a.language === "en" ? "en" : this.uiLang];
    }

    renderAnswer(m) {
      const a = m.answer;
      const t = this.answerStrings(a);
      const parts = [h("p", { class: "who" }, t.bot), this.answerText(a)];

      if (a.citations && a.citations.length) {
        const list = h("ul", { class: "sources" });
        for (const c of a.citations) {
          list.append(
            h(
              "li",
              {},
              h(
                "details",
                {},
                h("summary", {}, `[${c.n}] ${c.title}`),
                c.snippet ? h("p", {}, c.snippet) : null,
                h("a", { href: this.citeHref(c), target: "_blank", rel: "noopener noreferrer" }, t.openSource),
              ),
            ),
          );
        }
        parts.push(h("section", { class: "sources-block", "aria-label": t.sources }, h("h3", {}, t.sources), list));
      }

      if (a.people && a.people.length) {
        const list = h("ul", { class: "people" });
        for (const p of a.people) list.append(this.personCard(p, m));
        parts.push(h("section", { "aria-label": t.people }, h("h3", {}, t.people), list));
      }

      if ((a.next_steps && a.next_steps.length) || a.phase) {
        const steps = h("ol", { class: "steps" }, (a.next_steps || []).map((s) => h("li", {}, s)));
        parts.push(
          h(
            "section",
            { "aria-label": t.nextSteps },
            h("h3", {}, t.nextSteps),
            a.phase ? h("p", { class: "phase" }, `${t.phase}: ${a.phase_name || a.phase}`) : null,
            steps,
          ),
        );
      }

      if (a.answer_id) parts.push(this.feedbackBar(m));
      m.el.replaceChildren(...parts);
      // Long answers are read from the top; the stream followed the bottom until now.
      if (m.el.isConnected && !m.rendered) this.log.scrollTop = Math.max(0, m.el.offsetTop - this.log.offsetTop - 8);
      m.rendered = true;
    }

    personCard(p, m) {
      const t = this.answerStrings(m.answer);
      const introBox = h("div", { class: "intro", hidden: true });
      const button = h("button", { type: "button", class: "btn", "aria-expanded": "false" }, t.introduce);
      button.addEventListener("click", () => this.introduce(p, m, button, introBox));
      const role = [p.role, p.organisation].filter(Boolean).join(" · ");
      return h(
        "li",
        { class: "person" },
        h("p", { class: "name" }, p.name),
        role ? h("p", { class: "role" }, role) : null,
        h("p", { class: "reason", lang: m.answer.language || null }, p.reason),
        h("div", { class: "row" }, button),
        introBox,
      );
    }

    async introduce(p, m, button, box) {
      const t = this.t;
      if (!box.hidden && box.childNodes.length) {
        box.hidden = true;
        button.setAttribute("aria-expanded", "false");
        return;
      }
      button.disabled = true;
      try {
        const res = await this.post("api/intro", { person_id: p.id, question: m.question, language: m.answer.language });
        if (!res.ok) {
          box.replaceChildren(h("p", { class: "error", role: "alert" }, await this.errorText(res)));
        } else {
          const data = await res.json();
          const id = `ow-intro-${String(p.id).replace(/[^a-zA-Z0-9_-]/g, "")}-${Math.random().toString(36).slice(2, 8)}`;
          const area = h("textarea", { id, readonly: true }, data.text);
          const copy = h("button", { type: "button", class: "btn" }, t.copy);
          copy.addEventListener("click", async () => {
            try {
              await navigator.clipboard.writeText(data.text);
            } catch {
              area.select();
              document.execCommand && document.execCommand("copy");
            }
            copy.textContent = t.copied;
          });
          const row = h("div", { class: "row" }, copy);
          const email = p.contact && p.contact.email;
          if (email && /^[^\s@<>"'()]+@[^\s@<>"'()]+\.[^\s@<>"'()]+$/.test(email)) {
            const subject = m.answer.language === "en" ? "Introduction via Opschaalwijzer" : "Kennismaking via Opschaalwijzer";
            const href = `mailto:${encodeURIComponent(email)}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(data.text)}`;
            row.append(h("a", { href, class: "mail" }, t.mail));
          }
          box.replaceChildren(h("label", { for: id }, `${t.introLabel} ${p.name}`), area, row);
          box.hidden = false;
          button.setAttribute("aria-expanded", "true");
          area.focus();
        }
        box.hidden = false;
      } catch {
        box.replaceChildren(h("p", { class: "error", role: "alert" }, await this.networkText()));
        box.hidden = false;
      } finally {
        button.disabled = false;
      }
    }

    feedbackBar(m) {
      const t = this.t;
      const thanks = h("span", { class: "thanks", role: "status" }, m.feedback ? t.thanks : "");
      const mk = (rating, label) => {
        const b = h("button", { type: "button", class: `fb-${rating}`, "aria-label": label, title: label, "aria-pressed": String(m.feedback === rating) }, icon(rating));
        // aria-disabled keeps the pressed button focusable: disabling it would drop the focus.
        if (m.feedback) b.setAttribute("aria-disabled", "true");
        b.addEventListener("click", () => this.sendFeedback(m, rating, wrap, thanks));
        return b;
      };
      const bar = h("div", { class: "feedback row", role: "group", "aria-label": t.feedbackLabel }, mk("up", t.up), mk("down", t.down), thanks);
      const wrap = h("div", { class: "feedback-wrap" }, bar);
      if (m.comment && m.comment.state === "open") wrap.append(this.commentBox(m, wrap, false));
      else if (m.comment && m.comment.state === "sent") thanks.textContent = t.commentThanks;
      return wrap;
    }

    async sendFeedback(m, rating, wrap, thanks) {
      const buttons = wrap.querySelectorAll(".feedback button");
      if (buttons[0] && buttons[0].getAttribute("aria-disabled") === "true") return;
      buttons.forEach((b) => b.setAttribute("aria-disabled", "true"));
      try {
        const res = await this.post("api/feedback", { answer_id: m.answer.answer_id, rating });
        if (!res.ok) throw Object.assign(new Error("feedback"), { response: res });
        const data = await res.json();
        m.feedback = rating;
        wrap.querySelector(`.fb-${rating}`).setAttribute("aria-pressed", "true");
        thanks.textContent = this.t.thanks;
        // A 👎 is stored at once; what was missing is asked after, and may be skipped.
        if (rating === "down" && data.feedback_id != null) {
          m.comment = { state: "open", feedbackId: data.feedback_id, draft: "" };
          wrap.append(this.commentBox(m, wrap, true));
        }
      } catch (err) {
        buttons.forEach((b) => b.removeAttribute("aria-disabled"));
        thanks.textContent = err && err.response ? await this.errorText(err.response) : await this.networkText();
      }
    }

    /** The optional "what was missing?" field after a 👎. User text only ever goes into the
     * textarea's value, never into markup. */
    commentBox(m, wrap, focus) {
      const t = this.t;
      const id = `ow-comment-${m.answer.answer_id}`.replace(/[^a-zA-Z0-9_-]/g, "");
      const area = h("textarea", { id, rows: "3", maxlength: "2000", "aria-describedby": `${id}-hint` });
      area.value = m.comment.draft || "";
      area.addEventListener("input", () => (m.comment.draft = area.value));
      const error = h("p", { class: "err", role: "alert", hidden: true });
      const send = h("button", { type: "submit", class: "btn primary" }, t.commentSend);
      const skip = h("button", { type: "button", class: "btn" }, t.commentSkip);
      const box = h(
        "form",
        { class: "comment" },
        h("label", { for: id }, t.commentLabel),
        h("p", { class: "hint", id: `${id}-hint` }, t.commentHint),
        area,
        h("div", { class: "row" }, send, skip),
        error,
      );
      const finish = (state) => {
        m.comment.state = state;
        box.remove();
        this.input.focus();
      };
      skip.addEventListener("click", () => finish("skipped"));
      box.addEventListener("keydown", (e) => {
        if (e.key === "Escape") {
          // Escape here skips the comment; it must not close the whole chat panel.
          e.stopPropagation();
          e.preventDefault();
          finish("skipped");
        }
      });
      box.addEventListener("submit", async (e) => {
        e.preventDefault();
        const comment = area.value.trim();
        if (!comment) {
          error.textContent = t.commentEmpty;
          error.hidden = false;
          area.focus();
          return;
        }
        send.disabled = skip.disabled = true;
        try {
          const res = await this.post(`api/feedback/${encodeURIComponent(m.comment.feedbackId)}/comment`, {
            answer_id: m.answer.answer_id,
            comment,
          });
          if (!res.ok) throw Object.assign(new Error("comment"), { response: res });
          wrap.querySelector(".thanks").textContent = t.commentThanks;
          finish("sent");
        } catch (err) {
          error.textContent = err && err.response ? await this.errorText(err.response) : await this.networkText();
          error.hidden = false;
          send.disabled = skip.disabled = false;
          area.focus();
        }
      });
      if (focus) requestAnimationFrame(() => area.focus());
      return box;
    }
  }

  customElements.define("opschaal-widget", OpschaalWidget);
  const mount = () => document.body.append(document.createElement("opschaal-widget"));
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
