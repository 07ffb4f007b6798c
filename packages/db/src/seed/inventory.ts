// What one seeded model looks like: its attributes, its validation history with the regional
// approvals of each decision, its attestations and its metric series.
//
// Every model draws from its own random streams (one per aspect), so any table can be
// generated on its own, in model order, and agree with the others: the validations pass and the
// approvals pass both replay a model's validation stream and so number validations alike.
//
// Histories are built backwards from the anchor date. Each model first picks where it stands
// on its revalidation timeline on that date (comfortably current, in the lead window, in grace,
// overdue, covered by an interim, never validated), then its earlier full validations are laid
// about one cycle apart back to its creation, with rejected attempts, interims and open
// requests sprinkled in, so that every §2.1 status occurs in realistic proportions.

import { createRng, type Rng, type ValidationKind, type ValidationStatus } from '@offload/domain';
import {
  ATTESTATION_CYCLES,
  FIRST_NAMES,
  LAST_NAMES,
  MAX_MONITORED_MODELS,
  METRIC_POINTS,
  METRICS,
  MODEL_TYPES,
  PRODUCTS,
  REGIONS,
  TEAMS,
  TIERS,
} from './catalog.ts';

export const DAY_MS = 86_400_000;

export interface SeedPlan {
  seed: number;
  models: number;
  /** The date histories are built back from, as days since 1970-01-01. */
  anchorDay: number;
}

// One stream per model and aspect: stream = model index × STREAMS + aspect.
const STREAMS = 8;
const ASPECT_MODEL = 0;
const ASPECT_VALIDATIONS = 1;
const ASPECT_METRICS = 2;
const ASPECT_ATTESTATION = 3; // 3 .. 3 + ATTESTATION_CYCLES - 1

const rngFor = (plan: SeedPlan, index: number, aspect: number): Rng =>
  createRng(plan.seed, index * STREAMS + aspect);

// Rng#weighted sums its weights on every call; a model draws a team and a tier, millions of
// times, from fixed weights, so their running sums are computed once.
function sampler(weights: readonly number[]): (rng: Rng) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    cumulative.push(total);
  }
  return (rng) => {
    const r = rng.next() * total;
    let i = 0;
    while (i < cumulative.length - 1 && r >= cumulative[i]!) i++;
    return i;
  };
}

const drawTeam = sampler(TEAMS.map((t) => t.weight));
const drawTier = sampler(TIERS.map((t) => t.weight));
const RETIRED_SHARE = 0.05;
const OLDEST_MODEL_DAYS = 13 * 365;

export interface ModelCore {
  id: number;
  team: number;
  region: number;
  tier: number;
  retired: boolean;
  createdDay: number;
}

export interface ModelRow extends ModelCore {
  externalId: string;
  name: string;
  ownerEmail: string;
  createdMs: number;
  updatedMs: number;
}

// Draws only what the other aspects depend on, so they can replay it cheaply.
function drawCore(plan: SeedPlan, index: number, rng: Rng): ModelCore {
  const team = drawTeam(rng);
  return {
    id: index + 1,
    team,
    region: TEAMS[team]!.region,
    tier: drawTier(rng),
    retired: rng.chance(RETIRED_SHARE),
    // Skewed towards older models: long-lived models carry most of the validation history.
    createdDay: plan.anchorDay - 20 - Math.floor(OLDEST_MODEL_DAYS * rng.next() ** 0.7),
  };
}

export function modelCore(plan: SeedPlan, index: number): ModelCore {
  return drawCore(plan, index, rngFor(plan, index, ASPECT_MODEL));
}

export function modelRow(plan: SeedPlan, index: number): ModelRow {
  const rng = rngFor(plan, index, ASPECT_MODEL);
  const core = drawCore(plan, index, rng);
  const createdMs = core.createdDay * DAY_MS + workingHoursMs(rng);
  const lastTouchDay = core.createdDay + Math.floor((plan.anchorDay - core.createdDay) * rng.next());
  return {
    ...core,
    externalId: `MDL-${String(core.id).padStart(7, '0')}`,
    name: `${rng.pick(PRODUCTS)} ${rng.pick(MODEL_TYPES)} ${core.id}`,
    ownerEmail: `${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}@example.com`,
    createdMs,
    updatedMs: Math.max(createdMs, lastTouchDay * DAY_MS + workingHoursMs(rng)),
  };
}

function workingHoursMs(rng: Rng): number {
  return rng.int(7 * 3_600_000, 19 * 3_600_000);
}

export interface ValidationRow {
  kind: ValidationKind;
  status: ValidationStatus;
  /** Days since 1970-01-01; set only for approved validations. */
  approvedDay: number | null;
  createdMs: number;
  /** When a rejected validation was turned down, for its approval record. */
  decidedDay: number | null;
}

export interface ApprovalRow {
  region: number;
  approvalType: 'primary' | 'regional';
  status: 'pending' | 'approved' | 'rejected';
  decidedDay: number | null;
}

// Where a model stands on the anchor date, and how often; histories are built back from it.
const Standing = { never: 0, interimOnly: 1, current: 2, lead: 3, grace: 4, overdue: 5 } as const;
const drawStanding = sampler([3, 2, 50, 12, 8, 22]);

/**
 * A model's validations in the order they were requested, each with its approvals. Replays the
 * model's stream from the start, so both lists are the same whichever table asks.
 */
export function modelValidations(
  plan: SeedPlan,
  core: ModelCore,
  index: number,
  withApprovals: boolean,
): { validations: ValidationRow[]; approvals: ApprovalRow[][] } {
  const rng = rngFor(plan, index, ASPECT_VALIDATIONS);
  const tier = TIERS[core.tier]!;
  const anchor = plan.anchorDay;
  // Approximate: the exact due date (month arithmetic) is the rule's business; seeding only
  // aims each model at a standing, with margins, and the rule decides.
  const cycle = Math.round(tier.revalidationMonths * 30.44);
  const earliest = core.createdDay + 30;
  const drafts: Array<{
    kind: ValidationKind;
    status: ValidationStatus;
    approvedDay: number | null;
    createdDay: number;
  }> = [];

  const approved = (kind: ValidationKind, day: number) => {
    drafts.push({ kind, status: 'approved', approvedDay: day, createdDay: day - rng.int(14, 160) });
    // Some requests were turned down before one passed.
    if (rng.chance(kind === 'full' ? 0.3 : 0.1)) {
      drafts.push({ kind, status: 'rejected', approvedDay: null, createdDay: day - rng.int(170, 320) });
    }
  };
  const open = () => {
    drafts.push({
      kind: rng.chance(0.8) ? 'full' : 'interim',
      status: rng.chance(0.45) ? 'planned' : 'in_progress',
      approvedDay: null,
      createdDay: anchor - rng.int(0, 150),
    });
  };
  const interimWithin = (after: number) => {
    const day = Math.max(after + 1, anchor - rng.int(0, 2 * tier.interimValidityDays));
    if (day <= anchor) approved('interim', day);
  };

  let standing = drawStanding(rng);
  let fullDay: number | null = null;
  if (standing >= Standing.current) {
    const { leadDays: lead, graceDays: grace } = tier;
    const age =
      standing === Standing.current
        ? rng.int(0, cycle - lead - 3)
        : standing === Standing.lead
          ? rng.int(cycle - lead + 2, cycle - 2)
          : standing === Standing.grace
            ? rng.int(cycle + 2, cycle + grace - 3)
            : rng.int(cycle + grace + 2, cycle + grace + 3 * 365);
    fullDay = anchor - age;
    if (fullDay < earliest) {
      // Too young for that standing: validated once, soon after creation, or still awaiting
      // its first validation.
      if (earliest <= anchor) fullDay = earliest + rng.int(0, Math.min(90, anchor - earliest));
      else {
        fullDay = null;
        standing = Standing.never;
      }
    }
  }

  if (fullDay === null) {
    if (standing === Standing.interimOnly && earliest < anchor) {
      interimWithin(earliest);
      if (rng.chance(0.3)) interimWithin(earliest);
    } else if (rng.chance(0.3)) {
      drafts.push({
        kind: 'full',
        status: 'rejected',
        approvedDay: null,
        createdDay: anchor - rng.int(60, 400),
      });
    }
    if (rng.chance(0.4)) open();
  } else {
    approved('full', fullDay);
    const dueSoon = standing === Standing.lead;
    const pastDue = standing >= Standing.grace;
    if (pastDue && rng.chance(0.35)) interimWithin(fullDay);
    if (rng.chance(dueSoon || pastDue ? 0.55 : 0.05)) open();
    // Earlier cycles, back to the model's creation; each approved about a cycle before the
    // next, some early, some late (then often bridged by an interim).
    let next = fullDay;
    for (;;) {
      const previous = next - cycle + rng.int(-30, 45);
      if (previous < earliest) break;
      if (rng.chance(0.3)) approved('interim', next - rng.int(1, 60));
      approved('full', previous);
      next = previous;
    }
  }

  drafts.sort((a, b) => a.createdDay - b.createdDay);
  const validations: ValidationRow[] = [];
  for (const d of drafts) {
    const createdDay = Math.max(core.createdDay, Math.min(d.createdDay, anchor));
    validations.push({
      kind: d.kind,
      status: d.status,
      approvedDay: d.approvedDay,
      createdMs: createdDay * DAY_MS + workingHoursMs(rng),
      decidedDay: d.status === 'rejected' ? Math.min(anchor, createdDay + rng.int(15, 90)) : null,
    });
  }
  if (!withApprovals) return { validations, approvals: [] };
  return { validations, approvals: validations.map((v) => approvalsOf(anchor, core, v, rng)) };
}

// Every decision needs the model's home region (primary); a quarter of decisions also need one or
// two other regions, which decide later. Approvals not yet decided on the anchor date are pending.
function approvalsOf(anchor: number, core: ModelCore, v: ValidationRow, rng: Rng): ApprovalRow[] {
  if (v.status === 'rejected') {
    return [{ region: core.region, approvalType: 'primary', status: 'rejected', decidedDay: v.decidedDay }];
  }
  if (v.status !== 'approved') return [];
  const regions = [core.region];
  const extra = rng.chance(0.25) ? (rng.chance(0.3) ? 2 : 1) : 0;
  while (regions.length < 1 + extra) {
    const r = rng.int(0, REGIONS.length - 1);
    if (!regions.includes(r)) regions.push(r);
  }
  return regions.map((region, i) => {
    const meanLagDays = i === 0 ? 4 : 15;
    const lag = Math.min(180, Math.floor(-Math.log(1 - rng.next()) * meanLagDays));
    const decidedDay = v.approvedDay! + lag;
    if (decidedDay > anchor)
      return { region, approvalType: i === 0 ? 'primary' : 'regional', status: 'pending', decidedDay: null };
    return {
      region,
      approvalType: i === 0 ? 'primary' : 'regional',
      status: rng.chance(0.04) ? 'rejected' : 'approved',
      decidedDay,
    };
  });
}

export interface AttestationCycle {
  name: string;
  opensDay: number;
  closesDay: number;
}

/** Half-yearly cycles, oldest first; the latest opened a month before the anchor and is still open. */
export function attestationCycles(plan: SeedPlan): AttestationCycle[] {
  const cycles: AttestationCycle[] = [];
  for (let k = ATTESTATION_CYCLES - 1; k >= 0; k--) {
    const opensDay = plan.anchorDay - 30 - k * 182;
    const opens = new Date(opensDay * DAY_MS).toISOString().slice(0, 7);
    cycles.push({ name: `Attestation ${opens}`, opensDay, closesDay: opensDay + 59 });
  }
  return cycles;
}

export interface AttestationRow {
  status: 'pending' | 'attested' | 'exception';
  attestedMs: number | null;
}

/** The model's record in `cycle`, or null when it has none (retired, too new, or left out). */
export function attestationRecord(
  plan: SeedPlan,
  core: ModelCore,
  index: number,
  cycleIndex: number,
  cycle: AttestationCycle,
): AttestationRow | null {
  if (core.retired || core.createdDay >= cycle.opensDay) return null;
  const rng = rngFor(plan, index, ASPECT_ATTESTATION + cycleIndex);
  if (rng.chance(0.03)) return null;
  const stillOpen = cycle.closesDay >= plan.anchorDay;
  const r = rng.next();
  const pendingShare = stillOpen ? 0.42 : 0.02;
  if (r < pendingShare) return { status: 'pending', attestedMs: null };
  const lastDay = Math.min(cycle.closesDay, plan.anchorDay - 1);
  const attestedMs = rng.int(cycle.opensDay, lastDay) * DAY_MS + workingHoursMs(rng);
  return { status: r < pendingShare + 0.04 ? 'exception' : 'attested', attestedMs };
}

/** Every stride-th model is monitored, so at most MAX_MONITORED_MODELS have metrics. */
export function isMonitored(plan: SeedPlan, core: ModelCore, index: number): boolean {
  return !core.retired && index % Math.ceil(plan.models / MAX_MONITORED_MODELS) === 0;
}

export interface MetricPoint {
  metric: string;
  observedMs: number;
  value: number;
}

/**
 * Weekly series ending on the anchor date. Most are stable noise around a level; some drift
 * in the last weeks, mildly or sharply, so health analysis finds ok, warn and alert models.
 */
export function modelMetrics(plan: SeedPlan, index: number): MetricPoint[] {
  const rng = rngFor(plan, index, ASPECT_METRICS);
  const points: MetricPoint[] = [];
  const firstDay = plan.anchorDay - 7 * (METRIC_POINTS - 1);
  for (const m of METRICS) {
    const level = m.low + (m.high - m.low) * rng.next();
    const r = rng.next();
    const shift = (r < 0.08 ? 6 : r < 0.2 ? 2.5 : 0) * m.noise * (rng.chance(0.5) ? 1 : -1);
    const scale = 10 ** m.decimals;
    for (let k = 0; k < METRIC_POINTS; k++) {
      // Sum of uniforms: cheap, bounded, roughly normal noise.
      const noise = (rng.next() + rng.next() + rng.next() - 1.5) * 2 * m.noise;
      const drift = k >= METRIC_POINTS - 8 ? shift : 0;
      points.push({
        metric: m.name,
        observedMs: (firstDay + 7 * k) * DAY_MS,
        // Rounded so both databases store exactly the same double.
        value: Math.round((level + noise + drift) * scale) / scale,
      });
    }
  }
  return points;
}
