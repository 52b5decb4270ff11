import type { CommandSpec } from '../command.js'
import { inspectModel } from '../model.js'

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary: 'architecture, blocks, parameters, dtype and format of a model',
  usage: 'mi-prun inspect MODEL [--json]',
  description:
    'Reads config.json and the safetensors headers (HF folder) or the ONNX graph; loads no weights.',
  positionals: [
    {
      name: 'MODEL',
      description: 'HF folder (config.json + *.safetensors), ONNX folder or .onnx file',
      required: true,
    },
  ],
  options: [],
  jsonKeys: ['blocks', 'hiddenSize', 'architecture', 'format', 'parameters', 'dtype'],
  async run(ctx) {
    const info = await inspectModel(ctx.positionals[0]!)
    const text = [
      `${info['architecture']} (${info['modelType']}), ${info['format']}`,
      `blocks ${info['blocks']}, hidden size ${info['hiddenSize']}, vocabulary ${info['vocabSize']}`,
      `parameters ${info['parameters']}, dtype ${info['dtype']}`,
    ].join('\n')
    return { json: info, text }
  },
}
