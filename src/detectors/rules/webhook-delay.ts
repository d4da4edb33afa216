// STUB placed by the engine author so the tree compiles; the detector's author replaces this file.
import { Type } from '@sinclair/typebox';
import type { Detector } from '../detector.js';

export const webhookDelay: Detector<Record<string, never>> = {
  name: 'webhook_delay',
  description: 'not implemented yet',
  configSchema: Type.Object({}, { additionalProperties: false }),
  defaults: {},
  eventTypes: [],
};
