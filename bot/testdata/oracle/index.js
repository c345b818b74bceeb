// A minimal Backstage backend: the catalog plugin, the Template kind, and the
// opt-in AiResource kind and mcp-server API model, so that every kind
// portalbot knows is also known here. Config comes from --config.
const { createBackend } = require('@backstage/backend-defaults');
const { createBackendModule } = require('@backstage/backend-plugin-api');
const { catalogModelExtensionPoint } = require('@backstage/plugin-catalog-node/alpha');
const {
  CatalogModelSources,
  aiResourceEntityModel,
  mcpServerApiEntityModel,
} = require('@backstage/catalog-model/alpha');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
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
backend.start();
