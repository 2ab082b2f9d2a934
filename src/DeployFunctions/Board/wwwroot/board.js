// The deploy board: reads /api/board/data and /api/metrics/dora with the page's function key and draws them.
// Every value from the API is written as text (never as HTML), and only http(s) addresses become links.
(function () {
  "use strict";

  const key = new URLSearchParams(location.search).get("code");
  const headers = key ? { "x-functions-key": key } : {};
  const $ = (id) => document.getElementById(id);
  const known = { repositories: new Set(), environments: new Set() };
  let githubUrl = "https://github.com";
  let continuation = null;
  const charts = {};

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value; else node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function link(url, text) {
    const href = safeUrl(url);
    return href ? el("a", { href: href, rel: "noreferrer noopener", target: "_blank" }, text) : el("span", {}, text);
  }

  function when(at) {
    if (!at) return "";
    const date = new Date(at);
    const minutes = Math.round((Date.now() - date.getTime()) / 60000);
    const ago = minutes < 1 ? "just now" : minutes < 60 ? minutes + " min ago" : minutes < 1440 ? Math.round(minutes / 60) + " h ago" : Math.round(minutes / 1440) + " d ago";
    return date.toISOString().slice(0, 16).replace("T", " ") + " UTC (" + ago + ")";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " d";
  }

  const repoUrl = (repository) => githubUrl + "/" + repository;
  const commitLink = (repository, sha) => link(repoUrl(repository) + "/commit/" + sha, sha.slice(0, 7));
  const pullLink = (repository, number) => number ? link(repoUrl(repository) + "/pull/" + number, "#" + number) : null;

  function query(extra) {
    const params = new URLSearchParams();
    const repository = $("repository").value, environment = $("environment").value;
    if (repository) params.set("repository", repository);
    for (const [name, value] of Object.entries(extra || {})) if (value) params.set(name, value);
    return { params, repository, environment };
  }

  async function get(path, params) {
    const response = await fetch(path + "?" + params.toString(), { headers: headers, credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      let reason = response.status === 401 ? "the function key is missing or wrong (open the board as /api/board?code=<key>)" : "HTTP " + response.status;
      try { const body = await response.json(); if (body.reason) reason = body.reason; } catch { /* not JSON */ }
      throw new Error(reason);
    }
    return response.json();
  }

  function windowDays() { return Number($("window").value); }

  function since() {
    const date = new Date(Date.now() - (windowDays() - 1) * 86400000);
    return date.toISOString().slice(0, 10);
  }

  function deploymentLine(repository, deployment) {
    return el("span", {},
      el("span", { class: "pill state-" + deployment.state }, deployment.state), " ",
      commitLink(repository, deployment.sha), " ",
      pullLink(repository, deployment.pull_request), " by ", deployment.requested_by, " · ", when(deployment.at),
      deployment.description ? " · " + deployment.description : "");
  }

  function environmentCard(view) {
    const rows = [];
    const add = (term, ...value) => rows.push(el("dt", {}, term), el("dd", {}, ...value));
    if (view.live) {
      const live = view.live;
      add("Live", commitLink(view.repository, live.sha), " ", pullLink(view.repository, live.pull_request),
        " by ", live.requested_by, live.command ? " (" + live.command + ")" : "", " · ", when(live.at));
      if (live.environment_url) add("URL", link(live.environment_url, live.environment_url));
      if (live.log_url) add("Log", link(live.log_url, "deployment log"));
    } else {
      add("Live", "nothing deployed by DeployFunctions yet");
    }
    if (view.current) add("Now", deploymentLine(view.repository, view.current));
    if (view.lock) {
      add("Lock", el("span", { class: "locked" }, (view.lock.global ? "Global lock" : "Locked") + " by " + view.lock.holder),
        view.lock.reason ? " · " + view.lock.reason : "", " · since " + when(view.lock.since),
        view.lock.until ? " · until " + when(view.lock.until) : "",
        view.lock.comment_url ? el("span", {}, " · ", link(view.lock.comment_url, "comment")) : "");
    }
    if (view.freeze) {
      const freeze = view.freeze;
      add(freeze.active ? "Frozen" : "Next freeze", el("span", { class: freeze.active ? "frozen" : "" },
        (freeze.active ? "until " : when(freeze.from) + " → ") + when(freeze.until) + " · " + freeze.reason));
    }
    for (const waiting of view.waiting) {
      add("Waiting", commitLink(view.repository, waiting.sha), " ", pullLink(view.repository, waiting.pull_request),
        " · " + waiting.reason + " · waiting since " + when(waiting.since));
    }
    const timeline = el("ol", { class: "timeline", "aria-label": "Last deployments, newest first" },
      view.recent.map((d) => el("li", {}, el("a", {
        href: safeUrl(d.log_url) || safeUrl(repoUrl(view.repository) + "/commit/" + d.sha),
        rel: "noreferrer noopener", target: "_blank",
        title: d.state + " · " + d.sha.slice(0, 7) + (d.pull_request ? " · #" + d.pull_request : "") + " · " + d.requested_by + " · " + when(d.at),
      }, el("span", { class: "pill state-" + d.state }, d.sha.slice(0, 7))))));
    return el("article", { class: "environment", "data-repository": view.repository, "data-environment": view.environment },
      el("h3", {}, link(repoUrl(view.repository), view.repository), " · ",
        link(repoUrl(view.repository) + "/deployments/" + encodeURIComponent(view.environment), view.environment)),
      el("dl", {}, rows),
      el("h4", {}, "Last deployments"),
      view.recent.length ? timeline : el("p", {}, "No deployment in this window."));
  }

  function previewRow(preview) {
    return el("tr", { "data-repository": preview.repository, "data-environment": preview.environment },
      el("td", {}, link(repoUrl(preview.repository), preview.repository)),
      el("td", {}, pullLink(preview.repository, preview.pull_request)),
      el("td", {}, preview.environment),
      el("td", {}, commitLink(preview.repository, preview.sha), preview.from_fork ? " (fork)" : ""),
      el("td", {}, preview.status),
      el("td", {}, preview.url ? link(preview.url, preview.url) : ""),
      el("td", {}, when(preview.last_push_at)));
  }

  function showPreviews(previews) {
    const list = $("previews");
    if (!previews.length) {
      list.replaceChildren(el("p", {}, "No open preview for this choice."));
      return;
    }
    const head = el("tr", {}, ["Repository", "Pull request", "Environment", "Commit", "Status", "URL", "Last push"].map((h) => el("th", { scope: "col" }, h)));
    list.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, previews.map(previewRow))));
  }

  function fillChoices(select, values) {
    const current = select.value;
    for (const value of [...values].sort()) {
      if (![...select.options].some((o) => o.value === value)) select.append(el("option", { value: value }, value));
    }
    select.value = current;
  }

  async function loadEnvironments(append) {
    const { params, environment } = query({ since: since(), limit: "100", continuation: append ? continuation : null });
    if (environment) params.set("environment", environment);
    const data = await get("board/data", params);
    githubUrl = data.github_url || githubUrl;
    continuation = data.continuation || null;
    const list = $("environments");
    if (!append) {
      list.replaceChildren();
      showPreviews(data.previews || []);
    }
    for (const view of data.environments) {
      known.repositories.add(view.repository);
      known.environments.add(view.environment);
      list.append(environmentCard(view));
    }
    if (!list.children.length) list.append(el("p", {}, "No deployments recorded yet for this choice."));
    $("more").hidden = !continuation;
    fillChoices($("repository"), known.repositories);
    fillChoices($("environment"), known.environments);
  }

  const bandText = { "no-data": "no data" };

  function figureCard(title, text, figure) {
    const band = figure.band.replace(" ", "-");
    return el("div", { class: "figure", title: figure.method, "data-figure": title },
      el("h3", {}, title), el("p", { class: "value" }, text),
      el("span", { class: "band band-" + band }, bandText[band] || figure.band));
  }

  function drawBars(id, labels, series, colors) {
    const target = $(id);
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    target.replaceChildren();
    if (typeof uPlot === "undefined") { target.append(el("p", {}, "The chart library did not load.")); return; }
    const width = Math.max(300, target.clientWidth || 360);
    const size = series.length > 1 ? 0.4 : 0.7;
    const bars = (i) => uPlot.paths.bars({ size: [size, 40], align: series.length > 1 ? (i === 0 ? -1 : 1) : 0 });
    charts[id] = new uPlot({
      width: width, height: 200, legend: { show: series.length > 1 }, padding: [10, 40, 0, 0],
      scales: { x: { time: false, range: (u, min, max) => [min - 0.6, max + 0.6] } },
      axes: [
        { values: (u, ticks) => ticks.map((t) => labels[t] !== undefined ? labels[t] : ""), space: 40 },
        { values: (u, ticks) => ticks.map((t) => Number.isInteger(t) ? t : "") },
      ],
      series: [{ label: "Day" }].concat(series.map((s, i) => ({ label: s.label, stroke: colors[i], fill: colors[i], paths: bars(i), points: { show: false } }))),
    }, [labels.map((_, i) => i)].concat(series.map((s) => s.values)), target);
  }

  async function loadDora() {
    const { params, environment } = query({ since: since() });
    params.set("environment", environment || "production");
    const report = await get("metrics/dora", params);
    $("dora-scope").textContent = "· " + report.environment + " · " + (report.repository || "all repositories") + " · " + report.since + " to " + report.until;
    const rate = report.change_failure_rate.value;
    $("figures").replaceChildren(
      figureCard("Deployment frequency", report.deployment_frequency.value.toFixed(2) + " / day", report.deployment_frequency),
      figureCard("Lead time for changes", duration(report.lead_time_median.value) + " median · " + duration(report.lead_time_p90.value) + " p90", report.lead_time_median),
      figureCard("Change failure rate", rate === null || rate === undefined ? "–" : Math.round(rate * 100) + "%", report.change_failure_rate),
      figureCard("Time to restore", duration(report.time_to_restore.value) + " median", report.time_to_restore));
    $("methods").replaceChildren(
      el("dt", {}, "Deployment frequency"), el("dd", {}, report.deployment_frequency.method),
      el("dt", {}, "Lead time for changes"), el("dd", {}, report.lead_time_median.method + " " + report.lead_time_p90.method),
      el("dt", {}, "Change failure rate"), el("dd", {}, report.change_failure_rate.method),
      el("dt", {}, "Time to restore"), el("dd", {}, report.time_to_restore.method));
    drawBars("frequency-chart", report.per_day.map((d) => d.day.slice(5)),
      [{ label: "succeeded", values: report.per_day.map((d) => d.succeeded) }, { label: "failed", values: report.per_day.map((d) => d.failed) }],
      ["#116329", "#a40e26"]);
    drawBars("lead-chart", report.lead_time_distribution.map((b) => b.label),
      [{ label: "merges", values: report.lead_time_distribution.map((b) => b.count) }], ["#0550ae"]);
  }

  async function load(append) {
    $("status").textContent = "Loading…";
    try {
      await Promise.all([loadEnvironments(append), append ? Promise.resolve() : loadDora()]);
      $("status").textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC";
    } catch (error) {
      $("status").textContent = "Could not load the board: " + error.message;
    }
  }

  for (const id of ["repository", "environment", "window"]) $(id).addEventListener("change", () => load(false));
  $("refresh").addEventListener("click", () => load(false));
  $("more").addEventListener("click", () => load(true));
  setInterval(() => { if (!document.hidden) load(false); }, 30000);
  load(false);
})();
