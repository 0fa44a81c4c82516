// The dashboard shell: header, tabs, filter sidebar and the view panel, all driven by the
// state in the URL. Views render off-screen and swap in when their data is ready; a spinner
// appears only when that takes longer than 300 ms, so fast loads never flash.

import "./style.css";
import { Api, type Filters, type SeriesInfo } from "./api";
import { type Config, loadConfig } from "./config";
import { h } from "./dom";
import {
  clearFilters,
  FILTER_KEYS,
  type FilterKey,
  hasFilters,
  parseState,
  serializeState,
  type State,
  type ViewId,
  VIEWS,
} from "./state";
import { type Ctx, emptyState, errorState, type Rendered, type View } from "./views/common";
import { examplesView } from "./views/examples";
import { modelsView } from "./views/models";
import { regressionsView } from "./views/regressions";
import { snapshotView } from "./views/snapshot";
import { stabilityView } from "./views/stability";
import { trendsView } from "./views/trends";

const RENDERERS: Record<ViewId, View> = {
  snapshot: snapshotView,
  trends: trendsView,
  regressions: regressionsView,
  stability: stabilityView,
  models: modelsView,
  examples: examplesView,
};

const FILTER_LABELS: Record<FilterKey, string> = {
  model_version: "Model",
  model_provider: "Provider",
  dataset_version: "Dataset",
  prompt_version: "Prompt",
  environment: "Environment",
};

// Which sidebar filters each view can honour (the API takes different parameters per view).
const NOT_APPLIED: Partial<Record<ViewId, string>> = {
  trends: "Tags do not apply to trends; the date range limits the chart.",
  regressions: "Tags do not apply to regressions; the date range limits when alerts opened.",
  stability: "Tags and the date range do not apply here: pick a window instead.",
  examples: "The filters narrow the runs to pick from; the examples are the chosen run's.",
};

const SPINNER_DELAY_MS = 300;

let state: State = parseState(location.search);
let config: Config | null = null;
let api: Api | null = null;
let meta: Promise<{ filters: Filters; series: SeriesInfo[] }> | null = null;
let current: Rendered | null = null;
let token = 0;

const tabs = new Map<ViewId, HTMLButtonElement>();
const panel = h("main", {
  id: "panel",
  class: "panel",
  role: "tabpanel",
  tabindex: "-1",
  testid: "panel",
});
const content = h("div", { class: "panel-content" });
const spinner = h(
  "div",
  { class: "loading", testid: "loading", role: "status", hidden: true },
  h("span", { class: "spin", "aria-hidden": "true" }),
  "Loading…",
);
panel.append(spinner, content);
const sidebar = h("aside", { class: "sidebar", testid: "filters", "aria-label": "Filters" });
const hostLabel = h("span", { class: "host muted", testid: "api-host" }, "");

function tabList(): HTMLElement {
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": "Views", testid: "tabs" });
  VIEWS.forEach(({ id, label }) => {
    const tab = h("button", {
      type: "button",
      role: "tab",
      id: `tab-${id}`,
      "aria-controls": "panel",
      testid: `tab-${id}`,
      class: "tab",
      onclick: () => navigate({ view: id }),
    }, label);
    tabs.set(id, tab);
    list.appendChild(tab);
  });
  list.addEventListener("keydown", (e: KeyboardEvent) => {
    const ids = VIEWS.map((v) => v.id);
    const at = ids.indexOf(state.view);
    const next = e.key === "ArrowRight"
      ? (at + 1) % ids.length
      : e.key === "ArrowLeft"
      ? (at - 1 + ids.length) % ids.length
      : e.key === "Home"
      ? 0
      : e.key === "End"
      ? ids.length - 1
      : -1;
    if (next < 0) return;
    e.preventDefault();
    navigate({ view: ids[next] });
    tabs.get(ids[next])?.focus();
  });
  return list;
}

function syncTabs(): void {
  for (const [id, tab] of tabs) {
    const on = id === state.view;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  panel.setAttribute("aria-labelledby", `tab-${state.view}`);
  document.title = `${VIEWS.find((v) => v.id === state.view)?.label ?? ""} · benchwatch`;
}

function buildSidebar(filters: Filters): void {
  const controls: HTMLElement[] = FILTER_KEYS.map((key) => {
    const id = `filter-${key}`;
    const values = filters[key] ?? [];
    const sel = h(
      "select",
      {
        id,
        name: key,
        testid: id,
        onchange: (e: Event) => setFilter(key, (e.target as HTMLSelectElement).value),
      },
      h("option", { value: "" }, "All"),
      values.map((v) => h("option", { value: v }, v)),
    );
    return h("div", { class: "control" }, h("label", { for: id }, FILTER_LABELS[key]), sel);
  });
  const tags = h(
    "fieldset",
    { class: "control tags", testid: "filter-tags" },
    h("legend", {}, "Tags (any)"),
    (filters.tags ?? []).length === 0
      ? h("p", { class: "muted small" }, "No tags recorded")
      : filters.tags.map((t) =>
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "checkbox",
            value: t,
            testid: `filter-tag-${t}`,
            onchange: (e: Event) => toggleTag(t, (e.target as HTMLInputElement).checked),
          }),
          t,
        )
      ),
  );
  const dates = h(
    "fieldset",
    { class: "control" },
    h("legend", {}, "Date range (UTC)"),
    h("label", { for: "filter-since", class: "small" }, "From"),
    h("input", {
      type: "date",
      id: "filter-since",
      testid: "filter-since",
      onchange: (e: Event) => navigate({ since: (e.target as HTMLInputElement).value }),
    }),
    h("label", { for: "filter-until", class: "small" }, "To"),
    h("input", {
      type: "date",
      id: "filter-until",
      testid: "filter-until",
      onchange: (e: Event) => navigate({ until: (e.target as HTMLInputElement).value }),
    }),
  );
  sidebar.replaceChildren(
    h("h2", { class: "sidebar-title" }, "Filters"),
    ...controls,
    tags,
    dates,
    h("p", { class: "muted small", testid: "filter-note" }),
    h("button", {
      type: "button",
      class: "btn",
      testid: "clear-filters",
      onclick: () => navigate(clearFilters(state)),
    }, "Clear filters"),
  );
}

function syncSidebar(): void {
  for (const key of FILTER_KEYS) {
    const sel = sidebar.querySelector<HTMLSelectElement>(`#filter-${key}`);
    if (!sel) continue;
    const v = state.filters[key];
    // A value from a shared link that no longer exists is still shown, so it can be cleared.
    if (v && ![...sel.options].some((o) => o.value === v)) {
      sel.appendChild(h("option", { value: v }, `${v} (no data)`));
    }
    sel.value = v;
  }
  sidebar.querySelectorAll<HTMLInputElement>('input[type="checkbox"]').forEach((
    c,
  ) => (c.checked = state.tags.includes(c.value)));
  const since = sidebar.querySelector<HTMLInputElement>("#filter-since");
  const until = sidebar.querySelector<HTMLInputElement>("#filter-until");
  if (since) since.value = state.since;
  if (until) until.value = state.until;
  const clear = sidebar.querySelector<HTMLButtonElement>('[data-testid="clear-filters"]');
  if (clear) clear.disabled = !hasFilters(state);
  const note = sidebar.querySelector<HTMLElement>('[data-testid="filter-note"]');
  if (note) note.textContent = NOT_APPLIED[state.view] ?? "";
}

function setFilter(key: FilterKey, value: string): void {
  navigate({ filters: { ...state.filters, [key]: value } });
}

function toggleTag(tag: string, on: boolean): void {
  navigate({ tags: on ? [...new Set([...state.tags, tag])] : state.tags.filter((t) => t !== tag) });
}

function navigate(patch: Partial<State>, opts: { replace?: boolean } = {}): void {
  state = { ...state, ...patch };
  const url = `${location.pathname}${serializeState(state)}`;
  if (url !== `${location.pathname}${location.search}`) {
    if (opts.replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }
  refresh();
}

function refresh(): void {
  syncTabs();
  syncSidebar();
  void render();
}

function show(el: HTMLElement, rendered?: Rendered): void {
  current?.unmount?.();
  current = rendered ?? null;
  content.replaceChildren(el);
  rendered?.mount?.();
}

async function render(): Promise<void> {
  const mine = ++token;
  panel.setAttribute("aria-busy", "true");
  const timer = setTimeout(() => {
    if (mine === token) {
      spinner.hidden = false;
      content.classList.add("stale");
    }
  }, SPINNER_DELAY_MS);
  let next: { el: HTMLElement; rendered?: Rendered };
  try {
    next = await produce();
  } catch (err) {
    next = { el: errorState(err, config?.url ?? "", () => retry()) };
  }
  clearTimeout(timer);
  if (mine !== token) return;
  spinner.hidden = true;
  content.classList.remove("stale");
  panel.removeAttribute("aria-busy");
  show(next.el, next.rendered);
}

async function produce(): Promise<{ el: HTMLElement; rendered?: Rendered }> {
  if (!config) {
    config = await loadConfig();
    const kind = config.anonKey.startsWith("sb_publishable_") ? "publishable" : "anon";
    hostLabel.textContent = `${config.url} · read-only ${kind} key`;
  }
  const client = (api ??= new Api(config));
  const metaP =
    (meta ??= Promise.all([client.filters(), client.series()]).then(([filters, series]) => {
      buildSidebar(filters);
      syncSidebar();
      return { filters, series };
    }));
  // A failed fetch is not cached: the next render (Retry) asks again.
  metaP.catch(() => {
    if (meta === metaP) meta = null;
  });
  const ctx: Ctx = {
    api: client,
    apiUrl: config.url,
    state,
    series: async () => (await metaP).series,
    go: (patch, opts) => navigate(patch, opts),
    clearFilters: () => navigate(clearFilters(state)),
  };
  // The view's own requests go out together with the filter values rather than after them.
  const view = RENDERERS[state.view](ctx);
  view.catch(() => undefined);
  const { filters } = await metaP;
  if ((filters.model_version ?? []).length === 0) {
    sidebar.classList.add("disabled");
    sidebar.querySelectorAll<HTMLSelectElement | HTMLInputElement | HTMLButtonElement>(
      "select, input, button",
    ).forEach((c) => (c.disabled = true));
    return { el: emptyState(config.url) };
  }
  const rendered = await view;
  return { el: rendered.el, rendered };
}

function retry(): void {
  config = null;
  api = null;
  meta = null;
  void render();
}

function boot(): void {
  const app = document.getElementById("app");
  if (!app) return;
  app.replaceChildren(
    h("a", { class: "skip", href: "#panel" }, "Skip to content"),
    h(
      "header",
      { class: "topbar" },
      h(
        "div",
        { class: "brand" },
        h("span", { class: "logo", "aria-hidden": "true" }, "◆"),
        h("h1", {}, "benchwatch"),
      ),
      hostLabel,
    ),
    tabList(),
    h("div", { class: "layout" }, sidebar, panel),
  );
  sidebar.append(h("h2", { class: "sidebar-title" }, "Filters"));
  globalThis.addEventListener("popstate", () => {
    state = parseState(location.search);
    refresh();
  });
  // The chart benchmark's hook (dashboard/test/measure.ts) is only in a `--mode measure`
  // build: in the production bundle this branch and the module are dropped.
  if (import.meta.env.MODE === "measure") {
    void import("./testhook").then((m) => m.installTestHook());
  }
  refresh();
}

boot();
