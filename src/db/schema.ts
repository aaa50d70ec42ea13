/**
 * The database's shape for Kysely: each domain declares its tables in `<domain>.tables.ts` and
 * this file joins them into one interface.
 */
import type { ScimTables } from '../connectors/scim/scim.tables.ts';
import type { WebhookTables } from '../connectors/webhooks/webhooks.tables.ts';
import type { AccountTables } from '../domains/accounts/accounts.tables.ts';
import type { AuditTables } from '../domains/audit/audit.tables.ts';
import type { AuditPeriodTables, AuditRequestTables } from '../domains/audits/audits.tables.ts';
import type { ConnectorTables } from '../domains/connectors/connectors.tables.ts';
import type { ControlTables } from '../domains/controls/controls.tables.ts';
import type { EvidenceTables } from '../domains/evidence/evidence.tables.ts';
import type { GovernanceTables } from '../domains/governance/governance.tables.ts';
import type { IdentityTables } from '../domains/identity/identity.tables.ts';
import type { IngestTables } from '../domains/ingest/ingest.tables.ts';
import type { MonitoringTables } from '../domains/monitoring/monitoring.tables.ts';
import type { MspTables } from '../domains/msp/msp.tables.ts';
import type { NotificationTables } from '../domains/notifications/notifications.tables.ts';
import type { RegisterTables } from '../domains/registers/registers.tables.ts';
import type { ScopeTables } from '../domains/scope/scope.tables.ts';
import type { WorkspaceTables } from '../domains/workspaces/workspaces.tables.ts';
import type { JobTables } from '../jobs/jobs.tables.ts';

export interface DB
  extends WorkspaceTables,
    ScopeTables,
    ControlTables,
    AuditTables,
    AuditPeriodTables,
    AuditRequestTables,
    IngestTables,
    IdentityTables,
    MonitoringTables,
    EvidenceTables,
    AccountTables,
    JobTables,
    NotificationTables,
    ScimTables,
    WebhookTables,
    RegisterTables,
    ConnectorTables,
    MspTables,
    GovernanceTables {}
