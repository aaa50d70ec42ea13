import type { Command } from 'commander';
import {
  presentDocument,
  presentReview,
  presentVendor,
} from '../../domains/registers/vendors/vendors.presenter.ts';
import {
  addVendorDocument,
  createVendor,
  getVendor,
  listVendors,
  mapCuec,
  recordVendorReview,
  updateVendor,
} from '../../domains/registers/vendors/vendors.service.ts';
import { AssayError } from '../../errors.ts';
import { type CommandIO, table } from '../runtime.ts';
import { act, collect, day } from './registers-common.ts';

const vendorOptions = (c: Command) =>
  c
    .option('--service <text>', 'what the vendor provides')
    .option('--data-accessed <list>', 'data it can access, comma-separated')
    .option('--criticality <level>', 'low, medium, high or critical')
    .option('--in-scope <bool>', 'true or false')
    .option('--owner <who>', 'who manages the relationship')
    .option('--contract-start <date>', 'contract start')
    .option('--contract-end <date>', 'contract end')
    .option('--status <status>', 'active or offboarded')
    .option('--review-cadence-days <n>', 'days between reviews (default 365)');

/** `CUEC-1|what the vendor expects|AC-03` (the control may be left out). */
function parseCuec(value: string) {
  const [reference, description, control] = value.split('|').map((s) => s.trim());
  if (!reference || !description) {
    throw new AssayError('validation_failed', `--cuec "${value}": expected REFERENCE|description[|CONTROL]`, {
      field: '--cuec',
    });
  }
  return { reference, description, control: control || null };
}

type VendorDetail = Awaited<ReturnType<typeof vendorDetail>>;
async function vendorDetail(db: Parameters<typeof getVendor>[0], tenant: string, ref: string) {
  const d = await getVendor(db, tenant, ref);
  return {
    vendor: presentVendor(d.vendor, d.documents, d.asOf),
    documents: d.documents.map((doc) => presentDocument(doc, d.cuecs)),
    reviews: d.reviews.map(presentReview),
    openTasks: d.tasks
      .filter((t) => t.status === 'open')
      .map((t) => ({ title: t.title, dueAt: t.due_at?.toISOString() ?? null })),
  };
}

const showVendor = (d: VendorDetail) =>
  [
    `${d.vendor.name} — ${d.vendor.criticality} criticality, ${d.vendor.inScope ? 'in scope' : 'out of scope'}, ${d.vendor.status}`,
    `assurance: ${d.vendor.assurance.state}${d.vendor.assurance.staleFrom ? ` (stale from ${day(d.vendor.assurance.staleFrom)})` : ''}`,
    ...d.documents.map(
      (doc) =>
        `  ${doc.kind} to ${day(doc.periodEnd)} ${doc.opinion ?? ''} ${doc.auditor} — ${doc.cuecs.length} CUECs (${doc.cuecs.filter((c) => !c.control).length} unmapped)  ${doc.id}`,
    ),
    `reviews: ${d.reviews.map((r) => `${day(r.reviewedAt)} ${r.outcome}`).join(', ') || 'none'}`,
    ...d.openTasks.map((t) => `task: ${t.title} (due ${day(t.dueAt)})`),
  ].join('\n');

export function registerVendorCommands(program: Command, io: CommandIO) {
  const vendors = program
    .command('vendors')
    .description('the vendor register: inventory, assurance reports, reviews');

  vendors
    .command('list')
    .description('vendors with criticality and the state of their assurance')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, tenant }) => {
          const { vendors: rows, documents, asOf } = await listVendors(db, tenant);
          return { vendors: rows.map((v) => presentVendor(v, documents, asOf)) };
        },
        (r) =>
          table(
            ['VENDOR', 'CRITICALITY', 'SCOPE', 'ASSURANCE', 'STALE FROM', 'OWNER'],
            r.vendors.map((v) => [
              v.name,
              v.criticality,
              v.inScope ? 'in' : 'out',
              v.assurance.state,
              day(v.assurance.staleFrom),
              v.owner ?? '-',
            ]),
          ),
      ),
    );

  vendors
    .command('show')
    .argument('<vendor>', 'name or id')
    .description('one vendor: documents, CUECs, reviews, open tasks')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(act(io, ({ db, tenant, args }) => vendorDetail(db, tenant, args[0]!), showVendor));

  vendorOptions(
    vendors.command('add').argument('<name>', 'vendor name').description('add a vendor to the inventory'),
  )
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const row = await createVendor(db, actor, tenant, { ...input, name: args[0] });
          return vendorDetail(db, tenant, row.id);
        },
        showVendor,
        ['dataAccessed'],
      ),
    );

  vendorOptions(vendors.command('update').argument('<vendor>', 'name or id').description('update a vendor'))
    .option('--name <name>', 'rename')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const row = await updateVendor(db, actor, tenant, args[0]!, input);
          return vendorDetail(db, tenant, row.id);
        },
        showVendor,
        ['dataAccessed'],
      ),
    );

  vendors
    .command('report')
    .argument('<vendor>', 'name or id')
    .description('record a SOC 2 report, an ISO 27001 certificate or a bridging letter')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--kind <kind>', 'soc2_type1, soc2_type2, iso27001 or bridging_letter')
    .requiredOption('--period-end <date>', 'end of the audit period / certificate expiry / letter end')
    .option('--period-start <date>', 'start of the audit period (Type II) or issue date')
    .option('--auditor <firm>', 'audit firm or certification body')
    .option('--opinion <opinion>', 'unqualified, qualified, adverse or disclaimer')
    .option('--exceptions-noted <bool>', 'true or false')
    .option('--exceptions-summary <text>', 'the exceptions noted')
    .option('--categories <list>', 'Trust Services categories covered, comma-separated')
    .option('--services <list>', 'services covered, comma-separated')
    .option('--subservice-organizations <text>', '"AWS (carve_out); Stripe (inclusive)"')
    .option('--received-at <date>', 'when received (default now)')
    .option('--reviewed-by <who>', 'who reviewed it')
    .option('--reviewed-at <date>', 'when')
    .option('--notes <text>', 'review notes')
    .option('--report-sha256 <hash>', 'the report file, uploaded as evidence')
    .option('--cuec <ref|description|control>', 'a complementary user entity control (repeatable)', collect)
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) => {
          const { cuec, ...rest } = input as typeof input & { cuec?: string[] };
          const { document, cuecs } = await addVendorDocument(db, actor, tenant, args[0]!, {
            ...rest,
            ...(cuec ? { cuecs: cuec.map(parseCuec) } : {}),
          });
          return presentDocument(document, cuecs);
        },
        (d) =>
          `recorded ${d.kind} to ${day(d.periodEnd)} (${d.id}); evidence ${d.evidenceId}; ${d.cuecs.length} CUECs`,
        ['categories', 'services'],
      ),
    );

  vendors
    .command('map-cuec')
    .argument('<vendor>', 'name or id')
    .argument('<document>', 'document id')
    .argument('<reference>', 'CUEC reference')
    .argument('<control>', 'our control template id, or "none"')
    .description('map a CUEC of a report to one of our controls')
    .requiredOption('--tenant <slug>', 'workspace')
    .action(
      act(
        io,
        async ({ db, actor, tenant, args }) => {
          const [vendor, document, reference, control] = args as [string, string, string, string];
          const r = await mapCuec(
            db,
            actor,
            tenant,
            vendor,
            document,
            reference,
            control === 'none' ? null : control,
          );
          return presentDocument(r.document, r.cuecs);
        },
        (d) => d.cuecs.map((c) => `${c.reference} → ${c.control ?? 'unmapped'}`).join('\n'),
      ),
    );

  vendors
    .command('review')
    .argument('<vendor>', 'name or id')
    .description('record the periodic vendor review (closes its task, schedules the next)')
    .requiredOption('--tenant <slug>', 'workspace')
    .requiredOption('--reviewer <who>', 'who reviewed')
    .requiredOption('--outcome <outcome>', 'approved, approved_with_conditions or rejected')
    .option('--notes <text>', 'notes')
    .option('--reviewed-at <date>', 'when (default now)')
    .action(
      act(
        io,
        async ({ db, actor, tenant, input, args }) =>
          presentReview(await recordVendorReview(db, actor, tenant, args[0]!, input)),
        (r) => `review recorded ${day(r.reviewedAt)}: ${r.outcome} (evidence ${r.evidenceId})`,
      ),
    );
}
