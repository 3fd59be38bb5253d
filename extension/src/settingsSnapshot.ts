// The `tessera` settings as plain data for the server, read key by key from what package.json declares:
// the declaration is the one list, so no setting is forgotten on its way to the server.

/** `{a: {b: v}}` for keys `a.b`, each value from `get` (undefined values are left out). */
export function settingsSnapshot(keys: readonly string[], get: (key: string) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = get(key);
    if (value === undefined) continue;
    const path = key.split('.');
    let node = out;
    for (const part of path.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}

/** The setting keys (without the `tessera.` section) that an extension manifest declares. */
export function declaredSettings(packageJson: unknown): string[] {
  const config = (packageJson as { contributes?: { configuration?: { properties?: Record<string, unknown> } } }).contributes?.configuration;
  return Object.keys(config?.properties ?? {})
    .filter((k) => k.startsWith('tessera.'))
    .map((k) => k.slice('tessera.'.length));
}
