// onnxruntime's C API, called through an FFI (koffi) on the library onnxruntime-node ships. The
// onnxruntime-node binding copies every CPU input into onnxruntime and every output back out on each
// run; for a decoder that means the whole KV cache crosses three times per token. Through the C API the
// cache can stay in onnxruntime's memory and be updated in place (see nativeDecoder.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Koffi = typeof import('koffi');
/** An opaque native pointer (an OrtValue*, OrtSession*, or memory from koffi.alloc). */
export type Ptr = unknown;

export const ElementType = { float32: 1, int64: 7, float16: 10 } as const;

/** The functions used, by their index in the OrtApi table (append-only, stable since API version 1). */
const SIGNATURES = {
  GetErrorMessage: [2, 'const char* (void* status)'],
  CreateEnv: [3, 'void* (int level, const char* logid, _Out_ void** out)'],
  CreateSession: [7, 'void* (void* env, PATH path, void* options, _Out_ void** out)'],
  Run: [
    9,
    'void* (void* session, void* runOptions, void* inputNames, void* inputs, size_t nIn, void* outputNames, size_t nOut, void* outputs)',
  ],
  CreateSessionOptions: [10, 'void* (_Out_ void** out)'],
  SetSessionLogSeverityLevel: [22, 'void* (void* options, int level)'],
  SetSessionGraphOptimizationLevel: [23, 'void* (void* options, int level)'],
  SetIntraOpNumThreads: [24, 'void* (void* options, int n)'],
  SetInterOpNumThreads: [25, 'void* (void* options, int n)'],
  CreateTensorAsOrtValue: [48, 'void* (void* allocator, const int64_t* shape, size_t rank, int type, _Out_ void** out)'],
  CreateTensorWithDataAsOrtValue: [
    49,
    'void* (void* info, void* data, size_t bytes, const int64_t* shape, size_t rank, int type, _Out_ void** out)',
  ],
  GetTensorMutableData: [51, 'void* (void* value, _Out_ void** out)'],
  CreateCpuMemoryInfo: [69, 'void* (int allocator, int memType, _Out_ void** out)'],
  GetAllocatorWithDefaultOptions: [78, 'void* (_Out_ void** out)'],
  ReleaseStatus: [93, 'void (void* status)'],
  ReleaseSession: [95, 'void (void* session)'],
  ReleaseValue: [96, 'void (void* value)'],
  ReleaseSessionOptions: [100, 'void (void* options)'],
  AddSessionConfigEntry: [130, 'void* (void* options, const char* key, const char* value)'],
} as const;

type Fn = (...args: unknown[]) => unknown;
type Api = Record<keyof typeof SIGNATURES, Fn>;

export class OrtCapiError extends Error {}

/** The C API, loaded once per thread; throws OrtCapiError saying why it is unavailable. */
export class OrtCapi {
  private static loaded: OrtCapi | undefined;

  static load(): OrtCapi {
    OrtCapi.loaded ??= new OrtCapi();
    return OrtCapi.loaded;
  }

  readonly koffi: Koffi;
  readonly version: string;
  private readonly api: Api;
  private readonly env: Ptr;
  private readonly allocator: Ptr;
  private readonly cpu: Ptr;
  private readonly memcpy: Fn;
  private readonly memcpyIn: Fn;
  private readonly memmove: Fn;

  private constructor() {
    let koffi: Koffi;
    try {
      koffi = require('koffi') as Koffi;
    } catch (err) {
      throw new OrtCapiError(`the FFI module koffi did not load (${(err as Error).message})`);
    }
    this.koffi = koffi;
    let base: Ptr;
    try {
      base = koffi.load(libraryPath()).func('void* OrtGetApiBase()')() as Ptr;
    } catch (err) {
      throw new OrtCapiError(`onnxruntime's library did not load through the FFI (${(err as Error).message})`);
    }
    if (!base) throw new OrtCapiError('onnxruntime gave no API base');
    /** Entry `i` of a native table of function pointers; a null entry is a refusal, never a call. */
    const slot = (table: Ptr, i: number, name: string) => {
      const p = koffi.decode(table, i * koffi.sizeof('void*'), 'void*') as Ptr;
      if (!p) throw new OrtCapiError(`onnxruntime ${this.version ?? ''} has no ${name} in its API table (entry ${i})`);
      return p;
    };
    this.version = (koffi.decode(slot(base, 1, 'GetVersionString'), koffi.proto('const char* OrtGetVersionString()')) as Fn)() as string;
    const refused = versionProblem(this.version, packageVersion());
    if (refused) throw new OrtCapiError(refused);
    // Version 13 (onnxruntime 1.13) has every function used here; newer libraries still serve it.
    const table = (koffi.decode(slot(base, 0, 'GetApi'), koffi.proto('void* OrtGetApi(uint32_t version)')) as Fn)(13) as Ptr;
    if (!table) throw new OrtCapiError(`onnxruntime ${this.version} does not serve C API version 13`);
    // onnxruntime takes paths as wchar_t on Windows.
    const pathType = process.platform === 'win32' ? 'const char16_t*' : 'const char*';
    const api = {} as Api;
    for (const [name, [index, signature]] of Object.entries(SIGNATURES)) {
      const proto = koffi.proto(signature.replace('(', ` Ort${name}(`).replace('PATH', pathType));
      api[name as keyof Api] = koffi.decode(slot(table, index, name), proto) as Fn;
    }
    this.api = api;
    // onnxruntime keeps one environment per process: this returns the one onnxruntime-node made, if any.
    this.env = this.out((o) => api.CreateEnv(3, 'tessera', o));
    this.allocator = this.out((o) => api.GetAllocatorWithDefaultOptions(o));
    this.cpu = this.out((o) => api.CreateCpuMemoryInfo(0, 0, o));
    // The C library's memcpy reads native memory into a typed array ~50x faster than koffi.decode.
    const libc = koffi.load(process.platform === 'win32' ? 'msvcrt.dll' : null);
    this.memcpy = libc.func('void* memcpy(void* dst, intptr_t src, size_t n)') as Fn;
    this.memcpyIn = libc.func('void* memcpy(intptr_t dst, void* src, size_t n)') as Fn;
    this.memmove = libc.func('void* memmove(intptr_t dst, intptr_t src, size_t n)') as Fn;
  }

  /** Throws the message of a non-null OrtStatus. */
  check(status: unknown): void {
    if (!status) return;
    const message = this.api.GetErrorMessage(status) as string;
    this.api.ReleaseStatus(status);
    throw new OrtCapiError(message);
  }

  /** Calls an API function whose last argument is an out-pointer; returns what it wrote. */
  private out(call: (out: [Ptr]) => unknown): Ptr {
    const o: [Ptr] = [null];
    this.check(call(o));
    return o[0];
  }

  /** `spinning: false`: idle intra-op threads sleep at once instead of spinning (onnxruntime spins by default). */
  createSession(path: string, options: { threads: number; spinning?: boolean }): Ptr {
    const a = this.api;
    const so = this.out((o) => a.CreateSessionOptions(o));
    try {
      this.check(a.SetIntraOpNumThreads(so, options.threads));
      this.check(a.SetInterOpNumThreads(so, 1));
      this.check(a.SetSessionGraphOptimizationLevel(so, 99));
      // A failed run comes back as an error to the caller; onnxruntime need not also print it.
      this.check(a.SetSessionLogSeverityLevel(so, 4));
      // Confident models' softmax yields subnormal floats, which x86 computes on ~100x slower.
      this.check(a.AddSessionConfigEntry(so, 'session.set_denormal_as_zero', '1'));
      if (options.spinning === false) this.check(a.AddSessionConfigEntry(so, 'session.intra_op.allow_spinning', '0'));
      return this.out((o) => a.CreateSession(this.env, path, so, o));
    } finally {
      a.ReleaseSessionOptions(so);
    }
  }

  /** A tensor in onnxruntime's memory (zero-filled is not promised). */
  createTensor(shape: readonly number[], type: number): Ptr {
    return this.out((o) => this.api.CreateTensorAsOrtValue(this.allocator, BigInt64Array.from(shape.map(BigInt)), shape.length, type, o));
  }

  /** A tensor over memory the caller owns (from koffi.alloc): no copy. */
  wrapTensor(data: Ptr, bytes: number, shape: readonly number[], type: number): Ptr {
    return this.out((o) =>
      this.api.CreateTensorWithDataAsOrtValue(this.cpu, data, bytes, BigInt64Array.from(shape.map(BigInt)), shape.length, type, o),
    );
  }

  /** Where a tensor's elements are (onnxruntime's memory: valid while the tensor lives). */
  tensorData(value: Ptr): bigint {
    return this.koffi.address(this.out((o) => this.api.GetTensorMutableData(value, o)));
  }

  /** Copies `src` into native memory at `dst` + `byteOffset`. */
  copyIn(dst: Ptr, byteOffset: number, src: Float32Array | Uint16Array | Uint8Array): void {
    this.memcpyIn(this.koffi.address(dst) + BigInt(byteOffset), src, src.byteLength);
  }

  /** Moves `bytes` bytes of native memory from address `src` to address `dst` (they may overlap). */
  move(dst: bigint, src: bigint, bytes: number): void {
    this.memmove(dst, src, bytes);
  }

  /** Copies native memory at `src` + `byteOffset` into `dst` (as many bytes as it holds). */
  copyOut(src: Ptr, byteOffset: number, dst: Float32Array | Uint16Array): void {
    this.memcpy(dst, this.koffi.address(src) + BigInt(byteOffset), dst.byteLength);
  }

  /**
   * One run. `inputNames`/`outputNames` are native arrays of C strings (see cStrings), `inputs` and
   * `outputs` native arrays of OrtValue* (preallocated outputs are written in place).
   */
  run(session: Ptr, inputNames: Ptr, inputs: Ptr, nIn: number, outputNames: Ptr, outputs: Ptr, nOut: number): void {
    this.check(this.api.Run(session, null, inputNames, inputs, nIn, outputNames, nOut, outputs));
  }

  /** A native array of pointers, stable for as long as it is kept. */
  pointers(values: readonly Ptr[]): Ptr {
    const p = this.koffi.alloc('void*', values.length);
    this.koffi.encode(p, this.koffi.array('void*', values.length), values);
    return p;
  }

  /** Native NUL-terminated strings and a native array pointing at them. */
  cStrings(names: readonly string[]): { array: Ptr; keep: Ptr[] } {
    const keep = names.map((n) => {
      const bytes = Buffer.from(`${n}\0`, 'utf8');
      const p = this.koffi.alloc('uint8_t', bytes.length);
      this.koffi.encode(p, this.koffi.array('uint8_t', bytes.length), Array.from(bytes));
      return p;
    });
    return { array: this.pointers(keep), keep };
  }

  releaseValue(value: Ptr): void {
    if (value) this.api.ReleaseValue(value);
  }

  releaseSession(session: Ptr): void {
    if (session) this.api.ReleaseSession(session);
  }
}

/**
 * Why the C API of the library reporting `version` is not used, if it is not: the table indices and
 * signatures above hold for onnxruntime 1.x from 1.13 on, and for the library the installed
 * onnxruntime-node package was built with (another one beside it is a broken install).
 */
export function versionProblem(version: string, packageVersion: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return `onnxruntime reports the version "${version}", which is not one this build knows; its C API is not used`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major !== 1 || minor < 13) return `onnxruntime ${version}: the C API calls are written for 1.13 to 1.x; they are not used`;
  if (packageVersion && !version.startsWith(packageVersion)) {
    return `onnxruntime's library is ${version} but onnxruntime-node is ${packageVersion}: a mixed install; its C API is not used`;
  }
  return undefined;
}

function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** onnxruntime's shared library inside the installed onnxruntime-node package, for this platform. */
function libraryPath(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  const file = existsSync(dir) ? readdirSync(dir).find((f) => /^(lib)?onnxruntime(\.\d+)*\.(so(\.\d+)*|dylib|dll)$/.test(f)) : undefined;
  if (!file) throw new OrtCapiError(`onnxruntime's library is not in ${dir}`);
  return join(dir, file);
}
