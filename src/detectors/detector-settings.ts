import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject } from '@sinclair/typebox';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { Detector } from './detector.js';
import { invalidDetectorConfig, unknownDetector } from './detector-errors.js';

export interface EffectiveDetector {
  detector: Detector<any>;
  enabled: boolean;
  config: Record<string, unknown>;
}

export interface DetectorView {
  name: string;
  description: string;
  enabled: boolean;
  config: Record<string, unknown>;
  defaults: Record<string, unknown>;
  schedule: boolean;
  eventTypes: readonly string[];
}

/**
 * Per-tenant detector settings: the tenant's overrides are stored, defaults merged at read time,
 * so improving a default reaches every tenant that did not choose otherwise. Every write is
 * validated against the detector's schema; unknown keys are refused.
 */
export class DetectorSettings {
  private readonly byName: Map<string, Detector<any>>;
  /** Compiled on first use: the detector worker reads settings but never validates a write. */
  private readonly checks = new Map<string, TypeCheck<TObject>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly detectors: readonly Detector<any>[],
  ) {
    this.byName = new Map(detectors.map((d) => [d.name, d]));
  }

  get(name: string): Detector<any> {
    const detector = this.byName.get(name);
    if (!detector) throw unknownDetector(name);
    return detector;
  }

  async effective(tenantId: string): Promise<EffectiveDetector[]> {
    const stored = new Map((await this.store.detectors.listDetectorSettings(tenantId)).map((s) => [s.detector, s]));
    return this.detectors.map((detector) => {
      const s = stored.get(detector.name);
      return { detector, enabled: s?.enabled ?? true, config: { ...detector.defaults, ...(s?.config ?? {}) } };
    });
  }

  async list(tenantId: string): Promise<DetectorView[]> {
    return (await this.effective(tenantId)).map(({ detector, enabled, config }) => ({
      name: detector.name,
      description: detector.description,
      enabled,
      config,
      defaults: detector.defaults,
      schedule: detector.evaluateSchedule !== undefined,
      eventTypes: detector.eventTypes,
    }));
  }

  /** Checks a full config (defaults ⊕ overrides) and returns it; throws listing every problem. */
  validate(name: string, overrides: Record<string, unknown>): Record<string, unknown> {
    const detector = this.get(name);
    let check = this.checks.get(name);
    if (!check) this.checks.set(name, (check = TypeCompiler.Compile(detector.configSchema)));
    const merged = { ...detector.defaults, ...overrides };
    if (!check.Check(merged)) {
      const problems = [...check.Errors(merged)].map((e) => `${e.path.replace(/^\//, '') || '(config)'}: ${e.message}`);
      throw invalidDetectorConfig(name, [...new Set(problems)]);
    }
    return merged;
  }

  async update(tenantId: string, name: string, body: { enabled?: boolean; config: Record<string, unknown> }): Promise<DetectorView> {
    const detector = this.get(name);
    const current = (await this.store.detectors.listDetectorSettings(tenantId)).find((s) => s.detector === name);
    const overrides = { ...(current?.config ?? {}), ...body.config };
    this.validate(name, overrides);
    await this.store.detectors.putDetectorSetting({
      tenantId,
      detector: name,
      enabled: body.enabled ?? current?.enabled ?? true,
      config: overrides,
      updatedAt: this.clock.now(),
    });
    const view = (await this.list(tenantId)).find((v) => v.name === detector.name);
    return view!;
  }
}
