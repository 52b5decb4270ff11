// Writing a config.json that transformers 5 loads. Its configs are strict dataclasses: a field
// typed float refuses an int, so `"final_logit_softcapping": 30.0` must not come back as `30` —
// which is what JSON.parse → JSON.stringify does. `serializeConfig` writes every number that the
// original file wrote as a float (with '.', 'e' or 'E') as a float again, at the same key path.

const P = '[@mi-prun/families]'

/** Key paths (`a.b.3`) of the numbers that `text` writes in float notation. */
export function floatPaths(text: string): Set<string> {
  const out = new Set<string>()
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const str = (): string => {
    const start = i
    i++
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (path: string): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        const k = str()
        ws()
        i++ // ':'
        value(path === '' ? k : `${path}.${k}`)
        ws()
        if (text[i++] === '}') return
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (let n = 0; ; n++) {
        value(path === '' ? String(n) : `${path}.${n}`)
        ws()
        if (text[i++] === ']') return
      }
    }
    if (c === '"') return void str()
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?|^(true|false|null)/.exec(text.slice(i))
    if (m === null) throw new SyntaxError(`${P} config.json: unexpected ${JSON.stringify(c)} at ${i}`)
    if (m[1] !== undefined || m[2] !== undefined) out.add(path)
    i += m[0].length
  }
  value('')
  return out
}

/**
 * JSON text of `value` (2-space indent, trailing newline) in which an integral number at a key
 * path that `originalText` wrote as a float is written as a float (`30.0`).
 */
export function serializeConfig(value: unknown, originalText: string): string {
  const floats = floatPaths(originalText)
  const write = (v: unknown, path: string, indent: string): string => {
    const inner = `${indent}  `
    const at = (k: string) => (path === '' ? k : `${path}.${k}`)
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new RangeError(`${P} ${path}: ${v} cannot be written as JSON`)
      return Number.isInteger(v) && floats.has(path) && Math.abs(v) < 1e16 ? `${v}.0` : JSON.stringify(v)
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]'
      return `[\n${v.map((x, n) => inner + write(x, at(String(n)), inner)).join(',\n')}\n${indent}]`
    }
    if (v !== null && typeof v === 'object') {
      const e = Object.entries(v).filter(([, x]) => x !== undefined)
      if (e.length === 0) return '{}'
      return `{\n${e.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, at(k), inner)}`).join(',\n')}\n${indent}}`
    }
    return JSON.stringify(v)
  }
  return `${write(value, '', '')}\n`
}
