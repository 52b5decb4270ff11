import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, type DefaultTheme } from 'vitepress'

// The API sidebar is written by scripts/api.mjs (TypeDoc + typedoc-vitepress-theme) before each build.
const apiSidebarFile = fileURLToPath(new URL('../api/typedoc-sidebar.json', import.meta.url))
const apiSidebar: DefaultTheme.SidebarItem[] = existsSync(apiSidebarFile)
  ? (JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as DefaultTheme.SidebarItem[])
  : []

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'Install', link: '/guide/install' },
      { text: 'Quick start (CLI)', link: '/guide/quick-start' },
      { text: 'Library use', link: '/guide/library' },
      { text: 'Extending mi-prun', link: '/guide/extending' },
      { text: 'Examples', link: '/guide/examples' },
      { text: 'Compatibility', link: '/guide/compatibility' },
      { text: 'MI-rerank selector', link: '/guide/mi-rerank' },
    ],
  },
]

const concepts: DefaultTheme.SidebarItem[] = [
  {
    text: 'Concepts',
    items: [
      { text: 'The MI-PRUN method', link: '/concepts/method' },
      { text: 'What an MI score means', link: '/concepts/mi-on-hidden-states' },
      { text: 'Estimators and caveats', link: '/concepts/estimators' },
      { text: 'Baselines', link: '/concepts/baselines' },
    ],
  },
]

export default defineConfig({
  title: 'mi-prun',
  description: 'Block pruning of large language models by mutual information (MI-PRUN), in TypeScript.',
  lang: 'en-GB',
  cleanUrls: true,
  lastUpdated: false,
  // Everything is served from the built folder: no fonts, scripts or images from the network.
  head: [['meta', { name: 'color-scheme', content: 'light dark' }]],
  srcExclude: ['test/**', 'scripts/**', 'README.md', '.typedoc/**'],
  markdown: {
    // markdown-it-mathjax3 renders $…$ and $$…$$ to SVG at build time (no client-side script, no network).
    math: true,
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/install', activeMatch: '/guide/' },
      { text: 'Concepts', link: '/concepts/method', activeMatch: '/concepts/' },
      { text: 'Results', link: '/results' },
      { text: 'CLI', link: '/reference/cli' },
      { text: 'API', link: '/api/', activeMatch: '/api/' },
      { text: 'Changelog', link: '/changelog' },
    ],
    sidebar: {
      '/guide/': guide,
      '/concepts/': concepts,
      '/reference/': [
        {
          text: 'Reference',
          items: [
            { text: 'CLI', link: '/reference/cli' },
            { text: 'API', link: '/api/' },
          ],
        },
      ],
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar }],
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: {
      message: 'MIT licensed. An independent implementation of MI-PRUN (Zhang et al., arXiv 2601.07212).',
    },
  },
})
