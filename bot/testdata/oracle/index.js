// A minimal Backstage backend: the catalog plugin and the Template kind, in
// Backstage's default configuration (BuiltinKindsEntityProcessor). With
// PORTALBOT_ORACLE_MODEL=alpha it also installs the alpha catalog model with
// the opt-in AiResource kind and the mcp-server API model, which replaces
// BuiltinKindsEntityProcessor with the model-driven ModelProcessor. Config
// comes from --config.
const { createBackend } = require('@backstage/backend-defaults');
const { createBackendModule } = require('@backstage/backend-plugin-api');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
if (process.env.PORTALBOT_ORACLE_MODEL === 'alpha') {
  const { catalogModelExtensionPoint } = require('@backstage/plugin-catalog-node/alpha');
  const {
    CatalogModelSources,
    aiResourceEntityModel,
    mcpServerApiEntityModel,
  } = require('@backstage/catalog-model/alpha');
  backend.add(
    createBackendModule({
      pluginId: 'catalog',
      moduleId: 'portalbot-oracle-kinds',
      register(env) {
        env.registerInit({
          deps: { model: catalogModelExtensionPoint },
          async init({ model }) {
            model.addModelSource(
              CatalogModelSources.static([aiResourceEntityModel, mcpServerApiEntityModel]),
            );
          },
        });
      },
    }),
  );
}
backend.start();
