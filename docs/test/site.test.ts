// Opens the built documentation site in headless Chromium: visits every page, fails on console errors,
// page errors, failed or external requests and broken internal links (pages and #anchors), checks that the
// local search finds "KSG", and keeps screenshots of the home page and one API page in docs/test/screenshots/.
// Skips only when /usr/bin/chromium is absent. Builds the site first when docs/.vitepress/dist is missing.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CHROMIUM = '/usr/bin/chromium'
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const docsDir = fileURLToPath(new URL('..', import.meta.url))
const distDir = join(docsDir, '.vitepress', 'dist')
const shotsDir = join(docsDir, 'test', 'screenshots')
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium)
  console.warn(
    `[@mi-prun/docs] site test skipped: ${CHROMIUM} is not installed (Debian: apt-get install chromium)`,
  )

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}

/** The file a clean URL maps to, as VitePress's `cleanUrls` expects: /a/b → a/b.html, /a/ → a/index.html. */
function resolveFile(urlPath: string): string | undefined {
  let p: string
  try {
    p = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  const rel = normalize(p).replace(/^[/\\]+/, '')
  if (rel.startsWith('..')) return undefined
  const base = join(distDir, rel)
  const candidates = p.endsWith('/')
    ? [join(base, 'index.html')]
    : [base, `${base}.html`, join(base, 'index.html')]
  return candidates.find((f) => existsSync(f) && statSync(f).isFile())
}

function startServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const file = resolveFile(url.pathname)
    if (!file) {
      res.writeHead(404, { 'content-type': TYPES['.html']! })
      res.end(existsSync(join(distDir, '404.html')) ? readFileSync(join(distDir, '404.html')) : 'not found')
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)))
}

/** Every built page as a clean URL path, home first. */
function pagePaths(): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const f = join(dir, e.name)
      if (e.isDirectory()) {
        if (e.name !== 'assets') walk(f)
      } else if (e.name.endsWith('.html') && !(dir === distDir && e.name === '404.html')) {
        const rel = relative(distDir, f).split(sep).join('/')
        out.push(
          `/${rel.endsWith('index.html') ? rel.slice(0, -'index.html'.length) : rel.slice(0, -'.html'.length)}`,
        )
      }
    }
  }
  walk(distDir)
  return out.sort((a, b) => (a === '/' ? -1 : b === '/' ? 1 : a.localeCompare(b)))
}

function buildSite(): void {
  const run = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: docsDir, stdio: 'inherit', timeout: 600_000 })
  run([join(docsDir, 'scripts', 'api.mjs')])
  run([join(docsDir, 'node_modules', 'vitepress', 'bin', 'vitepress.js'), 'build', '.'])
}

describe.skipIf(!hasChromium)('docs site in headless Chromium', () => {
  let server: Server
  let browser: Browser
  let context: BrowserContext
  let origin = ''
  const external: string[] = []

  beforeAll(async () => {
    if (!existsSync(join(distDir, 'index.html'))) buildSite()
    server = await startServer()
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS })
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    // Nothing may leave the machine at view time: record and abort every non-local request.
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue()
      external.push(url)
      return route.abort()
    })
  }, 900_000)

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()))
  })

  it('the checks can fail: the server 404s a missing page and console errors are captured', async () => {
    expect((await fetch(`${origin}/no-such-page`)).status).toBe(404)
    expect((await fetch(`${origin}/guide/install`)).status).toBe(200)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    await page.goto(`${origin}/`, { waitUntil: 'load' })
    await page.evaluate(() => console.error('probe'))
    await page.close()
    expect(errors).toEqual(['probe'])
  })

  it('visits every page without console errors, failed requests or broken internal links', async () => {
    const pages = pagePaths()
    expect(pages.length).toBeGreaterThan(10)
    for (const must of [
      '/',
      '/guide/install',
      '/guide/library',
      '/concepts/method',
      '/concepts/estimators',
      '/results',
      '/reference/cli',
      '/api/',
      '/changelog',
    ]) {
      expect(pages).toContain(must)
    }
    const problems: string[] = []
    const ids = new Map<string, Set<string>>()
    const links = new Map<string, Set<string>>() // target href → pages linking to it
    // Hand-written pages get a full load each (server HTML, hydration, client code). The ~300 generated API pages are
    // reached by client-side navigation from /api/, which renders each page in the same app at a third of the cost;
    // their HTML files are still fetched by the link check below.
    const isApi = (p: string) => p.startsWith('/api/') && p !== '/api/'
    const full = pages.filter((p) => !isApi(p))
    const api = pages.filter(isApi)
    const collect = async (page: Page, path: string): Promise<void> => {
      const found = await page.evaluate(() => ({
        ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
        hrefs: [...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
      }))
      ids.set(path, new Set(found.ids))
      for (const h of found.hrefs) {
        if (!h.startsWith(`${origin}/`)) continue
        if (!links.has(h)) links.set(h, new Set())
        links.get(h)!.add(path)
      }
    }
    const visitor = async (queue: string[], spa: boolean): Promise<void> => {
      const page = await context.newPage()
      let current = ''
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${current}: console error: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${current}: page error: ${e.message}`))
      page.on('requestfailed', (r) => {
        // ERR_ABORTED is a prefetch cancelled by the next navigation, not a failure; 4xx/5xx are caught below.
        if (r.url().startsWith(origin) && r.failure()?.errorText !== 'net::ERR_ABORTED') {
          problems.push(`${current}: request failed (${r.failure()?.errorText}): ${r.url()}`)
        }
      })
      page.on('response', (r) => {
        if (r.url().startsWith(origin) && r.status() >= 400)
          problems.push(`${current}: HTTP ${r.status()} for ${r.url()}`)
      })
      if (spa) {
        current = '/api/'
        await page.goto(`${origin}/api/`, { waitUntil: 'load' })
      }
      for (const path of queue) {
        current = path
        if (!spa) {
          const res = await page.goto(`${origin}${path}`, { waitUntil: 'load' })
          if (res?.status() !== 200) problems.push(`${path}: HTTP ${res?.status()}`)
        } else {
          // VitePress's router intercepts clicks on same-origin links; the doc container's class names the page.
          const before = await page.evaluate(() => document.querySelector('.vp-doc')?.className ?? '')
          await page.evaluate((p) => {
            const a = document.createElement('a')
            a.href = p
            document.body.appendChild(a)
            a.click()
            a.remove()
          }, path)
          try {
            await page.waitForFunction(
              ([prev, p]) =>
                decodeURI(location.pathname) === p &&
                (document.querySelector('.vp-doc')?.className ?? prev) !== prev,
              [before, path] as const,
              { timeout: 30_000 },
            )
          } catch {
            problems.push(`${path}: client-side navigation did not render the page`)
            continue
          }
        }
        await collect(page, path)
      }
      await page.close()
    }
    await Promise.all([visitor(full, false), visitor(api, true)])
    expect(ids.size).toBe(pages.length)

    const status = new Map<string, number>()
    for (const [href, from] of links) {
      const u = new URL(href)
      if (!status.has(u.pathname)) status.set(u.pathname, (await fetch(`${origin}${u.pathname}`)).status)
      const where = [...from].slice(0, 3).join(', ')
      if (status.get(u.pathname) !== 200) {
        problems.push(`broken link ${u.pathname} (HTTP ${status.get(u.pathname)}) from ${where}`)
        continue
      }
      if (u.hash.length > 1) {
        const target =
          ids.get(u.pathname) ?? ids.get(u.pathname.replace(/\.html$/, '')) ?? ids.get(`${u.pathname}/`)
        const anchor = decodeURIComponent(u.hash.slice(1))
        if (target && !target.has(anchor)) problems.push(`broken anchor ${u.pathname}${u.hash} from ${where}`)
      }
    }
    expect(problems).toEqual([])
    expect(external).toEqual([])
    expect(links.size).toBeGreaterThan(50)
    // about 20 full loads and 300 client-side navigations: 2–4 min on a loaded 2-core machine
  }, 900_000)

  it('finds "KSG" with the local search', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/`, { waitUntil: 'load' })
    await page.click('button.DocSearch-Button')
    const input = page.locator('.VPLocalSearchBox input.search-input')
    await input.waitFor({ state: 'visible' })
    await input.fill('KSG')
    const results = page.locator('.VPLocalSearchBox ul.results a.result')
    await results.first().waitFor({ state: 'visible', timeout: 30_000 })
    const texts = await results.allInnerTexts()
    await page.close()
    expect(texts.length).toBeGreaterThan(2)
    expect(texts.some((t) => /KSG/i.test(t))).toBe(true)
    expect(texts.some((t) => /estimators/i.test(t))).toBe(true)
  }, 120_000)

  it('keeps screenshots of the home page and an API page', async () => {
    mkdirSync(shotsDir, { recursive: true })
    const page = await context.newPage()
    const shots: Array<[string, string]> = [
      ['/', 'home.png'],
      [
        existsSync(join(distDir, 'api', '@mi-prun', 'mi-binning', 'functions', 'createBinningEstimator.html'))
          ? '/api/@mi-prun/mi-binning/functions/createBinningEstimator'
          : '/api/',
        'api.png',
      ],
    ]
    for (const [path, name] of shots) {
      await page.goto(`${origin}${path}`, { waitUntil: 'load' })
      await page.screenshot({ path: join(shotsDir, name), fullPage: false })
      const png = readFileSync(join(shotsDir, name))
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
      expect(png.length).toBeGreaterThan(10_000)
    }
    await page.close()
  }, 120_000)
})
