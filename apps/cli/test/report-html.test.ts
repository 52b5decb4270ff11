import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium } from 'playwright-core'
import {
  exitCodes,
  jaccard,
  pairwiseJaccard,
  readEchartsSource,
  renderReportHtml,
  validateReport,
} from '@mi-prun/cli'
import { runMiPrun, syntheticReport } from './helpers.js'

const chromiumPath = '/usr/bin/chromium'
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url))

describe('report schema', () => {
  it('Jaccard and pairwise means', () => {
    expect(jaccard([1, 2, 3], [2, 3, 4])).toBe(0.5)
    expect(jaccard([], [])).toBe(1)
    const p = pairwiseJaccard([
      [2, 6],
      [2, 6],
      [2, 5],
    ])
    expect(p.mean).toBeCloseTo((1 + 1 / 3 + 1 / 3) / 3, 12)
    expect(p.min).toBeCloseTo(1 / 3, 12)
  })
  it('rejects other schemas and versions with a fix', () => {
    expect(() => validateReport({ schema: 'x' }, 'r.json')).toThrow(
      /r\.json is not a mi-prun run: "schema" is "x"/,
    )
    expect(() => validateReport({ ...syntheticReport(), version: 99 }, 'r.json')).toThrow(
      /schema version 99 is not supported/,
    )
    const bad = { ...syntheticReport(), methods: [{ selector: 'fbs', selected: [8] }] }
    expect(() => validateReport(bad, 'r.json')).toThrow(/blocks in 0\.\.7/)
  })
  it('embeds data safely and references nothing on the network', async () => {
    const r = syntheticReport()
    const html = renderReportHtml(
      { ...r, model: { ...r.model, path: '</script><b>x' } },
      await readEchartsSource(),
    )
    expect(html).not.toContain('</script><b>')
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i)
  })
})

describe('report.html in headless Chromium', { timeout: 300_000 }, () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mi-prun-report-'))
    await mkdir(screenshots, { recursive: true })
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('`mi-prun report` writes a page whose charts render with no console errors', async () => {
    const run = join(dir, 'report.json')
    await writeFile(run, JSON.stringify(syntheticReport()))
    const r = await runMiPrun(['report', run, '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { html: string; schemaVersion: number }
    expect(out.schemaVersion).toBe(1)
    expect(existsSync(out.html)).toBe(true)
    const html = await readFile(out.html, 'utf8')
    expect(html.length).toBeGreaterThan(500_000) // ECharts is inlined

    expect(existsSync(chromiumPath), 'Debian chromium is required (apt-get install chromium)').toBe(true)
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
      const errors: string[] = []
      const requests: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
      page.on('request', (req) => {
        if (!req.url().startsWith('file:')) requests.push(req.url())
      })
      await page.goto(`file://${out.html}`)
      await page.waitForFunction('window.__miPrunReady === true', undefined, { timeout: 30_000 })
      // 2 block-score charts + 1 span heat-map + block strip + perplexity = 5
      expect(await page.evaluate('window.__miPrunCharts')).toBe(5)
      const charts = await page.$$eval('.chart', (els) =>
        els.map((el) => ({
          id: el.id,
          svg: el.querySelectorAll('svg').length,
          shapes: el.querySelectorAll('svg path, svg rect').length,
        })),
      )
      expect(charts.map((c) => c.id).sort()).toEqual([
        'chart-block-0',
        'chart-block-1',
        'chart-ppl',
        'chart-span-0',
        'chart-strip',
      ])
      for (const c of charts) {
        expect(c.svg, c.id).toBe(1)
        expect(c.shapes, c.id).toBeGreaterThan(8)
      }
      // the heat-map draws exactly T(T+1)/2 = 36 cells and the strip 2 methods × 8 blocks = 16
      const cells = await page.evaluate(`(() => {
        const n = (id) => echarts.getInstanceByDom(document.getElementById(id)).getOption().series[0].data.length
        return [n('chart-span-0'), n('chart-strip')]
      })()`)
      expect(cells).toEqual([36, 16])
      const tables = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tr').length))
      expect(tables).toEqual([3, 3]) // methods and stability: header + 2 rows
      expect(await page.textContent('#methods')).toContain('4, 5')
      await page.screenshot({ path: join(screenshots, 'report.png'), fullPage: true })
      expect(errors).toEqual([])
      expect(requests).toEqual([])
    } finally {
      await browser.close()
    }
  })

  it('a real compare run on the tiny model renders with no console errors', async () => {
    const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
    const out = join(dir, 'compare')
    const r = await runMiPrun([
      'compare',
      model,
      '--out',
      out,
      '--remove',
      '2',
      '--selector',
      'fbs',
      'shortgpt',
      'angular',
      '--estimator',
      'gaussian',
      'binning',
      '--subsets',
      '2',
      '--seq-len',
      '32',
      '--samples',
      '4',
      '--tokens',
      '96',
      '--max-windows',
      '2',
      '--quiet',
    ])
    expect(r.code, r.stderr).toBe(0)
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
      const errors: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
      await page.goto(`file://${join(out, 'report.html')}`)
      await page.waitForFunction('window.__miPrunReady === true', undefined, { timeout: 30_000 })
      // block curves: mi:gaussian, mi:binning, shortgpt-bi, angular; heat-maps: 2 MI estimators; strip; perplexity
      expect(await page.evaluate('window.__miPrunCharts')).toBe(8)
      const strip = await page.evaluate(
        `echarts.getInstanceByDom(document.getElementById('chart-strip')).getOption().yAxis[0].data`,
      )
      expect(strip).toEqual(['fbs:gaussian', 'fbs:binning', 'shortgpt', 'angular'])
      await page.screenshot({ path: join(screenshots, 'report-compare-tiny.png'), fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  })

  it('refuses a run with another schema version (exit code 3)', async () => {
    const run = join(dir, 'old.json')
    await writeFile(run, JSON.stringify({ ...syntheticReport(), version: 0 }))
    const r = await runMiPrun(['report', run])
    expect(r.code).toBe(exitCodes.input)
    expect(r.stderr).toMatch(/schema version 0 is not supported/)
  })
})
