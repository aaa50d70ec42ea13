import type { ChangeTables } from './changes/changes.tables.ts';
import type { ContinuityTables } from './continuity/continuity.tables.ts';
import type { IncidentTables } from './incidents/incidents.tables.ts';
import type { PolicyTables } from './policies/policies.tables.ts';
import type { RiskTables } from './risks/risks.tables.ts';
import type { TrainingTables } from './training/training.tables.ts';
import type { VendorTables } from './vendors/vendors.tables.ts';

/** Every programme register's tables, joined for the database schema. */
export interface RegisterTables
  extends VendorTables,
    RiskTables,
    PolicyTables,
    IncidentTables,
    TrainingTables,
    ChangeTables,
    ContinuityTables {}
