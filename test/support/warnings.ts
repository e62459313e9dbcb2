/** Collects what is passed to console.warn until `restore()`. */
export function captureWarnings(): {warnings: string[]; restore(): void} {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (message: string) => warnings.push(String(message));
  return {warnings, restore: () => (console.warn = warn)};
}
