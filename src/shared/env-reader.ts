// Reads a program's environment (the pod contract's variables) and collects every problem, so a pod that is
// configured wrongly says all that is wrong at once instead of failing one variable per restart. Problems name the
// variable and the expected form; a value is quoted only where the caller allows it (never for secrets).
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The trimmed value, or undefined when unset or blank. */
  text(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  /** The value as given (not trimmed), or undefined when unset or empty: for secrets and lists. */
  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** A value that must be set ('' and a problem when it is not). */
  need(name: string): string {
    const v = this.text(name);
    if (v === undefined) this.problems.push(`environment variable ${name} is not set`);
    return v ?? '';
  }

  /** An integer in [min, max], or the default when unset; a problem (and the default) when it is anything else. */
  int(name: string, dflt: number, min: number, max: number): number {
    return this.numberIn(name, dflt, min, max, true);
  }

  /** A number in [min, max], as int() but fractions allowed. */
  number(name: string, dflt: number, min: number, max: number): number {
    return this.numberIn(name, dflt, min, max, false);
  }

  /** true unless the value is "false" (any case): TLS and similar switches that default on. */
  flagDefaultOn(name: string): boolean {
    return (this.text(name) ?? 'true').toLowerCase() !== 'false';
  }

  /** One of the allowed values, or the default when unset. */
  oneOf<T extends string>(name: string, allowed: readonly T[], dflt: T): T {
    const v = this.text(name);
    if (v === undefined) return dflt;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1) ?? ''}`);
    return dflt;
  }

  private numberIn(name: string, dflt: number, min: number, max: number, integer: boolean): number {
    const v = this.text(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      this.problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return dflt;
    }
    return n;
  }
}
