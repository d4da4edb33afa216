import { createRequire } from 'node:module';
import type { ScalarTag, Tags } from 'yaml';
import type * as Yaml from 'yaml';

// Loaded when a scenario is first parsed, not at start (~8 MB resident a server rarely needs).
let yamlModule: typeof Yaml | undefined;
const loadYaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
import { plainDecimalString } from './decimal.js';

const FLOAT_TAG = 'tag:yaml.org,2002:float';
const INT_TAG = 'tag:yaml.org,2002:int';

/**
 * YAML (and JSON, its subset) turns `unitPrice: 0.000123456789012345` into a binary double, silently
 * dropping digits. Prices must stay exact, so numeric scalars are resolved from their source text:
 * decimals become plain decimal strings (`1e-7` → "0.0000001"), integers stay numbers while safe and
 * become strings beyond 2^53, and `.inf` becomes "inf" (an unbounded tier). NaN stays NaN and is
 * rejected by validation. Our schemas accept decimal strings wherever they accept numbers.
 */
function exactNumericTag(tag: ScalarTag): ScalarTag {
  if (tag.tag === FLOAT_TAG) {
    const isSpecial = tag.test?.test('.inf') === true || tag.test?.test('.nan') === true;
    if (isSpecial) {
      return { ...tag, resolve: (text: string) => (/^\+?\.inf$/i.test(text) ? 'inf' : /^-\.inf$/i.test(text) ? '-inf' : Number.NaN) };
    }
    return { ...tag, resolve: (text: string) => plainDecimalString(completeDecimal(text)) };
  }
  if (tag.tag === INT_TAG && tag.format === undefined) {
    return {
      ...tag,
      resolve: (text: string) => {
        const value = Number(text);
        return Number.isSafeInteger(value) ? value : plainDecimalString(text.replace(/^\+/, ''));
      },
    };
  }
  return tag;
}

/** YAML allows "1." and ".5"; plain decimal text needs digits on both sides of the point. */
function completeDecimal(text: string): string {
  return text.replace(/^([+-]?)\.(\d)/, '$10.$2').replace(/\.(?=$|[eE])/, '.0');
}

function exactNumericTags(tags: Tags): Tags {
  return tags.map((tag) => (typeof tag === 'object' && tag.collection === undefined ? exactNumericTag(tag as ScalarTag) : tag));
}

/** Parses YAML or JSON text with exact numbers (see above). Throws the yaml library's error on bad syntax. */
export function parseExactYaml(text: string, schema: 'core' | 'json' = 'core'): unknown {
  return loadYaml().parse(text, { schema, customTags: exactNumericTags, uniqueKeys: true, maxAliasCount: 100 });
}
