import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { load } from 'js-yaml';
import { fieldsWithoutDescription } from '../../src/api/render-api-docs.js';
import { renderCrdFiles, renderGeneratedFiles } from '../../src/api/render-crds.js';

describe('crds/', () => {
  test.each(renderGeneratedFiles())(
    '$path matches what src/api generates (run `npm run generate`)',
    ({ path, yaml }) => {
      expect(readFileSync(path, 'utf8')).toBe(yaml);
    },
  );

  test('every field of both CRDs, spec and status, nested and in arrays, has a description', () => {
    expect(fieldsWithoutDescription()).toEqual([]);
  });

  test('descriptions carry units and defaults where kubectl explain shows no default', () => {
    const spec = (load(renderCrdFiles()[0]!.yaml) as any).spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.interval.description).toMatch(/Default 5m/);
    expect(spec.properties.timeoutSeconds.description).toMatch(/Seconds .*Default 30/);
    expect(spec.properties.thresholds.properties.poolUtilizationPercent.description).toMatch(/percent \(0-100\)/);
  });

  test('schemas are structural: no additionalProperties false, refs or unions', () => {
    for (const { yaml } of renderCrdFiles()) {
      expect(yaml).not.toMatch(/additionalProperties: false|\$ref|anyOf|oneOf|\$schema/);
    }
  });

  test('the monitor CRD carries the columns, short name, category and list-map conditions', () => {
    const crd = load(renderCrdFiles()[0]!.yaml) as any;
    expect(crd.spec.names).toMatchObject({ shortNames: ['dbmon'], categories: ['dbwatch'] });
    const version = crd.spec.versions[0];
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining([
        'Engine',
        'Status',
        'Response',
        'Utilization %',
        'Migration',
        'Reported',
        'Heartbeat By',
        'Age',
      ]),
    );
    const conditions = version.schema.openAPIV3Schema.properties.status.properties.conditions;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    const spec = version.schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.interval).toMatchObject({ default: '5m', pattern: expect.any(String) });
    expect(spec.properties.engine.enum).toEqual(['postgres', 'mssql']);
  });
});
