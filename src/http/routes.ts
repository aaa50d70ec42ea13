import { accountRoutes } from '../domains/accounts/accounts.routes.ts';
import { workspaceAccessRoutes } from '../domains/accounts/workspace-access.routes.ts';
import { auditRoutes } from '../domains/audits/audits.routes.ts';
import { catalogRoutes } from '../domains/catalog/catalog.routes.ts';
import { connectorRoutes } from '../domains/connectors/connectors.routes.ts';
import { controlRoutes } from '../domains/controls/controls.routes.ts';
import { evidenceRoutes } from '../domains/evidence/evidence.routes.ts';
import { findingRoutes } from '../domains/findings/findings.routes.ts';
import { governanceRoutes } from '../domains/governance/governance.routes.ts';
import { identityRoutes } from '../domains/identity/identity.routes.ts';
import { ingestRoutes } from '../domains/ingest/ingest.routes.ts';
import { monitoringRoutes } from '../domains/monitoring/monitoring.routes.ts';
import { mspRoutes } from '../domains/msp/msp.routes.ts';
import { notificationRoutes } from '../domains/notifications/notifications.routes.ts';
import { programmeRegisterRoutes } from '../domains/registers/registers.routes.ts';
import { scopeRoutes } from '../domains/scope/scope.routes.ts';
import { workspaceRoutes } from '../domains/workspaces/workspaces.routes.ts';
import type { App, AppContext } from './app.ts';

/** Every API route module, in one list (the authorisation matrix test walks this table). */
export const routeModules = [
  workspaceRoutes,
  catalogRoutes,
  scopeRoutes,
  controlRoutes,
  ingestRoutes,
  identityRoutes,
  auditRoutes,
  evidenceRoutes,
  accountRoutes,
  workspaceAccessRoutes,
  notificationRoutes,
  connectorRoutes,
  findingRoutes,
  monitoringRoutes,
  programmeRegisterRoutes,
  governanceRoutes,
  mspRoutes,
];

export async function registerRoutes(app: App, context: AppContext): Promise<void> {
  for (const register of routeModules) await register(app, context);
}
