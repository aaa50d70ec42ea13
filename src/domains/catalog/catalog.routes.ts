import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App } from '../../http/app.ts';
import { currentCatalogVersion, listCatalogVersions, loadCatalog } from './catalog.loader.ts';

const VersionQuery = Type.Object(
  { version: Type.Optional(Type.String({ pattern: '^[0-9]{4}\\.[0-9]+$' })) },
  { additionalProperties: false },
);

const CriterionSchema = Type.Object({
  id: Type.String(),
  category: Type.String(),
  series: Type.String(),
  seriesTitle: Type.String(),
  title: Type.String(),
  description: Type.String(),
});

const TemplateSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  frequency: Type.String(),
  ownerRole: Type.String(),
  criteria: Type.Array(Type.String()),
  evidence: Type.Array(Type.String()),
  automation: Type.Object({ mode: Type.String(), checks: Type.Array(Type.String()), note: Type.String() }),
});

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };

export async function catalogRoutes(app: App) {
  app.get(
    '/catalog',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['catalog'],
        summary: 'Catalog versions',
        response: { 200: Type.Object({ current: Type.String(), versions: Type.Array(Type.String()) }) },
      },
    },
    async () => ({ current: currentCatalogVersion, versions: listCatalogVersions() }),
  );

  app.get(
    '/catalog/criteria',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['catalog'],
        summary: 'Trust Services Criteria',
        querystring: VersionQuery,
        response: {
          200: Type.Object({ version: Type.String(), criteria: Type.Array(CriterionSchema) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const catalog = loadCatalog(request.query.version);
      return { version: catalog.version, criteria: catalog.criteria };
    },
  );

  app.get(
    '/catalog/templates',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['catalog'],
        summary: 'Control templates',
        querystring: VersionQuery,
        response: {
          200: Type.Object({ version: Type.String(), templates: Type.Array(TemplateSchema) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const catalog = loadCatalog(request.query.version);
      return { version: catalog.version, templates: catalog.templates };
    },
  );

  app.get(
    '/catalog/frameworks/:framework',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['catalog'],
        summary: "A framework crosswalk (Assay's mapping, not an official one)",
        params: Type.Object({ framework: Type.String({ minLength: 1, maxLength: 50 }) }),
        querystring: VersionQuery,
        response: {
          200: Type.Object({
            framework: Type.String(),
            name: Type.String(),
            version: Type.String(),
            note: Type.String(),
            ids: Type.Array(Type.Object({ id: Type.String(), title: Type.String() })),
            mappings: Type.Record(Type.String(), Type.Array(Type.String())),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const catalog = loadCatalog(request.query.version);
      const framework = catalog.frameworks[request.params.framework];
      if (!framework) {
        throw new AssayError(
          'framework_not_found',
          `framework "${request.params.framework}" is not in catalog ${catalog.version} ` +
            `(available: ${Object.keys(catalog.frameworks).join(', ')})`,
        );
      }
      return framework;
    },
  );
}
