import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { RunReport } from './schema.js'

/** Reads the minified ECharts build that is inlined into every report (no network at view time). */
export async function readEchartsSource(): Promise<string> {
  const require = createRequire(import.meta.url)
  return readFile(require.resolve('echarts/dist/echarts.min.js'), 'utf8')
}

/** JSON (or JS) that is safe inside a <script> element: no "</script", no "<!--". */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )
}

/**
 * Browser code of the report: builds every chart with ECharts (SVG renderer) from the embedded
 * report.json and fills the tables. Sets window.__miPrunReady = true when done, so tests can wait.
 */
const pageScript = String.raw`
(function () {
  'use strict'
  var report = JSON.parse(document.getElementById('report-data').textContent)
  var T = report.model.numBlocks
  var blocks = Array.from({ length: T }, function (_, i) { return String(i) })
  var charts = []
  function chart(parent, id, title, height) {
    var box = document.createElement('section')
    box.className = 'chart-box'
    var h = document.createElement('h3')
    h.textContent = title
    var el = document.createElement('div')
    el.className = 'chart'
    el.id = id
    el.style.height = (height || 320) + 'px'
    box.appendChild(h)
    box.appendChild(el)
    document.getElementById(parent).appendChild(box)
    var c = echarts.init(el, null, { renderer: 'svg' })
    charts.push(c)
    return c
  }
  function fmt(v) { if (typeof v === 'number' && Number.isInteger(v)) return String(v); return typeof v === 'number' && isFinite(v) ? (Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toExponential(3) : v.toFixed(3)) : String(v) }
  function settingsText(s) { return Object.keys(s || {}).map(function (k) { return k + '=' + JSON.stringify(s[k]) }).join(', ') }

  // 1. per-block score curves, one chart per scorer (scales differ: nats, BI, angular)
  report.blockScores.forEach(function (s, i) {
    var c = chart('block-scores', 'chart-block-' + i, s.scorer + ' (' + s.unit + (s.higherMeansRemovable ? ', higher = removed first' : ', lower = removed first') + ')', 260)
    c.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 70, right: 20, top: 20, bottom: 40 },
      xAxis: { type: 'category', data: blocks, name: 'block', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', scale: true, name: s.unit },
      series: [{ type: 'line', name: s.scorer, data: s.values, symbolSize: 6 }],
    })
    var p = document.createElement('p')
    p.className = 'settings'
    p.textContent = 'settings: ' + settingsText(s.settings) + '; samples: ' + s.samples
    document.getElementById('chart-block-' + i).parentNode.appendChild(p)
  })

  // 2. triangular span heat-map: x = first block, y = span length; only start + length <= T exist
  report.spanScores.forEach(function (s, i) {
    var lengths = Array.from({ length: T }, function (_, l) { return String(l + 1) })
    var data = s.spans.map(function (sp) { return [sp.start, sp.length - 1, sp.value] })
    var vals = s.spans.map(function (sp) { return sp.value }).filter(function (v) { return isFinite(v) })
    var c = chart('span-scores', 'chart-span-' + i, 'span scores: ' + s.scorer + ' (' + s.unit + ')', 360)
    c.setOption({
      animation: false,
      tooltip: { formatter: function (p) { return 'blocks ' + p.value[0] + '..' + (p.value[0] + p.value[1]) + ': ' + fmt(p.value[2]) } },
      grid: { left: 70, right: 90, top: 20, bottom: 50 },
      xAxis: { type: 'category', data: blocks, name: 'first block j', nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'category', data: lengths, name: 'length L' },
      visualMap: { min: Math.min.apply(null, vals), max: Math.max.apply(null, vals), calculable: true, orient: 'vertical', right: 0, top: 'middle', precision: 3, inRange: { color: ['#fff7bc', '#fd8d3c', '#7f0000'] } },
      series: [{ type: 'heatmap', name: s.scorer, data: data }],
    })
  })

  // 3. chosen blocks on a block strip, one row per method
  var methods = report.methods.map(function (m) { return m.selector })
  var stripData = []
  report.methods.forEach(function (m, r) {
    var sel = {}
    m.selected.forEach(function (b) { sel[b] = true })
    for (var b = 0; b < T; b++) stripData.push([b, r, sel[b] ? 1 : 0])
  })
  chart('selections', 'chart-strip', 'removed blocks per method (N = ' + report.budget + ')', 60 + 34 * Math.max(1, methods.length)).setOption({
    animation: false,
    tooltip: { formatter: function (p) { return methods[p.value[1]] + ', block ' + p.value[0] + ': ' + (p.value[2] ? 'removed' : 'kept') } },
    grid: { left: 110, right: 20, top: 10, bottom: 40 },
    xAxis: { type: 'category', data: blocks, name: 'block', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'category', data: methods },
    visualMap: { show: false, min: 0, max: 1, inRange: { color: ['#e8edf3', '#c0392b'] } },
    series: [{ type: 'heatmap', data: stripData, itemStyle: { borderColor: '#fff', borderWidth: 2 } }],
  })

  // 4. perplexity vs number of removed blocks
  // linear axis zoomed on the data while the values stay within a factor 3; log axis when a curve explodes
  function pplAxis(series) {
    var vals = []
    series.forEach(function (sr) { sr.data.forEach(function (d) { vals.push(d[1]) }) })
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals)
    if (hi / lo <= 3) return { type: 'value', scale: true, name: 'perplexity' }
    return { type: 'log', name: 'perplexity (log)', min: lo / 1.05, max: hi * 1.05, axisLabel: { formatter: function (v) { return fmt(v) } } }
  }
  if (report.perplexity) {
    var ppl = report.perplexity
    var series = ppl.curves.map(function (cv) {
      return { type: 'line', name: cv.selector, symbolSize: 7, data: [[0, ppl.dense.perplexity]].concat(cv.points.map(function (p) { return [p.removed, p.perplexity] })) }
    })
    chart('perplexity', 'chart-ppl', 'held-out perplexity vs removed blocks (window ' + ppl.settings.windowLength + ', stride ' + ppl.settings.stride + ')', 360).setOption({
      animation: false,
      legend: { top: 0 },
      tooltip: { trigger: 'item', formatter: function (p) { return p.seriesName + ': N=' + p.value[0] + ', PPL ' + fmt(p.value[1]) } },
      grid: { left: 70, right: 20, top: 40, bottom: 40 },
      xAxis: { type: 'value', name: 'removed blocks N', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
      yAxis: pplAxis(series),
      series: series,
    })
  }

  // 5. tables: methods (cost) and stability
  function table(parent, head, rows) {
    var t = document.createElement('table')
    var tr = document.createElement('tr')
    head.forEach(function (h) { var th = document.createElement('th'); th.textContent = h; tr.appendChild(th) })
    t.appendChild(tr)
    rows.forEach(function (r) {
      var row = document.createElement('tr')
      r.forEach(function (v) { var td = document.createElement('td'); td.textContent = typeof v === 'number' ? fmt(v) : String(v); row.appendChild(td) })
      t.appendChild(row)
    })
    document.getElementById(parent).appendChild(t)
  }
  var pplBy = {}
  if (report.perplexity) report.perplexity.curves.forEach(function (cv) {
    cv.points.forEach(function (p) { if (p.removed === report.budget) pplBy[cv.selector] = p.perplexity })
  })
  table('methods', ['method', 'removed blocks', 'perplexity', 'forward passes', 'MI evaluations', 'selection ms'],
    report.methods.map(function (m) {
      return [m.selector, m.selected.join(', '), pplBy[m.selector] === undefined ? '–' : pplBy[m.selector], m.cost.forwardPasses, m.cost.miEvaluations, m.cost.wallMs]
    }))
  if (report.stability) {
    table('stability', ['method', 'mean Jaccard', 'min Jaccard', 'selections per subset'],
      report.stability.rows.map(function (r) { return [r.selector, r.meanJaccard, r.minJaccard, r.selections.map(function (s) { return '{' + s.join(',') + '}' }).join(' ')] }))
  } else {
    document.getElementById('stability').textContent = 'not measured in this run'
  }
  window.__miPrunCharts = charts.length
  window.__miPrunReady = true
})()
`

/**
 * A fully self-contained HTML page for a run: ECharts inlined, the report embedded as JSON, no
 * network access at view time. Charts: per-block score curves per scorer, a triangular span heat-map,
 * the removed blocks per method on a block strip, perplexity vs number of removed blocks; tables:
 * cost per method and stability (Jaccard across disjoint calibration subsets).
 */
/** The generator tag of every report mi-prun renders (how `report` recognises its own output). */
export const GENERATOR_META = '<meta name="generator" content="mi-prun">'

export function renderReportHtml(report: RunReport, echartsSource: string): string {
  const title = `mi-prun report: ${report.model.architecture} (${report.model.numBlocks} blocks), N = ${report.budget}`
  const data = JSON.stringify(report).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${GENERATOR_META}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2733; padding: 0 16px }
h1 { font-size: 20px } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dde3ea } h3 { font-size: 14px; margin: 12px 0 4px }
.chart { width: 100%; } .settings { color: #5b6b7c; font-size: 12px; margin: 0 0 8px }
table { border-collapse: collapse; margin: 8px 0 } th, td { border: 1px solid #dde3ea; padding: 4px 8px; text-align: left; font-variant-numeric: tabular-nums }
th { background: #f3f6f9 } dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px } dt { color: #5b6b7c }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<dl>
<dt>model</dt><dd>${escapeHtml(report.model.path)} — ${escapeHtml(report.model.format)}, ${escapeHtml(report.model.dtype)}, ${report.model.parameters} parameters, hidden size ${report.model.hiddenSize}, backend ${escapeHtml(report.model.backend)}</dd>
<dt>calibration</dt><dd>${escapeHtml(report.calibration.sources.join(', '))} — ${report.calibration.samples} × ${report.calibration.seqLen} tokens, token cap ${report.calibration.tokenCap}, seed ${report.calibration.seed}</dd>
<dt>indices</dt><dd>0-based; block i maps h<sub>i</sub> to h<sub>i+1</sub></dd>
<dt>produced by</dt><dd>${escapeHtml(report.createdBy.tool)} ${escapeHtml(report.createdBy.version)}: <code>${escapeHtml(report.createdBy.command)}</code></dd>
</dl>
<h2>Methods</h2><div id="methods"></div>
<h2>Removed blocks</h2><div id="selections"></div>
<h2>Perplexity</h2><div id="perplexity"></div>
<h2>Stability across calibration subsets</h2><div id="stability"></div>
<h2>Per-block scores</h2><div id="block-scores"></div>
<h2>Span scores</h2><div id="span-scores"></div>
<script id="report-data" type="application/json">${data}</script>
<script>${scriptSafe(echartsSource)}</script>
<script>${scriptSafe(pageScript)}</script>
</body>
</html>
`
}
