import { probeOnnxRuntime } from '../model/onnxProbe';
import { VERSION } from '../version';
import { type Command, parseArgs, UsageError } from './command';

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show the version and whether the model runtime loads on this machine',
  usage: 'tessera info [--json]',
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { flags: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const onnxruntime = probeOnnxRuntime();
    const info = { version: VERSION, node: process.version, platform: `${process.platform}-${process.arch}`, onnxruntime };
    if (flags.has('json')) {
      io.out(`${JSON.stringify(info, null, 2)}\n`);
    } else {
      const ort = onnxruntime.available ? `ONNX Runtime ${onnxruntime.version}` : `ONNX Runtime unavailable: ${onnxruntime.error}`;
      io.out(`Tessera ${info.version}\nNode ${info.node} on ${info.platform}\n${ort}\n`);
    }
    return onnxruntime.available ? 0 : 1;
  },
};
