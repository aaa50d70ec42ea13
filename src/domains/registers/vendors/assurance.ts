/**
 * How current a vendor's assurance is. A SOC 2 report speaks for its audit period: it goes stale
 * twelve months after the period ended (a warning from nine). An ISO 27001 certificate holds until
 * it expires (the warning starts as many months before expiry as the SOC 2 warning precedes
 * staleness). A bridging letter is the vendor's own statement, not an auditor's: it is recorded
 * but never makes assurance current.
 */
import { addDays, addMonths } from '../shared/values.ts';
import type { VendorDocumentKind } from './vendors.tables.ts';

export interface AssuranceSettings {
  staleMonths: number;
  warningMonths: number;
}

export const defaultAssuranceSettings: AssuranceSettings = { staleMonths: 12, warningMonths: 9 };

export function isReport(kind: VendorDocumentKind): boolean {
  return kind === 'soc2_type1' || kind === 'soc2_type2';
}

export interface AssuranceWindow {
  warnFrom: Date;
  staleFrom: Date;
}

export function assuranceWindow(
  doc: { kind: VendorDocumentKind; period_end: Date },
  settings: AssuranceSettings = defaultAssuranceSettings,
): AssuranceWindow | null {
  if (doc.kind === 'bridging_letter') return null;
  if (doc.kind === 'iso27001') {
    const staleFrom = addDays(doc.period_end, 1);
    return { staleFrom, warnFrom: addMonths(staleFrom, settings.warningMonths - settings.staleMonths) };
  }
  return {
    warnFrom: addMonths(doc.period_end, settings.warningMonths),
    staleFrom: addMonths(doc.period_end, settings.staleMonths),
  };
}

export type AssuranceState = 'current' | 'warning' | 'stale' | 'none';

/** The document that keeps assurance current longest, and its state at `asOf`. */
export function currentAssurance<D extends { kind: VendorDocumentKind; period_end: Date; received_at: Date }>(
  docs: D[],
  asOf: Date,
  settings: AssuranceSettings = defaultAssuranceSettings,
): { document: D | null; window: AssuranceWindow | null; state: AssuranceState } {
  let best: { document: D; window: AssuranceWindow } | null = null;
  for (const document of docs) {
    if (document.received_at > asOf) continue;
    const window = assuranceWindow(document, settings);
    if (!window) continue;
    if (!best || window.staleFrom > best.window.staleFrom) best = { document, window };
  }
  if (!best) return { document: null, window: null, state: 'none' };
  const state =
    asOf >= best.window.staleFrom ? 'stale' : asOf >= best.window.warnFrom ? 'warning' : 'current';
  return { ...best, state };
}

/** The latest SOC 2 report received by `asOf` (the one whose opinion and CUECs now apply). */
export function latestReport<D extends { kind: VendorDocumentKind; period_end: Date; received_at: Date }>(
  docs: D[],
  asOf: Date,
): D | null {
  let latest: D | null = null;
  for (const d of docs) {
    if (!isReport(d.kind) || d.received_at > asOf) continue;
    if (!latest || d.period_end > latest.period_end) latest = d;
  }
  return latest;
}
