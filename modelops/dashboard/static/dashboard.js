// The dashboard page: each panel fetches its JSON endpoint at its own interval and redraws itself;
// the filters refetch every panel at once; a source that stops answering leaves the last figures in
// place under a notice until it answers again. Every value is set as text, never as markup.
"use strict";

(() => {
  const PANELS = JSON.parse(document.body.dataset.panels);
  const timers = {};
  const problems = {};   // panel name -> why its figures are stale
  const updatedAt = {};  // panel name -> when its figures were last fetched

  // ---- small helpers --------------------------------------------------------------------------
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "text") element.textContent = value;
      else element.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }
  const dash = "—";
  const pct = v => v === null || v === undefined ? dash : `${(v * 100).toFixed(1)}%`;
  const fixed = (v, digits = 2) => v === null || v === undefined ? dash : Number(v).toFixed(digits);
  const count = v => v === null || v === undefined ? dash : Number(v).toLocaleString("en");
  const ms = v => v === null || v === undefined ? dash : `${Number(v).toFixed(1)} ms`;
  const when = v => v ? v.replace("T", " ").slice(0, 16) : dash;
  function bytes(v) {
    if (v === null || v === undefined) return dash;
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
    return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
  }
  const scopeName = row => row.tenant_name || (row.scope_key === "global" ? "global model" : row.scope_key || dash);
  function table(columns, rows, rowClass) {
    return el("table", {class: "rows"},
      el("thead", {}, el("tr", {}, columns.map(c => el("th", {text: c[0]})))),
      el("tbody", {}, rows.map(row => el("tr", {class: rowClass ? rowClass(row) : null},
        columns.map(c => el("td", {}, c[1](row)))))));
  }
  function xsrf() {
    const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // ---- filters --------------------------------------------------------------------------------
  const agentSelect = document.getElementById("filter-agent");
  const tenantSelect = document.getElementById("filter-tenant");
  function filterQuery() {
    const query = new URLSearchParams();
    if (agentSelect.value) query.set("agent", agentSelect.value);
    if (tenantSelect.value) query.set("tenant", tenantSelect.value);
    return query;
  }
  async function loadFilters() {
    const wanted = new URLSearchParams(window.location.search);
    try {
      const response = await fetch("/api/filters", {credentials: "same-origin"});
      if (response.ok) {
        const choices = await response.json();
        choices.agents.forEach(a => agentSelect.append(el("option", {value: a, text: a})));
        if (document.body.dataset.role === "operator") {
          choices.tenants.forEach(t => tenantSelect.append(el("option", {value: t.id, text: t.name})));
        }
      }
    } catch (error) { /* the panels say what is wrong */ }
    // a filter from the address that the menus do not offer is still asked for: the panels explain
    for (const [select, name] of [[agentSelect, "agent"], [tenantSelect, "tenant"]]) {
      const value = wanted.get(name);
      if (value && ![...select.options].some(o => o.value === value)) select.append(el("option", {value, text: value}));
      if (value) select.value = value;
    }
  }
  document.getElementById("filters").addEventListener("change", () => {
    const query = filterQuery().toString();
    window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
    PANELS.forEach(panel => refresh(panel));
  });

  // ---- the notice -----------------------------------------------------------------------------
  function showNotice() {
    const notice = document.getElementById("notice");
    const names = Object.keys(problems);
    if (!names.length) { notice.hidden = true; notice.textContent = ""; return; }
    const reasons = [...new Set(names.map(n => problems[n]))].join("; ");
    const oldest = names.map(n => updatedAt[n]).filter(Boolean).sort()[0];
    notice.textContent = `${reasons}. ` + (oldest ? `Showing figures from ${oldest.toLocaleTimeString()}; ` : "") + "retrying.";
    notice.hidden = false;
  }

  // ---- fetching -------------------------------------------------------------------------------
  async function refresh(panel) {
    clearTimeout(timers[panel.name]);
    const section = document.getElementById(`panel-${panel.name}`);
    const body = section.querySelector(".body");
    try {
      const response = await fetch(`/api/panels/${panel.name}?${filterQuery()}`, {credentials: "same-origin"});
      if (response.status === 401) { window.location.assign("/"); return; }
      const answer = await response.json().catch(() => ({error: `the dashboard answered ${response.status}`}));
      if (!response.ok) throw new Error(answer.error || `the dashboard answered ${response.status}`);
      delete problems[panel.name];
      updatedAt[panel.name] = new Date();
      if (answer.empty) {
        body.replaceChildren(el("p", {class: "empty-state", text: answer.empty}));
        section.dataset.state = "empty";
      } else {
        body.replaceChildren(...[RENDER[panel.name](answer.data)].flat());
        section.dataset.state = "ready";
        const missing = Object.values(answer.data.unavailable || {});
        if (missing.length) problems[panel.name] = missing.join("; ");
      }
      section.querySelector(".updated").textContent = `updated ${updatedAt[panel.name].toLocaleTimeString()} · every ${panel.interval} s`;
    } catch (error) {
      problems[panel.name] = error instanceof TypeError ? "the dashboard server does not answer" : error.message;
      if (section.dataset.state !== "ready") body.replaceChildren(el("p", {class: "empty-state", text: problems[panel.name]}));
      section.dataset.stale = "true";
    } finally {
      section.setAttribute("aria-busy", "false");
      if (!problems[panel.name]) delete section.dataset.stale;
      showNotice();
      timers[panel.name] = setTimeout(() => refresh(panel), panel.interval * 1000);
    }
  }

  async function resolveAlert(alert) {
    const note = window.prompt(`Resolve "${alert.message}"? How was it resolved?`);
    if (!note) return;
    const response = await fetch(`/api/alerts/${alert.id}/resolve`, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf()},
      body: JSON.stringify({note}),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      window.alert(answer.error || `resolving failed (${response.status})`);
    }
    refresh(PANELS.find(p => p.name === "alerts"));
  }

  // ---- the six panels -------------------------------------------------------------------------
  const RENDER = {
    models(data) {
      if (!data.models.length) return el("p", {class: "empty", text: "no production model for these filters yet"});
      return el("div", {class: "cards"}, data.models.map(m => {
        const live = m.accuracy !== null;
        return el("article", {class: "card", "data-version-id": m.id},
          el("div", {class: "card-head"}, el("span", {class: "agent", text: m.agent_type}), el("span", {class: "scope", text: scopeName(m)})),
          el("div", {class: "card-main"},
            el("span", {class: "version", text: m.version}),
            el("span", {class: `badge ${m.is_production ? "ok" : ""}`, text: m.is_production ? "production" : (m.is_active ? "active" : m.status)}),
            el("span", {class: "big", text: pct(live ? m.accuracy : m.validation_accuracy)}),
            el("span", {class: "muted", text: live ? "acc today" : "acc (validation)"})),
          el("div", {class: "muted"}, `P ${fixed(m.precision)} · R ${fixed(m.recall)} · F1 ${fixed(m.f1_score)}`),
          el("div", {class: "muted"}, `${count(m.predictions_today)} predictions today · confidence ${fixed(m.avg_confidence)} · ${ms(m.avg_response_time_ms)}`),
          el("div", {class: "muted"}, `satisfaction ${fixed(m.user_satisfaction_score)} · error rate ${pct(m.error_rate)} · overrides ${count(m.user_overrides)}`),
          m.open_alerts ? el("div", {class: "badge warn", text: `${m.open_alerts} open alert${m.open_alerts > 1 ? "s" : ""}`}) : null);
      }));
    },

    trends(data) {
      return [
        el("p", {class: "muted", text: `${data.from} to ${data.to} · ${count(data.predictions)} predictions`}),
        Charts.line("Accuracy", data.charts.accuracy, v => `${(v * 100).toFixed(0)}%`),
        Charts.line("Response time (ms)", data.charts.response_time_ms, v => v.toFixed(0)),
        Charts.line("Confidence", data.charts.confidence, v => v.toFixed(2)),
      ];
    },

    alerts(data) {
      const summary = el("div", {class: "counts"},
        el("span", {class: "badge critical", text: `${data.open.critical} critical`}),
        el("span", {class: "badge warn", text: `${data.open.warning} warning`}),
        el("span", {class: "badge", text: `${data.open.info} info`}));
      const alerts = data.alerts.length ? el("ul", {class: "alerts"}, data.alerts.map(a => el("li", {class: `alert ${a.severity} ${a.status}`, "data-alert-id": a.id},
        el("div", {},
          el("span", {class: `badge ${a.severity === "critical" ? "critical" : a.severity === "warning" ? "warn" : ""}`, text: a.severity}),
          el("strong", {text: a.alert_type}), " ", el("span", {class: "muted", text: `${when(a.timestamp)} · ${a.status}`})),
        el("div", {class: "message", text: a.message}),
        el("div", {class: "muted", text: [a.agent_type, a.tenant_name, a.version].filter(Boolean).join(" · ") + (a.occurrences > 1 ? ` · seen ${a.occurrences}×` : "")}),
        a.status === "resolved" ? el("div", {class: "muted", text: `resolved by ${a.resolved_by} ${when(a.resolved_at)}: ${a.resolution_note || ""}`}) : null,
        data.can_resolve && a.status !== "resolved" ? (() => {
          const button = el("button", {class: "resolve", type: "button", text: "Resolve"});
          button.addEventListener("click", () => resolveAlert(a));
          return button;
        })() : null))) : el("p", {class: "empty", text: "no alerts in the last week"});
      const events = el("div", {class: "events"}, el("h3", {text: "Events"}),
        data.events.length ? el("ul", {}, data.events.map(e => el("li", {},
          el("span", {class: "badge", text: e.event}), ` ${e.agent_type} ${e.version} · ${scopeName(e)} · ${when(e.timestamp)} · ${e.actor}: ${e.reason}`)))
          : el("p", {class: "empty", text: "no production moves yet"}));
      return [summary, alerts, events];
    },

    training(data) {
      const today = data.today;
      const days = [...new Set(data.daily.map(d => d.day))];
      const sources = [...new Set(data.daily.map(d => d.source))].sort();
      const groups = days.map(day => ({label: day.slice(5), values: sources.map(s => {
        const found = data.daily.find(d => d.day === day && d.source === s);
        return found ? found.samples : 0;
      })}));
      const iso = data.isolation;
      return [
        el("div", {class: "stats"},
          el("div", {class: "stat"}, el("span", {class: "big", text: count(today.total_samples)}), el("span", {class: "muted", text: "new samples today"})),
          el("div", {class: "stat"}, el("span", {class: "big", text: pct(today.labelled_share)}), el("span", {class: "muted", text: "labelled (data quality)"})),
          el("div", {class: "stat"}, el("span", {class: "big", text: count(today.privacy.rejected)}), el("span", {class: "muted", text: "rejected events"}))),
        Charts.bars("Daily new samples by kind of feedback", groups, sources, v => v.toFixed(0), true),
        el("h3", {text: "Today by source"}),
        Object.keys(today.by_source).length
          ? el("ul", {class: "inline"}, Object.entries(today.by_source).map(([s, n]) => el("li", {text: `${s} ${count(n)}`})))
          : el("p", {class: "empty", text: "no samples today"}),
        el("h3", {text: "Privacy compliance"}),
        el("p", {text: `${count(today.privacy.scrubbed_values)} personal values scrubbed today` +
          (Object.keys(today.privacy.scrub_hits).length ? ` (${Object.entries(today.privacy.scrub_hits).map(([k, n]) => `${k} ${n}`).join(", ")})` : "")}),
        el("p", {text: `${count(today.privacy.rejected)} events refused at intake` +
          (Object.keys(today.privacy.rejected_by_cause).length ? ` (${Object.entries(today.privacy.rejected_by_cause).map(([k, n]) => `${k} ${n}`).join(", ")})` : "")}),
        el("p", {class: `isolation ${iso.ok ? "ok" : "bad"}`},
          el("span", {class: `badge ${iso.ok ? "ok" : "critical"}`, text: iso.ok ? "isolated" : "NOT isolated"}),
          ` row-level security on ${iso.tables - iso.unprotected.length} of ${iso.tables} tenant tables` +
          (iso.unprotected.length ? ` (missing: ${iso.unprotected.join(", ")})` : "") +
          `; ${iso.broken_roles.length ? `roles that CAN bypass it or become the operator: ${iso.broken_roles.join(", ")}`
                                       : "no runtime role can bypass it, and only the system role can become the operator"}` +
          ` (this page reads as ${iso.login_role})` +
          (iso.refused_today === null ? "" : `; ${iso.refused_today} refused access attempts today`)),
      ];
    },

    versions(data) {
      const tests = data.ab_tests.length ? el("ul", {class: "tests"}, data.ab_tests.map(t => {
        const d = t.latest_decision;
        return el("li", {class: `test ${t.status}`},
          el("span", {class: `badge ${t.status === "running" ? "ok" : ""}`, text: t.status}),
          ` ${t.agent_type} · ${t.control_version} vs ${t.treatment_version} · ${(t.allocation * 100).toFixed(0)}% to the candidate`,
          el("div", {class: "muted", text: d
            ? `look ${d.look_number}: ${d.decision} — control ${pct(d.control_accuracy)} (n=${d.control_samples}), candidate ${pct(d.treatment_accuracy)} (n=${d.treatment_samples})` +
              (d.p_value === null ? "" : `, p=${d.p_value.toFixed(3)}`) + ` · ${d.reason}`
            : `no look yet · planned ${count((t.planned_sample_size || {}).treatment)} candidate and ${count((t.planned_sample_size || {}).control)} control predictions`}));
      })) : el("p", {class: "empty", text: "no A/B tests"});
      const rollbacks = data.rollbacks.length ? el("ul", {class: "rollbacks"}, data.rollbacks.map(r => el("li", {class: "rollback"},
        el("span", {class: "badge critical", text: r.outcome.replace(/_/g, " ")}),
        ` ${r.agent_type} · ${scopeName(r)} · ${r.from_version} → ${r.to_version || dash} · ${when(r.created_at)}`,
        el("div", {class: "muted", text: `${r.actor}: ${r.reason || ""}${r.triggers.length ? ` (${r.triggers.join(", ")})` : ""}`}))))
        : el("p", {class: "empty", text: "no rollbacks"});
      const comparison = data.comparison.map(scope => Charts.bars(`${scope.agent_type} · ${scopeName(scope)}`,
        scope.versions.map(v => ({label: v.version + (v.is_production ? "*" : ""), values: [v.validation_accuracy, v.live_accuracy]})),
        ["validation accuracy", "live accuracy"], v => `${(v * 100).toFixed(0)}%`, false));
      return [
        el("h3", {text: "A/B tests"}), tests,
        el("h3", {text: "Rollback events"}), rollbacks,
        el("h3", {text: `Version history (${data.active} active)`}),
        data.versions.length ? table([
          ["version", v => v.version], ["agent", v => v.agent_type], ["scope", v => scopeName(v)],
          ["status", v => el("span", {class: `badge ${v.is_production ? "ok" : ""}`, text: v.status})],
          ["acc", v => pct(v.accuracy_score)], ["live", v => pct(v.live_accuracy)], ["trained", v => when(v.trained_on)],
        ], data.versions) : el("p", {class: "empty", text: "no versions"}),
        el("h3", {text: "Performance comparison (* production)"}), ...comparison,
      ];
    },

    resources(data) {
      const host = data.host;
      const pools = data.pools.length ? table([
        ["pool", p => p.pool], ["processes", p => `${p.workers} worker${p.workers > 1 ? "s" : ""}, ${p.processes} proc.`],
        ["CPU", p => el("span", {class: "metered"}, Charts.meter(p.cpu_percent, 100 * host.cpus), ` ${p.cpu_percent}%`)],
        ["memory", p => `${p.memory_mb.toFixed(0)} MB`],
      ], data.pools) : el("p", {class: "empty", text: "no worker pool runs on this host"});
      const history = data.history.filter(h => h.sent_per_second !== null);
      return [
        el("p", {}, `host CPU ${host.cpu_percent}% of ${host.cpus} cores · memory ${host.memory_percent}%`),
        el("h3", {text: "Worker pools (this host)"}), pools,
        el("h3", {text: "Disk"}),
        el("ul", {class: "inline"},
          el("li", {text: `database ${bytes(data.disk.database_bytes)}`}),
          el("li", {text: `artifact store ${bytes(data.disk.artifact_store.bytes)} in ${count(data.disk.artifact_store.files)} files`}),
          el("li", {text: `free ${bytes(data.disk.artifact_store.free_bytes)}`})),
        el("h3", {text: "Network I/O"}),
        el("p", {text: `sent ${bytes(data.network.bytes_sent)} · received ${bytes(data.network.bytes_received)}` +
          (data.network.sent_per_second === null ? "" : ` · now ${bytes(data.network.sent_per_second)}/s out, ${bytes(data.network.received_per_second)}/s in`)}),
        Charts.line("Network (KB/s)", history.length ? [
          {name: "sent", points: history.map(h => [h.at, h.sent_per_second / 1024])},
          {name: "received", points: history.map(h => [h.at, h.received_per_second / 1024])},
        ] : [], v => v.toFixed(0)),
        el("h3", {text: "Queues"}),
        data.queues ? el("ul", {class: "inline"}, Object.entries(data.queues).map(([q, n]) => el("li", {text: `${q} ${count(n)}`})))
          : el("p", {class: "empty", text: Object.values(data.unavailable).join("; ")}),
      ];
    },
  };

  loadFilters().then(() => PANELS.forEach(panel => refresh(panel)));
})();
