/**
 * Built-in checks over the programme registers: vendor assurance (CC9.2), policies and their
 * acknowledgement (CC1.1, CC2.2, CC5.3), training (CC1.4), incident readiness (CC7.4, CC7.5), the
 * risk register (CC3.1–CC3.2), restore tests (A1.2, A1.3) and manual changes (CC8.1).
 *
 * Each judges only what its register holds: a workspace that has not started a register gets no
 * result from it, never a finding. Passing results name the evidence that satisfies them
 * (`facts.evidenceIds`), so a finding closed by a renewal can cite the renewed record.
 */
import { manualSegregationOfDuties } from './registers/changes.checks.ts';
import { restoreTestOverdue } from './registers/continuity.checks.ts';
import { incidentFollowupsOverdue, incidentPlanUntested } from './registers/incidents.checks.ts';
import { policyAcknowledgementsMissing, policyReviewOverdue } from './registers/policies.checks.ts';
import { riskRegisterReviewOverdue } from './registers/risks.checks.ts';
import { trainingOverdue } from './registers/training.checks.ts';
import { vendorCuecUnmapped, vendorOpinionQualified, vendorReportStale } from './registers/vendors.checks.ts';

export {
  incidentFollowupsOverdue,
  incidentPlanUntested,
  manualSegregationOfDuties,
  policyAcknowledgementsMissing,
  policyReviewOverdue,
  restoreTestOverdue,
  riskRegisterReviewOverdue,
  trainingOverdue,
  vendorCuecUnmapped,
  vendorOpinionQualified,
  vendorReportStale,
};

export const registerChecks = [
  vendorReportStale,
  vendorOpinionQualified,
  vendorCuecUnmapped,
  policyReviewOverdue,
  policyAcknowledgementsMissing,
  trainingOverdue,
  incidentPlanUntested,
  incidentFollowupsOverdue,
  riskRegisterReviewOverdue,
  restoreTestOverdue,
  manualSegregationOfDuties,
];
